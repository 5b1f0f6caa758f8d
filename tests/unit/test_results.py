from dataclasses import replace
import json
import os
import stat

import pytest
from fakes import failed_result, ok_result, run_results

from policybench.errors import UsageError
from policybench.outputs import check_writable
from policybench.results import SCHEMA_VERSION, PolicyResult, RealtimeResult, RealtimeTick, read_results, write_results
from policybench.samples import Sample

STAT_KEYS = {"count", "mean_ms", "median_ms", "min_ms", "max_ms", "p90_ms", "p99_ms", "std_ms", "median_ci_ms"}


def sample_results():
    # latencies that do not survive a round trip through "%.6g" or float32 (a lossy writer would fail)
    r = ok_result("act", chunk=3, cycles=2, refill_ms=12.345678901234567, step_ms=0.1 + 0.2, cold_ms=99.0000001)
    return run_results([r, failed_result("diffusion", "OutOfMemoryError: CUDA out of memory")])


def test_summary_counts_and_means_per_phase():
    r = ok_result("act", chunk=4, cycles=3, refill_ms=8.0, step_ms=2.0, cold_ms=20.0)
    s = r.summary()
    assert set(s) == {"all", "step", "refill"}
    assert s["refill"]["count"] == 3 and s["refill"]["mean_ms"] == 8.0
    assert s["step"]["count"] == 9 and s["step"]["mean_ms"] == 2.0
    assert s["all"]["count"] == 12 and s["all"]["mean_ms"] == (3 * 8.0 + 9 * 2.0) / 12
    assert s["all"]["max_ms"] == 8.0  # cold_start_ms (20) is not a sample


def test_summary_of_a_failed_result_is_empty():
    s = failed_result("x", "boom").summary()
    assert all(s[k]["count"] == 0 and s[k]["mean_ms"] is None for k in ("all", "step", "refill"))


def test_round_trip_keeps_everything(tmp_path):
    original = sample_results()
    path = tmp_path / "r.json"
    write_results(original, str(path))
    back = read_results(str(path))
    assert back.environment == original.environment
    assert back.run == original.run
    assert back.results == original.results  # dataclass equality: samples compared exactly
    assert back.results[0].samples[1] == Sample(1, "step", 0.1 + 0.2)


def test_write_leaves_no_temporary_file(tmp_path):
    write_results(sample_results(), str(tmp_path / "r.json"))
    write_results(sample_results(), str(tmp_path / "r.json"))
    assert os.listdir(tmp_path) == ["r.json"]


def test_json_layout(tmp_path):
    path = tmp_path / "r.json"
    write_results(sample_results(), str(path))
    data = json.loads(path.read_text())
    assert {"schema_version", "environment", "run", "results"} <= set(data)
    assert data["schema_version"] == SCHEMA_VERSION == 2
    ok, failed = data["results"]
    for r in (ok, failed):
        assert {
            "policy",
            "variant",
            "point",
            "status",
            "error",
            "config",
            "params",
            "samples",
            "summary",
            "cold_start_ms",
        } <= set(r)
        assert set(r["summary"]) == {"all", "step", "refill"}
        for phase in ("all", "step", "refill"):
            assert set(r["summary"][phase]) == STAT_KEYS
    assert ok["status"] == "ok" and ok["error"] is None and ok["params"] == 1000
    assert ok["samples"][0] == {"i": 0, "phase": "refill", "latency_ms": 12.345678901234567}
    assert all(set(s) == {"i", "phase", "latency_ms"} for s in ok["samples"])
    assert ok["summary"]["refill"]["count"] == 2 and ok["summary"]["step"]["count"] == 4
    assert ok["cold_start_ms"] == 99.0000001
    assert failed["status"] == "failed" and failed["error"] == "OutOfMemoryError: CUDA out of memory"
    assert failed["samples"] == [] and failed["summary"]["all"]["count"] == 0


def test_reading_recomputes_the_summary_from_samples(tmp_path):
    path = tmp_path / "r.json"
    write_results(sample_results(), str(path))
    data = json.loads(path.read_text())
    data["results"][0]["summary"]["all"]["mean_ms"] = -1.0  # a stale stored summary is ignored
    path.write_text(json.dumps(data))
    back = read_results(str(path))
    assert back.results[0].summary()["all"]["mean_ms"] > 0


