"""Your own trained policy: checkpoints saved with LeRobot's own save_pretrained, loaded through
--policy-path, timed through the whole pipeline; broken checkpoints fail alone, in one line."""

from __future__ import annotations

import json

import pytest
import torch

from policybench import policies
from policybench.cli import main
from policybench.config import PROFILES, customize_profile
from policybench.policies.checkpoint import load_checkpoint

pytestmark = pytest.mark.slow
PROFILE = customize_profile(PROFILES["so100"], cameras=1, image_size=(64, 80), state_dim=5, action_dim=3)


@pytest.fixture(scope="module")
def act_checkpoint(tmp_path_factory):
    """A small random ACT saved as lerobot-train saves it: config, weights, processors."""
    from lerobot.policies.factory import make_pre_post_processors

    folder = tmp_path_factory.mktemp("act") / "pretrained_model"
    adapter = policies.build("act", PROFILE, {"chunk_size": 4, "n_action_steps": 4, "dim_model": 64,
                                              "n_encoder_layers": 1, "n_decoder_layers": 1}, "cpu", seed=7)
    adapter.policy.save_pretrained(folder)
    pre, post = make_pre_post_processors(adapter.policy.config, dataset_stats=None)
    pre.save_pretrained(folder)
    post.save_pretrained(folder)
    return folder, {k: v.clone() for k, v in adapter.policy.state_dict().items()}


def test_loaded_weights_are_the_saved_ones_not_reinitialized(act_checkpoint):
    folder, saved = act_checkpoint
    loaded = load_checkpoint(str(folder), {}, "cpu").policy.state_dict()
    assert saved.keys() == loaded.keys()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)
    # A policy built afresh with another seed differs: the comparison above can fail.
    fresh = policies.build("act", PROFILE, {"chunk_size": 4, "n_action_steps": 4, "dim_model": 64,
                                            "n_encoder_layers": 1, "n_decoder_layers": 1}, "cpu", seed=8)
    assert not all(torch.equal(saved[k], v) for k, v in fresh.policy.state_dict().items() if v.is_floating_point())


def test_policy_path_with_pipeline_uses_the_checkpoints_features_and_stages_add_up(act_checkpoint, tmp_path, capsys):
    folder, _ = act_checkpoint
    out = tmp_path / "r.json"
    # The so100 profile (two 480x640 cameras) is ignored for a checkpoint: its config decides.
    code = main(["run", "--policy-path", str(folder), "--pipeline", "--refills", "2", "--warmup", "1", "--json", str(out)])
    assert code == 0
    (r,) = json.loads(out.read_text())["results"]
    assert r["status"] == "ok" and r["source"] == str(folder)
    assert r["config"]["inputs"] == {"observation.images.front": [3, 64, 80], "observation.state": [5]}
    assert r["config"]["pipeline"] == ["prepare", "preprocess", "select_action", "postprocess"]
    assert [s["i"] for s in r["samples"] if s["phase"] == "refill"] == [0, 4]
    for s in r["samples"]:
        assert list(s["stages_ms"]) == ["prepare", "preprocess", "select_action", "postprocess"]
        assert sum(s["stages_ms"].values()) == pytest.approx(s["latency_ms"], rel=1e-9, abs=1e-9)
    stages = r["summary"]["stages"]
    assert stages["select_action"]["refill"]["count"] == 2 and stages["prepare"]["step"]["count"] == 6
    mem = r["memory"]
    assert mem["weight_bytes"] == sum(v.numel() * v.element_size() for v in load_checkpoint(str(folder), {}, "cpu").policy.state_dict().values())
    assert mem["peak_rss_mb"] >= mem["rss_after_build_mb"] > 0
    assert "select_action refill median" in capsys.readouterr().out


def _broken(tmp_path, act_checkpoint):
    folder, _ = act_checkpoint
    missing = tmp_path / "does-not-exist"
    no_config = tmp_path / "no_config"
    no_config.mkdir()
    unknown = tmp_path / "unknown"
    unknown.mkdir()
    (unknown / "config.json").write_text(json.dumps({"type": "teleporter"}))
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    for name in ("config.json", "policy_preprocessor.json", "policy_postprocessor.json"):
        (truncated / name).write_bytes((folder / name).read_bytes())
    weights = (folder / "model.safetensors").read_bytes()
    (truncated / "model.safetensors").write_bytes(weights[: len(weights) // 3])
    return [
        (missing, "no such folder"),
        (no_config, "no config.json"),
        (unknown, "policy type 'teleporter' is not registered by the installed LeRobot"),
        (truncated, "cannot load its weights"),
        ("lerobot/smolvla_base", "if it is a hub id, add --hub"),  # offline: a hub id is not fetched
    ]


def test_broken_checkpoints_fail_alone_in_one_line(act_checkpoint, tmp_path, capsys):
    broken = _broken(tmp_path, act_checkpoint)
    out = tmp_path / "r.json"
    args = ["run", "--policies", "noop", "--refills", "1", "--json", str(out)]
    for path, _ in broken:
        args += ["--policy-path", str(path)]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    results = json.loads(out.read_text())["results"]
    assert results[0]["policy"] == "noop" and results[0]["status"] == "ok"
    for r, (path, fragment) in zip(results[1:], broken):
        assert r["status"] == "failed" and r["source"] == str(path)
        assert fragment in r["error"] and len(r["error"].splitlines()) == 1
        assert any(fragment in line for line in captured.err.splitlines())
