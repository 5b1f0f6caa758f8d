"""Real-Time Chunking on the virtual clock: LeRobot's engine rules (trigger, d, merge) with an
RTC-shaped fake policy whose plain and guided chunks cost exact binary fractions of a second."""

from __future__ import annotations

import pytest

from policybench.control.metrics import admitted, summarize_ticks
from policybench.control.rtc import VirtualEngine, replayed, run_rtc
from policybench.control.virtual import VirtualClock
from policybench.samples import POP, STARVED

HZ, CHUNK = 4.0, 8  # a period of 0.25 s


class RtcFakePolicy:
    """A chunk costs ``plain`` seconds without a previous chunk and ``guided`` with one."""

    def __init__(self, plain: float = 0.5, guided: float = 0.75):
        self.plain, self.guided = plain, guided
        self.calls: list[bool] = []

    def __call__(self, guided: bool) -> float:
        self.calls.append(guided)
        return self.guided if guided else self.plain


def rtc_run(threshold: int, ticks: int, refill=None):
    clock = VirtualClock()
    engine = VirtualEngine(clock.now, CHUNK, HZ, threshold, refill or RtcFakePolicy())
    return run_rtc(engine, {}, clock.clock(), clock.sleep_until, HZ, ticks, first_timeout_s=10.0)


def test_the_loop_starts_on_the_first_merged_chunk_less_its_stale_actions():
    run = rtc_run(threshold=3, ticks=12)
    first = run.inferences[0]
    # The plain first chunk takes 0.5 s = 2 periods: merged at 0.5 s with 2 actions skipped.
    assert run.t0 == 0.5 and first.start == 0.0 and first.end == 0.5
    assert (first.guided, first.delay_used, first.delay_taken, first.skipped, first.queue_after) == (False, 0, 2, 2, 6)
    assert run.ticks[0].queue == 6


def test_a_threshold_that_covers_the_guided_delay_never_starves():
    # Queue 6 at the start; the request goes out when tick 2 leaves 3; the guided chunk (0.75 s =
    # 3 ticks) merges at tick 5 with 8 - 3 = 5 actions, before the queue runs dry: a 4-tick cycle.
    run = rtc_run(threshold=3, ticks=20)
    assert all(t.phase == POP for t in run.ticks)
    second = run.inferences[1]
    assert (second.start, second.end) == (1.0, 1.75)
    assert (second.guided, second.delay_used, second.delay_taken) == (True, 2, 3)  # d used: the cold chunk's
    assert (second.queue_before, second.queue_after, second.popped, second.skipped) == (1, 5, 2, 3)
    assert [x.start for x in run.inferences[2:4]] == [2.0, 3.0]


def test_a_threshold_below_the_delay_starves_the_difference_every_cycle():
    # Threshold 1: the request goes out when tick 4 leaves 1 action; the chunk needs 3 ticks, so
    # tick 6 starves and it merges at tick 7; then every 6 ticks.
    run = rtc_run(threshold=1, ticks=20)
    assert [t.k for t in run.ticks if t.phase == STARVED] == [6, 12, 18]
    s = summarize_ticks(run.ticks, HZ, [x.latency for x in run.inferences[1:]])
    assert s["starved_ticks"] == 3 and s["longest_stall_ms"] == 500.0


def test_the_fake_policy_is_called_plain_once_then_guided():
    policy = RtcFakePolicy()
    rtc_run(threshold=3, ticks=20, refill=policy)
    assert policy.calls[0] is False and all(policy.calls[1:]) and len(policy.calls) >= 5


def test_d_is_the_largest_latency_ever_so_a_cold_start_sets_it_for_the_whole_run():
    from policybench.control.metrics import rtc_figures

    run = rtc_run(threshold=5, ticks=40, refill=replayed([1.0, 0.5]))  # a cold 1 s chunk, then 0.5 s
    assert [x.delay_taken for x in run.inferences[:3]] == [4, 2, 2]
    assert {x.delay_used for x in run.inferences[1:]} == {4}  # never back to 2
    latencies = [x.latency for x in run.inferences]
    s = rtc_figures(latencies, [x.delay_used for x in run.inferences], HZ, CHUNK, 4, [], [])
    assert (s["delay_engine_ticks"], s["delay_p95_ticks"], s["delay_first_ticks"]) == (4, 2, 4)
    assert s["cold_start_sets_delay"] is True and s["admission_ok"] is True  # 4 <= 4 <= 8 - 4


def test_a_warm_first_chunk_does_not_flag_the_cold_start():
    from policybench.control.metrics import rtc_figures

    s = rtc_figures([0.5, 0.5, 0.75], [0, 2, 2], HZ, CHUNK, 2, [0.5, 0.5], [0.75, 1.0])
    assert s["cold_start_sets_delay"] is False and s["delay_engine_ticks"] == 2 and s["delay_p95_ticks"] == 3
    assert s["guided_refill_median_ms"] == 875.0 and s["plain_refill_median_ms"] == 500.0
    assert s["guidance_overhead_median_ms"] == 375.0


@pytest.mark.parametrize(
    "d, horizon, chunk, ok",
    [(3, 10, 50, True), (10, 10, 20, True), (11, 10, 50, False), (3, 48, 50, False), (3, 47, 50, True)],
)
def test_admission_check(d, horizon, chunk, ok):
    assert admitted(d, horizon, chunk) is ok
