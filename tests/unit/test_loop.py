"""The steady-state loop on fake policies and a fake clock: every count and latency is exact.

Default fake: chunk 5, refill 1.0 s (1000 ms), step 0.25 s (250 ms).
"""

import pytest
from fakes import EnsemblingPolicy, FakePolicy, FakeTime, NeverDrainsPolicy, NeverEmptyPolicy

from policybench.clock import Clock
from policybench.measure.device import clock_for, device_sync
from policybench.measure.loop import run_steady_state
from policybench.samples import REFILL, STEP

OBS = {}


def refill_indices(samples):
    return [s.i for s in samples if s.phase == REFILL]


# --- clock -------------------------------------------------------------------------------------


def test_clock_read_synchronizes_before_reading():
    time = FakeTime()
    time.pending = 0.5
    assert time.clock().read() == 0.5  # read after sync, so the pending work is counted
    assert time.syncs == 1 and time.pending == 0.0


def test_cpu_clock_has_no_sync_work():
    assert device_sync("cpu")() is None
    assert clock_for("cpu").sync is device_sync("cpu")


# --- full runs ---------------------------------------------------------------------------------


@pytest.fixture
def run():
    time = FakeTime()
    policy = FakePolicy(time, chunk=5, step_cost=0.25, refill_cost=1.0)
    return time, policy, run_steady_state(policy, OBS, time.clock(), refills=3, warmup=2, max_seconds=100.0)


def test_cold_start_is_the_refill_cost_and_not_a_sample(run):
    time, policy, r = run
    assert r.cold_start_ms == 1000.0
    # cold (1) + warm-up (9) + measured (15) calls; the measured ones alone are the samples
    assert len(policy.calls) == 1 + r.warmup_calls + len(r.samples)
    assert policy.calls[0] == REFILL
    assert len(r.samples) == 15


def test_warmup_runs_two_full_cycles_counting_the_cold_call(run):
    _, policy, r = run
    assert r.warmup_calls == 9  # cold call + 4 steps, then refill + 4 steps
    assert policy.calls[:10] == ([REFILL] + [STEP] * 4) * 2


def test_refills_are_chunk_apart_from_index_zero(run):
    _, _, r = run
    assert [s.i for s in r.samples] == list(range(15))
    assert refill_indices(r.samples) == [0, 5, 10]


def test_latencies_are_the_declared_costs(run):
    _, _, r = run
    assert [s.latency_ms for s in r.samples if s.phase == REFILL] == [1000.0] * 3
    assert [s.latency_ms for s in r.samples if s.phase == STEP] == [250.0] * 12


def test_complete_and_measured_seconds(run):
    _, _, r = run
    assert r.complete is True
    assert r.measured_seconds == 3 * (1.0 + 4 * 0.25)


@pytest.mark.parametrize("chunk, refills", [(1, 4), (3, 1), (7, 2)])
def test_sample_count_is_refills_times_chunk(chunk, refills):
    time = FakeTime()
    r = run_steady_state(FakePolicy(time, chunk=chunk), OBS, time.clock(), refills=refills, warmup=1, max_seconds=1e6)
    assert len(r.samples) == refills * chunk
    assert refill_indices(r.samples) == [k * chunk for k in range(refills)]
    assert r.complete is True


def test_warmup_one_is_the_cold_cycle_only():
    time = FakeTime()
    r = run_steady_state(FakePolicy(time, chunk=5), OBS, time.clock(), refills=2, warmup=1, max_seconds=100.0)
    assert r.warmup_calls == 4
    assert r.samples[0].phase == REFILL


def test_warmup_zero_measures_right_after_the_cold_call():
    # Documented: "With warmup=0 measuring starts right after the cold call", i.e. on the
    # 4 steps left in the cold call's chunk; then 3 full cycles.
    time = FakeTime()
    policy = FakePolicy(time, chunk=5)
    r = run_steady_state(policy, OBS, time.clock(), refills=3, warmup=0, max_seconds=100.0)
    assert r.warmup_calls == 0
    assert r.cold_start_ms == 1000.0
    assert [s.phase for s in r.samples[:4]] == [STEP] * 4
    assert refill_indices(r.samples) == [4, 9, 14]
    assert len(r.samples) == 4 + 3 * 5
    assert r.complete is True


