"""CSV of the summaries (one row per policy and phase) and of the raw samples."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policybench.report.details import missing_reasons, not_a_win, stages_of
from policybench.report.realtime import HEADERS, realtime_row
from policybench.results import PolicyResult, RunResults
from policybench.samples import stage_names
from policybench.stats import samples_needed
from policybench.terminal import format_safe

STAT_KEYS = ["count", "mean_ms", "median_ms", "min_ms", "max_ms", "p90_ms", "p99_ms", "std_ms"]


def _write(rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    return format_safe(buf.getvalue())  # a name's bidi override (U+202E) shown, not obeyed


def _cell(value: object) -> object:
    return "" if value is None else (repr(value) if isinstance(value, float) else value)


SUMMARY_HEADER = [
    "policy",
    "status",
    "phase",
    *STAT_KEYS,
    "cold_start_ms",
    "params",
    "stage",
    "variant",
    "equivalent",
    "rel_error",
    "tolerance",
    "verdict",
    "missing",
    "median_ci_low_ms",
    "median_ci_high_ms",
    "p90_needs",
    "p99_needs",
]


def _claim_cells(s: Mapping[str, Any]) -> list[object]:
    """The median's 95% interval (empty without one) and the count each percentile needs
    (stats.samples_needed; empty for a phase without samples): p90_ms and p99_ms keep their
    number whatever the count, so a tool can tell a supported percentile from the maximum."""
    low, high = s["median_ci_ms"] or (None, None)
    needs = [samples_needed(90), samples_needed(99)] if s["count"] else ["", ""]
    return [_cell(low), _cell(high), *needs]


def _variant_cells(r: PolicyResult, rs: list[PolicyResult]) -> list[object]:
    """variant, equivalent, rel_error, tolerance, verdict ("not a win: ..." or empty), and why
    figures are empty (the reasons the table gives for a "-")."""
    eq = r.equivalence or {}
    equivalent = "" if "equivalent" not in eq else ("yes" if eq["equivalent"] else "no")
    return [
        r.variant or "",
        equivalent,
        _cell(eq.get("rel_error")),
        _cell(eq.get("tolerance")),
        not_a_win(r) or "",
        "; ".join(missing_reasons(r, rs)),
    ]


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
            rows.append(
                [r.name, r.status, phase, *(_cell(s[k]) for k in STAT_KEYS), *head, "", *extra, *_claim_cells(s)]
            )
        for stage, by_phase in stages_of(r).items():
            for phase in ("all", "step", "refill"):
                s = by_phase[phase]
                rows.append(
                    [
                        r.name,
                        r.status,
                        phase,
                        *(_cell(s[k]) for k in STAT_KEYS),
                        "",
                        "",
                        stage,
                        *extra,
                        *_claim_cells(s),
                    ]
                )
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
