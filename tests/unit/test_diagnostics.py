"""Each warning fires exactly when its condition holds, and says what to do.

A "clean" result (100 equal refills, equal steps, a cold start 5x the refill, threads = cores)
gives no warning; each test changes one thing, on both sides of the limit. Latencies are exact
in binary floating point so that the limits (10%, 10x) are hit exactly.
"""

from dataclasses import replace
import os

import pytest
from fakes import ENVIRONMENT, failed_result

from policybench.diagnostics import COLD_FACTOR, HIGH_SPREAD, MIN_REFILLS_FOR_P99, SPREAD_FLOOR_MS, diagnose
from policybench.results import OK, PolicyResult, RunResults
from policybench.samples import REFILL, STEP, Sample


def result(steps=(1.0,) * 5, refills=(10.0,) * MIN_REFILLS_FOR_P99, cold=50.0, name="act") -> PolicyResult:
    samples = [Sample(i, STEP, v) for i, v in enumerate(steps)]
    samples += [Sample(len(samples) + i, REFILL, v) for i, v in enumerate(refills)]
    return PolicyResult(name, OK, samples=samples, cold_start_ms=cold, complete=True)


def diagnose_one(r: PolicyResult | None = None, **env) -> list[str]:
    return diagnose(RunResults({**ENVIRONMENT, **env}, {"profile": {"name": "so100"}}, [r] if r else []))


def spread(median: float, iqr: float) -> list[float]:
    """Five values: with linear interpolation p25 and p75 are exactly the 2nd and 4th."""
    return [median - iqr, median - iqr / 2, median, median + iqr / 2, median + iqr]


def test_limits_are_the_documented_ones():
    assert (MIN_REFILLS_FOR_P99, HIGH_SPREAD, COLD_FACTOR, SPREAD_FLOOR_MS) == (100, 0.10, 10.0, 0.01)


def test_a_clean_result_has_no_warning():
    assert diagnose_one(result()) == []


# --- too few refills for a p99 --------------------------------------------------------------


@pytest.mark.parametrize("n, warned", [(1, True), (99, True), (100, False), (250, False)])
def test_too_few_refills(n, warned):
    notes = diagnose_one(result(refills=(10.0,) * n, cold=None))
    expected = [
        f"act: only {n} refills, so its refill p99 is about its maximum; use --refills 100 for a meaningful p99"
    ]
    assert notes == (expected if warned else [])


def test_no_refills_is_not_too_few_refills():
    # every call a step (a queue that never drained): the refill p99 does not exist, nothing to warn
    assert diagnose_one(result(refills=(), cold=None)) == []


# --- spread ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "median, iqr, warned",
    [
        (2.5, 0.25, False),  # exactly 10%: the limit is "more than"
        (1.0, 0.125, True),  # 12.5%
        (1.0, 0.0625, False),  # 6.25%
        (SPREAD_FLOOR_MS, 0.004, True),  # 40% at the floor
        (SPREAD_FLOOR_MS / 2, 0.002, False),  # 40% below the floor: timer noise
    ],
)
def test_step_spread(median, iqr, warned):
    notes = diagnose_one(result(steps=spread(median, iqr)))
    if not warned:
        assert notes == []
    else:
        (note,) = notes
        assert note.startswith(f"act: step latencies spread widely (IQR {100 * iqr / median:.0f}% of the median)")
        assert "--threads" in note and "--warmup" in note and "--refills" in note


def test_refill_spread_is_checked_too():
    refills = spread(10.0, 2.0) * 20  # 100 refills, IQR 20% of the median
    (note,) = diagnose_one(result(refills=refills))
    assert note.startswith("act: refill latencies spread widely (IQR 20% of the median)")


def test_fewer_than_four_values_have_no_spread():
    assert diagnose_one(result(steps=[0.5, 1.0, 2.0])) == []


# --- cold start -----------------------------------------------------------------------------


