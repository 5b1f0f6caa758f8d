"""Text of ``policybench sweep``: one row per point, the fitted cost model, the rate verdict."""

from __future__ import annotations

from policybench.report.table import format_ms, label, machine_line
from policybench.results import OK, RunResults


def render_sweep(results: RunResults, fits: list, holding: list[dict] | None = None, hz: float | None = None,
                 axis_name: str | None = None) -> str:
    headers = ["Policy", "Point", "Step median", "Step p99", "Refill median", "Refill p99", "Steps/Refills"]
    rows = []
    for r in results.results:
        policy = r.config.get("sweep_policy", r.policy)
        point = ", ".join(f"{k.split('.', 1)[-1]}={v}" for k, v in (r.config.get("sweep_point") or {}).items())
        if r.status != OK:
            first = (r.error or "").splitlines()[0] if r.error else ""
            rows.append([label(policy), point, f"{r.status}: {first}", "", "", "", ""])
            continue
        s = r.summary()
        rows.append([label(policy), point] + [
            f"{format_ms(s[phase][key])} ms" if s[phase][key] is not None else "-"
            for phase, key in (("step", "median_ms"), ("step", "p99_ms"), ("refill", "median_ms"), ("refill", "p99_ms"))
        ] + [f"{s['step']['count']}/{s['refill']['count']}"])
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [machine_line(results), line(headers), "-" * len(line(headers))] + [line(r) for r in rows]
    if fits:
        out += ["", "Fitted refill cost (least squares on the refill medians; slope ± its standard error):"]
        out += [f"  {f.describe()}" for f in fits]
    if holding is not None and hz is not None:
        out += ["", f"Largest {axis_name} that holds {hz:g} Hz (period {1000 / hz:.2f} ms), replaying each point's samples:"]
        for row in holding:
            sync = (f"sync {_value(row['sync'][0])} ({format_ms(row['sync'][1])} ms to spare at the worst refill)"
                    if row["sync"] else "sync: none of the values")
            asyn = (f"async g=0.5 {_value(row['async'][0])}" if row["async"] else "async g=0.5: none of the values")
            out.append(f"  {label(row['policy'])}: {sync}; {asyn}")
    return "\n".join(out) + "\n"


def _value(value) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)
