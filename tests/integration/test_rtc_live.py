"""LeRobot's own RTC engine driving a small, random-weight SmolVLA on the CPU for a few seconds:
the records checked against the engine's queue rules. Structure, never speed."""

from __future__ import annotations

import math
import re

import pytest

from policybench.measure.realtime import run_live
from policybench.lerobot_adapter.rtc import rtc_problem
from policybench.profiles import PROFILES, customize_profile
from policybench.settings import RealtimeSettings, RunSettings, parse_override

pytestmark = pytest.mark.slow
CHUNK, HZ = 20, 2.0


@pytest.fixture(scope="module")
def entry():
    if rtc_problem():
        pytest.skip("LeRobot 0.4.4 has no RTC engine (its one-line message: tests/unit/test_rtc_results.py)")
    cfg = RunSettings(
        policies=["smolvla"],
        profile=customize_profile(PROFILES["so100"], cameras=1, image_size=(96, 96)),
        overrides=[
            parse_override(x)
            for x in (
                "smolvla.num_steps=2",
                "smolvla.num_vlm_layers=2",
                f"smolvla.chunk_size={CHUNK}",
                f"smolvla.n_action_steps={CHUNK}",
            )
        ],
    )
    settings = RealtimeSettings(
        hz=(HZ,), ticks=12, mode="rtc", queue_threshold=10, execution_horizon=5, guidance_pairs=2, run=cfg
    )
    (e,) = run_live(settings, "cpu", log=LINES.append)
    assert e.status == "ok", e.error
    return e


LINES: list[str] = []  # what the run said as it went


def test_each_guidance_pair_says_so_after_an_estimate_of_them_all(entry):
    start = next(i for i, line in enumerate(LINES) if "plain and guided chunks in turn" in line)
    assert re.fullmatch(
        r"smolvla: 2 plain and guided chunks in turn \(guidance at d=\d+\), about [\d.]+ (ms|s|min) "
        r"\(--guidance-pairs N: another count, 0 none\)",
        LINES[start],
    ), LINES[start]
    pairs = [
        re.fullmatch(r"smolvla: pair (\d) of 2: plain chunk [\d.]+ (ms|s), guided [\d.]+ (ms|s)", line)
        for line in LINES[start + 1 :]
    ]
    assert [m.group(1) for m in pairs if m] == ["1", "2"]


def test_every_chunk_is_merged_as_the_engine_merges(entry):
    first, *rest = entry.inferences
    assert not first.guided and first.delay_used == 0 and first.end_ms <= 0  # the loop starts on it
    assert all(x.guided for x in rest)
    for x in entry.inferences:
        assert x.skipped == min(x.delay_taken, CHUNK) and x.queue_after == CHUNK - x.skipped
        # the engine's latency ends before ours (it stops its clock, then merges): d within one
        assert math.ceil(x.latency_ms * HZ / 1000) - x.delay_taken in (0, 1)
        assert 0 < x.model_ms <= x.latency_ms


def test_the_delay_used_is_the_largest_latency_so_far(entry):
    seen = 0.0
    for x in entry.inferences:
        if seen:
            assert math.ceil(seen * HZ / 1000) - x.delay_used in (0, 1)
        seen = max(seen, x.latency_ms)


def test_the_ticks_follow_the_engines_queue(entry):
    ticks, merges = entry.ticks, [x.end_ms for x in entry.inferences]
    assert [t.k for t in ticks] == list(range(12))
    for t in ticks:
        assert (t.phase == "starved") == (t.queue == 0)
    for a, b in zip(ticks, ticks[1:]):
        between = [x for x in entry.inferences if a.end_ms < x.end_ms < b.start_ms]
        if any(a.start_ms <= m <= a.end_ms for m in merges):
            continue  # merged during the tick's own work: which queue it read is a race
        expected = between[-1].queue_after if between else a.queue - (a.phase == "pop")
        assert b.queue == expected
    for x in entry.inferences[1:]:
        pops = sum(t.phase == "pop" and x.start_ms < t.start_ms < x.end_ms for t in ticks)
        assert abs(x.popped - pops) <= 1


def test_the_summary_and_the_guidance_pairs(entry):
    s = entry.summary
    assert s["ticks"] == 12 and s["chunk_length"] == CHUNK and s["queue_threshold"] == 10
    assert s["execution_horizon"] == 5 and s["delay_engine_ticks"] == max(x.delay_used for x in entry.inferences[1:])
    assert len(entry.plain_refills_ms) == len(entry.guided_refills_ms) == 2
    assert s["guided_refill_median_ms"] is not None and s["plain_refill_median_ms"] is not None


def test_the_replay_of_the_measured_chunks_agrees_on_starvation(entry):
    from policybench.control.simulate import simulate_rtc

    latencies = [x.latency_ms / 1000 for x in entry.inferences]
    replayed = simulate_rtc(latencies, CHUNK, HZ, 12, 10, 5)
    # within one tick per 100, and one at least: the engine looks at its queue every 10 ms
    assert abs(replayed["starved_ticks"] - entry.summary["starved_ticks"]) <= max(1, 12 // 100)