@pytest.mark.parametrize("cold, warned", [(100.0, False), (100.5, True), (150.0, True), (None, False)])
def test_cold_start(cold, warned):
    notes = diagnose_one(result(cold=cold))  # refill median 10 ms
    if not warned:
        assert notes == []
    else:
        (note,) = notes
        assert note.startswith(f"act: cold start {cold:.0f} ms is {cold / 10:.0f}x the steady refill")
        assert "run one inference before the robot moves" in note


def test_a_cold_start_says_how_much_was_one_time_and_what_it_read_from_disk():
    r = result(cold=436_500.0)  # refill median 10 ms
    r = replace(r, memory={"first_call_read_mb": 8300.0, "first_call_major_faults": 120_000})
    (note,) = diagnose_one(r)
    assert (
        "436.5 s of it is one-time set-up, during which the process read 8,300 MB from disk "
        "(120,000 major page faults: weights read lazily; touch them once after loading)"
    ) in note


def test_the_first_calls_disk_reads_are_counted_around_it_only():
    from policybench.measure.policy import ColdStartCounters

    counts = iter([(1000 * 2**20, 5), (1512 * 2**20, 9)])
    cold = ColdStartCounters()
    cold._read = lambda: next(counts)
    cold.mark("first call")
    cold.mark("warm-up")
    cold.mark("measuring")  # later phases change nothing
    assert cold.during_first_call() == {"first_call_read_mb": 512.0, "first_call_major_faults": 4}


# --- threads --------------------------------------------------------------------------------


@pytest.mark.parametrize("threads, cores, warned", [(3, 2, True), (2, 2, False), (1, 8, False), (None, 2, False)])
def test_threads(threads, cores, warned):
    notes = diagnose_one(result(), threads=threads, cpu_count=cores)
    expected = [
        f"torch uses {threads} threads on {cores} cores: oversubscribed threads make latency erratic; "
        f"use --threads {cores}"
    ]
    assert notes == (expected if warned else [])


def test_threads_without_a_recorded_cpu_count_use_this_machine():
    cores = os.cpu_count()
    env = {k: v for k, v in ENVIRONMENT.items() if k != "cpu_count"}
    over = diagnose(RunResults({**env, "threads": cores + 1}, {}, []))
    assert len(over) == 1 and over[0].endswith(f"use --threads {cores}")
    assert diagnose(RunResults({**env, "threads": cores}, {}, [])) == []


def test_threads_warning_comes_once_even_without_results():
    assert len(diagnose_one(None, threads=4, cpu_count=2)) == 1


# --- what is skipped ------------------------------------------------------------------------


def test_failed_and_empty_results_are_skipped():
    empty = PolicyResult("smolvla", OK, samples=[], cold_start_ms=1e6)
    notes = diagnose(RunResults(dict(ENVIRONMENT), {}, [failed_result("diffusion", "boom"), empty]))
    assert notes == []


def test_every_policy_is_named_in_order():
    few = result(refills=(10.0,) * 3, cold=None)
    notes = diagnose(RunResults(dict(ENVIRONMENT), {}, [result(name="smolvla"), few, result(cold=500.0, name="pi0")]))
    assert [n.split(":")[0] for n in notes] == ["act", "pi0"]


# --- a busy machine -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "load, note",
    [
        ({}, None),
        ({"other_cpu": 0.19}, None),
        (
            {"other_cpu": 0.41},
            "the machine was 41 % busy with other work while smolvla was measured: its figures are "
            "not reliable; close other programs and run again",
        ),
        (
            {"other_cpu": 0.0, "other_gpu_processes": 1},
            "1 other process used the GPU while smolvla was measured: its "
            "figures are not reliable; close other programs and run again",
        ),
    ],
)
def test_a_busy_machine_is_named_with_what_to_do(load, note):
    busy = replace(result(name="smolvla"), machine_load=load)
    assert diagnose_one(busy) == ([note] if note else [])
