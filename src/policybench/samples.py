"""Raw samples: one per timed ``select_action`` call, the unit every statistic is computed from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

STEP = "step"  # the queue held an action before the call: it only pops
REFILL = "refill"  # the queue was empty before the call: the policy computes a new chunk
PHASES = (STEP, REFILL)
POP = "pop"  # a tick of an async paced run executed a queued action
STARVED = "starved"  # the queue was empty at the tick; the robot got no new action
TICK_PHASES = (*PHASES, POP, STARVED)  # a paced run's ticks: sync STEP or REFILL, async POP or STARVED


@dataclass(frozen=True)
class Sample:
    i: int  # call index within the measured phase, from 0
    phase: str  # STEP or REFILL
    latency_ms: float
    stages_ms: dict[str, float] | None = None  # --pipeline: time of each stage of the call
    process: int = 0  # --processes: which of the run's fresh processes measured it, from 0


def stage_latencies(samples: Iterable[Sample], stage: str, phase: str | None = None) -> list[float]:
    """Latencies in ms of one pipeline stage, for the samples of ``phase`` (all when None)."""
    return [s.stages_ms[stage] for s in samples if s.stages_ms and (phase is None or s.phase == phase)]


def stage_names(samples: Iterable[Sample]) -> list[str]:
    """Stages in the order of the first sample that has them; [] without --pipeline."""
    for s in samples:
        if s.stages_ms:
            return list(s.stages_ms)
    return []


def process_indices(samples: Iterable[Sample]) -> list[int]:
    """The process indices the samples hold, in increasing order ([0] for a one-process run)."""
    return sorted({s.process for s in samples})


def latencies(samples: Iterable[Sample], phase: str | None = None) -> list[float]:
    """Latencies in ms of the samples of ``phase`` (all samples when None), in call order."""
    return [s.latency_ms for s in samples if phase is None or s.phase == phase]
