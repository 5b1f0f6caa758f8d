"""Variants and roofline on real (small) LeRobot policies: structure and exact identities, never speed."""

from __future__ import annotations

import pytest
from small_configs import TINY_ACT

from policybench import policies
from policybench.settings import RunSettings, parse_override
from policybench.observations import synthetic_observation
from policybench.profiles import PROFILES, customize_profile
from policybench.results import OK
from policybench.measure.roofline import refill_cost
from policybench.orchestrate.run import run_benchmark

pytestmark = pytest.mark.slow


def _run(policy, overrides, variants, refills=2):
    cfg = RunSettings(
        policies=[policy],
        profile=PROFILES["pusht"],
        refills=refills,
        warmup=1,
        variants=variants,
        overrides=[parse_override(o) for o in overrides],
    )
    return {r.variant: r for r in run_benchmark(cfg, "cpu", environment={}).results}


def test_act_variants_noeval_identical_bf16_within_tolerance_compile_equivalent():
    rs = _run("act", TINY_ACT, ["eager", "noeval", "bf16", "compile", "cudagraph"])
    assert [v for v in rs] == ["eager", "noeval", "bf16", "compile", "cudagraph"]
    assert rs["noeval"].equivalence["max_abs_diff"] == 0.0  # the same computation, minus the eval() walk
    assert rs["bf16"].equivalence["rel_error"] > 0  # autocast really ran in bfloat16
    assert rs["compile"].status == OK and rs["compile"].equivalence["equivalent"]
    assert rs["compile"].first_chunk_seconds > 0
    assert rs["cudagraph"].status == "skipped" and rs["cudagraph"].error == "CUDA graphs need a CUDA device"
    for name in ("eager", "noeval", "bf16", "compile"):
        r = rs[name]
        assert r.status == OK and [s.i for s in r.samples if s.phase == "refill"] == [0, 4]
        rl = r.roofline
        assert rl["flops"] > 0 and rl["weight_bytes_read"] > 0 and rl["floor_ms"] > 0
        assert rl["x_of_floor"] == pytest.approx(r.summary()["refill"]["median_ms"] / rl["floor_ms"])
    assert rs["eager"].name == "act" and rs["noeval"].name == "act+noeval"


def test_diffusion_variants_get_the_same_sampling_noise():
    rs = _run("diffusion", ["diffusion.num_inference_steps=2"], ["eager", "noeval"])
    # DDPM draws fresh noise at every step: identical actions prove the noise is controlled.
    assert rs["noeval"].equivalence["max_abs_diff"] == 0.0


def test_weight_bytes_read_count_each_denoising_step():
    costs = {}
    for steps in (2, 4):
        adapter = policies.build("diffusion", PROFILES["pusht"], {"num_inference_steps": steps}, "cpu")
        obs = synthetic_observation(adapter.input_specs(), "cpu")
        costs[steps] = refill_cost(adapter, obs)
        unet = sum(p.numel() * p.element_size() for p in adapter.policy.diffusion.unet.parameters())
    # Two more denoising steps read the UNet's weights exactly twice more.
    assert costs[4]["weight_bytes_read"] - costs[2]["weight_bytes_read"] == 2 * unet
    assert costs[4]["flops"] > costs[2]["flops"]


def test_act_refill_flops_match_the_measured_reference():
    # FINDINGS.md: ACT with one 480x640 camera and state/action 14 is 35 GFLOP per refill.
    profile = customize_profile(PROFILES["pusht"], image_size=(480, 640), state_dim=14, action_dim=14)
    adapter = policies.build("act", profile, {}, "cpu")
    cost = refill_cost(adapter, synthetic_observation(adapter.input_specs(), "cpu"))
    assert cost["flops"] / 1e9 == pytest.approx(35, rel=0.02)
    assert 0 < cost["weight_bytes_read"] <= adapter.weight_bytes()  # each weight read at most once
