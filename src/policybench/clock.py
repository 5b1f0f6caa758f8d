"""The clock of the timed region, and the only place that synchronizes a device.

A latency is usable by the robot only once the device has finished the work, so every
reading of the clock is preceded by a device synchronization. Tests inject a fake ``now``
and a fake ``sync`` to make every figure exactly computable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


def _no_sync() -> None:
    return None


@dataclass(frozen=True)
class Clock:
    """``read()`` synchronizes the device, then returns seconds from ``now``."""

    now: Callable[[], float] = time.perf_counter
    sync: Callable[[], None] = _no_sync

    def read(self) -> float:
        self.sync()
        return self.now()


def device_sync(device: str) -> Callable[[], None]:
    """The function that waits for all queued work on ``device`` (a no-op on the CPU)."""
    kind = device.split(":")[0]
    if kind == "cuda":
        import torch

        index = torch.device(device).index
        return (lambda: torch.cuda.synchronize(index)) if index is not None else torch.cuda.synchronize
    if kind == "mps":
        import torch

        return torch.mps.synchronize
    return _no_sync


def clock_for(device: str) -> Clock:
    return Clock(now=time.perf_counter, sync=device_sync(device))
