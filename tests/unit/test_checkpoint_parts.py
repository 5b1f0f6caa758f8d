"""The parts of checkpoint loading that need no LeRobot: config keys kept and dropped, weights
checked against a policy's tensors, processor steps made to run here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import torch

from policybench.policies.checkpoint import (
    CheckpointError,
    hub_offline,
    known_fields,
    processor_overrides,
    weights_mismatch,
)


@dataclass
class Inner:
    enabled: bool = True
    horizon: int = 3


@dataclass
class Outer:
    chunk_size: int = 4
    inner: Inner | None = None
    features: dict = field(default_factory=dict)


def test_known_fields_drops_unknown_keys_at_every_level_and_names_them():
    data = {
        "chunk_size": 8,
        "pretrained_revision": "main",
        "inner": {"enabled": False, "ramp_rate": 0.5},
        "features": {"anything": {"goes": 1}},
    }
    kept, dropped = known_fields(Outer, data)
    assert kept == {"chunk_size": 8, "inner": {"enabled": False}, "features": {"anything": {"goes": 1}}}
    assert dropped == ["pretrained_revision", "inner.ramp_rate"]
    assert known_fields(Outer, {"inner": None}) == ({"inner": None}, [])


def test_weights_mismatch_counts_tied_tensors_saved_once_as_present():
    shared = torch.ones(3)
    state = {"embed.weight": shared, "head.weight": shared, "bias": torch.zeros(2), "empty": torch.zeros(0)}
    assert weights_mismatch(state, {"embed.weight", "bias"}) == ([], [])
    assert weights_mismatch(state, {"head.weight", "bias", "normalize_inputs.buffer_x.mean"}) == (
        [],
        ["normalize_inputs.buffer_x.mean"],
    )
    assert weights_mismatch(state, {"embed.weight"}) == (["bias"], [])
    assert weights_mismatch(state, {"bias"}) == (["embed.weight", "head.weight"], [])


def _processor(tmp_path, steps):
    path = tmp_path / "policy_preprocessor.json"
    path.write_text(json.dumps({"name": "policy_preprocessor", "steps": steps}))
    return path


def test_processor_overrides_move_every_device_step_and_leave_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = _processor(
        tmp_path,
        [
            {"registry_name": "to_batch_processor", "config": {}},
            {"registry_name": "device_processor", "config": {"device": "cuda", "float_dtype": None}},
            {"class": "my_robot.steps.CustomDeviceStep", "config": {"device": "cuda:1"}},
            {"registry_name": "tokenizer_processor", "config": {"tokenizer_name": str(tmp_path), "max_length": 48}},
        ],
    )
    assert processor_overrides("ckpt", path, "cpu") == {
        "device_processor": {"device": "cpu"},
        "CustomDeviceStep": {"device": "cpu"},
    }


def test_a_tokenizer_only_the_hub_has_is_one_line_offline_and_left_alone_online(tmp_path, monkeypatch):
    path = _processor(
        tmp_path, [{"registry_name": "tokenizer_processor", "config": {"tokenizer_name": "someone/their-tokenizer"}}]
    )
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        CheckpointError,
        match="^ckpt: its preprocessor's tokenizer someone/their-tokenizer is read from the hub: add --hub$",
    ):
        processor_overrides("ckpt", path, "cpu")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert not hub_offline()
    assert processor_overrides("ckpt", path, "cpu") == {}


def test_an_unreadable_processor_file_is_one_line(tmp_path):
    path = tmp_path / "policy_preprocessor.json"
    path.write_text("{not json")
    with pytest.raises(CheckpointError, match="^ckpt: cannot read policy_preprocessor.json"):
        processor_overrides("ckpt", path, "cpu")


def test_weights_that_a_policy_class_fails_to_load_and_only_prints_about_are_one_line(monkeypatch):
    # LeRobot 0.6's pi0, pi05 and pi0_fast catch their own load failure, print it and go on
    # with random weights.
    from policybench.lerobot_adapter import registry
    from policybench.policies import checkpoint

    class PrintsItsFailure:
        @classmethod
        def from_pretrained(cls, target, config):
            print("Loading model from: ckpt")
            print("Warning: Could not load state dict: Error(s) in loading state_dict for PI0Policy")
            return cls()

    monkeypatch.setattr(registry, "policy_class", lambda policy_type: PrintsItsFailure)
    with pytest.raises(
        CheckpointError,
        match=r"^ckpt: cannot load its weights \(Warning: Could not load state dict: "
        r"Error\(s\) in loading state_dict for PI0Policy\)$",
    ):
        checkpoint._load_policy("ckpt", "pi0", config=None)