def test_phase_comes_from_the_queue_not_the_latency():
    # refills cheaper than steps: a loop that classified by latency would swap the phases
    time = FakeTime()
    r = run_steady_state(
        FakePolicy(time, chunk=4, step_cost=1.0, refill_cost=0.25),
        OBS,
        time.clock(),
        refills=2,
        warmup=1,
        max_seconds=100.0,
    )
    assert refill_indices(r.samples) == [0, 4]
    assert {s.latency_ms for s in r.samples if s.phase == REFILL} == {250.0}
    assert {s.latency_ms for s in r.samples if s.phase == STEP} == {1000.0}


def test_always_empty_queue_gives_only_refills():
    time = FakeTime()
    policy = EnsemblingPolicy(time, refill_cost=0.5)
    r = run_steady_state(policy, OBS, time.clock(), refills=4, warmup=2, max_seconds=100.0)
    assert r.warmup_calls == 1  # the cold call is the first warm-up cycle
    assert [s.phase for s in r.samples] == [REFILL] * 4
    assert [s.latency_ms for s in r.samples] == [500.0] * 4
    assert r.complete is True


@pytest.mark.parametrize(
    "max_seconds, phases",
    [
        # refill ends at 1.0 s, steps at 1.25, 1.5, 1.75: 1.75 >= 1.6 stops after the 4th call
        (1.6, [REFILL, STEP, STEP, STEP]),
        # first cycle ends at 2.0 s < 2.5, the next refill ends at 3.0 >= 2.5
        (2.5, [REFILL, STEP, STEP, STEP, STEP, REFILL]),
    ],
)
def test_max_seconds_truncates(max_seconds, phases):
    time = FakeTime()
    r = run_steady_state(FakePolicy(time, chunk=5), OBS, time.clock(), refills=10, warmup=1, max_seconds=max_seconds)
    assert r.complete is False
    assert [s.phase for s in r.samples] == phases
    assert r.measured_seconds == sum(1.0 if p == REFILL else 0.25 for p in phases)


def test_queue_that_never_drains_is_bounded_by_max_seconds():
    # calls cost 0.25 s; warm-up stops once 1.0 s has passed (4 calls), measuring likewise
    time = FakeTime()
    r = run_steady_state(NeverDrainsPolicy(time, cost=0.25), OBS, time.clock(), refills=2, warmup=2, max_seconds=1.0)
    assert r.warmup_calls == 4
    assert len(r.samples) == 4
    assert r.complete is False


def test_queue_not_empty_after_reset_raises():
    time = FakeTime()
    with pytest.raises(RuntimeError, match="not empty after reset"):
        run_steady_state(NeverEmptyPolicy(time, chunk=5), OBS, time.clock(), refills=1, warmup=0, max_seconds=10.0)


def test_timed_region_synchronizes_the_device():
    # select_action only queues its cost as device work; the clock's sync makes it elapse
    time = FakeTime()
    policy = FakePolicy(time, chunk=5, step_cost=0.25, refill_cost=1.0, deferred=True)
    r = run_steady_state(policy, OBS, time.clock(), refills=2, warmup=1, max_seconds=100.0)
    assert r.cold_start_ms == 1000.0
    assert [s.latency_ms for s in r.samples] == [1000.0, 250.0, 250.0, 250.0, 250.0] * 2
    assert r.complete is True


def test_without_sync_deferred_work_would_read_zero():
    # the control for the test above: the same policy timed by a clock that never syncs
    time = FakeTime()
    policy = FakePolicy(time, chunk=5, deferred=True)
    r = run_steady_state(policy, OBS, Clock(now=time.now), refills=2, warmup=1, max_seconds=100.0)
    assert {s.latency_ms for s in r.samples} == {0.0}


def test_a_run_keeps_at_most_max_samples():
    """Memory and the results file stay bounded whatever --refills asks for."""
    time = FakeTime()
    policy = FakePolicy(time, chunk=5, step_cost=0.25, refill_cost=1.0)
    result = run_steady_state(policy, OBS, time.clock(), refills=1_000_000, warmup=0, max_seconds=1e9, max_samples=12)
    assert len(result.samples) == 12 and not result.complete
    assert refill_indices(result.samples) == [4, 9]  # warmup=0: measuring starts after the cold refill


def test_each_phase_is_announced_as_it_begins():
    time = FakeTime()
    policy = FakePolicy(time, chunk=5, step_cost=0.25, refill_cost=1.0)
    seen = []
    run_steady_state(
        policy,
        OBS,
        time.clock(),
        refills=1,
        warmup=1,
        max_seconds=100.0,
        on_phase=lambda phase: seen.append((phase, len(policy.calls))),
    )
    assert seen == [("first call", 0), ("warm-up", 1), ("measuring", 5)]
