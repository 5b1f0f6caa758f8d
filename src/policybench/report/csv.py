"""CSV of the summaries (one row per policy and phase) and of the raw samples."""

from __future__ import annotations

import csv
import io

from policybench.results import RunResults
from policybench.samples import stage_names

STAT_KEYS = ["count", "mean_ms", "median_ms", "min_ms", "max_ms", "p90_ms", "p99_ms", "std_ms"]


def _write(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    return buf.getvalue()


def _cell(value: object) -> object:
    return "" if value is None else (repr(value) if isinstance(value, float) else value)


def render_summary_csv(results: RunResults) -> str:
    rows: list[list[object]] = [["policy", "status", "phase", *STAT_KEYS, "cold_start_ms", "params"]]
    for r in results.results:
        summary = r.summary()
        for phase in ("all", "step", "refill"):
            s = summary[phase]
            rows.append([r.policy, r.status, phase, *(_cell(s[k]) for k in STAT_KEYS), _cell(r.cold_start_ms), _cell(r.params)])
    return _write(rows)


def render_samples_csv(results: RunResults) -> str:
    """One row per raw sample; with --pipeline, one more column per stage (<stage>_ms)."""
    stages: list[str] = []
    for r in results.results:
        stages += [name for name in stage_names(r.samples) if name not in stages]
    rows: list[list[object]] = [["policy", "i", "phase", "latency_ms", *(f"{name}_ms" for name in stages)]]
    for r in results.results:
        for s in r.samples:
            per_stage = [repr(s.stages_ms[name]) if s.stages_ms and name in s.stages_ms else "" for name in stages]
            rows.append([r.policy, s.i, s.phase, repr(s.latency_ms), *per_stage])
    return _write(rows)