def test_read_missing_file(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        read_results(str(tmp_path / "nope.json"))


@pytest.mark.parametrize("content", ["{not json", "\xff\xfe garbage", "[1, 2]", '{"schema_version": 1}'])
def test_read_corrupt_file(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(UsageError):
        read_results(str(path))


def test_read_other_schema_version(tmp_path):
    path = tmp_path / "future.json"
    data = sample_results().to_json()
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="schema_version 99"):
        read_results(str(path))


def test_check_writable_accepts_a_new_file_and_leaves_nothing(tmp_path):
    check_writable(str(tmp_path / "r.json"))
    assert os.listdir(tmp_path) == []


def test_check_writable_folder(tmp_path):
    with pytest.raises(UsageError, match="is a folder"):
        check_writable(str(tmp_path))


def test_check_writable_missing_folder(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        check_writable(str(tmp_path / "missing" / "r.json"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_check_writable_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(UsageError, match="cannot write there"):
            check_writable(str(folder / "r.json"))
    finally:
        folder.chmod(stat.S_IRWXU)


def test_from_json_tolerates_missing_optional_keys():
    r = PolicyResult.from_json({"policy": "act", "status": "failed"})
    assert r.samples == [] and r.error is None and r.config == {}


def test_results_file_gets_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_results(sample_results(), str(tmp_path / "r.json"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


# a change to realtime_results()'s file (below); the message naming the first bad value
HOSTILE = {
    "latency over a day": (
        _set(["results", 0, "samples", 2, "latency_ms"], 86_400_001),
        "act: samples[2].latency_ms is 86400001",
    ),
    "NaN latency": (
        _set(["results", 0, "samples", 0, "latency_ms"], float("nan")),
        "act: samples[0].latency_ms is nan",
    ),
    "boolean latency": (_set(["results", 0, "samples", 0, "latency_ms"], True), "act: samples[0].latency_ms is True"),
    "negative cold start": (_set(["results", 0, "cold_start_ms"], -3), "act: cold_start_ms is -3"),
    "infinite stage": (
        _set(["results", 0, "samples", 1, "stages_ms"], {"prepare": float("inf")}),
        "act: samples[1].stages_ms.prepare is inf",
    ),
    "unknown phase": (
        _set(["results", 0, "samples", 1, "phase"], "Step"),
        "act: samples[1].phase is 'Step'; known phases: step, refill",
    ),
    "negative index": (_set(["results", 0, "samples", 0, "i"], -1), "act: samples[0].i is -1"),
    "fractional index": (_set(["results", 0, "samples", 0, "i"], 0.5), "act: samples[0].i is 0.5"),
    "index going back": (
        _set(["results", 0, "samples", 2, "i"], 1),
        "act: samples[2].i is 1, after 1; call indices must increase",
    ),
    "unknown status": (
        _set(["results", 1, "status"], "crashed"),
        "diffusion: status is 'crashed'; known: ok, failed, skipped, interrupted",
    ),
    "params as text": (_set(["results", 0, "params"], "1M"), "act: params is '1M'; must be a whole number from 0"),
    "NaN build time": (_set(["results", 0, "build_seconds"], float("nan")), "act: build_seconds is nan"),
    "variant as a number": (_set(["results", 0, "variant"], 3), "act: variant is 3; must be a string"),
    "policy as a number": (_set(["results", 0, "policy"], 7), "a result's policy is 7; must be a string"),
}


def test_the_largest_sane_values_are_read(tmp_path):
    data = sample_results().to_json()
    data["results"][0]["samples"][0]["latency_ms"] = 86_400_000  # a day: absurd, but possible
    data["results"][0]["samples"][1]["latency_ms"] = 0
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    assert [s.latency_ms for s in read_results(str(path)).results[0].samples[:2]] == [86_400_000.0, 0.0]


@pytest.mark.parametrize("step", ["dump", "replace"])
def test_a_failed_write_leaves_the_previous_file_and_no_temporary_file(tmp_path, monkeypatch, step):
    import errno

    from policybench import results as results_module
    from policybench.results import NotWritten

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    path = tmp_path / "r.json"
    write_results(sample_results(), str(path))
    previous = path.read_text()
    monkeypatch.setattr(results_module.json if step == "dump" else results_module.os, step, full_disk)
    measured = sample_results()
    with pytest.raises(NotWritten) as err:
        write_results(measured, str(path))
    assert (
        str(err.value)
        == f"{path}: cannot write the results file (No space left on device); the file there is unchanged"
    )
    assert err.value.partial is measured
    assert os.listdir(tmp_path) == ["r.json"] and path.read_text() == previous


def realtime_results():
    r = sample_results()
    tick = RealtimeTick(k=0, scheduled_ms=0.0, start_ms=0.5, end_ms=1.5, phase="pop", queue=3, missed=False)
    r.realtime = [
        RealtimeResult(
            "act",
            "async",
            30.0,
            "measured",
            threshold=0.5,
            status="ok",
            summary={"ticks": 1, "longest_stall_ms": 1.5, "overhead_median_ms": -0.1},
            ticks=[tick],
            chunk_latencies_ms=[20.0],
        )
    ]
    return r


REALTIME_HOSTILE = {
    "rate 0": (_set(["realtime", 0, "hz"], 0), "realtime[0] (act, async): hz is 0; must be a rate in Hz above 0"),
    "rate as text": (_set(["realtime", 0, "hz"], "30"), "realtime[0] (act, async): hz is '30'"),
    "threshold 2": (_set(["realtime", 0, "threshold"], 2), "realtime[0] (act, async): threshold is 2"),
    "NaN in the summary": (
        _set(["realtime", 0, "summary", "longest_stall_ms"], float("nan")),
        "realtime[0] (act, async): summary.longest_stall_ms is nan",
    ),
    "unknown tick phase": (
        _set(["realtime", 0, "ticks", 0, "phase"], "late"),
        "realtime[0] (act, async): ticks[0].phase is 'late'; known: step, refill, pop, starved",
    ),
    "tick index as text": (_set(["realtime", 0, "ticks", 0, "k"], "x"), "realtime[0] (act, async): ticks[0].k is 'x'"),
    "huge tick time": (
        _set(["realtime", 0, "ticks", 0, "end_ms"], 1e308),
        "realtime[0] (act, async): ticks[0].end_ms is 1e+308",
    ),
    "negative chunk latency": (
        _set(["realtime", 0, "chunk_latencies_ms", 0], -20.0),
        "realtime[0] (act, async): chunk_latencies_ms[0] is -20.0",
    ),
    "unknown status": (_set(["realtime", 0, "status"], "meh"), "realtime[0] (act, async): status is 'meh'"),
}


@pytest.mark.parametrize("case", list(HOSTILE) + list(REALTIME_HOSTILE))
def test_a_hostile_value_is_named_on_reading(tmp_path, case):
    change, expected = {**HOSTILE, **REALTIME_HOSTILE}[case]
    data = realtime_results().to_json()
    change(data)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError) as err:
        read_results(str(path))
    assert str(err.value).startswith(f"{path}: {expected}")


def test_a_sane_realtime_section_is_read_as_written(tmp_path):
    path = tmp_path / "r.json"
    write_results(realtime_results(), str(path))
    assert read_results(str(path)).realtime == realtime_results().realtime


def test_summary_is_computed_once_per_list_of_samples(monkeypatch):
    r = ok_result("act", chunk=2, cycles=3, refill_ms=11.0, step_ms=1.0, cold_ms=20.0)
    calls = []
    real = PolicyResult._computed_summary
    monkeypatch.setattr(PolicyResult, "_computed_summary", lambda self: calls.append(1) or real(self))
    first = r.summary()
    assert r.summary() == first and len(calls) == 1
    first["refill"]["median_ms"] = -1.0  # a caller's copy: the next caller does not see it
    assert r.summary()["refill"]["median_ms"] == 11.0 and len(calls) == 1
    r.samples.append(Sample(6, "refill", 50.0))
    assert r.summary()["refill"]["count"] == 4 and len(calls) == 2
    r = replace(r, samples=[s for s in r.samples if s.phase == "step"])  # a record of other samples: computed again
    assert r.summary()["refill"]["count"] == 0 and len(calls) == 3
