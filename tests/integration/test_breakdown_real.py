"""--breakdown on real LeRobot policies (random weights, small configs): every component of a
family is found, called as often as the config says, and together they cover at least 90 % of
each breakdown refill (compared within those refills, never against headline timing)."""

from __future__ import annotations

import pytest
from small_configs import small_pi_family

from policybench import policies
from policybench.measure.breakdown import measure_breakdown
from policybench.measure.device import clock_for
from policybench.observations import synthetic_observation
from policybench.profiles import PROFILES, customize_profile
from policybench.stats import percentile

pytestmark = pytest.mark.slow

SO100_SMALL = customize_profile(PROFILES["so100"], image_size=(96, 128))  # two cameras


def _breakdown(name: str, profile, overrides: dict) -> tuple[dict, object]:
    adapter = policies.build(name, profile, overrides, "cpu")
    obs = synthetic_observation(adapter.input_specs(), "cpu", extra=adapter.extra_inputs(profile.task))
    adapter.reset()
    adapter.select_action(obs)  # warm: the first call allocates
    return measure_breakdown(adapter, obs, clock_for("cpu"), "cpu", 0, refills=3), adapter


def _check(bd: dict, calls: dict[str, int], adapter) -> None:
    assert "missing" not in bd and "note" not in bd
    assert [c["name"] for c in bd["components"]] == list(calls)
    for refill in bd["refills"]:
        assert refill["calls"] == calls
    covered = [sum(r["ms"].values()) / r["total_ms"] for r in bd["refills"]]
    assert percentile(covered, 50) >= 0.9, covered
    counted = [name for name, c in bd["cost"].items() if c["flops"] > 0 or c["weight_bytes_read"] > 0]
    assert counted == [name for name in calls if name != "scheduler step"]  # the scheduler is elementwise only
    root, components = adapter.anatomy()
    for component in components:  # every wrapper removed
        for owner, attr in component.targets(root):
            assert attr not in vars(owner)


def test_act_backbone_per_camera_encoder_decoder():
    """At 240x320 the cameras' backbones outweigh ACT's fixed per-refill Python work (at 96x128 the
    components covered 93 % alone on the 2-core Xeon, 87 % with a test run beside it)."""
    bd, adapter = _breakdown("act", customize_profile(PROFILES["so100"], image_size=(240, 320)), {})
    _check(bd, {"backbone": 2, "transformer encoder": 1, "transformer decoder": 1}, adapter)


def test_diffusion_encoder_then_unet_and_scheduler_per_step():
    bd, adapter = _breakdown("diffusion", PROFILES["pusht"], {"num_inference_steps": 3})
    _check(bd, {"observation encoder": 1, "UNet": 3, "scheduler step": 3}, adapter)


def test_vqbet_encoder_gpt_head():
    bd, adapter = _breakdown("vqbet", PROFILES["pusht"], {})
    _check(bd, {"image encoder": 1, "GPT": 1, "action head": 1}, adapter)


def test_smolvla_vision_per_camera_prefix_once_steps_per_flow_step():
    bd, adapter = _breakdown("smolvla", SO100_SMALL, {"num_steps": 2})
    _check(
        bd,
        {
            "vision encoder": 2,
            "language embedding": 1,
            "prefix forward (VLM)": 1,
            "denoising step": 2,
            "action projection": 2,
        },
        adapter,
    )


@pytest.mark.parametrize("name", ["pi0", "pi05"])
def test_pi_family_split_like_smolvla(name, monkeypatch):
    """Gemma sizes made one-layer, as test_real_policies builds them (about 1 B parameters)."""
    if not small_pi_family(name, monkeypatch):
        return
    bd, adapter = _breakdown(name, PROFILES["pusht"], {"num_inference_steps": 2, "chunk_size": 4, "n_action_steps": 4})
    _check(
        bd,
        {
            "vision encoder": 1,
            "language embedding": 1,
            "prefix forward (VLM)": 1,
            "denoising step": 2,
            "action projection": 2,
        },
        adapter,
    )
