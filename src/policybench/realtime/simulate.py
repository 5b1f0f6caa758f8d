"""The real-time verdict computed from a results file's measured samples, without running a policy.

The same paced loops as a live run, on a virtual clock: in sync mode each tick costs the next
measured step or refill latency (in the order they were measured, cycled); in async mode each
chunk costs the next measured refill latency.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from policybench.errors import UsageError
from policybench.realtime.metrics import summarize_ticks
from policybench.realtime.paced import run_async, run_sync
from policybench.realtime.virtual import ReplayPolicy, VirtualClock, VirtualWorker
from policybench.results import OK, PolicyResult, RunResults
from policybench.samples import REFILL, STEP, latencies
from policybench.sizes import MAX_SEQUENCE

MAX_TICKS = 1_000_000  # per rate and mode: a few seconds of simulation each

@dataclass(frozen=True)
class Costs:
    """What a simulation needs of a policy: its chunk and its measured latencies, in seconds."""

    policy: str
    chunk: int
    step: list[float]
    refill: list[float]


def costs_from_result(r: PolicyResult) -> Costs:
    refill = [x / 1000 for x in latencies(r.samples, REFILL)]
    if r.status != OK or not refill:
        raise UsageError(f"results file has no refill samples for '{r.policy}'; run it again with policybench run --json")
    return Costs(r.policy, chunk_length(r), [x / 1000 for x in latencies(r.samples, STEP)], refill)


def chunk_length(r: PolicyResult) -> int:
    """Calls per refill cycle as measured: the most common spacing of refill indices (what the
    queue really held, e.g. TD-MPC's action repeats), else the config's n_action_steps."""
    from collections import Counter

    idx = [s.i for s in r.samples if s.phase == REFILL]
    gaps = Counter(b - a for a, b in zip(idx, idx[1:]))
    chunk = gaps.most_common(1)[0][0] if gaps else int(r.config.get("n_action_steps") or 1)
    if chunk > MAX_SEQUENCE:  # a results file from elsewhere: the simulated queue would hold them all
        raise UsageError(f"{r.policy}: a chunk of {chunk:,} actions (calls per refill); a simulation replays "
                         f"at most {MAX_SEQUENCE:,}")
    return chunk


def simulate_sync(costs: Costs, hz: float, ticks: int) -> dict[str, object]:
    clock = VirtualClock()
    policy = ReplayPolicy(clock, costs.chunk, costs.step, costs.refill, name=costs.policy)
    return summarize_ticks(run_sync(policy, {}, clock.clock(), clock.sleep_until, hz, ticks), hz)


def simulate_async(costs: Costs, hz: float, ticks: int, threshold: float, aggregate: str) -> dict[str, object]:
    clock = VirtualClock()
    worker = VirtualWorker(clock, costs.chunk, costs.refill)
    run = run_async(worker, {}, clock.clock(), clock.sleep_until, hz, ticks, torch.zeros(costs.chunk, 1), threshold, aggregate)
    return summarize_ticks(run.ticks, hz, run.chunk_latencies)


def simulate(
    results: RunResults,
    rates: list[float],
    thresholds: list[float],
    seconds: float,
    aggregate: str = "weighted_average",
    policies: list[str] | None = None,
    ticks: int | None = None,
) -> list[dict[str, object]]:
    """One entry per policy, rate and mode (and threshold in async mode), each run for ``ticks``
    ticks or else ``seconds`` of virtual time; UsageError, before anything runs, where that is
    more than MAX_TICKS."""
    counts = [(hz, ticks if ticks is not None else max(int(round(seconds * hz)), 2)) for hz in rates]
    for hz, n in counts:
        if n > MAX_TICKS:
            asked = f"--ticks {n:,} is" if ticks is not None else f"--hz {hz:g} for {seconds:g} s is {n:,} ticks,"
            raise UsageError(f"{asked} more than the {MAX_TICKS:,} a simulated run may have: lower "
                             + ("--ticks" if ticks is not None else "--hz or --seconds"))
    chosen = [r for r in results.results if policies is None or r.policy in policies]
    if policies:
        missing = sorted(set(policies) - {r.policy for r in chosen})
        if missing:
            raise UsageError(f"results file has no policy {', '.join(missing)}; it has {', '.join(r.policy for r in results.results)}")
    entries: list[dict[str, object]] = []
    for r in chosen:
        if r.status != OK:
            continue
        costs = costs_from_result(r)
        flag = not_equivalent(r.equivalence)
        for hz, n in counts:
            base = {"policy": r.policy, "hz": hz, "source": "simulated", "aggregate": None, "threshold": None,
                    **({"not_equivalent": flag} if flag else {})}
            entries.append({**base, "mode": "sync", "summary": simulate_sync(costs, hz, n)})
            for g in thresholds:
                entries.append({**base, "mode": "async", "threshold": g, "aggregate": aggregate,
                                "summary": simulate_async(costs, hz, n, g, aggregate)})
    if not entries:
        raise UsageError("results file has no successfully measured policy to simulate")
    return entries


def not_equivalent(equivalence: dict | None) -> str | None:
    """Why a variant's actions do not count as the policy's (above its tolerance), or None."""
    if not equivalence or equivalence.get("equivalent", True):
        return None
    return (f"its actions are {equivalence['rel_error']:.1e} off fp32 eager's, above the tolerance of "
            f"{equivalence['tolerance']:g}")


def highest_rates(entries: list[dict[str, object]]) -> list[dict[str, object]]:
    """Per policy: the highest rate with no missed deadline (sync) and, per threshold, with no
    starved tick (async); None where no rate qualifies."""
    out = []
    for policy in dict.fromkeys(e["policy"] for e in entries):
        mine = [e for e in entries if e["policy"] == policy]
        sync_ok = [e["hz"] for e in mine if e["mode"] == "sync" and e["summary"]["deadline_misses"] == 0]
        row: dict[str, object] = {"policy": policy, "sync_hz": max(sync_ok) if sync_ok else None, "async_hz": {}}
        if mine[0].get("not_equivalent"):
            row["not_equivalent"] = mine[0]["not_equivalent"]
        for g in dict.fromkeys(e["threshold"] for e in mine if e["mode"] == "async"):
            ok = [e["hz"] for e in mine if e["mode"] == "async" and e["threshold"] == g and e["summary"]["starved_ticks"] == 0]
            row["async_hz"][g] = max(ok) if ok else None
        out.append(row)
    return out
