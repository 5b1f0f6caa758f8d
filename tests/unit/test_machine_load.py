"""The busy-machine detector: exact figures from injected counters, then one real check, bounded
in time, with processes spinning on the CPU while the test sleeps."""

from dataclasses import replace
import math
import os
import re
import subprocess
import sys
import time

import pytest
from fakes import FakePolicy, FakeTime, ok_result

from policybench import machine_load
from policybench.clock import Clock
from policybench.errors import UsageError
from policybench.machine_load import (
    BUSY_FRACTION,
    MIN_CAPACITY_TICKS,
    LoadWatch,
    MachineLoad,
    busy_reason,
    other_cpu_fraction,
    other_gpu_count,
    read_own_ticks,
    read_proc_stat,
    watch,
)
from policybench.profiles import PROFILES
from policybench.results import PolicyResult
from policybench.measure.policy import measure_policy
from policybench.settings import RunSettings

ME = {os.getpid(), os.getppid()}


def readers(*values):
    """A reader returning ``values`` one per call, and failing loudly on one call too many."""
    it = iter(values)
    return lambda: next(it)


def test_the_threshold_is_the_documented_one():
    assert (BUSY_FRACTION, MIN_CAPACITY_TICKS) == (0.2, 50)


def test_proc_stat_busy_is_everything_but_idle_and_iowait(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 50 2 25 400 10 1 1 5 3 0\nintr 1 2\n")
    assert read_proc_stat(str(stat)) == (170, 990)  # guest (7) is already in user: not added


def test_proc_stat_unreadable_or_foreign_reads_none(tmp_path):
    assert read_proc_stat(str(tmp_path / "missing")) is None
    (tmp_path / "odd").write_text("intr 1 2\n")
    assert read_proc_stat(str(tmp_path / "odd")) is None


def test_own_ticks_are_utime_stime_and_waited_children_after_a_name_with_spaces(tmp_path):
    stat = tmp_path / "stat"
    #            pid comm              state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    stat.write_text("4242 (a (b) c) R 1 2 3 4 5 6 7 8 9 10 " + "11 12 13 14 " + "20 0 1 0 99\n")
    assert read_own_ticks(str(stat)) == 11 + 12 + 13 + 14
    assert read_own_ticks(str(tmp_path / "missing")) is None


def test_the_real_counters_read_where_there_is_a_proc():
    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc here (macOS): the figures are None, tested with injected readers")
    busy, total = read_proc_stat()
    assert 0 <= busy <= total and isinstance(read_own_ticks(), int)


@pytest.mark.parametrize(
    "busy, own, fraction",
    [
        (50, 50, 0.0),  # all the busy time was ours: idle otherwise
        (130, 50, 0.4),  # 80 of 200 ticks were someone else's
        (250, 50, 1.0),  # every tick of the machine
        (40, 50, 0.0),  # our ticks counted a tick ahead of the machine's: not below zero
        (300, 0, 1.0),  # more than the capacity (counters read a tick apart): not above one
    ],
)
def test_other_cpu_is_the_machines_busy_time_less_ours_over_its_capacity(busy, own, fraction):
    assert other_cpu_fraction((1000, 5000), (1000 + busy, 5200), own) == fraction


def test_a_span_too_short_claims_nothing():
    assert other_cpu_fraction((0, 0), (MIN_CAPACITY_TICKS - 1, MIN_CAPACITY_TICKS - 1), 0) is None
    assert other_cpu_fraction((0, 0), (MIN_CAPACITY_TICKS, MIN_CAPACITY_TICKS), 0) == 1.0


def test_a_watch_reads_the_counters_around_the_span():
    w = LoadWatch(
        False, system=readers((1000, 5000), (1130, 5200)), own=readers(7, 57), gpu_pids=readers()
    )  # not called without a GPU
    assert w.start().stop() == MachineLoad(other_cpu=0.4)
    assert MachineLoad(other_cpu=0.4).to_json() == {"other_cpu": 0.4}


def test_without_proc_nothing_is_claimed():
    w = LoadWatch(False, system=readers(None, None), own=readers(None, None))
    load = w.start().stop()
    assert load == MachineLoad() and load.to_json() == {}


@pytest.mark.parametrize(
    "seen, count",
    [
        (None, None),  # no nvidia-smi
        (set(), 0),  # nothing on the GPU (we had not touched it yet)
        (ME, 0),
        (ME | {4242}, 1),
        (ME | {4242, 4343}, 2),
        ({4242}, None),  # ours not listed: another PID namespace (a container), which is ours unknown
    ],
)
def test_other_gpu_processes(seen, count):
    assert other_gpu_count(seen, ME) == count


def test_a_gpu_process_seen_at_either_end_of_the_span_counts():
    pid = os.getpid()
    w = LoadWatch(True, system=readers(None, None), own=readers(None, None), gpu_pids=readers({pid, 4242}, {pid, 4343}))
    assert w.start().stop() == MachineLoad(other_gpu_processes=2)
    w = LoadWatch(True, system=readers(None, None), own=readers(None, None), gpu_pids=readers(None, {pid}))
    assert w.start().stop() == MachineLoad()


@pytest.mark.parametrize(
    "load, reason",
    [
        ({}, None),
        ({"other_cpu": 0.19}, None),
        ({"other_cpu": 0.2}, "the machine was 20 % busy with other work"),
        ({"other_cpu": 0.41}, "the machine was 41 % busy with other work"),
        ({"other_gpu_processes": 0}, None),
        ({"other_gpu_processes": 1}, "1 other process used the GPU"),
        (
            {"other_cpu": 0.5, "other_gpu_processes": 2},
            "the machine was 50 % busy with other work and 2 other processes used the GPU",
        ),
    ],
)
def test_busy_reason(load, reason):
    assert busy_reason(load) == reason


def test_only_a_real_time_clock_is_watched(monkeypatch):
    assert watch(FakeTime().clock(), "cpu") is None  # a fake clock's figures do not depend on the machine
    monkeypatch.setattr(machine_load, "read_proc_stat", readers((0, 0), (130, 200)))
    monkeypatch.setattr(machine_load, "read_own_ticks", readers(0, 50))
    started = watch(Clock(), "cpu")
    assert started is not None and started.stop() == MachineLoad(other_cpu=0.4)


def _settings():
    return RunSettings(policies=["fake"], profile=PROFILES["so100"], refills=2, warmup=1, max_seconds=100.0)


def _build(time):
    return lambda name, profile, overrides, device, seed=0: FakePolicy(time, chunk=4, name=name)


def test_the_runner_records_the_machine_load_of_a_real_time_measurement(monkeypatch):
    monkeypatch.setattr(machine_load, "read_proc_stat", readers((0, 0), (130, 200)))
    monkeypatch.setattr(machine_load, "read_own_ticks", readers(0, 50))
    [result] = measure_policy("fake", _settings(), "cpu", Clock(), lambda line: None, build=_build(FakeTime()))
    assert result.status == "ok" and result.machine_load == {"other_cpu": 0.4}
    time = FakeTime()
    [faked] = measure_policy("fake", _settings(), "cpu", time.clock(), lambda line: None, build=_build(time))
    assert faked.status == "ok" and faked.machine_load == {}


def test_the_results_file_keeps_it_and_reads_it_back():
    load = {"other_cpu": 0.41, "other_gpu_processes": 0}
    measured = replace(ok_result("act", 5, 2, 50.0, 1.0, 100.0), machine_load=load)
    assert measured.to_json()["machine_load"] == {"other_cpu": 0.41, "other_gpu_processes": 0}
    assert PolicyResult.from_json(measured.to_json()).machine_load == measured.machine_load
    unwatched = ok_result("act", 5, 2, 50.0, 1.0, 100.0)
    assert "machine_load" not in unwatched.to_json()  # files as they were before it
    assert PolicyResult.from_json(unwatched.to_json()).machine_load == {}


@pytest.mark.parametrize(
    "load, message",
    [
        ({"other_cpu": 1.5}, "act: machine_load.other_cpu is 1.5; must be a fraction of the machine from 0 to 1"),
        ({"other_cpu": "41 %"}, "act: machine_load.other_cpu is '41 %'; must be a fraction"),
        ({"other_cpu": True}, "act: machine_load.other_cpu is True; must be a fraction"),
        ({"other_gpu_processes": -1}, "act: machine_load.other_gpu_processes is -1; must be a whole number"),
        ({"other_gpu_processes": 0.5}, "act: machine_load.other_gpu_processes is 0.5; must be a whole number"),
        ([0.4], "act: machine_load is [0.4]; must be an object"),
    ],
)
def test_a_bad_machine_load_is_refused_naming_it(load, message):
    d = ok_result("act", 5, 2, 50.0, 1.0, 100.0).to_json() | {"machine_load": load}
    with pytest.raises(UsageError, match=f"^{re.escape(message)}"):
        PolicyResult.from_json(d)


# ----------------------------------------------------------------------------- the real machine

SPAN_S = 0.8  # on 2 CPUs: 160 ticks of capacity, a tick is under 1 % of it
SPIN = "import sys\nsys.stdout.write('spinning\\n')\nsys.stdout.flush()\nwhile True:\n    pass\n"


def _measured_sleep(seconds: float = SPAN_S) -> float | None:
    w = LoadWatch(False).start()
    time.sleep(seconds)
    return w.stop().other_cpu


@pytest.mark.slow
def test_processes_spinning_on_half_the_cpus_read_as_a_busy_machine():
    cpus = os.cpu_count() or 1
    if not os.path.exists("/proc/stat") or cpus > 64:
        pytest.skip("no /proc here, or too many CPUs to keep half of them busy in a test")
    spinners = [
        subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
        for _ in range(math.ceil(cpus / 2))
    ]
    try:
        for p in spinners:
            assert p.stdout is not None and p.stdout.readline() == "spinning\n"  # spinning before the span
        fraction = _measured_sleep()
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    assert fraction is not None and fraction >= max(2 * BUSY_FRACTION, 0.7 * len(spinners) / cpus)


@pytest.mark.slow
def test_a_sleep_on_a_quiet_machine_reads_below_the_threshold():
    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc here")
    before = _measured_sleep(0.3)
    if before is not None and before >= BUSY_FRACTION:
        pytest.skip(f"the machine is already {100 * before:.0f} % busy with other work: it cannot read idle now")
    readings = [_measured_sleep()]
    if readings[0] is not None and readings[0] >= BUSY_FRACTION:
        readings.append(_measured_sleep())  # other work may have started meanwhile: once more
    assert readings[-1] is not None and readings[-1] < BUSY_FRACTION, readings
