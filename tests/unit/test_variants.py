"""Variant machinery without real policies: parsing, skip reasons, equivalence, table rows."""

from __future__ import annotations

from dataclasses import replace
import pytest
import torch
from fakes import ENVIRONMENT, FakePolicy, FakeTime

from policybench.cli import main
from policybench.settings import RunSettings
from policybench.errors import UsageError
from policybench.profiles import PROFILES
from policybench.report.table import render_table
from policybench.results import OK, SKIPPED, PolicyResult, RunResults
from policybench.orchestrate.run import run_benchmark
from policybench.samples import REFILL, STEP, Sample
from policybench.variants import ORDER, VARIANTS, parse_variants
from policybench.variants.equivalence import equivalence
from policybench.variants.strategies import skip_reason


def test_parse_variants_puts_eager_first_and_orders_compile_last():
    assert parse_variants("all") == ORDER
    assert parse_variants("compile,bf16") == ["eager", "bf16", "compile"]
    assert parse_variants("eager") == ["eager"]
    with pytest.raises(
        UsageError,
        match="unknown variant 'turbo'; known variants: eager, noeval, bf16, bf16-weights, fp16, compile, cudagraph",
    ):
        parse_variants("bf16,turbo")


def test_unknown_variant_on_the_command_line_is_one_line(capsys):
    assert main(["run", "--policies", "noop", "--variant", "warp"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown variant 'warp'" in err[0]


def test_skip_reasons():
    time = FakeTime()
    fake = FakePolicy(time, chunk=4)
    assert skip_reason(VARIANTS["eager"], fake, "cpu") is None
    assert "not a LeRobot policy" in skip_reason(VARIANTS["bf16"], fake, "cpu")


def test_cudagraph_on_the_cpu_is_skipped_with_its_reason():
    from policybench.policies.lerobot_policies import FAMILIES, LeRobotPolicy

    adapter = LeRobotPolicy(FAMILIES["act"], torch.nn.Linear(2, 2), [])
    assert skip_reason(VARIANTS["cudagraph"], adapter, "cpu") == "CUDA graphs need a CUDA device"
    assert skip_reason(VARIANTS["noeval"], adapter, "cpu") is None


def test_equivalence():
    ref = torch.tensor([[1.0, -2.0], [0.5, 4.0]])
    same = equivalence(ref, ref.clone(), 1e-4)
    assert same == {"max_abs_diff": 0.0, "rel_error": 0.0, "tolerance": 1e-4, "equivalent": True}
    off = equivalence(ref, ref + torch.tensor([[0.0, 0.0], [0.0, 0.04]]), 1e-2)
    assert off["max_abs_diff"] == pytest.approx(0.04) and off["rel_error"] == pytest.approx(0.01)
    assert off["equivalent"] is True
    assert equivalence(ref, ref * 1.1, 2e-2)["equivalent"] is False


def test_noop_runs_eager_and_skips_the_other_variants(tmp_path):
    time = FakeTime()
    cfg = RunSettings(
        policies=["noop"], profile=PROFILES["so100"], refills=2, warmup=1, variants=["eager", "bf16", "cudagraph"]
    )
    build = lambda name, profile, overrides, device, seed=0: FakePolicy(time, chunk=4, name=name)  # noqa: E731
    results = run_benchmark(cfg, "cpu", clock=time.clock(), environment=dict(ENVIRONMENT), build=build)
    assert [(r.name, r.variant, r.status) for r in results.results] == [
        ("noop", "eager", OK),
        ("noop+bf16", "bf16", SKIPPED),
        ("noop+cudagraph", "cudagraph", SKIPPED),
    ]
    assert results.results[0].equivalence["equivalent"] is True  # eager against itself
    assert "not a LeRobot policy" in results.results[1].error


def _variant_result(policy, variant, refill_ms, step_ms, rel=0.0, tol=1e-4, floor=None):
    samples = [Sample(0, REFILL, refill_ms)] + [Sample(i, STEP, step_ms) for i in range(1, 4)]
    r = PolicyResult(
        policy,
        OK,
        samples=samples,
        variant=variant,
        first_chunk_seconds=0.5,
        equivalence={"max_abs_diff": rel, "rel_error": rel, "tolerance": tol, "equivalent": rel <= tol},
    )
    if floor:
        r = replace(
            r,
            roofline={
                "floor_ms": floor,
                "x_of_floor": refill_ms / floor,
                "flops": 2e9,
                "peak_flops": 1e11,
                "weight_bytes_read": 1e8,
                "peak_bytes_per_s": 1e10,
            },
        )
    return r


def test_table_rows_for_variants():
    rs = RunResults(
        dict(ENVIRONMENT),
        {"profile": {"name": "so100"}},
        [
            _variant_result("act", "eager", 100.0, 2.0, floor=20.0),
            _variant_result("act", "bf16", 50.0, 2.0, rel=0.05, tol=2e-2, floor=20.0),
            _variant_result("act", "noeval", 100.0, 0.5, floor=20.0),
            PolicyResult("act", SKIPPED, error="CUDA graphs need a CUDA device", variant="cudagraph"),
        ],
    )
    text = render_table(rs)

    def row(name):
        return next(line for line in text.splitlines() if line.startswith(name)).split("  ")

    def cells(name):
        return [c.strip() for c in row(name) if c.strip()][len(name.split("  ")) :]

    assert cells("Refill speedup vs eager") == ["1.00 x", "2.00 x", "1.00 x", "-"]
    assert cells("Step speedup vs eager") == ["1.00 x", "1.00 x", "4.00 x", "-"]
    assert cells("Equivalent actions") == ["yes", "NO (2.5x over 0.02): not a win", "yes", "-"]
    assert cells("Refill / floor") == ["5.0 x", "2.5 x", "5.0 x", "-"]
    assert "ACT+cudagraph skipped: CUDA graphs need a CUDA device" in text
    assert "ACT refill floor 20 ms = max(2 GFLOP / 100 GFLOP/s, 0.1 GB of weights read / 10 GB/s)" in text


def test_noeval_skips_the_walk_and_puts_eval_back():
    from policybench.policies.lerobot_policies import FAMILIES, LeRobotPolicy
    from policybench.variants.noeval import NoEvalPolicy

    module = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    module.train()
    adapter = LeRobotPolicy(FAMILIES["act"], module, [])
    with NoEvalPolicy(adapter, VARIANTS["noeval"]):
        assert not module.training and not module[1].training  # put in eval mode once
        module[1].train()
        module.eval()  # the per-call walk is now a no-op
        assert module[1].training
    module.eval()  # nn.Module.eval again
    assert not module[1].training
