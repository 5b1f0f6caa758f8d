"""CSV of the summaries (one row per policy and phase) and of the raw samples."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from policybench.report.details import missing_reasons, not_a_win, stages_of
from policybench.report.realtime import HEADERS, realtime_row
from policybench.results import PolicyResult, RunResults
from policybench.samples import stage_names

STAT_KEYS = ["count", "mean_ms", "median_ms", "min_ms", "max_ms", "p90_ms", "p99_ms", "std_ms"]


def _write(rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    return buf.getvalue()


def _cell(value: object) -> object:
    return "" if value is None else (repr(value) if isinstance(value, float) else value)


SUMMARY_HEADER = ["policy", "status", "phase", *STAT_KEYS, "cold_start_ms", "params",
                  "stage", "variant", "equivalent", "rel_error", "tolerance", "verdict", "missing"]


def _variant_cells(r: PolicyResult, rs: list[PolicyResult]) -> list[object]:
    """variant, equivalent, rel_error, tolerance, verdict ("not a win: ..." or empty), and why
    figures are empty (the reasons the table gives for a "-")."""
    eq = r.equivalence or {}
    equivalent = "" if "equivalent" not in eq else ("yes" if eq["equivalent"] else "no")
    return [r.variant or "", equivalent, _cell(eq.get("rel_error")), _cell(eq.get("tolerance")),
            not_a_win(r) or "", "; ".join(missing_reasons(r, rs))]


def render_summary_csv(results: RunResults) -> str:
    """One row per policy and phase, then with --pipeline one per stage and phase (``stage``
    names it); the variant columns repeat on each row of a policy."""
    rows: list[Sequence[object]] = [SUMMARY_HEADER]
    rs = results.results
    for r in rs:
        summary, extra = r.summary(), _variant_cells(r, rs)
        head = [_cell(r.cold_start_ms), _cell(r.params)]
        for phase in ("all", "step", "refill"):
            s = summary[phase]
            rows.append([r.name, r.status, phase, *(_cell(s[k]) for k in STAT_KEYS), *head, "", *extra])
        for stage, by_phase in stages_of(r).items():
            for phase in ("all", "step", "refill"):
                s = by_phase[phase]
                rows.append([r.name, r.status, phase, *(_cell(s[k]) for k in STAT_KEYS), "", "", stage, *extra])
    return _write(rows)


def render_realtime_csv(results: RunResults) -> str:
    """The realtime section, one row per entry, with the columns of its terminal table."""
    return _write([HEADERS, *(realtime_row(e) for e in results.realtime if e.mode != "remote")])


def render_samples_csv(results: RunResults) -> str:
    """One row per raw sample; with --pipeline, one more column per stage (<stage>_ms)."""
    stages: list[str] = []
    for r in results.results:
        stages += [name for name in stage_names(r.samples) if name not in stages]
    rows: list[list[object]] = [["policy", "i", "phase", "latency_ms", *(f"{name}_ms" for name in stages)]]
    for r in results.results:
        for s in r.samples:
            per_stage = [repr(s.stages_ms[name]) if s.stages_ms and name in s.stages_ms else "" for name in stages]
            rows.append([r.name, s.i, s.phase, repr(s.latency_ms), *per_stage])
    return _write(rows)
