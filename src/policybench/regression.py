"""Regression comparison of two results files: the change of each median with a confidence interval.

The interval is a percentile bootstrap of the ratio of medians (new / base): both sets of
samples are resampled with replacement, independently, ``resamples`` times with a seeded
generator, so the same files always give the same answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np

from policybench.results import OK, PolicyResult, RealtimeResult, RunResults, identity_name
from policybench.samples import PHASES, latencies

SLOWER, FASTER, UNCHANGED = "slower", "faster", "no change"


@dataclass(frozen=True)
class Change:
    policy: str  # a result's policy (``variant`` and ``point`` beside it), or a realtime run's policy
    phase: str
    base_median_ms: float
    new_median_ms: float
    ratio: float  # new median / base median
    ci_low: float
    ci_high: float
    verdict: str  # SLOWER, FASTER or UNCHANGED
    context: str = ""  # a realtime run's mode and rate ("sync 30 Hz"); "" for a benchmark result
    variant: str | None = None
    point: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return identity_name(self.policy, self.variant, self.point)


BOOTSTRAP_CHUNK = 1_000_000  # resampled values drawn at once: 8 MB of indices, 8 MB of values


def bootstrap_ratio_ci(
    base: list[float], new: list[float], resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    b_med = _resampled_medians(rng, np.asarray(base), resamples)
    n_med = _resampled_medians(rng, np.asarray(new), resamples)
    ratios = n_med / b_med
    alpha = (1 - confidence) / 2
    return float(np.quantile(ratios, alpha)), float(np.quantile(ratios, 1 - alpha))


def _resampled_medians(rng: np.random.Generator, values: np.ndarray, resamples: int) -> np.ndarray:
    """The median of each of ``resamples`` resamplings of ``values`` with replacement, drawn a
    few rows at a time (at most BOOTSTRAP_CHUNK values): memory stays bounded for any number
    of samples, and as the generator's stream does not depend on how the draws are split, the
    medians are those of one resamples x len(values) draw."""
    rows = max(1, BOOTSTRAP_CHUNK // len(values))
    return np.concatenate([
        np.median(values[rng.integers(0, len(values), size=(min(rows, resamples - start), len(values)))], axis=1)
        for start in range(0, resamples, rows)
    ])


def verdict(ratio: float, ci_low: float, ci_high: float, threshold: float) -> str:
    """Slower: the median grew by more than ``threshold`` and the whole interval is above 1.
    Faster: it shrank by more than ``threshold`` and the whole interval is below 1."""
    if ratio > 1 + threshold and ci_low > 1:
        return SLOWER
    if ratio < 1 / (1 + threshold) and ci_high < 1:
        return FASTER
    return UNCHANGED


def compare_results(base: RunResults, new: RunResults, threshold: float = 0.05, resamples: int = 2000) -> list[Change]:
    """One Change per policy and phase measured (ok, with samples) in both files, then one per
    phase of each live realtime run (same policy, mode, rate and threshold) in both files."""
    new_by_name = {r.name: r for r in new.results}
    pairs: list[tuple[PolicyResult | RealtimeResult, str, dict[str, list[float]], dict[str, list[float]]]] = []
    for b in base.results:
        n = new_by_name.get(b.name)
        if n is not None and b.status == OK and n.status == OK:
            pairs.append((b, "", {p: latencies(b.samples, p) for p in PHASES},
                          {p: latencies(n.samples, p) for p in PHASES}))
    new_runs = live_runs(new)
    for key, entry in live_runs(base).items():
        if key in new_runs:
            pairs.append((entry, run_context(entry), realtime_latencies(entry), realtime_latencies(new_runs[key])))
    changes = []
    for r, context, before, after in pairs:
        for phase, bv in before.items():
            change = _change(r.policy, phase, bv, after.get(phase) or [], threshold, resamples)
            if change is not None:
                changes.append(replace(change, variant=r.variant, point=r.point, context=context))
    return changes


def _change(policy: str, phase: str, bv: list[float], nv: list[float], threshold: float, resamples: int) -> Change | None:
    if not bv or not nv:
        return None
    bm, nm = float(np.median(bv)), float(np.median(nv))
    if bm <= 0:
        return None
    lo, hi = bootstrap_ratio_ci(bv, nv, resamples)
    ratio = nm / bm
    return Change(policy, phase, bm, nm, ratio, lo, hi, verdict(ratio, lo, hi, threshold))


def live_runs(results: RunResults) -> dict[tuple, RealtimeResult]:
    """The realtime entries that hold measured latencies (live runs, ok), by (name, mode, hz,
    threshold); simulated entries hold none of their own."""
    return {(e.name, e.mode, e.hz, e.threshold): e for e in results.realtime
            if e.ok and any(realtime_latencies(e).values())}


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


def nothing_to_compare(base: RunResults, new: RunResults, base_name: str, new_name: str) -> str:
    """One line saying why two files have nothing in common to compare."""
    def holds(results: RunResults) -> str:
        kinds = (["benchmark results"] if any(r.status == OK for r in results.results) else []) + (
            ["live realtime runs"] if live_runs(results) else [])
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
    runs = [f"{e.name} ({run_context(e)})" for k, e in {**runs_a, **runs_b}.items()
            if runs_a and runs_b and (k in runs_a) != (k in runs_b)]
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
