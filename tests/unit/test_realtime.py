"""The paced loops on a virtual clock: every miss, stall and starved tick is exactly computable."""

from __future__ import annotations

from dataclasses import replace
import math

import pytest
import torch

from policybench.control.metrics import inference_delay_ticks, summarize_ticks
from policybench.control.paced import POP, STARVED, merge_chunk, run_async, run_sync
from policybench.control.simulate import Costs, highest_rates, simulate, simulate_async, simulate_sync
from policybench.control.virtual import ReplayPolicy, VirtualClock, VirtualWorker
from policybench.results import OK, PolicyResult, RunResults
from policybench.samples import REFILL, STEP, Sample


def sync_run(hz, ticks, chunk=10, step=0.001, refill=0.1):
    clock = VirtualClock()
    policy = ReplayPolicy(clock, chunk, [step], [refill])
    return run_sync(policy, {}, clock.clock(), clock.sleep_until, hz, ticks)


def async_run(hz, ticks, chunk=10, cost=0.1, threshold=0.5, aggregate="latest_only"):
    clock = VirtualClock()
    worker = VirtualWorker(clock, chunk, [cost])
    return run_async(
        worker, {}, clock.clock(), clock.sleep_until, hz, ticks, torch.zeros(chunk, 1), threshold, aggregate
    )


def test_sync_refill_of_100ms_at_30hz_misses_on_every_refill_tick_and_nowhere_else():
    ticks = sync_run(30, 100)
    s = summarize_ticks(ticks, 30)
    assert [t.k for t in ticks if t.phase == REFILL] == list(range(0, 100, 10))
    missed = [t.k for t in ticks if t.end - t.start > 1 / 30]
    assert missed == list(range(0, 100, 10))
    assert s["deadline_misses"] == 10 and s["deadline_miss_pct"] == 10.0
    assert s["worst_overrun_ms"] == pytest.approx(100 - 1000 / 30)
    # The tick after a refill starts late by refill - period; the loop does not skip it.
    assert ticks[1].start - ticks[1].scheduled == pytest.approx(0.1 - 1 / 30)
    assert s["jitter_p50_ms"] == pytest.approx(0.0)
    # Longest time without a new action: from the step before a refill to the refill's end.
    assert s["longest_stall_ms"] == pytest.approx((1 / 30 + 0.1 - 0.001) * 1000)


def test_sync_without_overrun_holds_the_rate_exactly():
    s = summarize_ticks(sync_run(10, 50, refill=0.05), 10)
    assert s["deadline_misses"] == 0 and s["achieved_hz"] == pytest.approx(10.0)
    assert s["jitter_p99_ms"] == pytest.approx(0.0)
    assert s["longest_stall_ms"] == pytest.approx((0.1 + 0.05 - 0.001) * 1000)


def test_sync_loop_sleeps_until_each_scheduled_tick():
    ticks = sync_run(20, 5, chunk=5, step=0.0, refill=0.0)
    assert [t.start for t in ticks] == pytest.approx([k * 0.05 for k in range(5)])


@pytest.mark.parametrize("threshold", [0.5, 0.7, 1.0])
def test_async_never_starves_when_the_refill_is_shorter_than_the_thresholds_share_of_the_chunk(threshold):
    # chunk 10 at 30 Hz, refill 0.1 s = 3 ticks < threshold * 10 ticks
    run = async_run(30, 300, threshold=threshold)
    s = summarize_ticks(run.ticks, 30, run.chunk_latencies)
    assert s["starved_ticks"] == 0
    assert {t.phase for t in run.ticks} == {POP}
    assert s["inference_delay_ticks_max"] == 3
    assert s["longest_stall_ms"] == pytest.approx(1000 / 30)


def test_async_starves_for_the_inference_delay_when_requesting_only_on_an_empty_queue():
    run = async_run(30, 100, threshold=0.0)
    # The request goes out after tick 9 empties the queue. As in LeRobot, the chunk starts at the
    # timestep of the last executed action (9..18) and is ready 0.1 s = 3 periods later, at tick
    # 12: ticks 10 and 11 get no action, 12..18 do, and the cycle repeats every 9 ticks.
    starved = [t.k for t in run.ticks if t.phase == STARVED]
    assert starved == [k for c in range(10, 100, 9) for k in (c, c + 1) if k < 100]
    s = summarize_ticks(run.ticks, 30, run.chunk_latencies)
    assert s["starved_ticks"] == len(starved) == 20
    assert s["longest_stall_ms"] == pytest.approx(100.0)


