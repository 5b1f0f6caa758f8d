"""``--set`` on a checkpoint (issue 30, 3): held to the checkpoint's own config before anything is
built, by the rules its type's config holds a value to (as for a built-in type): one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import policybench.api
import policybench.cli
import policybench.orchestrate.run
from policybench import policies
from policybench.errors import SettingsError

from fakes import assert_one_error_line

ACT_RULE = "The chunk size is the upper bound for the number of action steps per model invocation"


def act_checkpoint(folder: Path, chunk: int = 100) -> Path:
    """A checkpoint's config.json as LeRobot saves an ACT's (no weights: nothing here reads them)."""
    from lerobot.policies.act.configuration_act import ACTConfig

    folder.mkdir(parents=True)
    ACTConfig(chunk_size=chunk, n_action_steps=chunk, device="cpu")._save_pretrained(folder)
    assert json.loads((folder / "config.json").read_text())["type"] == "act"
    return folder


def test_a_value_the_checkpoints_config_rejects_is_a_usage_error(tmp_path):
    folder = str(act_checkpoint(tmp_path / "nu" / "my_act_checkpoint"))
    with pytest.raises(SettingsError) as info:
        policies.check_override_values(folder, {"n_action_steps": 200})
    text = str(info.value)
    assert text.startswith(f"overrides act.n_action_steps=200 (for the checkpoint {folder}): {ACT_RULE}")
    assert "Got 200 for `n_action_steps` and 100 for `chunk_size`" in text
    policies.check_override_values(folder, {"n_action_steps": 100})  # the chunk itself is fine
    policies.check_override_values(folder, {"n_action_steps": 20})


def test_a_value_of_the_wrong_kind_or_an_unknown_field_is_refused_too(tmp_path):
    folder = str(act_checkpoint(tmp_path / "ckpt"))
    with pytest.raises(
        SettingsError,
        match=r"act.n_action_steps=2.5 \(for the checkpoint .*\): n_action_steps "
        "takes an integer, got 2.5",
    ):
        policies.check_override_values(folder, {"n_action_steps": 2.5})
    with pytest.raises(SettingsError, match="unknown field 'n_steps' of its act config; valid fields: chunk_size, "):
        policies.check_override_values(folder, {"n_steps": 5})


def test_a_checkpoint_that_cannot_be_read_here_is_left_for_its_build(tmp_path):
    policies.check_override_values(str(tmp_path / "nowhere" / "ckpt"), {"n_action_steps": 200})


def test_the_command_line_refuses_it_before_anything_is_built(tmp_path, capsys, monkeypatch):
    folder = act_checkpoint(tmp_path / "nu" / "my_act_checkpoint")

    def measured(*args, **kwargs):
        raise AssertionError("the --set was not refused: the run went on to measure")

    # the plan (api.measure's run context) refuses it before run_benchmark builds anything
    monkeypatch.setattr(policybench.orchestrate.run, "run_benchmark", measured)
    line = assert_one_error_line(
        capsys,
        policybench.cli.main(
            ["run", "--policy-path", str(folder), "--set", "act.n_action_steps=200", "--device", "cpu"]
        ),
    )
    assert line == (
        f"policybench: error: --set act.n_action_steps=200 (for the checkpoint {folder}): {ACT_RULE}. "
        "Got 200 for `n_action_steps` and 100 for `chunk_size`."
    )
