"""cli.main called in-process: a user's mistake is exit code 2 and one line on stderr, no traceback."""

import json

import pytest
from fakes import assert_one_error_line
import torch

from policybench.cli import main
from policybench.policies import known_names

NO_CUDA = not torch.cuda.is_available()


# {tmp} stands for the test's tmp_path
BAD_INPUT = {
    "unknown policy": (
        ["run", "--policies", "noop,nope"],
        "unknown policy 'nope'; known policies: " + ", ".join(known_names()),
    ),
    "malformed --set": (
        ["run", "--policies", "noop", "--set", "noop-chunk"],
        "--set must look like POLICY.FIELD=VALUE",
    ),
    "malformed --image-size": (
        ["run", "--policies", "noop", "--image-size", "480"],
        "--image-size must be HEIGHTxWIDTH",
    ),
    "refills 0": (["run", "--policies", "noop", "--refills", "0"], "--refills must be positive, got 0"),
    "refills not a number": (["run", "--policies", "noop", "--refills", "ten"], "expected an integer, got 'ten'"),
    "max-seconds -1": (["run", "--policies", "noop", "--max-seconds", "-1"], "--max-seconds must be positive, got -1"),
    "processes 0": (["run", "--policies", "noop", "--processes", "0"], "--processes must be a positive count, got 0"),
    "processes not a number": (["run", "--policies", "noop", "--processes", "two"], "expected an integer, got 'two'"),
    "processes in-process": (
        ["run", "--policies", "noop", "--processes", "2", "--in-process"],
        "--processes 2 measures each policy in fresh child processes; it cannot run in this process: drop --in-process",
    ),
    "precision 2": (
        ["run", "--policies", "noop", "--refills", "auto", "--precision", "2"],
        "--precision must be a share from above 0 to below 1 (0.02 is 2 %), got 2",
    ),
    "sweep processes 0": (
        ["sweep", "--policies", "noop", "--set", "noop.chunk_size=2,4", "--processes", "0"],
        "--processes must be a positive count, got 0",
    ),
    "sweep precision -1": (
        ["sweep", "--policies", "noop", "--set", "noop.chunk_size=2,4", "--precision", "-1"],
        "--precision must be a share from above 0 to below 1",
    ),
    "unknown profile": (
        ["run", "--policies", "noop", "--profile", "mars"],
        "unknown profile 'mars'; known profiles: seed, so100, aloha, pusht",
    ),
    "json in missing folder": (["run", "--policies", "noop", "--json", "{tmp}/missing/r.json"], "does not exist"),
    "json is a folder": (["run", "--policies", "noop", "--json", "{tmp}"], "is a folder"),
    "unknown noop field": (
        ["run", "--policies", "noop", "--set", "noop.bogus=1"],
        "unknown field 'bogus' for noop; valid fields: chunk_size",
    ),
    "set for a policy not run": (
        ["run", "--policies", "noop", "--set", "act.chunk_size=3"],
        "'act' is not among --policies",
    ),
    "unknown option": (["run", "--policies", "noop", "--bogus"], "unrecognized arguments: --bogus"),
    "unknown command": (["bench"], "invalid choice: 'bench'"),
    "verify unknown policy": (["verify", "--policies", "nope"], "unknown policy 'nope'"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input(case, tmp_path, capsys):
    argv, expected = BAD_INPUT[case]
    assert_one_error_line(capsys, main([a.replace("{tmp}", str(tmp_path)) for a in argv]), expected)


def test_json_folder_is_not_created(tmp_path, capsys):
    main(["run", "--policies", "noop", "--json", str(tmp_path / "missing" / "r.json")])
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(not NO_CUDA, reason="CUDA is available here")
def test_cuda_without_a_gpu(capsys):
    line = assert_one_error_line(
        capsys, main(["run", "--policies", "noop", "--device", "cuda"]), "device 'cuda' is not available"
    )
    assert "--device cpu" in line


def test_unknown_lerobot_field_names_the_valid_ones(capsys):
    line = assert_one_error_line(
        capsys, main(["run", "--policies", "act", "--set", "act.bogus=1"]), "unknown field 'bogus' for act"
    )
    assert "chunk_size" in line and "n_action_steps" in line


def run_noop(tmp_path, capsys, *extra):
    path = tmp_path / "r.json"
    code = main(["run", "--policies", "noop", "--device", "cpu", "--refills", "2", "--json", str(path), *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err, json.loads(path.read_text())


def test_run_noop(tmp_path, capsys):
    out, err, data = run_noop(tmp_path, capsys)
    assert "INFERENCE SPEED BENCHMARK RESULTS" in out and "noop (ms)" in out
    assert "Step/Refill Count     98/2" in out
    assert "Traceback" not in err and f"results written to {tmp_path / 'r.json'}" in err
    (r,) = data["results"]
    assert r["policy"] == "noop" and r["status"] == "ok" and r["complete"] is True
    assert len(r["samples"]) == 100
    assert [s["i"] for s in r["samples"] if s["phase"] == "refill"] == [0, 50]
    assert r["summary"]["refill"]["count"] == 2
    assert r["config"]["chunk_size"] == 50
    assert data["run"]["refills"] == 2 and data["run"]["policies"] == ["noop"]


def test_run_noop_with_chunk_size_override(tmp_path, capsys):
    _, _, data = run_noop(tmp_path, capsys, "--set", "noop.chunk_size=7", "--warmup", "0")
    (r,) = data["results"]
    # warmup 0: the 6 actions left by the cold call, then 2 full cycles of 7
    assert [s["i"] for s in r["samples"] if s["phase"] == "refill"] == [6, 13]
    assert len(r["samples"]) == 6 + 2 * 7
    assert r["config"]["chunk_size"] == 7
    assert data["run"]["overrides"] == ["noop.chunk_size=7"]


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: policybench" in capsys.readouterr().out


def test_processes_keep_each_process_samples_in_the_results_file(tmp_path, capsys):
    path = tmp_path / "r.json"
    code = main(
        [
            "run",
            "--policies",
            "noop",
            "--device",
            "cpu",
            "--refills",
            "2",
            "--warmup",
            "0",
            "--processes",
            "2",
            "--json",
            str(path),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    data = json.loads(path.read_text())
    assert data["run"]["processes"] == 2
    [result] = data["results"]
    assert sorted({s["p"] for s in result["samples"]}) == [0, 1]
    assert len(result["processes"]) == 2


def test_refills_auto_measures_until_precise(tmp_path, capsys):
    path = tmp_path / "r.json"
    code = main(
        [
            "run",
            "--policies",
            "noop",
            "--device",
            "cpu",
            "--refills",
            "auto",
            "--precision",
            "0.5",
            "--max-seconds",
            "5",
            "--json",
            str(path),
            "--quiet",
            "--in-process",
        ]
    )
    assert code == 0, capsys.readouterr().err
    data = json.loads(path.read_text())
    assert data["run"]["refills"] == "auto" and data["run"]["precision"] == 0.5
    [result] = data["results"]
    assert sum(s["phase"] == "refill" for s in result["samples"]) >= 6
    assert isinstance(result["precision"], float)
