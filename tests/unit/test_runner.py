import dataclasses
import errno
import json
import os
import signal

import pytest
import torch
from fakes import ENVIRONMENT, FakePolicy, FakeTime

from policybench.settings import Override, RunSettings
from policybench.interrupt import Interrupted
from policybench.profiles import PROFILES
from policybench.orchestrate.run import run_benchmark

OOM = getattr(torch, "OutOfMemoryError", RuntimeError)


class Signal(Exception):
    """In FakeBuilder's ``raises``: the build sends this signal to the process instead."""

    def __init__(self, signum: int):
        self.signum = signum


class FakeBuilder:
    """policies.build's signature; ``raises`` maps a name to the exception its build raises.

    On every call it records how many results the results file held at that moment.
    """

    def __init__(self, time: FakeTime, json_path=None, raises=None):
        self.time = time
        self.json_path = json_path
        self.raises = raises or {}
        self.calls = []
        self.file_counts = []

    def __call__(self, name, profile, overrides, device, seed=0):
        self.calls.append((name, profile.name, overrides, device, seed))
        if self.json_path is not None:
            try:
                self.file_counts.append(len(json.loads(self.json_path.read_text())["results"]))
            except FileNotFoundError:
                self.file_counts.append(None)
        if isinstance(self.raises.get(name), Signal):
            os.kill(os.getpid(), self.raises[name].signum)
        elif name in self.raises:
            raise self.raises[name]
        return FakePolicy(self.time, chunk=4, step_cost=0.25, refill_cost=0.5, name=name)


def config(tmp_path, policies, **kw):
    return RunSettings(
        policies=policies,
        profile=PROFILES["so100"],
        refills=2,
        warmup=1,
        max_seconds=100.0,
        json_path=str(tmp_path / "r.json"),
        **kw,
    )


def test_failed_build_is_isolated(tmp_path):
    time = FakeTime()
    cfg = config(tmp_path, ["a", "b", "c"], overrides=[Override("c", "chunk_size", 4)])
    build = FakeBuilder(time, raises={"b": OOM("CUDA out of memory")})
    lines = []
    results = run_benchmark(
        cfg, "cpu", log=lines.append, clock=time.clock(), environment=dict(ENVIRONMENT), build=build
    )

    assert [r.policy for r in results.results] == ["a", "b", "c"]
    assert [r.status for r in results.results] == ["ok", "failed", "ok"]
    failed = results.results[1]
    assert failed.error == f"{OOM.__name__}: CUDA out of memory"
    assert failed.samples == [] and failed.cold_start_ms is None
    assert f"b: FAILED: {OOM.__name__}: CUDA out of memory" in lines

    for r in (results.results[0], results.results[2]):
        assert r.error is None and r.complete is True
        assert r.cold_start_ms == 500.0
        assert len(r.samples) == 2 * 4
        assert [s.latency_ms for s in r.samples] == [500.0, 250.0, 250.0, 250.0] * 2
        assert r.params == 123
        assert r.config["chunk_size"] == 4 and r.config["inputs"] == {"observation.state": [2]}

    assert build.calls == [
        ("a", "so100", {}, "cpu", 0),
        ("b", "so100", {}, "cpu", 0),
        ("c", "so100", {"chunk_size": 4}, "cpu", 0),
    ]
    assert results.environment == ENVIRONMENT
    assert results.run["refills"] == 2 and results.run["policies"] == ["a", "b", "c"]
    assert results.run["overrides"] == ["c.chunk_size=4"]


def test_results_file_matches_the_returned_results(tmp_path):
    time = FakeTime()
    cfg = config(tmp_path, ["a", "b"])
    results = run_benchmark(cfg, "cpu", clock=time.clock(), environment=dict(ENVIRONMENT), build=FakeBuilder(time))
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(json.dumps(results.to_json()))


def test_results_file_is_rewritten_after_every_policy(tmp_path):
    time = FakeTime()
    path = tmp_path / "r.json"
    cfg = config(tmp_path, ["a", "b", "c"])
    build = FakeBuilder(time, json_path=path, raises={"c": KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(cfg, "cpu", clock=time.clock(), environment=dict(ENVIRONMENT), build=build)
    # before a: no file; before b: a's result; before c: a's and b's
    assert build.file_counts == [None, 1, 2]
    data = json.loads(path.read_text())
    assert [(r["policy"], r["status"]) for r in data["results"]] == [("a", "ok"), ("b", "ok"), ("c", "interrupted")]
    assert [len(r["samples"]) for r in data["results"]] == [8, 8, 0]


def test_incomplete_run_warns(tmp_path):
    time = FakeTime()
    # a cycle lasts 0.5 + 3 * 0.25 = 1.25 s; the 2nd refill ends at 1.75 s, the next step at 2.0 s: stop
    cfg = dataclasses.replace(config(tmp_path, ["a"]), refills=5, max_seconds=2.0)
    lines = []
    results = run_benchmark(
        cfg, "cpu", log=lines.append, clock=time.clock(), environment=dict(ENVIRONMENT), build=FakeBuilder(time)
    )
    r = results.results[0]
    assert r.status == "ok" and r.complete is False
    assert [s.phase for s in r.samples] == ["refill", "step", "step", "step", "refill", "step"]
    assert (
        "a: warning: stopped by --max-seconds 2 before 5 full refill cycles (2 refills measured); "
        "raise --max-seconds for the full count"
    ) in lines


def test_injected_empty_environment_is_kept(tmp_path):
    time = FakeTime()
    results = run_benchmark(config(tmp_path, ["a"]), "cpu", clock=time.clock(), environment={}, build=FakeBuilder(time))
    assert results.environment == {}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_and_the_file_names_the_policy_it_interrupted(tmp_path, signum):
    time = FakeTime()
    path = tmp_path / "r.json"
    build = FakeBuilder(time, raises={"b": Signal(signum)})
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(Interrupted) as stop:
        run_benchmark(
            config(tmp_path, ["a", "b", "c"]), "cpu", clock=time.clock(), environment=dict(ENVIRONMENT), build=build
        )
    assert stop.value.signum == signum and stop.value.exit_code == 128 + signum
    name = signal.Signals(signum).name
    partial = [(r.policy, r.status, r.error) for r in stop.value.partial.results]
    assert partial == [("a", "ok", None), ("b", "interrupted", f"{name} received")]
    data = json.loads(path.read_text())
    assert [(r["policy"], r["status"], r["error"]) for r in data["results"]] == partial
    assert [c[0] for c in build.calls] == ["a", "b"]  # c never started
    assert {s: signal.getsignal(s) for s in before} == before  # the caller's handlers are back


def test_a_results_file_that_cannot_be_written_stops_the_run_with_what_was_measured(tmp_path, monkeypatch):
    from policybench.results import NotWritten

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    time = FakeTime()
    build = FakeBuilder(time)
    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(NotWritten) as stop:
        run_benchmark(
            config(tmp_path, ["a", "b"]), "cpu", clock=time.clock(), environment=dict(ENVIRONMENT), build=build
        )
    assert [r.policy for r in stop.value.partial.results] == ["a"]
    assert "No space left on device" in str(stop.value)
    assert os.listdir(tmp_path) == []  # no temporary file left
