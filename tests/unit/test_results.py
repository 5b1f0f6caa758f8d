import json
import os
import stat

import pytest
from fakes import failed_result, ok_result, run_results

from policybench.errors import UsageError
from policybench.results import SCHEMA_VERSION, PolicyResult, check_writable, read_results, write_results
from policybench.samples import Sample

STAT_KEYS = {"count", "mean_ms", "median_ms", "min_ms", "max_ms", "p90_ms", "p99_ms", "std_ms"}


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
    assert data["schema_version"] == SCHEMA_VERSION == 1
    ok, failed = data["results"]
    for r in (ok, failed):
        assert {"policy", "status", "error", "config", "params", "samples", "summary", "cold_start_ms"} <= set(r)
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
