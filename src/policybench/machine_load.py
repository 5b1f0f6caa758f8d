"""How busy the machine was with other work while a policy was measured.

The OS's counters are read just before and just after the measured span (outside every timed
call): from /proc/stat the CPU time all CPUs spent busy and in all, from /proc/self/stat the CPU
time of this process (all its threads, and its children it has waited for). The CPU that other
processes took is the machine's busy time less ours, as a fraction of the machine's capacity
over the span (every CPU's time). On a CUDA device, the compute processes nvidia-smi lists
other than ours are counted too. Where a counter cannot be read (no /proc, as on macOS; no
nvidia-smi) its figure is None and nothing is claimed.

The readers are injected, so that tests give exact counters.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from typing import Callable

from policybench.clock import Clock

# Above a fifth of the machine taken by other work, a policy's threads compete for cores
# (policybench uses every core by default) and latencies grow by tens of percent and more: on
# this project's 2-core CPU, one other busy process (half the machine) made ACT's refill 5x
# slower. A quiet machine reads a few percent (system daemons).
BUSY_FRACTION = 0.2
# Below this much capacity (CPU ticks over all CPUs, 1/100 s each on Linux) a span is too short
# for a fraction: a tick either way would move it by 2 % or more.
MIN_CAPACITY_TICKS = 50

SystemReader = Callable[[], tuple[int, int] | None]  # (busy ticks, total ticks) over all CPUs
OwnReader = Callable[[], int | None]  # this process's CPU ticks
GpuReader = Callable[[], set[int] | None]  # pids of the compute processes on the GPUs


def read_proc_stat(path: str = "/proc/stat") -> tuple[int, int] | None:
    """(busy, total) ticks of all CPUs since boot; idle and iowait are not busy; steal (time a
    hypervisor gave to other machines) is. None without /proc."""
    try:
        with open(path) as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal (guest is in user)
    total = sum(ticks)
    return total - ticks[3] - ticks[4], total


def read_own_ticks(path: str = "/proc/self/stat") -> int | None:
    """utime + stime + cutime + cstime of this process, in ticks; None without /proc."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces: after its ")"
    return sum(int(x) for x in fields[11:15])  # fields 14-17 of proc(5), counted from the state (3)


def read_gpu_pids() -> set[int] | None:
    """The pids nvidia-smi lists as compute processes; None without nvidia-smi."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return {int(line) for line in out.stdout.split() if line.strip().isdigit()}


@dataclass(frozen=True)
class MachineLoad:
    other_cpu: float | None = None  # fraction of the machine's CPU capacity other processes took
    other_gpu_processes: int | None = None  # compute processes on the GPU besides ours

    def to_json(self) -> dict[str, object]:
        """Only what was read: {} where nothing could be."""
        return {
            key: value
            for key, value in (("other_cpu", self.other_cpu), ("other_gpu_processes", self.other_gpu_processes))
            if value is not None
        }


def other_cpu_fraction(before: tuple[int, int], after: tuple[int, int], own_ticks: int) -> float | None:
    """Other processes' share of the capacity between two /proc/stat readings, given the ticks
    this process used meanwhile; None for a span too short to tell."""
    busy, capacity = after[0] - before[0], after[1] - before[1]
    if capacity < MIN_CAPACITY_TICKS:
        return None
    return min(1.0, max(0.0, (busy - own_ticks) / capacity))


def other_gpu_count(seen: set[int] | None, ours: set[int]) -> int | None:
    """Compute processes besides ours. None when nvidia-smi was not there, or when it lists
    processes but not ours (it sees another PID namespace, as in a container: which is ours is
    unknown)."""
    if seen is None or (seen and not seen & ours):
        return None
    return len(seen - ours)


class LoadWatch:
    """``start()`` before the measured span, ``stop()`` after it: the MachineLoad in between."""

    def __init__(
        self,
        gpu: bool,
        system: SystemReader = read_proc_stat,
        own: OwnReader = read_own_ticks,
        gpu_pids: GpuReader = read_gpu_pids,
    ) -> None:
        self._system, self._own, self._gpu_pids = system, own, (gpu_pids if gpu else None)
        self._before: tuple[int, int] | None = None
        self._own_before: int | None = None
        self._gpu_seen: set[int] | None = None

    def start(self) -> "LoadWatch":
        self._gpu_seen = self._gpu_pids() if self._gpu_pids else None
        self._own_before, self._before = self._own(), self._system()
        return self

    def stop(self) -> MachineLoad:
        after, own_after = self._system(), self._own()
        other_cpu = None
        if self._before is not None and after is not None and self._own_before is not None and own_after is not None:
            other_cpu = other_cpu_fraction(self._before, after, own_after - self._own_before)
        gpu = None
        if self._gpu_pids is not None:
            later = self._gpu_pids()
            seen = None if self._gpu_seen is None or later is None else self._gpu_seen | later
            gpu = other_gpu_count(seen, {os.getpid(), os.getppid()})  # the parent: policybench's own process
        return MachineLoad(other_cpu, gpu)


def watch(clock: Clock, device: str) -> LoadWatch | None:
    """A started LoadWatch for a measurement in real time; None under an injected clock, whose
    figures other work on the machine does not change."""
    if clock.now is not time.perf_counter:
        return None
    return LoadWatch(device.startswith("cuda"), read_proc_stat, read_own_ticks, read_gpu_pids).start()


def busy_reason(load: dict[str, object]) -> str | None:
    """'the machine was 41 % busy with other work', '1 other process used the GPU', both, or
    None: from a result's ``machine_load`` as the results file holds it."""
    reasons = []
    cpu, gpu = load.get("other_cpu"), load.get("other_gpu_processes")
    if isinstance(cpu, (int, float)) and cpu >= BUSY_FRACTION:
        reasons.append(f"the machine was {100 * cpu:.0f} % busy with other work")
    if isinstance(gpu, int) and gpu > 0:
        reasons.append(f"{gpu} other process{'es' if gpu > 1 else ''} used the GPU")
    return " and ".join(reasons) or None
