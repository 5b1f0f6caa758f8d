"""The types whose offline builds follow LeRobot 0.5's and 0.6's classes (GR00T N1.7, X-VLA,
WALL-OSS) say so under an older LeRobot instead of "yes" and a build that fails (0.4.4 registers
groot, xvla and wall_x with other config fields and model code)."""

from __future__ import annotations

import pytest

from policybench.lerobot_adapter import version
from policybench.policies import lerobot_policies


@pytest.mark.parametrize(("name", "model"), [("groot", "GR00T N1.7"), ("xvla", "X-VLA"), ("wall_x", "WALL-OSS")])
def test_an_offline_build_written_for_lerobot_0_6_is_refused_on_0_4(monkeypatch, name, model):
    monkeypatch.setattr(version, "lerobot_version", lambda: "0.4.4")
    problem = lerobot_policies.FAMILIES[name].availability_problem()
    assert problem is not None
    assert f"policybench builds {model} offline with LeRobot 0.5 and later" in problem
    assert "LeRobot 0.4.4 has other ones" in problem and "`make` installs LeRobot 0.6" in problem


def test_on_lerobot_0_5_and_later_that_check_says_nothing(monkeypatch):
    for v in ("0.5.0", "0.6.1"):
        monkeypatch.setattr(version, "lerobot_version", lambda v=v: v)
        assert version.offline_build_problem("X-VLA") is None


@pytest.mark.parametrize(("name", "steps"), [("evo1", 32), ("vla_jepa", 4)])
def test_the_denoising_steps_of_evo1_and_vla_jepa_are_named_by_their_field(name, steps):
    """Their configs call the steps num_inference_timesteps: what would hold names it for --set."""
    from policybench.lerobot_adapter import registry

    if name not in registry.registered_policy_types():
        pytest.skip(f"this LeRobot does not register {name}")
    cfg = registry.config_class(name)()
    assert lerobot_policies._inference_steps(cfg) == steps
    assert lerobot_policies._steps_name(cfg) == "num_inference_timesteps"