def test_async_with_a_refill_shorter_than_one_period_never_starves_even_at_threshold_zero():
    run = async_run(9, 180, threshold=0.0)
    assert all(t.phase == POP for t in run.ticks)


def test_async_threshold_at_the_boundary():
    # d = 3 ticks. Threshold 0.1 of a 10-action chunk: the request goes out after tick 8 with one
    # action (9) left; the chunk is ready at tick 11, so tick 10 starves.
    run = async_run(30, 60, threshold=0.1)
    assert [t.k for t in run.ticks if t.phase == STARVED][:1] == [10]
    # Threshold 0.2: the request goes out after tick 7; the chunk is ready exactly at tick 10.
    run = async_run(30, 60, threshold=0.2)
    assert sum(t.phase == STARVED for t in run.ticks) == 0


def test_merge_chunk_drops_executed_timesteps_and_aggregates_overlaps():
    queue = {5: torch.tensor([1.0]), 6: torch.tensor([1.0])}
    merge_chunk(
        queue,
        torch.tensor([[9.0], [2.0], [2.0], [2.0]]),
        first_timestep=4,
        next_timestep=5,
        aggregate="weighted_average",
    )
    assert sorted(queue) == [5, 6, 7]
    assert queue[5].item() == pytest.approx(0.3 * 1 + 0.7 * 2)
    assert queue[7].item() == 2.0
    queue = {5: torch.tensor([1.0])}
    merge_chunk(queue, torch.tensor([[3.0]]), 5, 5, "latest_only")
    assert queue[5].item() == 3.0


def test_inference_delay_is_ceil_of_latency_over_period_without_float_noise():
    assert inference_delay_ticks(0.1, 30) == 3  # 0.1 * 30 = 3.0000000000000004
    assert inference_delay_ticks(0.101, 30) == 4
    assert inference_delay_ticks(0.0, 30) == 0


def _result(chunk, steps_ms, refills_ms):
    samples, i = [], 0
    for r in refills_ms:
        samples.append(Sample(i, REFILL, r))
        i += 1
        for s in steps_ms[: chunk - 1]:
            samples.append(Sample(i, STEP, s))
            i += 1
    return PolicyResult("act", OK, config={"n_action_steps": chunk}, samples=samples, cold_start_ms=refills_ms[0])


def test_simulator_agrees_with_the_loop_on_the_same_declared_costs():
    results = RunResults({}, {}, [_result(10, [1.0] * 9, [100.0] * 3)])
    entries = simulate(results, [30], [0.5], seconds=0, ticks=100, aggregate="latest_only")
    sync = next(e for e in entries if e.mode == "sync").summary
    assert sync == {**summarize_ticks(sync_run(30, 100), 30), "chunk_length": 10, "ticks_needed": 11}
    async_ = next(e for e in entries if e.mode == "async").summary
    run = async_run(30, 100)
    # d = 3: the first request at tick 4 (5 left), taken at tick 7; the second at tick 8 (5 left), taken at 11
    assert async_ == {**summarize_ticks(run.ticks, 30, run.chunk_latencies), "chunk_length": 10, "ticks_needed": 12}


def test_highest_rates_picks_the_fastest_rate_without_misses_or_starvation():
    results = RunResults({}, {}, [_result(10, [1.0] * 9, [100.0] * 3)])
    entries = simulate(results, [5, 9, 10, 11, 30], [0.0, 0.5], seconds=20)
    (h,) = highest_rates(entries)
    assert h.sync_hz == 10  # refill 100 ms fits a 100 ms period, not a 90.9 ms one
    assert h.async_hz[0.5] == 30
    # Requesting only on an empty queue starves whenever the refill exceeds one period;
    # at 10 Hz the 100 ms chunk arrives exactly at the next tick.
    assert h.async_hz[0.0] == 10


def test_simulate_with_no_refill_samples_is_a_usage_error():
    from policybench.errors import UsageError

    empty = RunResults({}, {}, [PolicyResult("act", OK, config={"n_action_steps": 10}, samples=[])])
    with pytest.raises(UsageError, match="no refill samples for 'act'"):
        simulate(empty, [30], [0.5], seconds=1)
    with pytest.raises(UsageError, match="no policy diffusion"):
        simulate(RunResults({}, {}, [_result(10, [1.0], [5.0])]), [30], [0.5], seconds=1, policies=["diffusion"])


