"""Regression comparison of two results files: the change of each median, called real only when
the medians' 95% intervals say so.

Each median's interval is the one the table prints beside it (``median_ci_ms`` of the result's
summary: stats.median_interval), so compare and the table never disagree. A change is real
when each run's median lies outside the other's interval: slower needs the new median above
the base's interval and the base median below the new one's (faster the reverse). The ratio's
interval printed is the range of ratios either interval allows with the other median held:
[min(new low / base median, new median / base high), max(new high / base median, new median /
base low)]; its low end is above 1 exactly when both conditions of "slower" hold. Where either
run has too few samples for an interval, compare says so instead of calling the change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from policybench.errors import UsageError
from policybench.machine_load import busy_reason
from policybench.results import OK, PolicyResult, RealtimeResult, RunResults, identity_name
from policybench.samples import PHASES
from policybench.schema import one_line
from policybench.stats import Summary, summarize

SLOWER, FASTER, UNCHANGED = "slower", "faster", "no change"
TOO_FEW = "too few samples"  # a run's median has no interval: the change is not called either way


@dataclass(frozen=True)
class Change:
    policy: str  # a result's policy (``variant`` and ``point`` beside it), or a realtime run's policy
    phase: str
    base_median_ms: float
    new_median_ms: float
    ratio: float  # new median / base median
    ci_low: float
    ci_high: float
    verdict: str  # SLOWER, FASTER, UNCHANGED, or TOO_FEW (then ci_low is 0 and ci_high infinite)
    context: str = ""  # a realtime run's mode and rate ("sync 30 Hz"); "" for a benchmark result
    variant: str | None = None
    point: dict[str, str] = field(default_factory=dict)
    base_count: int = 0  # the samples each median is of
    new_count: int = 0

    @property
    def name(self) -> str:
        return identity_name(self.policy, self.variant, self.point)


def ratio_interval(base: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[float, float] | None:
    """The ratio's interval from two phase summaries (``median_ms``, ``median_ci_ms``): the
    ratios either run's interval allows with the other's median held; None when either has no
    interval (too few samples) or the base median is not positive."""
    bm, nm = base["median_ms"], new["median_ms"]
    b_ci, n_ci = base["median_ci_ms"], new["median_ci_ms"]
    if not b_ci or not n_ci or bm is None or nm is None or bm <= 0:
        return None
    low = min(n_ci[0] / bm, nm / b_ci[1])
    high = max(n_ci[1] / bm, nm / b_ci[0] if b_ci[0] > 0 else math.inf)
    return low, high


def verdict(ratio: float, ci_low: float, ci_high: float, threshold: float) -> str:
    """Slower: the median grew by more than ``threshold`` and the whole interval is above 1.
    Faster: it shrank by more than ``threshold`` and the whole interval is below 1."""
    if ratio > 1 + threshold and ci_low > 1:
        return SLOWER
    if ratio < 1 / (1 + threshold) and ci_high < 1:
        return FASTER
    return UNCHANGED


def compare_results(base: RunResults, new: RunResults, threshold: float = 0.05) -> list[Change]:
    """One Change per policy and phase measured (ok, with samples) in both files, then one per
    phase of each live realtime run (same policy, mode, rate and threshold) in both files. A
    benchmark result's medians and intervals are those of its summary, as the table prints them."""
    new_by_identity = {r.identity: r for r in new.results}
    pairs: list[tuple[PolicyResult | RealtimeResult, str, dict[str, Summary], dict[str, Summary]]] = []
    for b in base.results:
        n = new_by_identity.get(b.identity)
        if n is not None and b.status == OK and n.status == OK:
            before, after = b.summary(), n.summary()
            pairs.append((b, "", {p: before[p] for p in PHASES}, {p: after[p] for p in PHASES}))
    new_runs = live_runs(new)
    for key, entry in live_runs(base).items():
        if key in new_runs:
            pairs.append(
                (
                    entry,
                    run_context(entry),
                    _summaries(realtime_latencies(entry)),
                    _summaries(realtime_latencies(new_runs[key])),
                )
            )
    changes = []
    for r, context, before, after in pairs:
        for phase, bs in before.items():
            change = _change(r.policy, phase, bs, after.get(phase) or summarize([]), threshold)
            if change is not None:
                changes.append(replace(change, variant=r.variant, point=r.point, context=context))
    return changes


def _summaries(by_phase: dict[str, list[float]]) -> dict[str, Summary]:
    return {phase: summarize(values) for phase, values in by_phase.items()}


def _change(policy: str, phase: str, bs: Mapping[str, Any], ns: Mapping[str, Any], threshold: float) -> Change | None:
    bm, nm = bs["median_ms"], ns["median_ms"]
    if not bs["count"] or not ns["count"] or bm is None or nm is None or bm <= 0:
        return None
    ratio, interval = nm / bm, ratio_interval(bs, ns)
    lo, hi = interval if interval is not None else (0.0, math.inf)
    call = verdict(ratio, lo, hi, threshold) if interval is not None else TOO_FEW
    return Change(policy, phase, bm, nm, ratio, lo, hi, call, base_count=bs["count"], new_count=ns["count"])


def live_runs(results: RunResults) -> dict[tuple, RealtimeResult]:
    """The realtime entries that hold measured latencies (live runs, ok), by (identity, mode, hz,
    threshold); simulated entries hold none of their own."""
    return {
        (e.identity, e.mode, e.hz, e.threshold): e
        for e in results.realtime
        if e.ok and any(realtime_latencies(e).values())
    }


