"""A downloaded checkpoint is data: every way a crafted folder could make LeRobot run code or
read outside the folder is refused from its JSON alone (no LeRobot, no torch here)."""

from __future__ import annotations

import json
import os

import pytest

from policybench.checkpoint_guard import (
    TRUST_ENV,
    CheckpointRefused,
    check_checkpoint,
    check_remote_code_config,
    remote_code,
)

STEP = {
    "registry_name": "normalizer_processor",
    "config": {"eps": 1e-8},
    "state_file": "policy_preprocessor_step_0_normalizer_processor.safetensors",
}


def checkpoint(folder, config=None, steps=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config or {"type": "act", "chunk_size": 4}))
    (folder / "model.safetensors").write_bytes(b"")
    (folder / STEP["state_file"]).write_bytes(b"")
    (folder / "policy_preprocessor.json").write_text(json.dumps({"name": "pre", "steps": steps or [STEP]}))
    return folder


def refused(folder, fields=(), trusted=False) -> str:
    with pytest.raises(CheckpointRefused) as info:
        check_checkpoint(folder, fields, trusted)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_checkpoint_as_lerobot_saves_it_passes(tmp_path):
    check_checkpoint(checkpoint(tmp_path / "ckpt"), (), trusted=False)


def test_a_step_named_by_a_class_path_is_refused(tmp_path):
    popen = {"class": "subprocess.Popen", "config": {"args": ["sh", "-c", "id > FILE"]}}
    message = refused(checkpoint(tmp_path / "ckpt", steps=[STEP, popen]))
    assert message.startswith("policy_preprocessor.json: step 1 ('subprocess.Popen') is not named by LeRobot's")


def test_a_registered_step_that_also_names_a_class_is_loaded_by_its_registry_name(tmp_path):
    check_checkpoint(checkpoint(tmp_path / "ckpt", steps=[{**STEP, "class": "subprocess.Popen"}]), (), False)


@pytest.mark.parametrize("steps", [{"a": 1}, ["not a step"]])
def test_steps_that_are_not_step_objects_are_refused(tmp_path, steps):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / "policy_preprocessor.json").write_text(json.dumps({"steps": steps}))
    assert "policy_preprocessor.json" in refused(folder)


def test_a_state_file_outside_the_folder_is_refused(tmp_path):
    (tmp_path / "elsewhere.safetensors").write_bytes(b"")
    step = {**STEP, "state_file": "../elsewhere.safetensors"}
    message = refused(checkpoint(tmp_path / "ckpt", steps=[step]))
    assert "steps[0].state_file ('../elsewhere.safetensors')" in message and "outside the checkpoint folder" in message


def test_a_tokenizer_folder_with_code_is_refused_even_inside_the_checkpoint(tmp_path):
    folder = checkpoint(tmp_path / "ckpt", config={"type": "act", "tokenizer_name": "tok"})
    (folder / "tok").mkdir()
    (folder / "tok" / "tokenization_evil.py").write_text("open('MARK', 'w')")
    assert "names a folder with code (tok/tokenization_evil.py)" in refused(folder)


def test_a_tokenizer_folder_outside_the_checkpoint_is_refused(tmp_path, monkeypatch):
    """As transformers opens it: relative to the working folder."""
    (tmp_path / "tok").mkdir()
    (tmp_path / "tok" / "tokenizer_config.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    folder = checkpoint(tmp_path / "ckpt", config={"type": "pi0_fast", "action_tokenizer_name": "tok"})
    assert "action_tokenizer_name ('tok') names" in refused(folder, trusted=True)


def test_words_are_not_paths_even_when_a_folder_has_that_name(tmp_path, monkeypatch):
    """A checkpoint of type "act" run from a folder that holds a folder named act."""
    (tmp_path / "act").mkdir()
    monkeypatch.chdir(tmp_path)
    check_checkpoint(checkpoint(tmp_path / "ckpt", config={"type": "act", "device": "act"}), (), False)


@pytest.mark.parametrize(
    "config, fragment",
    [
        ({"type": "act", "auto_map": {"AutoTokenizer": "x.Tok"}}, "config.json: auto_map names Python code"),
        ({"type": "act", "vision": {"trust_remote_code": True}}, "config.json: vision.trust_remote_code is true"),
        ({"type": "act", "pretrained_path": "weights.pt"}, "names pickled data"),
        ({"type": "act", "hook": "evil.py"}, "names a code file"),
    ],
)
def test_configs_that_ask_for_code_or_pickles_are_refused(tmp_path, config, fragment):
    assert fragment in refused(checkpoint(tmp_path / "ckpt", config=config))


def test_a_policy_type_that_loads_remote_code_needs_trust(tmp_path):
    folder = checkpoint(tmp_path / "ckpt", config={"type": "pi0_fast", "action_tokenizer_name": "lerobot/fast"})
    message = refused(folder, fields=("action_tokenizer_name",))
    assert "action_tokenizer_name ('lerobot/fast') is loaded by LeRobot with trust_remote_code=True" in message
    assert "--trust-remote-code" in message
    check_checkpoint(folder, ("action_tokenizer_name",), trusted=True)


def test_a_processor_step_with_trust_remote_code_needs_trust(tmp_path):
    step = {"registry_name": "action_tokenizer_processor", "config": {"trust_remote_code": True}}
    folder = checkpoint(tmp_path / "ckpt", steps=[step])
    assert "steps[0].config.trust_remote_code is true" in refused(folder)
    check_checkpoint(folder, (), trusted=True)


def test_auto_map_is_refused_even_with_trust(tmp_path):
    """--trust-remote-code is for what LeRobot itself loads that way, not for a checkpoint's own code."""
    folder = checkpoint(tmp_path / "ckpt", config={"type": "act", "auto_map": {"AutoConfig": "x.C"}})
    assert "auto_map" in refused(folder, trusted=True)


def test_unreadable_or_deeply_nested_json_is_one_line(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    assert refused(folder).startswith("config.json: ")


def test_built_policies_follow_the_trust_setting(monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    with pytest.raises(CheckpointRefused):
        check_remote_code_config({"action_tokenizer_name": "lerobot/fast"}, ("action_tokenizer_name",), "pi0_fast")
    with remote_code(True):
        assert os.environ[TRUST_ENV] == "1"
        check_remote_code_config({"action_tokenizer_name": "lerobot/fast"}, ("action_tokenizer_name",), "pi0_fast")
    assert TRUST_ENV not in os.environ  # restored
    check_remote_code_config({"action_tokenizer_name": None}, ("action_tokenizer_name",), "pi0_fast")
