"""The real-time budget (control/budget.py): exact arithmetic, checked against the paced loop on
a virtual clock, and a snapshot of the budget and verdict lines for hand-made measurements."""

from __future__ import annotations

from dataclasses import replace
import pytest
import torch

from policybench.control.budget import (
    Alternative,
    Refills,
    async_budget_ticks,
    fit,
    highest_rate,
    lowest_threshold,
    rate_down,
    ticks_needed,
    what_would_hold,
)
from policybench.control.paced import STARVED, run_async
from policybench.control.virtual import VirtualClock, VirtualWorker
from policybench.results import OK, PolicyResult, RunResults
from policybench.samples import REFILL, STEP, Sample


def async_run(chunk: int, threshold: float, hz: float, latency: float, ticks: int):
    clock = VirtualClock()
    worker = VirtualWorker(clock, chunk, [latency])
    return run_async(
        worker, {}, clock.clock(), clock.sleep_until, hz, ticks, torch.zeros(chunk, 1), threshold, "latest_only"
    )


@pytest.mark.parametrize("chunk", [1, 2, 5, 8, 11])
@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.25, 0.5, 0.75, 1.0])
def test_the_async_budget_is_exactly_where_the_loop_starts_to_starve(chunk, threshold):
    hz = 8.0  # period 0.125 s: latencies of whole ticks are exact
    for d in range(1, chunk + 3):
        run = async_run(chunk, threshold, hz, d / hz, 100)
        starved = any(t.phase == STARVED for t in run.ticks)
        assert starved == (d > async_budget_ticks(chunk, threshold)), d


@pytest.mark.parametrize("chunk, threshold, d", [(10, 0.5, 3), (8, 0.25, 4), (6, 1.0, 2), (50, 0.5, 480), (4, 0.0, 1)])
def test_ticks_needed_are_the_first_that_see_two_refills(chunk, threshold, d):
    hz = 8.0
    n = ticks_needed("async", chunk, hz, threshold, d / hz)
    assert len(async_run(chunk, threshold, hz, d / hz, n - 1).chunk_latencies) == 1
    assert len(async_run(chunk, threshold, hz, d / hz, n).chunk_latencies) == 2
    assert ticks_needed("sync", chunk, hz, None, 99.0) == chunk + 1  # refills at ticks 0 and chunk


def test_budgets_factors_and_headroom():
    refills = Refills.of([0.25, 0.25, 0.25, 0.5])
    assert (refills.median, refills.p95, refills.slowest, refills.count) == (0.25, 0.4625, 0.5, 4)
    sync = fit("sync", 8.0, 8, None, refills)
    assert (sync.ticks, sync.budget, sync.factor, sync.holds) == (1, 0.125, 3.7, False)
    a = fit("async", 8.0, 8, 0.5, refills)  # min(floor(4) + 1, 4) = 4 periods = 0.5 s: the slowest fits exactly
    assert (a.ticks, a.budget, a.holds) == (4, 0.5, True)
    assert fit("async", 8.0, 1, 0.5, refills).ticks == 0  # a one-action chunk is stale when it arrives


def test_what_to_set_is_derived_from_the_slowest_refill():
    assert rate_down(1 / 16.4) == pytest.approx(0.06) and rate_down(25 / 16.0) == 1.5 and rate_down(33.9) == 33.0
    assert highest_rate(0.5, 1) == 2.0 and highest_rate(0.5, 0) is None
    assert lowest_threshold(0.5, 8.0, 8) == 0.38  # d = 4: floor(0.38 x 8) + 1 = 4
    assert lowest_threshold(0.75, 8.0, 8) is None  # d = 6 > half the chunk: no threshold holds
    refills = Refills.of([0.5])
    fast = Alternative(PolicyResult("act", OK, variant="compile"), "--variant compile", 8, Refills.of([0.0625]))
    flags = [s.flags for s in what_would_hold([fit("sync", 8.0, 8, None, refills)], 8, [fast])]
    assert flags == ["--hz 2", "--mode async --threshold 0.38", "--variant compile"]
    assert what_would_hold([fit("sync", 2.0, 8, None, refills)], 8, [fast]) == []  # it holds: nothing to set


