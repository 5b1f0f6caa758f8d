"""The paced control loop, in two modes.

Tick k is scheduled at k periods after the loop starts (each schedule 1/F after the previous).
A late tick is not skipped: the loop starts its work at once, as LeRobot's record and rollout
loops do. Clock and sleeper are injected so that tests and the simulator are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from concurrent.futures import Future
from typing import TYPE_CHECKING, Callable, Protocol

from policybench.clock import Clock
from policybench.samples import POP, REFILL, STARVED, STEP

if TYPE_CHECKING:  # actions are tensors in a live run, floats in a simulation: the loop only adds and scales them
    import torch

    from policybench.policies.base import PolicyAdapter


class Steppable(Protocol):
    """What the sync loop calls: a policy's select_action, and its queue read before each call."""

    def select_action(self, obs: dict) -> object: ...

    def queued_actions(self) -> int: ...


SleepUntil = Callable[[float], None]  # sleep until clock.now() reaches the argument


@dataclass(frozen=True)
class Tick:
    k: int
    scheduled: float  # seconds from the loop's start
    start: float  # when the tick's work began
    end: float  # when it ended: the action is available (or, starved, the tick gave up)
    phase: str  # sync: STEP or REFILL; async: POP or STARVED
    queue: int  # actions queued at the tick, before its pop (async: after merging an arrived chunk)


def wait_for_tick(clock: Clock, sleep_until: SleepUntil, scheduled: float) -> float:
    """Sleep until the tick's scheduled time unless it has passed (a late tick starts at once)."""
    if clock.now() < scheduled:
        sleep_until(scheduled)
    return scheduled


def run_sync(
    policy: Steppable,
    obs: dict[str, torch.Tensor],
    clock: Clock,
    sleep_until: SleepUntil,
    hz: float,
    ticks: int,
) -> list[Tick]:
    """select_action on every tick, on the loop's own thread."""
    period = 1.0 / hz
    t0 = clock.read()
    out: list[Tick] = []
    for k in range(ticks):
        scheduled = wait_for_tick(clock, sleep_until, t0 + k * period)
        queued = policy.queued_actions()
        start = clock.read()
        policy.select_action(obs)
        end = clock.read()
        out.append(Tick(k, scheduled - t0, start - t0, end - t0, REFILL if queued == 0 else STEP, queued))
    return out


class ChunkWorker(Protocol):
    """Computes action chunks away from the control loop."""

    def submit(self, obs: dict[str, torch.Tensor], first_timestep: int) -> None: ...

    def busy(self) -> bool:
        """True from submit() until its result has been taken by poll()."""

    def poll(self) -> tuple[torch.Tensor, float, int] | None:
        """(chunk, latency in s, first timestep) of a finished request, once; else None."""


AGGREGATES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    # As LeRobot's async inference defines them (lerobot/async_inference/configs.py).
    "weighted_average": lambda old, new: 0.3 * old + 0.7 * new,
    "latest_only": lambda old, new: new,
}


def merge_chunk(
    queue: dict[int, torch.Tensor], chunk: torch.Tensor, first_timestep: int, next_timestep: int, aggregate: str
) -> None:
    """Add a chunk's actions to the queue (timestep -> action): actions for timesteps already
    executed are dropped, overlapping ones are aggregated, new ones added."""
    combine = AGGREGATES[aggregate]
    for i, action in enumerate(chunk):
        t = first_timestep + i
        if t < next_timestep:
            continue
        queue[t] = combine(queue[t], action) if t in queue else action


@dataclass(frozen=True)
class AsyncRun:
    ticks: list[Tick]
    chunk_latencies: list[float]  # seconds, every chunk that arrived during the loop


def run_async(
    worker: ChunkWorker,
    obs: dict[str, torch.Tensor],
    clock: Clock,
    sleep_until: SleepUntil,
    hz: float,
    ticks: int,
    first_chunk: torch.Tensor,
    threshold: float = 0.5,
    aggregate: str = "weighted_average",
) -> AsyncRun:
    """Pop one queued action per tick while ``worker`` computes the next chunk. A new chunk is
    requested (with the observation of this tick, starting at this tick's timestep) once the queue
    holds at most ``threshold`` of a chunk and no request is in flight, as LeRobot's robot
    client does with ``chunk_size_threshold``. The loop starts with ``first_chunk`` queued."""
    chunk_size = len(first_chunk)
    period = 1.0 / hz
    queue: dict[int, torch.Tensor] = {}
    merge_chunk(queue, first_chunk, 0, 0, aggregate)
    latencies: list[float] = []
    out: list[Tick] = []
    # The loop itself does no device work, so it reads the clock without synchronizing: a sync
    # would wait for the worker's inference and charge it to the control loop.
    t0 = clock.now()
    for k in range(ticks):
        scheduled = wait_for_tick(clock, sleep_until, t0 + k * period)
        start = clock.now()
        done = worker.poll()
        if done is not None:
            chunk, latency, first = done
            merge_chunk(queue, chunk, first, k, aggregate)
            latencies.append(latency)
        queued = len(queue)
        phase = POP if queue.pop(k, None) is not None else STARVED
        if not worker.busy() and len(queue) <= threshold * chunk_size:
            # As LeRobot's robot client: the observation carries the timestep of the last executed
            # action, the chunk starts at that timestep, and its first action arrives stale.
            worker.submit(obs, k)
        end = clock.now()
        out.append(Tick(k, scheduled - t0, start - t0, end - t0, phase, queued))
    return AsyncRun(out, latencies)


class ThreadWorker:
    """A real background worker: one thread that runs the policy's ``predict_chunk``."""

    def __init__(self, policy: PolicyAdapter, clock: Clock):
        from concurrent.futures import ThreadPoolExecutor

        self._policy, self._clock = policy, clock
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policybench-infer")
        self._future: Future[tuple[torch.Tensor, float, int]] | None = None

    def _job(self, obs: dict[str, torch.Tensor], first: int) -> tuple[torch.Tensor, float, int]:
        start = self._clock.read()
        chunk = self._policy.predict_chunk(obs).cpu()  # merged on the host by the control loop
        return chunk, self._clock.read() - start, first

    def submit(self, obs: dict[str, torch.Tensor], first_timestep: int) -> None:
        self._future = self._pool.submit(self._job, obs, first_timestep)

    def busy(self) -> bool:
        # Busy until poll() takes the result: a chunk finishing between poll() and busy() must
        # not be overwritten by a new request.
        return self._future is not None

    def poll(self) -> tuple[torch.Tensor, float, int] | None:
        if self._future is None or not self._future.done():
            return None
        future, self._future = self._future, None
        return future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def sleep_until_real(now: Callable[[], float]) -> SleepUntil:
    """Sleep, then spin for the last 2 ms: time.sleep alone wakes up late by up to a few ms."""
    import time

    def sleep_until(target: float) -> None:
        remaining = target - now()
        if remaining > 0.002:
            time.sleep(remaining - 0.002)
        while now() < target:
            pass

    return sleep_until
