"""Real-Time Chunking (RTC) as LeRobot 0.6 runs it, seen from the control loop.

An engine (LeRobot's RTCInferenceEngine behind lerobot_adapter/rtc.py, or VirtualEngine here)
computes chunks in its own thread whenever its queue holds ``queue_threshold`` actions or fewer;
each new chunk replaces the queue, its first d = ceil(latency / period) actions skipped (they
went by while it was computed). Our loop pops one action per tick at the rate, as LeRobot's
rollout loop does, and starts once the engine's first chunk is in (as async mode starts with a
first chunk queued): the ticks before it are start-up, not starvation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable, Protocol

from policybench.clock import Clock
from policybench.control.metrics import EPS, inference_delay_ticks
from policybench.control.paced import SleepUntil, Tick, wait_for_tick
from policybench.results import Inference, RtcInference  # noqa: F401 - Inference: what an engine returns
from policybench.samples import POP, STARVED

FIRST_CHUNK_POLL_S = 2.0**-8  # about 4 ms; exact in binary, so virtual-clock runs start on exact times


class Engine(Protocol):
    """What the loop asks of an RTC engine (LeRobot's, or the virtual one)."""

    def start(self) -> None: ...

    def notify(self, obs: dict) -> None:
        """The latest observation, for the next chunk."""

    def get_action(self) -> bool:
        """Pop the next action; False when the queue is empty."""

    def qsize(self) -> int: ...

    def inferences(self) -> list[Inference]:
        """The chunks merged so far, in order."""

    def failed(self) -> bool: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class RtcRun:
    ticks: list[Tick]  # times from the loop's start
    inferences: list[Inference]  # times on the clock; the first, cold one merged at or before t0
    t0: float  # the loop's start on the clock

    def merged_in_loop(self) -> list[float]:
        """Latencies of the chunks merged during the loop (not the cold first one, nor one that
        finished as the engine stopped)."""
        last = self.t0 + (self.ticks[-1].end if self.ticks else 0.0)
        return [x.latency for x in self.inferences[1:] if x.end <= last]


class EngineFailed(RuntimeError):
    """The engine's thread stopped on an error (LeRobot logs it) or gave no chunk in time."""


def run_rtc(
    engine: Engine, obs: dict, clock: Clock, sleep_until: SleepUntil, hz: float, ticks: int, first_timeout_s: float
) -> RtcRun:
    """Start ``engine``, wait (at most ``first_timeout_s``) for its first chunk, then pop one
    action per tick at ``hz`` for ``ticks`` ticks, publishing the observation every tick as
    LeRobot's rollout loop does. The engine is stopped on the way out."""
    period = 1.0 / hz
    engine.start()
    engine.notify(obs)  # after start(): LeRobot's start() clears the observation it holds
    try:
        began = clock.now()
        while not engine.inferences():
            if engine.failed() or clock.now() - began > first_timeout_s:
                raise EngineFailed(
                    f"the RTC engine gave no chunk in {first_timeout_s:g} s"
                    + (" (its thread stopped on an error)" if engine.failed() else "")
                )
            sleep_until(clock.now() + FIRST_CHUNK_POLL_S)
        t0 = clock.now()
        out: list[Tick] = []
        for k in range(ticks):
            scheduled = wait_for_tick(clock, sleep_until, t0 + k * period)
            start = clock.now()
            engine.notify(obs)
            queued = engine.qsize()
            phase = POP if engine.get_action() else STARVED
            end = clock.now()
            out.append(Tick(k, scheduled - t0, start - t0, end - t0, phase, queued))
        if engine.failed():
            raise EngineFailed("the RTC engine's thread stopped on an error during the run")
    finally:
        engine.stop()
    return RtcRun(out, engine.inferences(), t0)


Refill = Callable[[bool], float]  # guided or not -> seconds the chunk takes


def replayed(latencies: Iterable[float]) -> Refill:
    """Measured latencies in turn: the first (the cold one) once, then the rest cycled."""
    values = list(latencies)
    it = itertools.chain(values[:1], itertools.cycle(values[1:] or values))
    return lambda guided: next(it)


@dataclass
class _Pending:
    start: float
    latency: float
    guided: bool
    delay_used: int
    popped_at_start: int


class VirtualEngine:
    """LeRobot 0.6.1's RTC engine on a virtual clock: the same trigger (queue at or below the
    threshold, checked at once after a merge or a pop), the same d (ceil of the largest latency
    ever seen, over the period), the same merge (the queue replaced by the new chunk less its
    first ceil(latency / period) actions). Chunks take ``refill(guided)`` seconds."""

    def __init__(self, now: Callable[[], float], chunk: int, hz: float, queue_threshold: int, refill: Refill):
        self._now, self._chunk, self._hz, self._threshold, self._refill = now, chunk, hz, queue_threshold, refill
        self._queue = 0
        self._popped = 0
        self._max_latency = 0.0
        self._pending: _Pending | None = None
        self._done: list[Inference] = []
        self._started = False

    def start(self) -> None:
        self._started = True
        self._maybe_request(self._now())

    def notify(self, obs: dict) -> None:
        self._advance()

    def qsize(self) -> int:
        self._advance()
        return self._queue

    def get_action(self) -> bool:
        self._advance()
        if self._queue == 0:
            return False
        self._queue -= 1
        self._popped += 1
        self._maybe_request(self._now())
        return True

    def inferences(self) -> list[Inference]:
        self._advance()
        return list(self._done)

    def failed(self) -> bool:
        return False

    def stop(self) -> None:
        self._started = False

    def _maybe_request(self, at: float) -> None:
        if self._started and self._pending is None and self._queue <= self._threshold:
            guided = bool(self._done)  # a previous chunk exists: its rest guides the new one
            delay = inference_delay_ticks(self._max_latency, self._hz)
            self._pending = _Pending(at, self._refill(guided), guided, delay, self._popped)

    def _advance(self) -> None:
        """Merge every chunk due by now, each followed at once by the next request if due."""
        while self._pending is not None and self._pending.start + self._pending.latency <= self._now() + EPS:
            p, self._pending = self._pending, None
            end = p.start + p.latency
            taken = inference_delay_ticks(p.latency, self._hz)
            before, skipped = self._queue, min(taken, self._chunk)
            self._queue = self._chunk - skipped
            self._max_latency = max(self._max_latency, p.latency)
            self._done.append(
                Inference(
                    p.start,
                    end,
                    p.latency,
                    p.guided,
                    p.delay_used,
                    taken,
                    before,
                    self._queue,
                    self._popped - p.popped_at_start,
                    skipped,
                )
            )
            self._maybe_request(end)
