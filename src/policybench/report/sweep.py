"""Text of ``policybench sweep``: one row per point, the fitted cost model, the rate verdict."""

from __future__ import annotations

from policybench.report.format import (
    column_blocks,
    format_ms,
    identity_label,
    machine_line,
    median_text,
    percentile_text,
)
from policybench.results import OK, RunResults, point_text


def render_sweep(results: RunResults, fits: list, width: int | None = None) -> str:
    """A row per point, then the fitted cost model; a table wider than ``width`` characters (None:
    any width) folds into blocks of as many columns as fit, the policy and point repeated."""
    headers = ["Policy", "Point", "Step median", "Step p99", "Refill median", "Refill p99", "Steps/Refills"]
    rows = []
    for r in results.results:
        policy, point = identity_label(r.policy, r.variant), point_text(r.point, ", ")
        if r.status != OK:
            first = (r.error or "").splitlines()[0] if r.error else ""
            rows.append([policy, point, f"{r.status}: {first}", "", "", "", ""])
            continue
        s = r.summary()
        rows.append(
            [policy, point]
            + [
                _with_unit(text)
                for text in (
                    median_text(s["step"]),
                    percentile_text(s["step"], 99),
                    median_text(s["refill"]),
                    percentile_text(s["refill"], 99),
                )
            ]
            + [f"{s['step']['count']}/{s['refill']['count']}"]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]

    def line(cells: list, columns: list[int]) -> str:
        return "  ".join(str(cells[i]).ljust(widths[i]) for i in columns).rstrip()

    out = [machine_line(results)]
    for columns in column_blocks(widths, width, keep=2):
        out += [""] * (len(out) > 1) + [line(headers, columns), "-" * len(line(headers, columns))]
        out += [line(r, columns) for r in rows]
    if fits:
        out += ["", "Fitted refill cost (least squares on the refill medians; slope ± its standard error):"]
        out += [f"  {f.describe()}" for f in fits]
    return "\n".join(out) + "\n"


def _with_unit(text: str) -> str:
    """ "12.50 ± 0.30" -> "12.50 ± 0.30 ms"; "-" and "n/a (needs 100)" stay as they are."""
    return text if text == "-" or text.startswith("n/a") else f"{text} ms"


def render_holding(holding: list[dict], hz: float, axis_name: str) -> str:
    """Per policy, the largest value on the axis that holds ``hz``, and the headroom it leaves."""
    out = [f"Largest {axis_name} that holds {hz:g} Hz (period {1000 / hz:.2f} ms), each point's samples replayed:"]
    for row in holding:
        sync = (
            f"sync {_value(row['sync'][0])} ({format_ms(row['sync'][1])} ms to spare at its worst refill)"
            if row["sync"]
            else "sync: none of the values"
        )
        asyn = (
            f"async (threshold 0.5) {_value(row['async'][0])}"
            if row["async"]
            else "async (threshold 0.5): none of the values"
        )
        where = f" at {row['group']}" if row.get("group") else ""
        out.append(f"  {identity_label(row['policy'], row.get('variant'))}{where}: {sync}; {asyn}")
    return "\n".join(out) + "\n"


def _value(value) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)
