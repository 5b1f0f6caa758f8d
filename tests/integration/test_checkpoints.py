"""Your own trained policy: checkpoints saved with LeRobot's own save_pretrained, loaded through
--policy-path, timed through the whole pipeline; broken checkpoints fail alone, in one line.

Checkpoints of other LeRobot releases are made from these by editing what those releases write
differently: config keys, backbone weights named in the config, processors saved on "cuda",
statistics inside the weights (before 0.4), a VLM named by its hub id (SmolVLA)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

from policybench import policies
from policybench.cli import main
from policybench.lerobot_adapter import registry
from policybench.observations import synthetic_observation
from policybench.policies.checkpoint import (
    CheckpointError,
    checkpoint_processors,
    load_checkpoint,
    processor_overrides,
)
from policybench.policies.offline_vlm import SMOLVLM2_500M_HUB_ID, smolvlm2_500m_dir
from policybench.profiles import PROFILES, Camera, customize_profile

pytestmark = pytest.mark.slow
PROFILE = customize_profile(PROFILES["so100"], cameras=1, image_size=(64, 80), state_dim=5, action_dim=3)
SMALL_ACT = {"chunk_size": 4, "n_action_steps": 4, "dim_model": 64, "n_encoder_layers": 1, "n_decoder_layers": 1}


def _save(adapter, folder):
    """As lerobot-train saves a policy: config, weights, processors. Returns the saved tensors."""
    from lerobot.policies.factory import make_pre_post_processors

    adapter.policy.save_pretrained(folder)
    pre, post = make_pre_post_processors(adapter.policy.config, dataset_stats=None)
    pre.save_pretrained(folder)
    post.save_pretrained(folder)
    return {k: v.clone() for k, v in adapter.policy.state_dict().items()}


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=4))


def _same_weights(saved, loaded):
    return saved.keys() == loaded.keys() and all(
        saved[k].dtype == loaded[k].dtype and torch.equal(saved[k], loaded[k]) for k in saved
    )


def _run(tmp_path, *args):
    out = tmp_path / "r.json"
    code = main(["run", *args, "--device", "cpu", "--refills", "1", "--warmup", "0", "--json", str(out)])
    (r,) = json.loads(out.read_text())["results"]
    return code, r


@pytest.fixture(scope="module")
def act_checkpoint(tmp_path_factory):
    """A small random ACT saved as lerobot-train saves it: config, weights, processors."""
    folder = tmp_path_factory.mktemp("act") / "pretrained_model"
    adapter = policies.build("act", PROFILE, SMALL_ACT, "cpu", seed=7)
    return folder, _save(adapter, folder)


@pytest.fixture
def act_copy(act_checkpoint, tmp_path):
    """A copy of the ACT checkpoint, to edit as another release would have written it."""
    folder, saved = act_checkpoint
    copy = tmp_path / "pretrained_model"
    shutil.copytree(folder, copy)
    return copy, saved


def test_loaded_weights_are_the_saved_ones_not_reinitialized(act_checkpoint):
    folder, saved = act_checkpoint
    loaded = load_checkpoint(str(folder), {}, "cpu")
    assert _same_weights(saved, loaded.policy.state_dict())
    assert loaded.notes == [] and "checkpoint_notes" not in loaded.describe()
    # A policy built afresh with another seed differs: the comparison above can fail.
    fresh = policies.build("act", PROFILE, SMALL_ACT, "cpu", seed=8)
    assert not all(torch.equal(saved[k], v) for k, v in fresh.policy.state_dict().items() if v.is_floating_point())


def test_policy_path_with_pipeline_uses_the_checkpoints_features_and_stages_add_up(act_checkpoint, tmp_path, capsys):
    folder, _ = act_checkpoint
    out = tmp_path / "r.json"
    # The so100 profile (two 480x640 cameras) is ignored for a checkpoint: its config decides.
    code = main(
        ["run", "--policy-path", str(folder), "--pipeline", "--refills", "2", "--warmup", "1", "--json", str(out)]
    )
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
    assert mem["weight_bytes"] == sum(
        v.numel() * v.element_size() for v in load_checkpoint(str(folder), {}, "cpu").policy.state_dict().values()
    )
    assert mem["peak_rss_mb"] >= mem["rss_after_build_mb"] > 0
    assert "select_action refill median" in capsys.readouterr().out


def test_variants_of_a_checkpoint_run_inside_its_pipeline(act_checkpoint, tmp_path):
    """--pipeline with --variant: the variant changes the policy, LeRobot's processors stay around
    it, so its actions are compared with eager's after the same postprocessor."""
    pytest.importorskip("onnxruntime")
    folder, _ = act_checkpoint
    out = tmp_path / "r.json"
    code = main(
        [
            "run",
            "--policy-path",
            str(folder),
            "--pipeline",
            "--variant",
            "noeval,onnxruntime",
            "--refills",
            "2",
            "--warmup",
            "1",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    results = {r["variant"]: r for r in json.loads(out.read_text())["results"]}
    for name in ("noeval", "onnxruntime"):
        r = results[name]
        assert r["status"] == "ok", r.get("error")
        assert r["equivalence"]["equivalent"] and r["config"]["pipeline"] == results["eager"]["config"]["pipeline"]
        assert {s["phase"] for s in r["samples"]} == {"step", "refill"}
        assert all(
            list(s["stages_ms"]) == ["prepare", "preprocess", "select_action", "postprocess"] for s in r["samples"]
        )
    assert results["onnxruntime"]["export"]["calls_per_refill"] == 1


def test_config_keys_the_installed_lerobot_does_not_know_are_ignored_and_named(act_copy, tmp_path):
    # pretrained_revision is written by LeRobot 0.6 and refused by 0.4.4's parser; the other
    # key stands for one that an older or newer release wrote and this one does not know.
    folder, saved = act_copy
    _edit(folder / "config.json", lambda c: c.update(pretrained_revision="main", key_of_another_release=1))
    known = {f.name for f in dataclasses.fields(registry.config_class("act"))}
    ignored = ["pretrained_revision", "key_of_another_release"]
    ignored = [k for k in ignored if k not in known]
    assert "key_of_another_release" in ignored
    loaded = load_checkpoint(str(folder), {}, "cpu")
    assert _same_weights(saved, loaded.policy.state_dict())
    (note,) = loaded.notes
    assert note.endswith("does not know: " + ", ".join(ignored))
    before = set(Path(tempfile.gettempdir()).glob("policybench-config-*"))
    code, r = _run(tmp_path, "--policy-path", str(folder))
    assert code == 0 and r["config"]["checkpoint_notes"] == [note]
    assert set(Path(tempfile.gettempdir()).glob("policybench-config-*")) == before  # the cleaned copy is gone


def _refuse_downloads(monkeypatch):
    """torchvision fetches ImageNet weights through this function: fail loudly if it is called
    (a cached copy on the machine would otherwise hide a download attempt)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr("torchvision.models._api.load_state_dict_from_url", refuse)


# As LeRobot 0.6 saves Diffusion and VQ-BeT by default: BatchNorm (no group norm) and ImageNet weights.
@pytest.mark.parametrize(
    "name, settings, profile",
    [
        ("act", SMALL_ACT, PROFILE),
        (
            "diffusion",
            {
                "horizon": 8,
                "n_action_steps": 4,
                "down_dims": (16, 32),
                "num_inference_steps": 2,
                "use_group_norm": False,
            },
            PROFILES["pusht"],
        ),
        ("vqbet", {"gpt_n_layer": 1, "use_group_norm": False}, PROFILES["pusht"]),
    ],
)
def test_a_backbone_named_with_imagenet_weights_is_built_without_them_and_gets_the_saved_ones(
    name, settings, profile, tmp_path, monkeypatch
):
    folder = tmp_path / name
    saved = _save(policies.build(name, profile, settings, "cpu", seed=5), folder)
    _edit(folder / "config.json", lambda c: c.update(pretrained_backbone_weights="ResNet18_Weights.IMAGENET1K_V1"))
    _refuse_downloads(monkeypatch)
    loaded = load_checkpoint(str(folder), {}, "cpu")
    assert _same_weights(saved, loaded.policy.state_dict())
    assert loaded.policy.config.pretrained_backbone_weights is None
    assert any("without downloading ResNet18_Weights.IMAGENET1K_V1" in n for n in loaded.notes)


def test_processors_saved_on_cuda_run_on_the_cpu(act_copy, tmp_path):
    folder, _ = act_copy

    def on_cuda(processor):
        for step in processor["steps"]:
            if "device" in step.get("config", {}):
                step["config"]["device"] = "cuda"

    for name in ("policy_preprocessor.json", "policy_postprocessor.json"):
        _edit(folder / name, on_cuda)
    _edit(folder / "config.json", lambda c: c.update(device="cuda"))
    assert "cuda" in (folder / "policy_preprocessor.json").read_text()
    code, r = _run(tmp_path, "--policy-path", str(folder), "--pipeline")
    assert code == 0 and r["status"] == "ok", r.get("error")
    pre, post = checkpoint_processors(load_checkpoint(str(folder), {}, "cpu").policy.config, str(folder), "cpu")
    assert [s.device for s in pre.steps + post.steps if hasattr(s, "device") and "Device" in type(s).__name__] == [
        "cpu",
        "cpu",
    ]


def test_act_without_camera_reads_its_environment_state(tmp_path):
    profile = dataclasses.replace(customize_profile(PROFILE, cameras=0), env_state_dim=7)
    folder = tmp_path / "act_env"
    saved = _save(policies.build("act", profile, SMALL_ACT, "cpu", seed=2), folder)
    loaded = load_checkpoint(str(folder), {}, "cpu")
    assert _same_weights(saved, loaded.policy.state_dict())
    code, r = _run(tmp_path, "--policy-path", str(folder), "--pipeline")
    assert code == 0 and r["status"] == "ok", r.get("error")
    assert r["config"]["inputs"] == {"observation.state": [5], "observation.environment_state": [7]}


def test_cameras_of_different_resolutions_in_one_policy(tmp_path):
    cams = (Camera("observation.images.front", 64, 80), Camera("observation.images.wrist", 48, 32))
    folder = tmp_path / "act_two_sizes"
    saved = _save(policies.build("act", dataclasses.replace(PROFILE, cameras=cams), SMALL_ACT, "cpu", seed=4), folder)
    assert _same_weights(saved, load_checkpoint(str(folder), {}, "cpu").policy.state_dict())
    code, r = _run(tmp_path, "--policy-path", str(folder), "--pipeline")
    assert code == 0 and r["status"] == "ok", r.get("error")
    assert r["config"]["inputs"] == {
        "observation.images.front": [3, 64, 80],
        "observation.images.wrist": [3, 48, 32],
        "observation.state": [5],
    }


def test_checkpoint_from_before_lerobot_0_4_normalizes_with_the_statistics_in_its_weights(act_copy, tmp_path):
    # LeRobot before 0.4 kept the normalization statistics inside the policy and wrote no processor files.
    from safetensors.torch import load_file, save_file

    folder, saved = act_copy
    stats = {
        "normalize_inputs.buffer_observation_state.mean": torch.arange(5.0),
        "normalize_inputs.buffer_observation_state.std": torch.full((5,), 2.0),
        "normalize_inputs.buffer_observation_images_front.mean": torch.full((3, 1, 1), 0.5),
        "normalize_inputs.buffer_observation_images_front.std": torch.full((3, 1, 1), 0.25),
        "normalize_targets.buffer_action.mean": torch.ones(3),
        "normalize_targets.buffer_action.std": torch.ones(3),
        "unnormalize_outputs.buffer_action.mean": torch.ones(3),
        "unnormalize_outputs.buffer_action.std": torch.ones(3),
    }
    save_file(
        {**load_file(folder / "model.safetensors"), **stats}, folder / "model.safetensors", metadata={"format": "pt"}
    )
    for name in ("policy_preprocessor.json", "policy_postprocessor.json"):
        (folder / name).unlink()
    loaded = load_checkpoint(str(folder), {}, "cpu")
    assert _same_weights(saved, loaded.policy.state_dict())
    assert any("8 normalization statistics" in n for n in loaded.notes)
    pre, _ = checkpoint_processors(loaded.policy.config, str(folder), "cpu")
    (normalizer,) = [s for s in pre.steps if type(s).__name__ == "NormalizerProcessorStep"]
    assert torch.equal(torch.as_tensor(normalizer.stats["observation.state"]["mean"]), torch.arange(5.0))
    code, r = _run(tmp_path, "--policy-path", str(folder), "--pipeline")
    assert code == 0 and r["status"] == "ok", r.get("error")


def _broken(tmp_path, act_checkpoint):
    from safetensors.torch import load_file, save_file

    folder, _ = act_checkpoint

    def copy(name, config=None, weights=None):
        target = tmp_path / name
        shutil.copytree(folder, target)
        if config:
            _edit(target / "config.json", config)
        if weights:
            tensors = load_file(target / "model.safetensors")
            weights(tensors)
            save_file(tensors, target / "model.safetensors", metadata={"format": "pt"})
        return target

    missing = tmp_path / "does-not-exist"
    no_config = tmp_path / "no_config"
    no_config.mkdir()
    unknown = tmp_path / "unknown"
    unknown.mkdir()
    (unknown / "config.json").write_text(json.dumps({"type": "teleporter"}))
    truncated = copy("truncated")
    weights = (folder / "model.safetensors").read_bytes()
    (truncated / "model.safetensors").write_bytes(weights[: len(weights) // 3])
    return [
        (missing, "no such folder"),
        (no_config, "no config.json"),
        (unknown, "policy type 'teleporter' is not registered by the installed LeRobot"),
        (truncated, "cannot load its weights"),
        ("lerobot/smolvla_base", "if it is a hub id, add --hub"),  # offline: a hub id is not fetched
        (copy("no_type", config=lambda c: c.pop("type")), "no 'type' field"),
        (
            copy("bad_mode", config=lambda c: c["normalization_mapping"].update(STATE="TELEPATHY")),
            "cannot read its config",
        ),
        (copy("lacks_a_tensor", weights=lambda t: t.pop("model.action_head.weight")), "lacks 1 of the"),
        (
            copy("extra_tensor", weights=lambda t: t.update({"model.new_head.weight": torch.zeros(2)})),
            "has no place for (first: model.new_head.weight)",
        ),
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
        # a line of the log, folded at 100 columns (continuations indented): joined back
        assert any(fragment in line for line in re.sub(r"\n +", " ", captured.err).splitlines())


# SmolVLA: its VLM keeps the SmolVLM2-500M architecture (vision tower included, about 200 M
# parameters in all) but only one text layer and one expert layer, images resized to 64x64.
SMALL_SMOLVLA = {
    "num_vlm_layers": 1,
    "num_expert_layers": 1,
    "chunk_size": 4,
    "n_action_steps": 4,
    "num_steps": 1,
    "empty_cameras": 1,
    "resize_imgs_with_padding": (64, 64),
}
SMOLVLA_PROFILE = customize_profile(PROFILES["so100"], cameras=1, image_size=(32, 48), state_dim=5, action_dim=3)


@pytest.fixture(scope="module")
def smolvla_checkpoint(tmp_path_factory):
    """A SmolVLA as fine-tuning from smolvla_base leaves it: the VLM named by its hub id and
    loaded from the hub in bfloat16 (load_vlm_weights true), processors saved on "cuda", an
    empty camera beside the real one; and real-time chunking switched on in its config."""
    folder = tmp_path_factory.mktemp("smolvla") / "pretrained_model"
    adapter = policies.build("smolvla", SMOLVLA_PROFILE, SMALL_SMOLVLA, "cpu", seed=3)
    adapter.policy.model.vlm_with_expert.vlm.to(torch.bfloat16)
    saved = _save(adapter, folder)
    del adapter
    _edit(
        folder / "config.json",
        lambda c: c.update(
            vlm_model_name=SMOLVLM2_500M_HUB_ID,
            load_vlm_weights=True,
            device="cuda",
            rtc_config={"enabled": True, "setting_of_another_release": 1},
        ),
    )

    def from_the_hub_on_cuda(processor):
        for step in processor["steps"]:
            cfg = step.get("config", {})
            if "tokenizer_name" in cfg:
                cfg["tokenizer_name"] = SMOLVLM2_500M_HUB_ID
            if "device" in cfg:
                cfg["device"] = "cuda"

    for name in ("policy_preprocessor.json", "policy_postprocessor.json"):
        _edit(folder / name, from_the_hub_on_cuda)
    return folder, saved


def test_smolvla_checkpoint_loads_offline_with_its_weights_in_the_dtypes_saved(smolvla_checkpoint):
    folder, saved = smolvla_checkpoint
    adapter = load_checkpoint(str(folder), {}, "cpu")
    assert _same_weights(saved, adapter.policy.state_dict())
    dtypes = {k: v.dtype for k, v in adapter.policy.state_dict().items()}
    assert {d for k, d in dtypes.items() if ".vlm." in k} == {torch.bfloat16}
    assert torch.float32 in {d for k, d in dtypes.items() if ".vlm." not in k}
    assert adapter.policy.config.vlm_model_name == str(smolvlm2_500m_dir())
    assert any(
        n.startswith(f"VLM {SMOLVLM2_500M_HUB_ID}: architecture and tokenizer written locally") for n in adapter.notes
    )
    assert any(n.endswith("does not know: rtc_config.setting_of_another_release") for n in adapter.notes)
    assert adapter.policy.config.rtc_config.enabled is False  # select_action asserts it is off
    # The empty camera is the policy's own padding, not an input the robot delivers.
    assert "observation.images.empty_camera_0" in adapter.policy.config.image_features
    assert [s.key for s in adapter.input_specs()] == ["observation.images.front", "observation.state"]
    obs = synthetic_observation(adapter.input_specs(), "cpu", extra=adapter.extra_inputs("pick up the cube"))
    adapter.reset()
    assert tuple(adapter.select_action(obs).shape) == (1, 3)
    assert adapter.queued_actions() == 3


def test_smolvla_checkpoint_with_pipeline_runs_offline_on_the_cpu(smolvla_checkpoint, tmp_path):
    folder, _ = smolvla_checkpoint
    code, r = _run(tmp_path, "--policy-path", str(folder), "--pipeline")
    assert code == 0 and r["status"] == "ok", r.get("error")
    assert r["config"]["inputs"] == {"observation.images.front": [3, 32, 48], "observation.state": [5]}
    assert [s["i"] for s in r["samples"] if s["phase"] == "refill"] == [3]


def test_smolvla_checkpoint_naming_another_vlm_needs_the_hub(smolvla_checkpoint, tmp_path):
    folder, _ = smolvla_checkpoint
    other = tmp_path / "other_vlm"
    other.mkdir()
    for name in ("config.json", "policy_preprocessor.json", "policy_postprocessor.json"):
        shutil.copy(folder / name, other / name)
    # the same weights, by a hard link: a symbolic link out of the folder is refused (docs/security.md)
    os.link(folder / "model.safetensors", other / "model.safetensors")
    _edit(other / "config.json", lambda c: c.update(vlm_model_name="HuggingFaceTB/SmolVLM2-2.2B-Instruct"))
    with pytest.raises(
        CheckpointError,
        match=r"its VLM HuggingFaceTB/SmolVLM2-2.2B-Instruct \(vlm_model_name\) "
        r"is read from the hub while the policy builds: add --hub$",
    ):
        load_checkpoint(str(other), {}, "cpu")
    _edit(
        other / "policy_preprocessor.json",
        lambda p: [
            s["config"].update(tokenizer_name="HuggingFaceTB/SmolVLM2-2.2B-Instruct")
            for s in p["steps"]
            if "tokenizer_name" in s.get("config", {})
        ],
    )
    with pytest.raises(
        CheckpointError, match="tokenizer HuggingFaceTB/SmolVLM2-2.2B-Instruct is read from the hub: add --hub$"
    ):
        processor_overrides(str(other), other / "policy_preprocessor.json", "cpu")
    # The saved processor of the checkpoint itself: its tokenizer becomes the local stand-in.
    overrides = processor_overrides(str(folder), folder / "policy_preprocessor.json", "cpu")
    assert overrides["tokenizer_processor"] == {"tokenizer_name": str(smolvlm2_500m_dir())}
    assert overrides["device_processor"] == {"device": "cpu"}


def test_a_checkpoint_folder_named_like_a_policy_is_the_checkpoint(act_checkpoint, tmp_path, monkeypatch):
    """--policy-path act, with a folder act here: the checkpoint (chunk 4), never built-in ACT (chunk 100)."""
    folder, _ = act_checkpoint
    shutil.copytree(folder, tmp_path / "act")
    monkeypatch.chdir(tmp_path)
    code, r = _run(tmp_path, "--policy-path", "act", "--in-process")
    assert code == 0 and r["policy"] == "./act" and r["source"] == "./act"
    assert r["config"]["chunk_size"] == 4
    assert main(["run", "--policy", "act"]) == 2  # no abbreviation of --policy-path or --policies


def test_every_command_takes_a_checkpoint_and_set_reaches_it_by_its_type(act_checkpoint, tmp_path, capsys):
    folder, _ = act_checkpoint
    assert main(["verify", "--policy-path", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"✓ {folder}: action (1, 3)" in out and "smolvla" not in out  # the checkpoint only, not the defaults
    code, r = _run(tmp_path, "--policy.path", str(folder), "--set", "act.n_action_steps=2", "--in-process")
    assert code == 0 and r["config"]["n_action_steps"] == 2 and r["config"]["chunk_size"] == 4
    live = tmp_path / "live.json"
    assert (
        main(
            [
                "realtime",
                "--policy-path",
                str(folder),
                "--hz",
                "30",
                "--ticks",
                "8",
                "--mode",
                "sync",
                "--json",
                str(live),
            ]
        )
        == 0
    )
    (entry,) = json.loads(live.read_text())["realtime"]
    assert entry["policy"] == str(folder) and entry["mode"] == "sync"


def test_sweep_takes_a_checkpoint_along_a_set_axis_named_by_its_type(act_checkpoint, tmp_path):
    folder, _ = act_checkpoint
    out = tmp_path / "s.json"
    assert (
        main(
            [
                "sweep",
                "--policy-path",
                str(folder),
                "--set",
                "act.n_action_steps=2,4",
                "--refills",
                "1",
                "--warmup",
                "0",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    results = json.loads(out.read_text())["results"]
    assert [(r["status"], r["config"]["n_action_steps"]) for r in results] == [("ok", 2), ("ok", 4)]
    assert all(r["source"] == str(folder) for r in results)


def test_realtime_remote_sends_a_checkpoints_own_inputs(act_checkpoint, tmp_path):
    """Its camera (64x80) and state (5), not the profile's, reach LeRobot's PolicyServer."""
    folder, _ = act_checkpoint
    out = tmp_path / "rt.json"
    assert (
        main(
            [
                "realtime",
                "--policy-path",
                str(folder),
                "--remote",
                "--remote-calls",
                "2",
                "--ticks",
                "8",
                "--mode",
                "sync",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    remote = next(e for e in json.loads(out.read_text())["realtime"] if e["mode"] == "remote")
    assert remote["status"] == "ok" and remote["summary"]["calls"] == 2
