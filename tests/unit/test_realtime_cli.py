"""policybench realtime on the command line: bad input and the simulate path, no policy built."""

from __future__ import annotations

import json

import pytest
from fakes import assert_one_error_line

from policybench.cli import main
from policybench.results import OK, PolicyResult, RunResults, write_results
from policybench.samples import REFILL, STEP, Sample


@pytest.fixture
def results_file(tmp_path):
    samples = []
    for _c in range(3):
        samples.append(Sample(len(samples), REFILL, 100.0))
        samples += [Sample(len(samples) + k, STEP, 1.0) for k in range(9)]
    r = RunResults(
        {"device": "cpu"},
        {"profile": {"name": "so100"}},
        [PolicyResult("act", OK, config={"n_action_steps": 10}, samples=samples, cold_start_ms=300.0)],
    )
    path = tmp_path / "r.json"
    write_results(r, str(path))
    return path


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--hz", "0"], "--hz must be positive"),
        (["--hz", "-30"], "--hz must be positive"),
        (["--hz", "fast"], "--hz must be a number"),
        (["--threshold", "1.5"], "--threshold must be between 0 and 1"),
        (["--threshold", "-0.1"], "--threshold must be between 0 and 1"),
        (["--seconds", "0"], "--seconds must be positive"),
        (["--ticks", "1"], "--ticks must be 2 or more"),
        (["--hz", "10,30"], "lists are for --simulate"),
    ],
)
def test_bad_realtime_input_is_one_line(capsys, args, fragment):
    line = assert_one_error_line(capsys, main(["realtime", "--policies", "noop", *args]))
    assert fragment in line


def test_simulate_a_file_without_samples_for_the_policy(capsys, tmp_path):
    path = tmp_path / "empty.json"
    write_results(RunResults({}, {}, [PolicyResult("act", OK, config={"n_action_steps": 10})]), str(path))
    line = assert_one_error_line(capsys, main(["realtime", "--simulate", str(path)]))
    assert "no refill samples for 'act'" in line


def test_simulate_missing_file(capsys, tmp_path):
    line = assert_one_error_line(capsys, main(["realtime", "--simulate", str(tmp_path / "nope.json")]))
    assert "no such file" in line


