"""A floor per precision (measure/roofline.py, variants/precision.py): each variant's precision, its
floor on a fake device of known peaks, the skip of a precision the CPU emulates (fake flags), and
how the table says a floor, its precision and a refill below it. Exact figures, no timing."""

from __future__ import annotations

from dataclasses import replace
import pytest
import torch
from fakes import ENVIRONMENT, TinyAct

from policybench.clock import Clock
from policybench.errors import UsageError
from policybench.measure import variants as measure
from policybench.measure.roofline import precision_floor, precision_peaks
from policybench.observations import VECTOR, InputSpec
from policybench.policies.lerobot_policies import FAMILIES, LeRobotPolicy
from policybench.profiles import PROFILES
from policybench.report.table import render_table
from policybench.results import OK, SKIPPED, PolicyResult, RunResults
from policybench.samples import REFILL, Sample
from policybench.schema import read_roofline
from policybench.settings import RunSettings
from policybench.variants import VARIANTS
from policybench.variants.precision import best_cpu_instructions, cpu_precision_problem
from policybench.variants.strategies import skip_reason

PRECISION = {
    "eager": "fp32",
    "noeval": "fp32",
    "bf16": "bf16",
    "bf16-weights": "bf16",
    "fp16": "fp16",
    "compile": "fp32",
    "cudagraph": "fp32",
    "cudagraph-bf16": "bf16",
    "onnxruntime": "fp32",
    "openvino": "fp32",
    "openvino-bf16": "bf16",
    "onnxruntime-int8": "int8",
    "onnxruntime-int8-static": "int8",
    "openvino-int8": "int8",
    "openvino-int8-static": "int8",
    "tensorrt": "fp32",
}
# A fake device: 100 GFLOP/s fp32, 400 bf16, 800 fp16, 1600 int8 (OP/s); 10 GB/s
RATES = {"fp32": 1e11, "bf16": 4e11, "fp16": 8e11, "int8": 1.6e12}
PEAKS = {"peak_flops": 1e11, "peak_bytes_per_s": 1e10}
COMPUTE_BOUND = {"flops": 4e11, "weight_bytes_read": 4e8, "weights_read": 1e8}  # 1e8 fp32 weights read
MEMORY_BOUND = {"flops": 1e9, "weight_bytes_read": 4e9, "weights_read": 1e9}
FLOOR_MS = {  # compute bound: 4e11 FLOP / rate; memory bound: 1e9 weights x bytes each / 1e10 B/s
    "fp32": (4000.0, 400.0),
    "bf16": (1000.0, 200.0),
    "fp16": (500.0, 200.0),
    "int8": (250.0, 100.0),
}
NO_BF16 = ["avx", "avx2", "avx512f", "avx512_vnni", "fma"]  # the AVX-512 EPYC before this one


def test_each_variant_declares_its_precision():
    assert {name: v.precision for name, v in VARIANTS.items()} == PRECISION


@pytest.mark.parametrize("name", list(VARIANTS))
def test_each_variant_is_charged_the_floor_of_its_own_precision(name):
    precision = PRECISION[name]
    for cost, floor in zip((COMPUTE_BOUND, MEMORY_BOUND), FLOOR_MS[precision]):
        rl = precision_floor(cost, PEAKS, RATES, VARIANTS[name].precision)
        assert rl["floor_ms"] == pytest.approx(floor, rel=1e-12)
        assert rl["precision"] == precision and rl["peak_flops"] == RATES[precision]
        assert rl["peak_flops_by_precision"] == RATES and rl["peak_bytes_per_s"] == 1e10


def test_the_weights_are_read_at_the_precision_and_never_above_their_stored_bytes():
    assert precision_floor(MEMORY_BOUND, PEAKS, RATES, "bf16")["weight_bytes_read"] == 2e9
    assert precision_floor(MEMORY_BOUND, PEAKS, RATES, "int8")["weight_bytes_read"] == 1e9
    stored_in_bf16 = {**MEMORY_BOUND, "weight_bytes_read": 2e9}
    assert precision_floor(stored_in_bf16, PEAKS, RATES, "fp32")["weight_bytes_read"] == 2e9
    old_cost = {"flops": 1e9, "weight_bytes_read": 4e9}  # no weight count: the bytes as stored
    assert precision_floor(old_cost, PEAKS, RATES, "bf16")["weight_bytes_read"] == 4e9


def test_a_precision_whose_peak_was_not_measured_has_no_floor():
    assert precision_floor(COMPUTE_BOUND, PEAKS, {"fp32": 1e11}, "bf16") == {}


