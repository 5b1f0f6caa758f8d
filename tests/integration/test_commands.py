"""The commands as a user runs them, in a subprocess: exit codes, files, the compatibility scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _run(args, **kw):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600, **kw)


def test_run_writes_the_documented_results_file(tmp_path):
    out = tmp_path / "r.json"
    proc = _run(
        [
            sys.executable,
            "-m",
            "policybench",
            "run",
            "--policies",
            "act,noop",
            "--profile",
            "pusht",
            "--set",
            "act.chunk_size=3",
            "--set",
            "act.n_action_steps=3",
            "--refills",
            "2",
            "--warmup",
            "1",
            "--baseline",
            "act",
            "--json",
            str(out),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    assert "INFERENCE SPEED BENCHMARK RESULTS" in proc.stdout and "noop/ACT" in proc.stdout
    data = json.loads(out.read_text())
    assert data["schema_version"] == 2
    for key in ("python", "torch", "lerobot", "device", "device_name", "cpu_model", "threads", "git_commit"):
        assert key in data["environment"]
    act = data["results"][0]
    assert act["policy"] == "act" and act["status"] == "ok" and act["error"] is None
    assert act["variant"] is None and act["point"] == {}  # schema 2: the identity is in fields
    assert act["config"]["chunk_size"] == 3 and act["config"]["n_action_steps"] == 3
    assert [s["i"] for s in act["samples"] if s["phase"] == "refill"] == [0, 3]
    assert set(act["summary"]) == {"all", "step", "refill"}
    assert act["summary"]["refill"]["count"] == 2 and act["cold_start_ms"] > 0


def test_a_failing_policy_is_reported_and_the_others_still_run(tmp_path):
    out = tmp_path / "r.json"
    # TD-MPC handles one camera at most: on so100's two cameras it fails to build.
    proc = _run(
        [sys.executable, "-m", "policybench", "run", "--policies", "tdmpc,noop", "--refills", "1", "--json", str(out)]
    )
    assert proc.returncode == 1
    data = json.loads(out.read_text())
    tdmpc, noop = data["results"]
    assert tdmpc["status"] == "failed"
    assert tdmpc["error"] == (
        "ProfileMismatch: tdmpc takes one camera at most and the profile 'so100' has 2: "
        "add --cameras 1, or use --profile pusht"
    )
    assert noop["status"] == "ok" and noop["summary"]["refill"]["count"] == 1
    assert "Traceback" not in proc.stderr


def test_list_names_every_type_lerobot_registers_with_a_status():
    from policybench.lerobot_adapter.registry import registered_policy_types
    from policybench.lerobot_adapter.version import lerobot_at_least

    proc = _run([sys.executable, "-m", "policybench", "list"])
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("LeRobot ")
    rows = {line.split()[0]: line.split()[1] for line in lines[1:] if line and not line.startswith(" ")}
    assert sorted(rows) == sorted([*registered_policy_types(), "noop"])
    assert set(rows.values()) <= {"yes", "no", "untried"}
    for name in ("act", "smolvla", "diffusion", "vqbet", "tdmpc", "noop"):
        assert rows[name] == "yes"
    assert rows["pi0"] == rows["pi05"] == ("yes" if lerobot_at_least(0, 5) else "no")
    why_not = [line for line in lines if line.strip().startswith("why not:")]
    assert len(why_not) == list(rows.values()).count("no")  # every "no" says why


def test_verify_script_prints_a_mark_per_policy(tmp_path):
    proc = _run(
        [
            sys.executable,
            "verify_benchmark_setup.py",
            "--set",
            "diffusion.num_inference_steps=2",
            "--set",
            "smolvla.num_steps=1",
            "--image-size",
            "96x96",
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("act", "smolvla", "diffusion"):
        assert f"✓ {name}" in proc.stdout


def test_verify_exits_non_zero_when_a_policy_fails():
    proc = _run([sys.executable, "-m", "policybench", "verify", "--policies", "noop,tdmpc"])
    assert proc.returncode == 1
    assert "✓ noop" in proc.stdout and "✗ tdmpc" in proc.stdout


def test_simple_benchmark_script_runs_the_three_policies_on_the_seed_profile(tmp_path):
    out = tmp_path / "r.json"
    proc = _run(
        [
            sys.executable,
            "simple_benchmark.py",
            "--refills",
            "1",
            "--warmup",
            "0",
            "--set",
            "diffusion.num_inference_steps=2",
            "--set",
            "smolvla.num_steps=1",
            "--set",
            "act.n_action_steps=10",
            "--json",
            str(out),
        ]
    )
    assert proc.returncode == 0, proc.stderr
    for header in ("ACT (ms)", "SmolVLA (ms)", "Diffusion (ms)", "ACT/SmolVLA", "Diff/SmolVLA"):
        assert header in proc.stdout
    data = json.loads(out.read_text())
    assert data["run"]["profile"]["name"] == "seed"
    act = data["results"][0]
    assert act["config"]["inputs"] == {
        "observation.image": [3, 224, 224],
        "observation.state": [14],
        "observation.environment_state": [4],
    }