def test_simulate_prints_the_grid_and_writes_the_realtime_section(capsys, tmp_path, results_file):
    out = tmp_path / "sim.json"
    code = main(
        [
            "realtime",
            "--simulate",
            str(results_file),
            "--hz",
            "5,10,11,30",
            "--threshold",
            "0,0.5",
            "--ticks",
            "120",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "highest rate without a miss/starved tick, ACT: sync 10 Hz, async g=0 10 Hz, async g=0.5 30 Hz" in text
    data = json.loads(out.read_text())
    assert data["results"][0]["policy"] == "act"  # the input results are kept
    rt = data["realtime"]
    assert len(rt) == 4 * 3 and {e["source"] for e in rt} == {"simulated"}
    sync10 = next(e for e in rt if e["mode"] == "sync" and e["hz"] == 10)
    assert sync10["summary"]["ticks"] == 120 and sync10["summary"]["deadline_misses"] == 0
    sync30 = next(e for e in rt if e["mode"] == "sync" and e["hz"] == 30)
    assert sync30["summary"]["deadline_misses"] == 12  # one per refill: 120 ticks / chunk 10


def test_live_realtime_with_noop_writes_ticks(capsys, tmp_path):
    out = tmp_path / "rt.json"
    code = main(["realtime", "--policies", "noop", "--hz", "200", "--ticks", "20", "--json", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    sync, async_ = data["realtime"]
    assert (sync["mode"], async_["mode"]) == ("sync", "async")
    assert [t["k"] for t in sync["ticks"]] == list(range(20))
    assert {t["phase"] for t in sync["ticks"]} <= {"step", "refill"}
    assert sync["ticks"][0]["phase"] == "refill"  # warm-up ends on a full cycle
    assert async_["threshold"] == 0.5 and async_["aggregate"] == "weighted_average"
    assert len(async_["ticks"]) == 20 and sync["status"] == async_["status"] == "ok"


def test_plot_of_a_live_realtime_file_has_the_tick_timeline(capsys, tmp_path):
    from matplotlib.image import imread

    out = tmp_path / "rt.json"
    assert main(["realtime", "--policies", "noop", "--hz", "200", "--ticks", "12", "--json", str(out)]) == 0
    capsys.readouterr()
    assert main(["plot", str(out), "-o", str(tmp_path / "plots")]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "plots" / "realtime.png")]  # no latency samples: only the tick timeline
    image = imread(tmp_path / "plots" / "realtime.png")
    assert image.shape[:2] == (int((2.6 * 2 + 0.6) * 100), 1000)  # two paced runs (sync, async)


def test_a_port_in_use_is_one_clear_line(capsys):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        line = assert_one_error_line(capsys, main(["realtime", "--policies", "act", "--remote", "--port", str(port)]))
    assert f"--port {port} is in use" in line


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--hz", "1e9"], "--hz must be at most 10000 (a period of 0.1 ms), got 1e+09"),
        (["--hz", "30,20000"], "--hz must be at most 10000"),
        (
            ["--hz", "1000", "--seconds", "3600"],
            "--hz 1000 for 3600 s is 3,600,000 ticks, more than the 1,000,000 a simulated run may have: "
            "lower --hz or --seconds",
        ),
        (
            ["--ticks", "1000001"],
            "--ticks 1,000,001 is more than the 1,000,000 a simulated run may have: lower --ticks",
        ),
    ],
)
def test_a_simulation_too_long_to_run_is_refused(capsys, results_file, args, expected):
    assert_one_error_line(capsys, main(["realtime", "--simulate", str(results_file), *args]), expected)


def test_a_live_rate_above_the_limit_is_refused(capsys):
    assert_one_error_line(
        capsys, main(["realtime", "--policies", "noop", "--hz", "10001"]), "--hz must be at most 10000"
    )


def test_the_limits_are_in_the_help():
    from policybench.cli import MAX_HZ, build_parser
    from policybench.control.simulate import MAX_TICKS

    realtime = build_parser()._subparsers._group_actions[0].choices["realtime"]
    (hz,) = [a.help for a in realtime._actions if a.dest == "hz"]
    assert f"at most {MAX_HZ}" in hz and f"at most {MAX_TICKS:,} simulated ticks" in hz


def test_the_largest_simulation_allowed_runs(capsys, results_file):
    assert main(["realtime", "--simulate", str(results_file), "--hz", "10000", "--ticks", "20"]) == 0


@pytest.mark.parametrize(
    "flag", [["--profile", "so100"], ["--warmup", "2"], ["--policy-path", "ckpt"], ["--device", "auto"]]
)
def test_simulate_refuses_the_flags_of_live_runs_even_at_their_default(capsys, results_file, flag):
    line = assert_one_error_line(capsys, main(["realtime", "--simulate", str(results_file), *flag]))
    assert f"{flag[0]} applies to live runs only" in line


def test_simulate_obeys_mode(capsys, tmp_path, results_file):
    out = tmp_path / "sim.json"
    assert main(["realtime", "--simulate", str(results_file), "--hz", "10", "--mode", "sync", "--json", str(out)]) == 0
    assert {e["mode"] for e in json.loads(out.read_text())["realtime"]} == {"sync"}


def test_simulate_replays_a_live_files_sync_ticks_and_keeps_them(capsys, tmp_path):
    live, sim = tmp_path / "live.json", tmp_path / "sim.json"
    assert (
        main(
            [
                "realtime",
                "--policies",
                "noop",
                "--set",
                "noop.chunk_size=5",
                "--hz",
                "200",
                "--ticks",
                "20",
                "--mode",
                "sync",
                "--json",
                str(live),
            ]
        )
        == 0
    )
    measured = json.loads(live.read_text())["realtime"]
    capsys.readouterr()
    assert (
        main(
            [
                "realtime",
                "--simulate",
                str(live),
                "--hz",
                "10",
                "--threshold",
                "0.5",
                "--ticks",
                "50",
                "--json",
                str(sim),
            ]
        )
        == 0
    )
    assert "Budget, noop (chunk 5)" in capsys.readouterr().out
    data = json.loads(sim.read_text())
    assert data["results"] == []  # nothing made up: the live runs, then the simulation
    assert data["realtime"][0] == measured[0]
    assert [(e["mode"], e["source"]) for e in data["realtime"][1:]] == [("sync", "simulated"), ("async", "simulated")]
