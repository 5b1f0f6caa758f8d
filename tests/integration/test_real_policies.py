"""Real LeRobot policies, random weights, small configs: structure, never speed."""

from __future__ import annotations

import pytest
from small_configs import small_pi_family

from policybench import policies
from policybench.measure.device import clock_for
from policybench.settings import RunSettings, parse_override
from policybench.measure.loop import run_steady_state
from policybench.observations import synthetic_observation
from policybench.profiles import PROFILES, customize_profile
from policybench.results import OK
from policybench.orchestrate.run import run_benchmark
from policybench.samples import REFILL, STEP

pytestmark = pytest.mark.slow


def _measure(name, profile, overrides, refills=3, warmup=1):
    adapter = policies.build(name, profile, overrides, "cpu")
    obs = synthetic_observation(adapter.input_specs(), "cpu", extra=adapter.extra_inputs(profile.task))
    return adapter, run_steady_state(adapter, obs, clock_for("cpu"), refills=refills, warmup=warmup, max_seconds=120)


def _refill_indices(samples):
    return [s.i for s in samples if s.phase == REFILL]


def test_act_refills_are_exactly_n_action_steps_apart():
    adapter, loop = _measure("act", PROFILES["pusht"], {"chunk_size": 7, "n_action_steps": 5})
    assert adapter.describe()["n_action_steps"] == 5
    assert _refill_indices(loop.samples) == [0, 5, 10]
    assert len(loop.samples) == 15 and loop.complete
    assert adapter.queued_actions() == 0


def test_act_with_temporal_ensembling_refills_on_every_call():
    adapter, loop = _measure(
        "act", PROFILES["pusht"], {"temporal_ensemble_coeff": 0.01, "n_action_steps": 1, "chunk_size": 5}
    )
    assert {s.phase for s in loop.samples} == {REFILL}
    assert len(loop.samples) == 3


def test_diffusion_two_steps_refills_every_n_action_steps():
    # n_action_steps is LeRobot's default: 8 on 0.4.4, 32 on 0.6 (horizon 16 and 64)
    adapter, loop = _measure("diffusion", PROFILES["pusht"], {"num_inference_steps": 2})
    info = adapter.describe()
    n = adapter.policy.config.n_action_steps
    assert info["inference_steps"] == 2 and info["n_action_steps"] == n and n in (8, 32)
    assert info["chunk_size"] == adapter.policy.config.horizon
    assert _refill_indices(loop.samples) == [0, n, 2 * n]
    assert sum(s.phase == STEP for s in loop.samples) == 3 * n - 3


def test_smolvla_default_config_has_450_0_m_parameters_and_refills_every_50_calls():
    profile = PROFILES["so100"]
    adapter, loop = _measure(
        "smolvla", customize_profile(profile, image_size=(96, 128)), {"num_steps": 1}, refills=2, warmup=0
    )
    assert round(adapter.parameter_count() / 1e6, 1) == 450.0
    assert adapter.describe()["n_action_steps"] == 50
    # warmup=0: measuring starts right after the cold refill, so the first cycle has 49 steps.
    assert _refill_indices(loop.samples) == [49, 99]
    assert len(loop.samples) == 149


def test_samples_and_summaries_agree_through_the_runner(tmp_path):
    cfg = RunSettings(
        policies=["act", "noop"],
        profile=PROFILES["pusht"],
        refills=2,
        warmup=1,
        overrides=[parse_override("act.chunk_size=4"), parse_override("act.n_action_steps=4")],
        json_path=str(tmp_path / "r.json"),
    )
    results = run_benchmark(cfg, "cpu")
    act = results.results[0]
    assert act.status == OK and act.params > 0
    summary = act.summary()
    steps = [s.latency_ms for s in act.samples if s.phase == STEP]
    refills = [s.latency_ms for s in act.samples if s.phase == REFILL]
    assert summary["step"]["count"] == len(steps) == 6 and summary["refill"]["count"] == len(refills) == 2
    assert summary["refill"]["max_ms"] == max(refills) and summary["step"]["min_ms"] == min(steps)
    assert summary["all"]["count"] == 8
    assert act.config["inputs"] == {"observation.image": [3, 96, 96], "observation.state": [2]}
    assert act.cold_start_ms > 0


def test_vqbet_refills_every_action_chunk():
    adapter, loop = _measure("vqbet", PROFILES["pusht"], {}, refills=2, warmup=1)
    chunk = adapter.policy.config.action_chunk_size
    assert _refill_indices(loop.samples) == [0, chunk]


def test_tdmpc_refills_every_action_repeat():
    # TD-MPC queues its first planned action n_action_repeats times (2 by default).
    adapter, loop = _measure("tdmpc", PROFILES["pusht"], {"n_action_repeats": 2}, refills=2, warmup=0)
    assert _refill_indices(loop.samples) == [1, 3]


def test_gaussian_actor_has_no_queue_so_every_call_is_a_refill():
    from policybench.lerobot_adapter.registry import registered_policy_types

    if "gaussian_actor" not in registered_policy_types():
        pytest.skip("this LeRobot does not register gaussian_actor (added in 0.5)")
    adapter, loop = _measure("gaussian_actor", PROFILES["pusht"], {}, refills=3, warmup=1)
    assert {s.phase for s in loop.samples} == {REFILL} and len(loop.samples) == 3
    assert adapter.describe()["n_action_steps"] == 1


@pytest.mark.parametrize("name", ["pi0", "pi05"])
def test_pi_family_offline_refills_every_n_action_steps(name, monkeypatch):
    """pi0/pi05 built offline (their PaliGemma from LeRobot's own code, the task through the
    locally written PaliGemma-sized tokenizer), real queue in _action_queue. The real ones are
    4 B parameters: here LeRobot's Gemma sizes are replaced by one-layer ones (the width of 2048
    is what its vision projection fixes), about 1 B parameters, most of it the 257152-token
    embedding and the SigLIP vision tower."""
    if not small_pi_family(name, monkeypatch):
        return
    overrides = {"num_inference_steps": 1, "chunk_size": 4, "n_action_steps": 4}
    adapter, loop = _measure(name, PROFILES["pusht"], overrides, refills=2, warmup=0)
    assert adapter.describe()["n_action_steps"] == 4 and adapter.describe()["inference_steps"] == 1
    assert _refill_indices(loop.samples) == [3, 7]
    owner, attribute = adapter.family.export.module(adapter.policy)  # what the runtime variants export
    assert type(getattr(owner, attribute)).__name__ == "SiglipVisionModel"
