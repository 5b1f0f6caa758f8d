"""The terminal table: the replaced script's rows and ratio columns, for any set of policies."""

from __future__ import annotations

from policybench.report.breakdown import render_breakdown
from policybench.report.details import (
    accuracy_notes,
    below_floor,
    divergence_notes,
    detail_rows,
    interval_notes,
    missing_notes,
)
from policybench.report.format import column_blocks, format_ms, label, machine_line, median_text, percentile_text, short
from policybench.machine_load import busy_reason
from policybench.results import OK, PolicyResult, RunResults
from policybench.schema import one_line
from policybench.stats import samples_needed
from policybench.terminal import wrapped
from policybench.variants.precision import FP32, INT8, best_cpu_instructions

RULE = "=" * 78


def _stat(result: PolicyResult, phase: str | None, key: str | None) -> float | None:
    """A statistic of one phase; the cold start when ``phase`` is None (the Cold Start row); None
    for a percentile that the phase's count does not support (stats.samples_needed)."""
    if result.status != OK:
        return None
    if phase is None or key is None:
        return result.cold_start_ms
    s = result.summary()[phase]
    if key in _PERCENTILES and s["count"] < samples_needed(_PERCENTILES[key]):
        return None
    return s[key]


def _cell(result: PolicyResult, phase: str | None, key: str | None) -> str:
    """What the table shows for a statistic: a median with its interval, "n/a (needs 100)" for
    an unsupported percentile, the status of a result that was not measured."""
    if result.status != OK:
        return result.status
    if phase is None or key is None:
        return format_ms(result.cold_start_ms)
    s = result.summary()[phase]
    if key == "median_ms":
        return median_text(s)
    return percentile_text(s, _PERCENTILES[key]) if key in _PERCENTILES else format_ms(s[key])


_PERCENTILES = {"p90_ms": 90, "p99_ms": 99}


# (row label, phase, statistic); the first group gets ratio columns.
_TIME_ROWS = [
    ("Mean Time", "all", "mean_ms"),
    ("Median Time", "all", "median_ms"),
    ("Min Time", "all", "min_ms"),
    ("Max Time", "all", "max_ms"),
    ("p90 Time", "all", "p90_ms"),
    ("p99 Time", "all", "p99_ms"),
    ("Std Dev", "all", "std_ms"),
    ("Cold Start", None, None),
]
_PHASE_ROWS = [
    ("Step Mean (ms)", "step", "mean_ms"),
    ("Step Median (ms)", "step", "median_ms"),
    ("Refill Mean (ms)", "refill", "mean_ms"),
    ("Refill Median (ms)", "refill", "median_ms"),
    ("Refill p99 (ms)", "refill", "p99_ms"),
]


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    r = value / base
    # Two decimals as the replaced script printed them; tiny ratios keep 3 significant digits.
    return f"{r:.2f} x" if r >= 0.1 else f"{format_ms(r)} x"


def render_table(results: RunResults, baseline: str | None = None, width: int | None = None) -> str:
    """The comparison table as text. ``baseline`` names the policy the ratio columns divide by.
    A table wider than ``width`` characters (None: any width) folds into blocks of as many
    policies (each with its ratio column) as fit, the metric names repeated in each."""
    rs = results.results
    by_name = {r.name: r for r in rs}
    base = by_name.get(baseline) if baseline else None
    others = [r for r in rs if r is not base] if base is not None else []
    headers = ["Metric"] + [f"{label(r)} (ms)" for r in rs]
    if base is not None:
        headers += [f"{short(r)}/{short(base)}" for r in others]
    beside = ["Metric"] + [f"{label(r)} (ms)" for r in rs] + [f"/{short(base)}" for r in others] if base else headers
    rows: list[list[str] | None] = []  # None: a rule

    def stat_row(row_label: str, phase: str | None, key: str | None, with_ratio: bool) -> list[str]:
        cells = [row_label] + [_cell(r, phase, key) for r in rs]
        if with_ratio and base is not None:
            b = _stat(base, phase, key)
            cells += [_ratio(_stat(r, phase, key), b) for r in others]
        else:
            cells += [""] * len(others)
        return cells

    rows += [stat_row(name, phase, key, True) for name, phase, key in _TIME_ROWS]
    rows.append(None)  # rule
    rows.append(["Successful Runs"] + [str(len(r.samples)) for r in rs] + [""] * len(others))
    rows += [stat_row(name, phase, key, True) for name, phase, key in _PHASE_ROWS]
    counts = []
    for r in rs:
        s = r.summary()
        counts.append(f"{s['step']['count'] or '-'}/{s['refill']['count'] or '-'}")
    rows.append(["Step/Refill Count"] + counts + [""] * len(others))
    for group in detail_rows(rs):
        rows.append(None)
        rows += [cells + [""] * len(others) for cells in group]

    def widths_of(headers: list[str]) -> list[int]:
        widths = [max(len(h), *(len(row[i]) for row in rows if row)) for i, h in enumerate(headers)]
        return [max(widths[0], 20), *widths[1:]]

    widths = widths_of(headers)
    ratio = {id(r): 1 + len(rs) + k for k, r in enumerate(others)}
    groups = [[1 + j] + ([ratio[id(r)]] if id(r) in ratio else []) for j, r in enumerate(rs)]
    blocks = column_blocks(widths, width, keep=1, groups=groups)
    if len(blocks) > 1:  # folded: each ratio column stands beside its policy's, which names it
        headers, widths = beside, widths_of(beside)
        blocks = column_blocks(widths, width, keep=1, groups=groups)

    def line(cells: list[str], columns: list[int]) -> str:
        return "  ".join(cells[i].ljust(widths[i]) for i in columns).rstrip()

    rule = max(len(line(headers, columns)) for columns in blocks)
    rule = max(rule, len(RULE) if width is None or len(blocks) == 1 else min(len(RULE), width))
    out = ["=" * rule, "INFERENCE SPEED BENCHMARK RESULTS", *wrapped(machine_line(results), width), "=" * rule]
    for columns in blocks:
        out += [line(headers, columns), "-" * rule]
        out += ["-" * rule if row is None else line(row, columns) for row in rows]
        out.append("=" * rule)
    out += [part for note in _notes(results, base) for part in wrapped(note, width)]
    anatomy = render_breakdown(results)
    out += ["", *anatomy] if anatomy else []
    return "\n".join(out) + "\n"


