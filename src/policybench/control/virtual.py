"""Replaying costs on a virtual clock: declared costs (tests) or measured samples (simulate).

Nothing here sleeps or runs a model; time advances only by the costs given.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from policybench.clock import Clock
from policybench.control.metrics import EPS  # a chunk due exactly at a tick's time is ready then


class VirtualClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep_until(self, target: float) -> None:
        self.t = max(self.t, target)

    def clock(self) -> Clock:
        return Clock(now=self.now)


class ReplayPolicy:
    """A chunking policy whose calls cost the given step and refill latencies (seconds), in turn
    and cycled, on a virtual clock."""

    def __init__(
        self,
        clock: VirtualClock,
        chunk: int,
        step_costs: Iterable[float],
        refill_costs: Iterable[float],
        name: str = "replay",
    ):
        self.name = name
        self._clock, self.chunk = clock, chunk
        self._steps = itertools.cycle(list(step_costs) or [0.0])
        self._refills = itertools.cycle(list(refill_costs))
        self._queued = 0
        self._action = [0.0]

    def reset(self) -> None:
        self._queued = 0

    def select_action(self, obs: dict) -> list[float]:
        if self._queued == 0:
            self._clock.t += next(self._refills)
            self._queued = self.chunk
        else:
            self._clock.t += next(self._steps)
        self._queued -= 1
        return self._action

    def queued_actions(self) -> int:
        return self._queued

    def describe(self) -> dict[str, object]:
        return {"chunk_size": self.chunk, "n_action_steps": self.chunk, "inference_steps": None}

    def parameter_count(self) -> int:
        return 0


class VirtualWorker:
    """An asynchronous inference worker whose chunks take the given latencies (seconds, cycled)."""

    def __init__(self, clock: VirtualClock, chunk: int, chunk_costs: Iterable[float]):
        self._clock, self._chunk = clock, chunk
        self._costs = itertools.cycle(list(chunk_costs))
        self._pending: tuple[float, float, int] | None = None  # (ready at, latency, first timestep)

    def submit(self, obs: dict, first_timestep: int) -> None:
        cost = next(self._costs)
        self._pending = (self._clock.t + cost, cost, first_timestep)

    def busy(self) -> bool:
        return self._pending is not None  # until poll() takes the result, as ThreadWorker

    def poll(self) -> tuple[list[float], float, int] | None:
        if self._pending is None or self._clock.t < self._pending[0] - EPS:
            return None
        _, cost, first = self._pending
        self._pending = None
        return [0.0] * self._chunk, cost, first
