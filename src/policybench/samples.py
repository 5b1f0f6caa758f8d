"""Raw samples: one per timed ``select_action`` call, the unit every statistic is computed from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

STEP = "step"  # the queue held an action before the call: it only pops
REFILL = "refill"  # the queue was empty before the call: the policy computes a new chunk
PHASES = (STEP, REFILL)


@dataclass(frozen=True)
class Sample:
    i: int  # call index within the measured phase, from 0
    phase: str  # STEP or REFILL
    latency_ms: float


def latencies(samples: Iterable[Sample], phase: str | None = None) -> list[float]:
    """Latencies in ms of the samples of ``phase`` (all samples when None), in call order."""
    return [s.latency_ms for s in samples if phase is None or s.phase == phase]
