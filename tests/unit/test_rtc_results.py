"""An rtc run's records in the results file, the replay of them (--simulate --mode rtc), the
verdict lines, and the bad inputs of --mode rtc."""

from __future__ import annotations

import json

import pytest

from policybench.cli import main
from policybench.measure.realtime import rtc_result
from policybench.control.simulate import replay_rtc, simulate_rtc, smallest_rtc_setting
from policybench.results import RealtimeResult, RunResults, read_results, write_results
from policybench.settings import RealtimeSettings
from test_rtc import CHUNK, HZ, RtcFakePolicy, rtc_run

from policybench.lerobot_adapter.rtc import rtc_problem

NO_ENGINE = rtc_problem()  # LeRobot 0.4.4: no RTC engine


def live_file(tmp_path, threshold: int, ticks: int = 60):
    """A fake live rtc run (fake policy, virtual clock) written to a results file as a live run is."""
    run = rtc_run(threshold=threshold, ticks=ticks, refill=RtcFakePolicy())
    settings = RealtimeSettings(hz=(HZ,), ticks=ticks, mode="rtc", queue_threshold=threshold, execution_horizon=3)
    entry = rtc_result(RealtimeResult("fake", "rtc", HZ, "measured"), run, settings, CHUNK, [(0.5, 0.75), (0.5, 1.0)])
    path = tmp_path / "rtc.json"
    write_results(RunResults({}, {}, realtime=[entry]), str(path))
    return entry, path


@pytest.mark.parametrize("threshold", [1, 2, 3])
def test_the_replay_of_a_live_runs_chunks_agrees_with_it_on_starvation(tmp_path, threshold):
    live, path = live_file(tmp_path, threshold)
    (simulated,) = replay_rtc(read_results(str(path)), [HZ], 10.0, 60, threshold, 3)
    assert simulated.source == "simulated" and simulated.mode == "rtc"
    assert simulated.summary["starved_ticks"] == live.summary["starved_ticks"]
    assert live.summary["starved_ticks"] == {1: 9, 2: 0, 3: 0}[threshold]  # threshold 1: ticks 6, 12, ..., 54


def test_the_records_survive_the_file(tmp_path):
    live, path = live_file(tmp_path, 3, ticks=20)
    (back,) = read_results(str(path)).realtime
    assert back.inferences == live.inferences and back.ticks == live.ticks
    first = back.inferences[0]
    assert first.start_ms == -500.0 and first.end_ms == 0.0 and first.latency_ms == 500.0  # cold, before the loop
    assert back.plain_refills_ms == [500.0, 500.0] and back.guided_refills_ms == [750.0, 1000.0]
    assert back.summary["guidance_overhead_median_ms"] == 375.0 and back.summary["queue_threshold"] == 3


def test_a_bad_record_is_one_line(tmp_path):
    _, path = live_file(tmp_path, 3, ticks=20)
    data = json.loads(path.read_text())
    data["realtime"][0]["inferences"][1]["delay_used"] = -1
    path.write_text(json.dumps(data))
    from policybench.errors import UsageError

    with pytest.raises(UsageError, match=r"inferences\[1\]\.delay_used is -1"):
        read_results(str(path))


def test_smallest_threshold_is_one_below_the_guided_delay_and_the_horizon_d():
    # d = 3 ticks for a guided chunk. Asked when a pop leaves 2, it merges exactly on the third
    # tick after: the two queued actions cover the ticks in between (a chunk due on a tick is
    # taken on it). The engine's d is 3 from the second chunk on: the horizon is 3.
    latencies = [0.5, 0.75]
    s = smallest_rtc_setting(latencies, CHUNK, HZ, 80)
    assert s == {"smallest_queue_threshold": 2, "smallest_execution_horizon": 3}
    assert simulate_rtc(latencies, CHUNK, HZ, 80, 1, 3)["starved_ticks"] > 0


def test_no_threshold_holds_a_chunk_longer_than_the_whole_chunk():
    s = smallest_rtc_setting([2.25, 2.25], CHUNK, HZ, 80)  # 9 ticks, a chunk of 8
    assert s == {"smallest_queue_threshold": None, "smallest_execution_horizon": None}


def test_a_replay_too_short_to_judge_names_no_setting(tmp_path, capsys):
    """6 ticks at 4 Hz see one merged chunk: neither the setting given nor a smallest one is judged."""
    _, path = live_file(tmp_path, 1)
    assert main(["realtime", "--simulate", str(path), "--mode", "rtc", "--hz", "4", "--ticks", "6"]) == 0
    out = capsys.readouterr().out
    assert "fake rtc at 4 Hz (simulated): not enough ticks to judge" in out
    assert "smallest setting" not in out and "no queue threshold holds" not in out
    assert smallest_rtc_setting([0.5, 0.75], CHUNK, HZ, 6) == {
        "smallest_queue_threshold": None,
        "smallest_execution_horizon": None,
    }


