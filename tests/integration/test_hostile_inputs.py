"""Hostile inputs end to end, as a user meets them: a downloaded checkpoint that would run code
through LeRobot, a json.py in the folder where policybench runs; nothing runs, nothing is left."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from policybench import policies
from policybench.cli import main
from policybench.policies.checkpoint import load_checkpoint
from policybench.profiles import PROFILES, customize_profile

pytestmark = pytest.mark.slow
PROFILE = customize_profile(PROFILES["so100"], cameras=1, image_size=(64, 80), state_dim=5, action_dim=3)
SMALL_ACT = {"chunk_size": 4, "n_action_steps": 4, "dim_model": 64, "n_encoder_layers": 1, "n_decoder_layers": 1}


@pytest.fixture(scope="module")
def act_folder(tmp_path_factory):
    from lerobot.policies.factory import make_pre_post_processors

    folder = tmp_path_factory.mktemp("act") / "pretrained_model"
    adapter = policies.build("act", PROFILE, SMALL_ACT, "cpu", seed=7)
    adapter.policy.save_pretrained(folder)
    pre, post = make_pre_post_processors(adapter.policy.config, dataset_stats=None)
    pre.save_pretrained(folder)
    post.save_pretrained(folder)
    return folder


def _run(tmp_path, *args) -> tuple[int, dict]:
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "r.json"  # a new file each run: a failed run keeps an old one
    code = main(["run", *args, "--device", "cpu", "--refills", "1", "--warmup", "0", "--json", str(out)])
    (result,) = json.loads(out.read_text())["results"]
    return code, result


def test_a_processor_step_naming_popen_runs_nothing(act_folder, tmp_path):
    crafted = shutil.copytree(act_folder, tmp_path / "crafted")
    marker = tmp_path / "ran"
    pre = json.loads((crafted / "policy_preprocessor.json").read_text())
    pre["steps"].insert(0, {"class": "subprocess.Popen", "config": {"args": ["sh", "-c", f"touch {marker}"]}})
    (crafted / "policy_preprocessor.json").write_text(json.dumps(pre))
    code, result = _run(tmp_path, "--policy-path", str(crafted), "--pipeline", "--in-process")
    assert code == 1 and result["status"] == "failed"
    assert "refused: policy_preprocessor.json: step 0 ('subprocess.Popen')" in result["error"]
    assert not marker.exists()


def test_a_tokenizer_with_code_named_by_a_pi0_fast_config_runs_nothing(act_folder, tmp_path, monkeypatch):
    """LeRobot loads pi0_fast's action tokenizer with trust_remote_code=True."""
    marker = tmp_path / "ran"
    tok = tmp_path / "tok"
    tok.mkdir()
    (tok / "tokenizer_config.json").write_text(json.dumps({"auto_map": {"AutoProcessor": "evil.Evil"}}))
    (tok / "evil.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    crafted = shutil.copytree(act_folder, tmp_path / "crafted")
    (crafted / "config.json").write_text(json.dumps({"type": "pi0_fast", "action_tokenizer_name": "tok"}))
    monkeypatch.chdir(tmp_path)
    code, result = _run(tmp_path, "--policy-path", str(crafted), "--in-process")
    assert code == 1 and "refused" in result["error"] and "trust_remote_code" in result["error"]
    assert not marker.exists()
    # even with --trust-remote-code: a tokenizer folder outside the checkpoint is not loaded
    code, result = _run(tmp_path, "--policy-path", str(crafted), "--in-process", "--trust-remote-code")
    assert code == 1 and "outside the checkpoint folder" in result["error"]
    assert not marker.exists()


def test_loading_a_checkpoint_leaves_nothing_in_the_system_temp_folder(act_folder, tmp_path, monkeypatch):
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    load_checkpoint(str(act_folder), {}, "cpu")
    assert list(system_temp.iterdir()) == []


def test_a_json_py_in_the_working_folder_is_not_imported_by_the_measuring_child(tmp_path):
    marker = tmp_path / "imported"
    (tmp_path / "json.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit('hostile json.py')\n")
    policybench = Path(sys.executable).with_name("policybench")
    out = subprocess.run(
        [str(policybench), "run", "--policies", "noop", "--refills", "1", "--warmup", "0", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert out.returncode == 0, out.stderr
    assert "Noop" in out.stdout or "noop" in out.stdout
    assert not marker.exists()