def _giga(value: object) -> float:
    """A roofline count (FLOPs, bytes) in billions; NaN where the file holds no number."""
    return value / 1e9 if isinstance(value, (int, float)) else float("nan")


def _claims(r: PolicyResult) -> list[str]:
    """What a measured result's figures rest on: cut short, the precision not reached, measured
    over several processes (their spread), or on a machine busy with other work."""
    notes = []
    refill = r.summary()["refill"]
    if r.complete is False and r.precision is not None:
        notes.append(
            f"{label(r)}: --refills auto stopped by --max-seconds with the refill median known to "
            f"±{100 * r.precision:.1f} % ({refill['count']} refills measured)"
        )
    elif r.complete is False:
        notes.append(
            f"{label(r)}: stopped by --max-seconds before its full refill cycles ({refill['count']} refills measured)"
        )
    if refill.get("process_spread_ms"):
        low, high = refill["process_spread_ms"]
        notes.append(
            f"{label(r)}: {len(refill['process_medians_ms'])} processes, refill medians from {low:.4g} to "
            f"{high:.4g} ms (the table shows the median of the processes' medians)"
        )
    busy = busy_reason(r.machine_load)
    if busy:
        notes.append(f"{label(r)}: {busy} while it was measured: its figures are not reliable")
    return notes


def _floor_notes(r: PolicyResult, environment: dict) -> list[str]:
    """How a result's floor was made: eager's (and the peaks of every precision measured), a
    variant's whose precision is not fp32; and a refill below its floor, which only a wrong
    floor explains."""
    rl, notes = r.roofline, []
    if rl.get("floor_ms") and (r.variant == "eager" or rl.get("precision") not in (None, FP32)):
        precision = rl.get("precision")
        at = f" ({one_line(precision)})" if isinstance(precision, str) and r.variant != "eager" else ""
        notes.append(
            f"{label(r)} refill floor{at} {rl['floor_ms']:.3g} ms = max({_giga(rl['flops']):.3g} GFLOP / "
            f"{_giga(rl['peak_flops']):.3g} GFLOP/s, {_giga(rl['weight_bytes_read']):.3g} GB of weights read / "
            f"{_giga(rl['peak_bytes_per_s']):.3g} GB/s), peaks measured on this device"
        )
    rates = rl.get("peak_flops_by_precision")
    if r.variant == "eager" and isinstance(rates, dict) and set(rates) - {FP32}:
        isa = best_cpu_instructions(environment.get("cpu_flags") or []) if environment.get("device") == "cpu" else {}
        shown = [
            f"{one_line(p)} {_giga(v):,.4g} G{'OP' if p == INT8 else 'FLOP'}/s" + (f" ({isa[p]})" if p in isa else "")
            for p, v in rates.items()
        ]
        notes.append(
            f"{label(r)}: peak matrix-product rates on this device by precision: {', '.join(shown)}; "
            "each variant's floor uses the rate of its own precision"
        )
    below = below_floor(r)
    return notes + ([below] if below else [])


def _notes(results: RunResults, base: PolicyResult | None) -> list[str]:
    notes: list[str] = []
    for r in results.results:
        if r.status != OK:
            notes.append(f"{label(r)} {r.status}: {(r.error or '').splitlines()[0] if r.error else 'unknown error'}")
        else:
            notes += _claims(r)
    notes += missing_notes(results.results) + accuracy_notes(results.results) + divergence_notes(results.results)
    notes += interval_notes(results.results)
    for r in results.results:
        notes += _floor_notes(r, results.environment)
    if base is not None and base.status == OK:
        bs = base.summary()
        for r in results.results:
            if r is base or r.status != OK:
                continue
            s = r.summary()
            parts = []
            for phase in ("step", "refill"):
                a, b = s[phase]["median_ms"], bs[phase]["median_ms"]
                if a is not None and b:
                    parts.append(f"{phase} median {a / b:.2f}x")
            if parts:
                notes.append(f"{label(r)} vs {label(base)}: " + ", ".join(parts))
    return notes
