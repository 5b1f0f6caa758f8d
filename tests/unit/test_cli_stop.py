"""A run stopped by a signal or a full disk: the table of what was measured, one line, the exit code."""

import errno
import json
import os
import re
import signal

import pytest
from fakes import ok_result, run_results

from policybench.measure import policy as runner
from policybench.cli import main
from policybench.results import write_results


def stop_at(monkeypatch, policy, signum):
    """``signum`` arrives as ``policy`` starts to be measured; the others run as usual."""
    real = runner.measure_policy

    def measure(name, *args, **kwargs):
        if name == policy:
            os.kill(os.getpid(), signum)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(runner, "measure_policy", measure)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_prints_the_table_and_writes_the_file(tmp_path, capsys, monkeypatch, signum, code):
    stop_at(monkeypatch, "act", signum)
    path = tmp_path / "r.json"
    before = signal.getsignal(signal.SIGTERM)
    # in-process: the signal arrives from inside measure_policy (test_isolation.py stops a child)
    assert main(["run", "--policies", "noop,act", "--refills", "2", "--json", str(path), "--in-process"]) == code
    out, err = capsys.readouterr()
    assert "Step/Refill Count     98/2" in out and "interrupted" in out  # noop's column, then act's
    assert err.splitlines()[-1] == "policybench: interrupted" and "Traceback" not in err
    data = json.loads(path.read_text())
    name = signal.Signals(signum).name
    assert [(r["status"], r["error"]) for r in data["results"]] == [("ok", None), ("interrupted", f"{name} received")]
    assert signal.getsignal(signal.SIGTERM) == before


def full_disk(monkeypatch):
    def replace(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", replace)


def test_a_full_disk_prints_the_table_and_keeps_the_previous_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text('{"previous": true}')
    full_disk(monkeypatch)
    code = main(["run", "--policies", "noop", "--refills", "2", "--json", str(path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Step/Refill Count     98/2" in out
    # stderr is no terminal here: the steps, each a line as it starts (progress.RunOutput; a slow one's
    # heartbeat, "noop: building ... 10 s", left out), then the error alone
    lines = [re.sub(r"\d+\.\d s", "T s", line) for line in err.splitlines() if not re.search(r" \.\.\. \d+ s$", line)]
    assert lines == [
        "noop: building",
        "noop: built in T s (0.0 M params), measuring",
        "noop: first call",
        "noop: warm-up",
        "noop: measuring",
        "noop: 100 calls, 2 refills in T s",
        f"policybench: error: {path}: cannot write the results file (No space left on device); "
        "the file there is unchanged",
    ]
    assert os.listdir(tmp_path) == ["r.json"] and json.loads(path.read_text()) == {"previous": True}


def test_a_full_disk_after_a_simulation_prints_the_verdict(tmp_path, capsys, monkeypatch):
    source = tmp_path / "r.json"
    write_results(
        run_results([ok_result("act", chunk=10, cycles=3, refill_ms=100.0, step_ms=1.0, cold_ms=300.0)]), str(source)
    )
    full_disk(monkeypatch)
    code = main(["realtime", "--simulate", str(source), "--ticks", "20", "--json", str(tmp_path / "sim.json")])
    out, err = capsys.readouterr()
    assert code == 1 and "highest rate without a miss/starved tick" in out
    assert len(err.splitlines()) == 1 and "cannot write the results file (No space left on device)" in err
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_the_remote_round_trips_keeps_the_paced_runs(tmp_path, capsys, monkeypatch, signum, code):
    from policybench.measure import realtime as live

    def measure_remote(*args, **kwargs):
        os.kill(os.getpid(), signum)

    monkeypatch.setattr(live, "measure_remote", measure_remote)
    path = tmp_path / "rt.json"
    # --in-process: the paced loops run here, where measure_remote is replaced (a child runs them by default)
    assert (
        main(
            [
                "realtime",
                "--policies",
                "noop",
                "--remote",
                "--hz",
                "200",
                "--ticks",
                "10",
                "--json",
                str(path),
                "--in-process",
            ]
        )
        == code
    )
    out, err = capsys.readouterr()
    rows = [line.split()[:3] for line in out.splitlines()[2:5]]
    assert rows == [["noop", "sync", "200"], ["noop", "async", "g=0.5"], ["noop", "remote", "200"]]
    assert out.splitlines()[4].split()[3] == "interrupted"
    assert err.splitlines()[-1] == "policybench: interrupted" and "Traceback" not in err
    data = json.loads(path.read_text())["realtime"]
    name = signal.Signals(signum).name
    assert [(e["mode"], e["status"]) for e in data] == [("sync", "ok"), ("async", "ok"), ("remote", "interrupted")]
    assert data[2]["error"] == f"{name} received" and len(data[0]["ticks"]) == 10
