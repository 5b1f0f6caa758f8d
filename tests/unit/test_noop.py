import pytest
import torch

from policybench.errors import UsageError
from policybench import policies
from policybench.policies.noop import NoopPolicy, build_noop
from policybench.profiles import PROFILES, customize_profile
from policybench.samples import REFILL, STEP

SO100 = PROFILES["so100"]


def phases(policy, calls):
    out = []
    for _ in range(calls):
        out.append(REFILL if policy.queued_actions() == 0 else STEP)
        policy.select_action({})
    return out


def test_default_chunk_refills_every_50_calls():
    p = policies.build("noop", SO100, {}, "cpu")
    assert isinstance(p, NoopPolicy)
    p.reset()
    assert p.queued_actions() == 0
    got = phases(p, 150)
    assert [i for i, ph in enumerate(got) if ph == REFILL] == [0, 50, 100]
    assert p.queued_actions() == 0


def test_queue_counts_down_and_reset_empties_it():
    p = NoopPolicy(action_dim=3, chunk_size=4)
    p.select_action({})
    assert p.queued_actions() == 3
    p.select_action({})
    assert p.queued_actions() == 2
    p.reset()
    assert p.queued_actions() == 0


def test_chunk_size_override_via_build():
    p = policies.build("noop", SO100, {"chunk_size": 7}, "cpu")
    p.reset()
    assert [i for i, ph in enumerate(phases(p, 21)) if ph == REFILL] == [0, 7, 14]
    assert p.describe() == {"chunk_size": 7, "n_action_steps": 7, "inference_steps": None}


def test_actions_have_shape_one_by_action_dim():
    p = policies.build("noop", customize_profile(SO100, action_dim=9), {}, "cpu")
    p.reset()
    for _ in range(60):  # across a refill
        a = p.select_action({})
        assert isinstance(a, torch.Tensor) and a.shape == (1, 9)


def test_inputs_params_and_fields():
    p = build_noop(SO100, {}, "cpu", 0)
    assert [(s.key, s.shape) for s in p.input_specs()] == [("observation.state", (SO100.action_dim,))]
    assert p.parameter_count() == 0
    assert policies.config_fields("noop") == ["chunk_size"]
    assert policies.availability("noop") is None


@pytest.mark.parametrize("bad", [0, -3, 2.5, "7", None])
def test_bad_chunk_size(bad):
    with pytest.raises(UsageError, match="noop.chunk_size must be a positive integer"):
        build_noop(SO100, {"chunk_size": bad}, "cpu", 0)


def test_bool_chunk_size_is_rejected():
    with pytest.raises(UsageError, match="noop.chunk_size must be a positive integer"):
        build_noop(SO100, {"chunk_size": True}, "cpu", 0)