def run_context(entry: RealtimeResult) -> str:
    threshold = f" g={entry.threshold:g}" if entry.threshold is not None else ""
    return f"realtime {entry.mode}{threshold} at {entry.hz:g} Hz"


def realtime_latencies(entry: RealtimeResult) -> dict[str, list[float]]:
    """What a live realtime run measured, by phase: in sync mode each tick's work (step, refill),
    in async mode the chunk latencies (refill), through a PolicyServer the round trips."""
    if entry.mode == "remote":
        return {"round trip": list(entry.round_trips_ms or [])}
    if entry.mode == "async":
        return {"refill": list(entry.chunk_latencies_ms or [])}
    return {phase: [t.work_ms for t in entry.ticks or [] if t.phase == phase] for phase in PHASES}


def busy_measurements(base: RunResults, new: RunResults, base_name: str, new_name: str) -> list[str]:
    """'new.json: smolvla was measured while the machine was 41 % busy with other work', for each
    result measured in both files (the ones compared) whose machine was busy (machine_load)."""
    both = {r.name for r in base.results if r.status == OK} & {r.name for r in new.results if r.status == OK}
    out = []
    for file_name, results in ((base_name, base), (new_name, new)):
        for r in results.results:
            reason = busy_reason(r.machine_load) if r.name in both and r.status == OK else None
            if reason:
                out.append(f"{file_name}: {one_line(r.name)} was measured while {reason}")
    return out


class BusyMeasurement(UsageError):
    """A file to compare was measured on a machine busy with other work: no regression is called
    from it unless the caller forces the comparison."""


def refuse_busy(busy: list[str]) -> None:
    """Raise BusyMeasurement naming the first of ``busy_measurements``' lines, if any."""
    if busy:
        more = f" (and {len(busy) - 1} more)" if len(busy) > 1 else ""
        raise BusyMeasurement(
            f"{busy[0]}{more}: its figures are not reliable enough to call a regression; "
            "measure it again on a quiet machine, or use --force to compare anyway"
        )


def nothing_to_compare(base: RunResults, new: RunResults, base_name: str, new_name: str) -> str:
    """One line saying why two files have nothing in common to compare."""

    def holds(results: RunResults) -> str:
        kinds = (["benchmark results"] if any(r.status == OK for r in results.results) else []) + (
            ["live realtime runs"] if live_runs(results) else []
        )
        return " and ".join(kinds) or "no measured policy"

    a, b = holds(base), holds(new)
    if a != b:
        return f"nothing to compare: {base_name} holds {a}, {new_name} {b}"
    what = "no realtime policy, mode and rate was" if a == "live realtime runs" else "no policy was"
    return f"nothing to compare: {what} measured in both {base_name} and {new_name}"


def _normal(value: object) -> object:
    """A setting as a results file holds it: a tuple in memory is the list it is written as."""
    return json.loads(json.dumps(value, default=str))


def environment_differences(base: RunResults, new: RunResults) -> list[str]:
    """'torch 2.10.0 -> 2.11.0' for each setting that differs between the two runs (compared as
    written to a file, so results in memory and the same results loaded back do not differ)."""
    out = []
    for key in ("device", "device_name", "torch", "lerobot", "transformers", "python", "threads"):
        a, b = base.environment.get(key), new.environment.get(key)
        if _normal(a) != _normal(b):
            out.append(f"{key} {a} -> {b}")
    pa, pb = base.run.get("profile"), new.run.get("profile")
    if _normal(pa) != _normal(pb):
        na = pa.get("name") if isinstance(pa, dict) else pa
        nb = pb.get("name") if isinstance(pb, dict) else pb
        out.append(f"profile {na} -> {nb}" if na != nb else f"profile {na} settings differ")
    if _normal(base.run.get("overrides")) != _normal(new.run.get("overrides")):
        out.append(f"--set {base.run.get('overrides')} -> {new.run.get('overrides')}")
    return out


def newly_failed(base: RunResults, new: RunResults) -> list[PolicyResult]:
    """Results measured in the base run that failed in the new one: a regression too."""
    ok_before = {r.name for r in base.results if r.status == OK}
    return [r for r in new.results if r.status != OK and r.name in ok_before]


def unmatched_policies(base: RunResults, new: RunResults) -> list[str]:
    """Policies measured in one file only; one that failed in the new run is a regression
    (``newly_failed``), not listed here too."""
    a = {r.name for r in base.results if r.status == OK}
    b = {r.name for r in new.results if r.status == OK}
    runs_a, runs_b = live_runs(base), live_runs(new)
    runs = [
        f"{e.name} ({run_context(e)})"
        for k, e in {**runs_a, **runs_b}.items()
        if runs_a and runs_b and (k in runs_a) != (k in runs_b)
    ]
    return sorted((a ^ b) - {r.name for r in newly_failed(base, new)}) + runs


def parse_threshold(text: str) -> float:
    """'5%' or '0.05' -> 0.05."""
    from policybench.errors import UsageError

    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UsageError(f"--min-change must be a percentage like 5% or a fraction like 0.05, got '{text}'") from None
    if not (0 <= value < 10):
        raise UsageError(f"--min-change must be between 0% and 1000%, got '{text}'")
    return value
