"""The clock of the timed region (measure/device.py gives the one that synchronizes a device).

A latency is usable by the robot only once the device has finished the work, so every
reading of the clock is preceded by a device synchronization. Tests inject a fake ``now``
and a fake ``sync`` to make every figure exactly computable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


def no_sync() -> None:
    return None


@dataclass(frozen=True)
class Clock:
    """``read()`` synchronizes the device, then returns seconds from ``now``."""

    now: Callable[[], float] = time.perf_counter
    sync: Callable[[], None] = no_sync

    def read(self) -> float:
        self.sync()
        return self.now()