def test_tf32_on_cuda_while_torch_allows_it(monkeypatch):
    monkeypatch.setattr(measure, "tf32_allowed", lambda: False)
    assert measure.variant_precision(VARIANTS["eager"], "cuda") == "fp32"
    monkeypatch.setattr(measure, "tf32_allowed", lambda: True)
    assert measure.variant_precision(VARIANTS["eager"], "cuda") == "tf32"
    assert measure.variant_precision(VARIANTS["eager"], "cpu") == "fp32"
    assert measure.variant_precision(VARIANTS["bf16"], "cuda") == "bf16"


def test_the_precision_peaks_measure_what_torch_runs_here_and_nothing_else():
    ticks = iter(range(10**6))
    rates = precision_peaks(
        "cpu", Clock(now=lambda: float(next(ticks))), ["fp32", "bf16", "int8", "tf32"], size=32, repeats=1
    )
    assert set(rates) <= {"bf16", "int8"} and "bf16" in rates  # tf32 is CUDA's; fp32 is device_peaks'
    assert rates["bf16"] == 2 * 32**3  # one tick of the fake clock per product
    assert torch.backends.cuda.matmul.allow_tf32 is False  # put back (it is never set on a CPU)


# ----------------------------------------------------------------------------- the CPU's instructions


def test_a_cpu_without_bf16_instructions_says_why_bf16_does_not_apply():
    why = cpu_precision_problem("bf16", NO_BF16)
    assert why == (
        "this CPU has no bfloat16 instructions (amx_bf16 or avx512_bf16 not among its flags): bf16 is "
        "emulated (torch runs it 30-40x slower than fp32 there), so it does not apply here"
    )
    assert cpu_precision_problem("bf16", [*NO_BF16, "avx512_bf16"]) is None
    assert cpu_precision_problem("bf16", ["amx_bf16"]) is None
    assert cpu_precision_problem("bf16", []) is None  # flags unknown: the variant runs and its speed says
    assert cpu_precision_problem("fp32", NO_BF16) is None
    assert "no float16 instructions" in cpu_precision_problem("fp16", [*NO_BF16, "avx512_bf16"])
    assert cpu_precision_problem("int8", NO_BF16) is None  # avx512_vnni


def test_the_bf16_variants_are_skipped_by_the_flags_on_a_cpu_only():
    adapter = LeRobotPolicy(FAMILIES["act"], TinyAct(), [InputSpec("observation.state", VECTOR, (2,))])
    for name in ("bf16", "openvino-bf16"):
        assert "no bfloat16 instructions" in skip_reason(VARIANTS[name], adapter, "cpu", NO_BF16)
    assert skip_reason(VARIANTS["bf16"], adapter, "cpu", [*NO_BF16, "amx_bf16"]) is None
    assert skip_reason(VARIANTS["openvino"], adapter, "cpu", NO_BF16) != skip_reason(
        VARIANTS["openvino-bf16"], adapter, "cpu", NO_BF16
    )
    assert skip_reason(VARIANTS["bf16"], adapter, "cuda", NO_BF16) is None
    assert skip_reason(VARIANTS["noeval"], adapter, "cpu", NO_BF16) is None


def test_best_cpu_instructions():
    assert best_cpu_instructions(["amx_bf16", "avx512_bf16", "avx512_vnni", "amx_int8"]) == {
        "bf16": "amx_bf16",
        "int8": "amx_int8",
    }
    assert best_cpu_instructions(NO_BF16) == {"int8": "avx512_vnni"}


# ----------------------------------------------------------------------------- a run on a fake device


def _run(monkeypatch, flags: list[str], variants: list[str]):
    from policybench.orchestrate.run import run_benchmark

    asked: list[list[str]] = []

    def fake_rates(device, clock, precisions, size=None, repeats=5):
        asked.append(list(precisions))
        return {p: RATES[p] for p in precisions if p != "fp32"}

    monkeypatch.setattr(measure, "device_peaks", lambda device, clock: {**PEAKS})
    monkeypatch.setattr(measure, "precision_peaks", fake_rates)
    monkeypatch.setattr(measure, "cpu_vector_flags", lambda: flags)
    cfg = RunSettings(policies=["act"], profile=PROFILES["pusht"], refills=2, warmup=1, variants=variants)
    adapter = LeRobotPolicy(FAMILIES["act"], TinyAct(), [InputSpec("observation.state", VECTOR, (2,))])
    results = run_benchmark(
        cfg,
        "cpu",
        clock=Clock(now=iter(range(10**6)).__next__),
        environment={},
        build=lambda name, profile, overrides, device, seed=0: adapter,
        warn=lambda line: None,
    )
    return {r.variant: r for r in results.results}, asked