def test_simulate_mode_rtc_prints_the_verdict_and_what_holds(tmp_path, capsys):
    _, path = live_file(tmp_path, 1)
    assert (
        main(
            [
                "realtime",
                "--simulate",
                str(path),
                "--mode",
                "rtc",
                "--hz",
                "4,8",
                "--queue-threshold",
                "1",
                "--ticks",
                "80",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "fake rtc at 4 Hz (simulated): does not hold:" in out
    assert "smallest setting with no starved tick at 4 Hz: --queue-threshold 2, --execution-horizon 3" in out
    assert "no queue threshold holds 8 Hz" in out  # 6 ticks at 8 Hz: the 2 left after a merge run out


def test_live_verdict_lines(tmp_path):
    from policybench.report.realtime import render_realtime

    live, _ = live_file(tmp_path, 3)
    text = render_realtime([live])
    assert "fake rtc at 4 Hz (measured): holds: no starved tick in 60" in text
    assert "d: the engine used 3 ticks (ceil(LatencyTracker.max() / period)); the p95 latency gives 3" in text
    assert "guidance: guided chunk median 875.00 ms, p95 987.50 ms; plain median 500.00 ms" in text
    assert "+375.00 ms median, +487.50 ms p95" in text
    assert "admission (d <= execution_horizon <= chunk - d): 3 <= 3 <= 5: holds" in text
    assert "rtc q=3 H=3" in text


def test_settings_name_the_rtc_flags(capsys):
    assert main(["realtime", "--policies", "noop", "--mode", "rtc", "--execution-horizon", "0"]) == 2
    assert "--execution-horizon must be 1 or more, got 0" in capsys.readouterr().err
    assert main(["realtime", "--policies", "noop", "--mode", "rtc", "--queue-threshold", "-1"]) == 2
    assert "--queue-threshold must be 0 or more, got -1" in capsys.readouterr().err


def test_mode_rtc_for_a_policy_without_rtc_is_one_line_naming_its_modes(capsys):
    assert main(["realtime", "--policies", "noop", "--mode", "rtc", "--ticks", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    if NO_ENGINE:
        assert "needs LeRobot 0.6 or later" in err[0]
    else:
        assert "noop does not support Real-Time Chunking" in err[0] and "its modes: sync, async, remote" in err[0]


def test_mode_all_skips_rtc_for_a_policy_without_it_and_runs_the_others(capsys):
    assert main(["realtime", "--policies", "noop", "--mode", "all", "--hz", "100", "--ticks", "20"]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[:3] for line in out.splitlines()[2:5]]
    assert rows == [["noop", "sync", "100"], ["noop", "async", "g=0.5"], ["noop", "rtc", "100"]]
    assert (
        "noop skipped: "
        + (
            "Real-Time Chunking (--mode rtc) needs LeRobot 0.6"
            if NO_ENGINE
            else "noop does not support Real-Time Chunking"
        )
        in out
    )


def test_the_version_line_names_what_rtc_needs():
    if NO_ENGINE:
        assert NO_ENGINE.startswith("Real-Time Chunking (--mode rtc) needs LeRobot 0.6 or later")
        assert "this is LeRobot 0.4" in NO_ENGINE
    else:
        assert NO_ENGINE is None


def test_the_rtc_figure_draws_the_queue_and_both_delays(tmp_path):
    from policybench.report.plot_rtc import figure_rtc, rtc_runs
    from policybench.report.plots import png_bytes

    _, path = live_file(tmp_path, 1, ticks=20)
    results = read_results(str(path))
    (ax, delay) = figure_rtc(results).axes
    (queue,) = ax.get_lines()[:1]
    assert list(queue.get_ydata()) == [t.queue for t in rtc_runs(results)[0].ticks]
    used, taken = delay.get_lines()
    assert list(used.get_ydata()) == [x.delay_used for x in results.realtime[0].inferences]
    assert list(taken.get_ydata()) == [x.delay_taken for x in results.realtime[0].inferences]
    assert png_bytes(figure_rtc(results)).startswith(b"\x89PNG")


def test_a_file_of_rtc_runs_replayed_in_another_mode_says_which_mode_replays_it(tmp_path, capsys):
    _, path = live_file(tmp_path, 3, ticks=20)
    assert main(["realtime", "--simulate", str(path), "--hz", "4"]) == 2
    assert "its live rtc runs replay with --mode rtc" in capsys.readouterr().err
    assert main(["realtime", "--simulate", str(path), "--mode", "all", "--hz", "4", "--ticks", "40"]) == 0
    assert "fake rtc at 4 Hz (simulated): holds" in capsys.readouterr().out


def test_a_horizon_or_threshold_that_does_not_fit_the_chunk_names_the_flag():
    from policybench.cli import FLAGS
    from policybench.measure.realtime import _check_rtc_sizes
    from policybench.errors import SettingsError

    with pytest.raises(SettingsError) as exc:
        _check_rtc_sizes(RealtimeSettings(execution_horizon=60), "smolvla", 50)
    assert exc.value.said_with(FLAGS) == "--execution-horizon 60 is larger than smolvla's chunk of 50 actions"
    with pytest.raises(SettingsError) as exc:
        _check_rtc_sizes(RealtimeSettings(queue_threshold=50), "smolvla", 50)
    assert exc.value.said_with(FLAGS).startswith("--queue-threshold 50 must be below smolvla's chunk of 50 actions")
    _check_rtc_sizes(RealtimeSettings(execution_horizon=50, queue_threshold=49), "smolvla", 50)
