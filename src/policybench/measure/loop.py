"""The steady-state loop: reset once, warm up, then call ``select_action`` and time every call.

A call is a refill when the policy's action queue is empty before the call, else a step; the
queue is read from the adapter before the clock starts, never inferred from the latency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

import torch

from policybench.clock import Clock
from policybench.policies.base import PolicyAdapter
from policybench.samples import REFILL, STEP, Sample
from policybench.settings import AUTO
from policybench.sizes import MAX_SAMPLES

MIN_AUTO_REFILLS = 6  # refills "auto": the fewest refills whose median has a 95 % interval (1 - 2 / 2**6 > 0.95)
Interval = Callable[[Sequence[float]], tuple[float, float] | None]  # stats.median_interval's shape


@dataclass(frozen=True)
class LoopResult:
    samples: list[Sample]
    cold_start_ms: float  # the first call after reset (a refill), never part of samples
    warmup_calls: int  # calls run and discarded after the cold one
    complete: bool  # True when the target number of full refill cycles (auto: the precision) was reached
    measured_seconds: float
    warmup_complete: bool = True  # False: max_seconds cut warm-up short; measuring began mid-cycle
    precision: float | None = None  # refills "auto": the refill median's interval half-width, as a share of it


def precision_reached(refill_ms: Sequence[float], interval: Interval | None = None) -> float | None:
    """How far the refill median's 95 % interval (``interval``: stats.median_interval) reaches from
    the median, as a share of the median: the larger side. None when there is no interval yet."""
    from policybench import stats

    if not refill_ms:
        return None
    bounds = (interval or stats.median_interval)(refill_ms)
    if bounds is None:
        return None
    median = stats.percentile(refill_ms, 50)
    if median <= 0:
        return None
    return max(median - bounds[0], bounds[1] - median) / median


def precise_enough(refill_ms: Sequence[float], precision: float, interval: Interval | None = None) -> bool:
    """The stop rule of refills "auto": at least MIN_AUTO_REFILLS refills, and the refill median's
    95 % interval within +- ``precision`` (a share) of the median."""
    if len(refill_ms) < MIN_AUTO_REFILLS:
        return False
    reached = precision_reached(refill_ms, interval)
    return reached is not None and reached <= precision


def _timed_call(policy: PolicyAdapter, obs: dict[str, torch.Tensor], clock: Clock) -> tuple[str, float]:
    phase, ms, _ = _timed_stages(policy, obs, clock)
    return phase, ms


def _timed_stages(
    policy: PolicyAdapter, obs: dict[str, torch.Tensor], clock: Clock
) -> tuple[str, float, dict[str, float] | None]:
    """One call: its phase, its latency in ms and, for a staged policy, each stage's ms (the
    device is synchronized at every stage boundary, so the stages add up to the total)."""
    phase = REFILL if policy.queued_actions() == 0 else STEP
    stages = policy.stages()
    if stages is None:
        start = clock.read()
        policy.select_action(obs)
        end = clock.read()
        return phase, (end - start) * 1000.0, None
    marks = [clock.read()]
    value = obs
    for _, fn in stages:
        value = fn(value)
        marks.append(clock.read())
    per_stage = {name: (b - a) * 1000.0 for (name, _), a, b in zip(stages, marks, marks[1:])}
    return phase, (marks[-1] - marks[0]) * 1000.0, per_stage


def warm_up(
    policy: PolicyAdapter,
    obs: dict[str, torch.Tensor],
    clock: Clock,
    cycles: int,
    max_seconds: float,
    on_phase: Callable[[str], None] = lambda phase: None,
) -> tuple[float, int]:
    """reset(), the cold call, then calls until ``cycles`` full refill cycles are done (the cold
    call starts the first) or ``max_seconds`` have passed. Returns (cold call ms, calls after it).
    ``on_phase`` hears "first call" and "warm-up" as they begin (outside any timed region)."""
    policy.reset()
    on_phase("first call")
    phase, cold_ms = _timed_call(policy, obs, clock)
    if cycles > 0:
        on_phase("warm-up")
    if phase != REFILL:
        raise RuntimeError(f"{policy.name}: the queue was not empty after reset()")
    seen, calls = 1, 0
    start = clock.now()
    while cycles > 0 and not (seen >= cycles and policy.queued_actions() == 0):
        if clock.now() - start >= max_seconds:
            break
        phase, _ = _timed_call(policy, obs, clock)
        calls += 1
        seen += phase == REFILL
    return cold_ms, calls


def run_steady_state(
    policy: PolicyAdapter,
    obs: dict[str, torch.Tensor],
    clock: Clock,
    refills: int | str = 10,
    warmup: int = 2,
    max_seconds: float = 60.0,
    on_refill: Callable[[int], None] | None = None,
    max_samples: int = MAX_SAMPLES,
    on_phase: Callable[[str], None] = lambda phase: None,
    precision: float = 0.02,
    interval: Interval | None = None,
) -> LoopResult:
    """Measure until ``refills`` full refill cycles are done (a refill and the steps that drain
    its chunk), or until ``max_seconds`` of measuring have passed. With ``refills="auto"``,
    until a full cycle ends with the refill median known to ``precision`` (``precise_enough``,
    ``interval`` being stats.median_interval unless given); the result records the precision reached.

    Warm-up runs ``warmup`` full cycles, the cold call starting the first, so measuring starts
    on a refill. With ``warmup=0`` measuring starts right after the cold call. Warm-up is
    bounded by ``max_seconds`` too, so a policy whose queue never empties cannot hang the run.
    ``on_refill(n)`` is called after the n-th measured refill, outside the timed region.
    At most ``max_samples`` calls are kept (memory and the results file stay bounded).
    ``on_phase(name)`` is told "first call", "warm-up" and "measuring" as each begins.
    """
    cold_ms, warmup_calls = warm_up(policy, obs, clock, warmup, max_seconds, on_phase)
    on_phase("measuring")
    warmup_complete = warmup == 0 or policy.queued_actions() == 0
    samples: list[Sample] = []
    refill_ms: list[float] = []
    complete = False
    start = clock.now()
    while True:
        phase, ms, stages = _timed_stages(policy, obs, clock)
        samples.append(Sample(len(samples), phase, ms, stages))
        if phase == REFILL:
            refill_ms.append(ms)
            if on_refill is not None:
                on_refill(len(refill_ms))
        if policy.queued_actions() == 0 and (
            precise_enough(refill_ms, precision, interval) if refills == AUTO else len(refill_ms) >= int(refills)
        ):
            complete = True
            break
        if clock.now() - start >= max_seconds or len(samples) >= max_samples:
            break
    reached = precision_reached(refill_ms, interval) if refills == AUTO else None
    return LoopResult(samples, cold_ms, warmup_calls, complete, clock.now() - start, warmup_complete, reached)