def _result(policy, refills_ms, chunk=8, variant=None, equivalent=True):
    samples = []
    for r in refills_ms:
        samples.append(Sample(len(samples), REFILL, r))
        samples += [Sample(len(samples), STEP, 1.0) for _ in range(chunk - 1)]
    eq = {"max_abs_diff": 0.0, "rel_error": 0.0 if equivalent else 0.5, "tolerance": 0.01, "equivalent": equivalent}
    return PolicyResult(policy, OK, config={"n_action_steps": chunk}, samples=samples, variant=variant, equivalence=eq)


SNAPSHOT = """\
Budget, ACT (chunk 8): refill median 250 ms, p95 462 ms over 4 refills
  sync budget (one period): 500 ms at 2 Hz (fits with 1.08x headroom), 125 ms at 8 Hz (p95 misses it by 3.7x)
  async g=0.25 budget (3 periods): 1,500 ms at 2 Hz (fits with 3.24x headroom), 375 ms at 8 Hz (p95 misses it by 1.23x)
  async g=0.5 budget (4 periods): 2,000 ms at 2 Hz (fits with 4.32x headroom), 500 ms at 8 Hz (fits with 1.08x headroom)
  What would hold at 8 Hz (from the slowest refill measured, 500 ms):
    --hz 2: sync holds it (a period of 500 ms at 2 Hz)
    --hz 6: async g=0.25 holds it (3 x 167 ms = 500 ms at 6 Hz)
    --mode async --threshold 0.5: async g=0.5 holds it (4 x 125 ms = 500 ms at 8 Hz)
    --variant compile: measured as ACT+compile, slowest refill 62.5 ms: sync holds it at 8 Hz (125 ms)
    --set act.n_action_steps=12: async g=0.25 holds it (min(floor(0.25 x 12) + 1, 6) = 4 periods = 500 ms at 8 Hz); \
estimated from the slowest refill measured, 500 ms, which n_action_steps does not change: 4 ticks at 8 Hz
    no act.n_action_steps holds sync: each refill still runs within one period, whatever the chunk (a longer one \
makes refills rarer, not shorter)
Async budget: min(floor(g x chunk) + 1, floor(chunk / 2)) periods: the actions left when a chunk is requested \
(plus the tick it arrives on), and half the chunk, whose first actions are stale on arrival.
highest rate without a miss/starved tick, ACT: sync 2 Hz, async g=0.25 2 Hz, async g=0.5 8 Hz
"""


def test_snapshot_of_the_budget_and_verdict_lines():
    """ACT, chunk 8, refills 250, 250, 250 and 500 ms; a compile variant with equivalent actions
    and 62.5 ms refills; an openvino-bf16 variant, faster still, whose actions are off: never
    recommended."""
    from policybench.control.simulate import highest_rates, simulate, simulated_budgets
    from policybench.report.realtime import render_realtime

    results = RunResults(
        {},
        {},
        [
            _result("act", [250.0, 250.0, 250.0, 500.0], variant="eager"),
            _result("act", [62.5] * 4, variant="compile"),
            _result("act", [31.25] * 4, variant="openvino-bf16", equivalent=False),
        ],
    )
    entries = simulate(results, [2.0, 8.0], [0.25, 0.5], seconds=0, ticks=64, policies=["act"])
    text = render_realtime(entries, highest_rates(entries), simulated_budgets(results, entries))
    assert text[text.index("Budget, ") :] == SNAPSHOT
    assert "openvino" not in text


def test_the_settings_of_a_sweep_are_named_by_their_flags():
    from policybench.control.simulate import alternatives

    def point(name, value, refill_ms):
        return replace(_result("smolvla", [refill_ms] * 2), point={name: value})

    steps = [point("smolvla.num_steps", "10", 500.0), point("smolvla.num_steps", "5", 250.0)]
    (alt,) = alternatives(steps[0], steps)
    assert (alt.flags, alt.measured.name, alt.refills.slowest, alt.chunk) == (
        "--set smolvla.num_steps=5",
        "smolvla[num_steps=5]",
        0.25,
        8,
    )
    cams = [point("cameras", "2", 500.0), point("cameras", "1", 250.0)]
    assert [a.flags for a in alternatives(cams[0], cams)] == ["--cameras 1"]