def test_simulate_sync_and_async_direct():
    costs = Costs("x", 4, [0.0], [0.25])
    s = simulate_sync(costs, 2, 8)  # period 0.5 s, refill 0.25: no miss
    assert s["deadline_misses"] == 0
    a = simulate_async(costs, 8, 16, 0.5, "latest_only")  # d = 2 ticks = 0.5 * 4
    assert a["starved_ticks"] == 0 and a["inference_delay_ticks_max"] == 2
    assert math.isclose(a["chunk_latency_median_ms"], 250.0)


def test_thread_worker_stays_busy_until_its_chunk_is_taken():
    from fakes import FakePolicy, FakeTime

    from policybench.clock import Clock
    from policybench.control.paced import ThreadWorker

    time = FakeTime()
    worker = ThreadWorker(FakePolicy(time, chunk=3), Clock(now=time.now))
    try:
        worker.submit({}, 7)
        worker._future.result(timeout=10)  # finished, not yet polled
        assert worker.busy()  # a new submit() now would overwrite the finished chunk
        chunk, latency, first = worker.poll()
        assert first == 7 and len(chunk) == 3 and not worker.busy()
        assert worker.poll() is None
    finally:
        worker.close()


def test_simulate_takes_the_chunk_from_the_measured_refill_spacing():
    from policybench.control.simulate import costs_from_result

    r = _result(2, [1.0], [100.0] * 4)  # refills every 2 calls
    r.config["n_action_steps"] = 1  # e.g. TD-MPC: n_action_steps 1, but 2 action repeats queued
    assert costs_from_result(r).chunk == 2


def test_a_stall_open_at_the_end_counts_and_async_reports_the_delivered_rate():
    from policybench.control.metrics import summarize_ticks
    from policybench.control.paced import POP, STARVED, Tick

    # 10 Hz: three actions delivered, then seven starved ticks to the end of the run
    ticks = [Tick(k, k / 10, k / 10, k / 10 + 0.001, POP if k < 3 else STARVED, 0) for k in range(10)]
    s = summarize_ticks(ticks, 10.0, chunk_latencies=[5.0])
    assert s["stall_open_at_end"] is True
    assert s["longest_stall_ms"] == pytest.approx((0.901 - 0.201) * 1000)
    assert s["achieved_hz"] == pytest.approx(10.0)  # the loop ticked at its rate...
    assert s["delivered_hz"] == pytest.approx(2 / 0.9)  # ...but the robot got 3 actions in 0.9 s


def test_a_refill_longer_than_the_chunk_never_recovers_and_says_so():
    """SmolVLA-like: refill 3.3 s, chunk 50, 30 Hz async at g=0.5: once a refill outlasts the chunk,
    every action arrives stale; the robot stops after the first chunk."""
    from fakes import ok_result, run_results

    from policybench.control.simulate import simulate
    from policybench.report.realtime import render_realtime

    results = run_results([ok_result("smolvla", chunk=50, cycles=3, refill_ms=3300.0, step_ms=1.0, cold_ms=3300.0)])
    (sync, asyn) = simulate(results, [30.0], [0.5], seconds=10.0)
    s = asyn.summary
    assert s["stall_open_at_end"] is True
    assert s["longest_stall_ms"] > 5000  # not the 33 ms between two stale ticks
    assert s["delivered_hz"] < 10 < s["achieved_hz"]
    text = render_realtime([sync, asyn])
    assert "(never recovered)" in text


def test_a_variant_whose_actions_are_off_is_simulated_but_not_called_a_win():
    from policybench.report.realtime import render_realtime

    fast, exact = _result(10, [1.0], [5.0]), _result(10, [1.0], [50.0])
    off = {"max_abs_diff": 0.1, "rel_error": 0.033, "tolerance": 0.02, "equivalent": False}
    fast = replace(fast, variant="openvino-bf16", equivalence=off)
    same = {"max_abs_diff": 0.0, "rel_error": 0.0, "tolerance": 1e-4, "equivalent": True}
    exact = replace(exact, equivalence=same)
    entries = simulate(RunResults({}, {}, [exact, fast]), [30], [0.5], seconds=2)
    highest = {h.policy: h for h in highest_rates(entries)}
    assert highest["act+openvino-bf16"].sync_hz == 30 and highest["act"].sync_hz is None
    assert highest["act"].not_equivalent is None
    text = render_realtime(entries, highest_rates(entries))
    assert (
        "ACT+openvino-bf16: sync 30 Hz, async g=0.5 30 Hz (not a win: its actions are 3.3e-02 off fp32 "
        "eager's, above the tolerance of 0.02)"
    ) in text