def test_a_run_charges_eager_fp32_and_bf16_its_own_floor(monkeypatch):
    rs, asked = _run(monkeypatch, [*NO_BF16, "avx512_bf16"], ["eager", "bf16", "noeval"])
    assert asked == [["fp32", "bf16", "fp32"]]  # the precisions of the variants that run, once
    eager, bf16 = rs["eager"].roofline, rs["bf16"].roofline
    assert rs["bf16"].status == OK and eager["precision"] == "fp32" and bf16["precision"] == "bf16"
    assert eager["flops"] == bf16["flops"] > 0 and bf16["weight_bytes_read"] == eager["weight_bytes_read"] / 2
    cost = {k: eager[k] for k in ("flops", "weight_bytes_read", "weights_read")}
    assert bf16["floor_ms"] == precision_floor(cost, PEAKS, {**RATES}, "bf16")["floor_ms"]
    assert eager["floor_ms"] == 1000 * max(eager["flops"] / 1e11, eager["weight_bytes_read"] / 1e10)
    assert rs["noeval"].roofline["floor_ms"] == eager["floor_ms"]


def test_a_run_on_a_cpu_without_bf16_skips_bf16_and_measures_no_bf16_peak(monkeypatch):
    rs, asked = _run(monkeypatch, NO_BF16, ["eager", "bf16"])
    assert rs["bf16"].status == SKIPPED and "no bfloat16 instructions" in rs["bf16"].error
    assert asked == [["fp32"]]


# ----------------------------------------------------------------------------- what the reports say


def _result(variant: str, refill_ms: float, precision: str, floor_ms: float) -> PolicyResult:
    r = PolicyResult(
        "act",
        OK,
        samples=[Sample(0, REFILL, refill_ms)],
        variant=variant,
        equivalence={"max_abs_diff": 0.0, "rel_error": 0.0, "tolerance": 0.02, "equivalent": True},
    )
    r = replace(
        r,
        roofline={
            "flops": 4e11,
            "weight_bytes_read": 2e8,
            "weights_read": 1e8,
            "peak_flops": RATES[precision],
            "peak_bytes_per_s": 1e10,
            "floor_ms": floor_ms,
            "x_of_floor": refill_ms / floor_ms,
            "precision": precision,
            "peak_flops_by_precision": {"fp32": 1e11, "bf16": 4e11},
        },
    )
    return r


def test_the_table_names_each_floor_its_precision_and_a_refill_below_its_floor():
    env = {**ENVIRONMENT, "device": "cpu", "cpu_flags": ["avx512f", "amx_bf16"]}
    rs = RunResults(
        env,
        {"profile": {"name": "so100"}},
        [_result("eager", 6000.0, "fp32", 4000.0), _result("openvino-bf16", 300.0, "bf16", 1000.0)],
    )
    text = render_table(rs)
    floor_row = next(line for line in text.splitlines() if line.startswith("Refill / floor"))
    assert floor_row.split()[-5:] == ["1.5", "x", "below:", "floor", "wrong"]
    assert "0.3 x" not in text
    precision_row = next(line for line in text.splitlines() if line.startswith("Floor precision"))
    assert precision_row.split()[-2:] == ["fp32", "bf16"]
    assert (
        "ACT+openvino-bf16: refill median 300 ms is below its bf16 floor of 1e+03 ms: the floor is wrong "
        "(a peak measured below what this variant reached), so no multiple of it is shown"
    ) in text
    assert (
        "ACT: peak matrix-product rates on this device by precision: fp32 100 GFLOP/s, bf16 400 GFLOP/s "
        "(amx_bf16); each variant's floor uses the rate of its own precision"
    ) in text
    assert "ACT+openvino-bf16 refill floor (bf16) 1e+03 ms = max(400 GFLOP / 400 GFLOP/s" in text


def test_the_roofline_of_a_file_reads_its_precision_and_rates():
    rl = _result("bf16", 300.0, "bf16", 1000.0).roofline
    assert read_roofline(rl, "act: roofline") == rl
    with pytest.raises(UsageError, match="act: roofline.precision is 'bf 16'; must be a precision's name"):
        read_roofline({**rl, "precision": "bf 16"}, "act: roofline")
    with pytest.raises(UsageError, match="roofline.peak_flops_by_precision.bf16 is -1; must be a rate"):
        read_roofline({**rl, "peak_flops_by_precision": {"bf16": -1}}, "act: roofline")
