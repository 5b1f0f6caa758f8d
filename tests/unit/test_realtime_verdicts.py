"""Real-time verdicts that cannot be falsely positive (issue 23, part 3): each test here failed on
the code before the fix. Costs are exact in binary floating point; no test sleeps."""

from __future__ import annotations

import pytest
from fakes import FakePolicy, FakeTime, ok_result, run_results, unfolded

from policybench.cli import main
from policybench.control.simulate import highest_rates, simulate
from policybench.results import RealtimeResult, write_results


@pytest.fixture
def smolvla_file(tmp_path):
    """SmolVLA as measured on a CPU: chunk 50, a 16 s refill."""
    path = tmp_path / "base.json"
    write_results(
        run_results([ok_result("smolvla", chunk=50, cycles=3, refill_ms=16000.0, step_ms=1.0, cold_ms=16000.0)]),
        str(path),
    )
    return path


def test_a_simulation_shorter_than_two_refills_gives_no_verdict(capsys, smolvla_file):
    """It answered "async g=0.5: 30 Hz": ten ticks never see a 16 s refill."""
    assert main(["realtime", "--simulate", str(smolvla_file), "--ticks", "10"]) == 0
    out = unfolded(capsys.readouterr().out)
    assert "async g=0.5 30 Hz" not in out
    # async: the first request at tick 24, taken 480 ticks later; the second at 504, taken at 984
    assert (
        "SmolVLA async g=0.5 at 30 Hz: not enough ticks to judge: needs at least 985 at this rate "
        "(to see 2 refills; this run saw 0 in 10 ticks)"
    ) in out
    assert "SmolVLA sync at 30 Hz: not enough ticks to judge: needs at least 51 at this rate" in out
    assert (
        "highest rate without a miss/starved tick, SmolVLA: sync: none of the rates (30 Hz: not enough ticks "
        "to judge; --seconds 2 judges them), async g=0.5: none of the rates (30 Hz: not enough ticks to judge; "
        "--seconds 33 judges them)"
    ) in out  # 51 and 985 ticks at 30 Hz


def test_a_rate_not_judged_never_counts_as_holding():
    results = run_results([ok_result("act", chunk=10, cycles=3, refill_ms=100.0, step_ms=1.0, cold_ms=100.0)])
    short = simulate(results, [30.0], [0.5], seconds=0, ticks=10)
    (h,) = highest_rates(short)
    assert h.sync_hz is None and h.async_hz == {0.5: None}
    enough = simulate(results, [30.0], [0.5], seconds=0, ticks=12)  # refills at 0 and 10; chunks at 7 and 11
    (h,) = highest_rates(enough)
    assert h.sync_hz is None and h.async_hz == {0.5: 30.0}  # sync misses on the 100 ms refill


def test_sync_achieved_rate_counts_only_the_ticks_that_met_their_deadline():
    """Late ticks run back to back after a stall: the loop's tick rate recovers, the robot's does not."""
    from policybench.control.metrics import summarize_ticks
    from policybench.control.paced import run_sync
    from policybench.control.virtual import ReplayPolicy, VirtualClock

    clock = VirtualClock()  # 4 Hz, chunk 8, steps free, a 1 s refill at ticks 0 and 8
    ticks = run_sync(ReplayPolicy(clock, 8, [0.0], [1.0]), {}, clock.clock(), clock.sleep_until, 4.0, 16)
    s = summarize_ticks(ticks, 4.0)
    # late: 0, 1, 2 (ready at 1.0 s) and 8, 9, 10; ten on time over the run's 4 s
    assert s["late_ticks"] == 6 and s["achieved_hz"] == 2.5


def test_live_sync_with_a_stall_does_not_report_the_full_rate(monkeypatch):
    from policybench.settings import RealtimeSettings, RunSettings
    from policybench.measure import realtime as live

    time = FakeTime()
    monkeypatch.setattr(live, "clock_for", lambda device: time.clock())
    monkeypatch.setattr(live, "sleep_until_real", lambda now: lambda t: setattr(time, "t", max(time.t, t)))
    policy = FakePolicy(time, chunk=8, step_cost=0.0, refill_cost=1.0)
    cfg = RunSettings(policies=["fake"], warmup=1)
    settings = RealtimeSettings(hz=(4.0,), ticks=16, mode="sync", aggregate="latest_only", run=cfg)
    (sync,) = live.run_live(settings, "cpu", build=lambda *a: policy)
    assert sync.summary["achieved_hz"] == 2.5 and sync.summary["late_ticks"] == 6
    assert sync.summary["refills_seen"] == 2 and sync.summary["ticks_needed"] == 9


def test_live_realtime_prints_the_verdict_lines(capsys):
    assert main(["realtime", "--policies", "noop", "--hz", "200", "--ticks", "120"]) == 0
    out = capsys.readouterr().out
    assert "highest rate without a miss/starved tick, noop: sync" in out
    assert "Budget, noop (chunk " in out and "  sync budget (one period): 5 ms at 200 Hz" in out


def test_the_remote_overhead_is_never_negative():
    """It printed "overhead -23.4 ms": the round trips and the in-process chunks are timed apart."""
    from policybench.measure.remote import overhead
    from policybench.report.realtime import render_remote

    trips, local = [518.0, 520.0, 530.0, 600.0, 510.0], [540.0, 545.0, 520.0, 500.0, 530.0]
    s = {
        "calls": 5,
        "round_trip_median_ms": 520.0,
        "round_trip_p99_ms": 597.2,
        "in_process_chunk_median_ms": 530.0,
        **overhead(trips, local),
    }
    assert s["overhead_median_ms"] is None and s["overhead_low_ms"] < 0 < s["overhead_high_ms"]
    (line,) = render_remote([RealtimeResult("act", "remote", 30.0, "measured", summary=s)])
    assert "overhead within noise: round trip minus in-process, 95% interval" in line
    assert "overhead -" not in line
    clear = overhead([518.0, 520.0, 530.0], [40.0, 45.0, 20.0])
    assert clear["overhead_median_ms"] == 480.0 and clear["overhead_low_ms"] > 0


def test_a_negative_overhead_in_a_file_written_before_reads_as_noise():
    from policybench.report.realtime import render_remote

    old = {
        "calls": 10,
        "round_trip_median_ms": 491.0,
        "round_trip_p99_ms": 600.0,
        "in_process_chunk_median_ms": 514.4,
        "overhead_median_ms": -23.4,
    }  # a file written before
    (line,) = render_remote([RealtimeResult("act", "remote", 30.0, "measured", summary=old)])
    assert "-23.4" not in line and "overhead within noise" in line


def test_run_with_hz_states_each_policys_budget(capsys):
    from policybench.cli import main

    assert (
        main(["run", "--policies", "noop", "--refills", "2", "--warmup", "0", "--hz", "30", "--in-process", "--quiet"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Budget, noop (chunk 50): refill median" in out
    assert "  sync budget (one period): 33.3 ms at 30 Hz (fits with" in out
    assert "  async g=0.5 budget (25 periods): 833 ms at 30 Hz (fits with" in out
