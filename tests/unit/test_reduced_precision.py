"""Reduced-precision variants that use the hardware (issue 31 item 3): int8 through ONNX Runtime's
quantizer and NNCF, bf16 with the weights cast. Their precision and floor, their skip on a CPU
without the instructions (fake flags, never this machine's), the cast's round trip, the
calibration set, and a run on a tiny ACT-shaped policy where the quantizers are installed.
Structure and exact figures only, no timing."""

from __future__ import annotations

import json

import pytest
import torch
from fakes import TINY_CHUNK as N
from fakes import TinyAct, run_on_fake_clock

from policybench.observations import VECTOR, InputSpec
from policybench.policies.lerobot_policies import FAMILIES, LeRobotPolicy
from policybench.profiles import PROFILES
from policybench.results import OK, SKIPPED
from policybench.settings import RunSettings
from policybench.variants import VARIANTS, parse_variants, runtimes
from policybench.variants.calibration import record_inputs, synthetic_calibration
from policybench.variants.cast import CastPolicy
from policybench.variants.equivalence import first_chunk
from policybench.variants.runtimes import INSTALL, runtime_problem
from policybench.variants.strategies import make_variant, skip_reason

INT8 = ["onnxruntime-int8", "onnxruntime-int8-static", "openvino-int8", "openvino-int8-static"]
CALIBRATED = ["onnxruntime-int8-static", "openvino-int8-static"]
NO_VNNI = ["avx", "avx2", "avx512f", "avx512_bf16", "fma"]  # bf16 but no int8 instructions
NO_BF16 = ["avx", "avx2", "avx512f", "avx512_vnni", "fma"]
SPECS = [InputSpec("observation.state", VECTOR, (2,))]


def _adapter() -> LeRobotPolicy:
    return LeRobotPolicy(FAMILIES["act"], TinyAct(), SPECS)


def _obs(value: float = 1.0) -> dict[str, torch.Tensor]:
    return {"observation.state": torch.tensor([[value, -2.0 * value]])}


# ----------------------------------------------------------------------------- the table


def test_the_new_variants_declare_how_they_reduce_precision():
    assert {n: VARIANTS[n].precision for n in [*INT8, "bf16-weights"]} == {
        **{n: "int8" for n in INT8},
        "bf16-weights": "bf16",
    }
    assert [n for n in VARIANTS if VARIANTS[n].calibrated] == CALIBRATED
    assert {n: VARIANTS[n].quantize for n in INT8} == {
        "onnxruntime-int8": "dynamic",
        "onnxruntime-int8-static": "static",
        "openvino-int8": "weights",
        "openvino-int8-static": "static",
    }
    assert VARIANTS["bf16-weights"].cast_weights and not VARIANTS["bf16"].cast_weights
    assert parse_variants("openvino-int8,bf16-weights") == ["eager", "bf16-weights", "openvino-int8"]
    assert all(n in parse_variants("auto") for n in [*INT8, "bf16-weights"])


def test_each_is_skipped_with_the_reason_on_a_cpu_without_its_instructions():
    adapter = _adapter()
    for name in INT8:
        why = skip_reason(VARIANTS[name], adapter, "cpu", NO_VNNI)
        assert why == (
            "this CPU has no int8 instructions (amx_int8 or avx512_vnni or avx_vnni not among its flags): "
            "int8 is emulated, so it does not apply here"
        )
    assert "no bfloat16 instructions" in skip_reason(VARIANTS["bf16-weights"], adapter, "cpu", NO_BF16)
    assert skip_reason(VARIANTS["bf16-weights"], adapter, "cpu", NO_VNNI) is None
    assert skip_reason(VARIANTS["bf16-weights"], adapter, "cpu", ["amx_bf16"]) is None


def test_a_runtime_int8_variant_names_what_is_missing(monkeypatch):
    adapter = _adapter()
    monkeypatch.setattr(runtimes, "installed", lambda package: package != "nncf")
    monkeypatch.setattr(runtimes, "openvino_capabilities", lambda: ["FP32", "INT8"])
    for name in ("openvino-int8", "openvino-int8-static"):
        assert runtime_problem(VARIANTS[name], adapter, "cpu") == (
            f"nncf is not installed (it quantizes for OpenVINO): {INSTALL}"
        )
    assert runtime_problem(VARIANTS["onnxruntime-int8-static"], adapter, "cpu") is None  # its own quantizer
    assert runtime_problem(VARIANTS["openvino"], adapter, "cpu") is None
    monkeypatch.setattr(runtimes, "installed", lambda package: True)
    assert runtime_problem(VARIANTS["openvino-int8"], adapter, "cpu") is None
    monkeypatch.setattr(runtimes, "openvino_capabilities", lambda: ["FP32", "BF16"])
    assert runtime_problem(VARIANTS["openvino-int8"], adapter, "cpu") == (
        "OpenVINO finds no int8 support on this CPU (it finds FP32, BF16)"
    )
    assert "runs here on the CPU" in runtime_problem(VARIANTS["onnxruntime-int8"], adapter, "cuda")


# ----------------------------------------------------------------------------- bf16 with the weights cast


def test_bf16_weights_runs_every_weight_in_bf16_and_puts_the_fp32_ones_back():
    adapter = _adapter()
    lin = adapter.policy.model.lin
    weight = lin.weight.data
    wrapper = make_variant(adapter, VARIANTS["bf16-weights"], "cpu")
    assert isinstance(wrapper, CastPolicy)
    with wrapper:
        assert lin.weight.dtype == torch.bfloat16 and lin.bias.dtype == torch.bfloat16
        chunk = first_chunk(wrapper, _obs(), 0, "cpu")
        assert wrapper.select_action(_obs()).dtype == torch.float32
    assert lin.weight.dtype == torch.float32 and lin.weight.data_ptr() == weight.data_ptr()  # not rounded
    with torch.no_grad():
        expected = lin(_obs()["observation.state"]).view(N, 2)
        bf16 = (
            torch.nn.functional.linear(
                _obs()["observation.state"].bfloat16(), lin.weight.bfloat16(), lin.bias.bfloat16()
            )
            .float()
            .view(N, 2)
        )
    assert torch.equal(chunk, bf16) and torch.allclose(chunk, expected, rtol=2e-2, atol=2e-2)


def test_bf16_weights_leaves_integer_inputs_as_they_are():
    adapter = _adapter()
    seen: list[dict] = []
    adapter.policy.model.register_forward_pre_hook(lambda m, args: seen.append(dict(args[0])))
    with CastPolicy(adapter, VARIANTS["bf16-weights"]) as wrapper:
        wrapper.select_action({**_obs(), "tokens": torch.tensor([[3, 4]])})
    assert seen[0]["observation.state"].dtype == torch.bfloat16 and seen[0]["tokens"].dtype == torch.int64


# ----------------------------------------------------------------------------- the calibration set


def test_the_synthetic_calibration_set_is_named_and_never_holds_the_compared_observation():
    cal = synthetic_calibration(SPECS, "cpu", seed=5, extra={"task": torch.tensor([[1, 2]])}, size=3)
    assert cal.seeds == [6, 7, 8] and len(cal.observations) == 3
    assert cal.name == "synthetic: 3 observations drawn as the run's (seeds 6-8), not the one compared"
    assert all(torch.equal(o["task"], torch.tensor([[1, 2]])) for o in cal.observations)
    from policybench.observations import synthetic_observation

    run_obs = synthetic_observation(SPECS, "cpu", 5)
    assert not any(torch.equal(o["observation.state"], run_obs["observation.state"]) for o in cal.observations)
    assert cal.describe(calls=6) == {"name": cal.name, "observations": 3, "seeds": [6, 7, 8], "calls": 6}


def test_recording_the_module_inputs_leaves_the_rng_and_the_queue_as_they_were():
    adapter = _adapter()
    cal = synthetic_calibration(SPECS, "cpu", seed=0, size=2)
    before = torch.random.get_rng_state()
    calls = record_inputs(adapter.policy.model, adapter.predict_chunk, cal, "cpu")
    assert torch.equal(torch.random.get_rng_state(), before)
    assert len(calls) == 2 and adapter.queued_actions() == 0
    (args, kwargs), obs = calls[0], cal.observations[0]
    assert kwargs == {} and torch.equal(args[0]["observation.state"], obs["observation.state"])


# ----------------------------------------------------------------------------- a run


def _run(monkeypatch, variants, flags, export_dir=None, calibration=None):
    from policybench.measure import variants as measure

    asked: list[list[str]] = []

    def fake_rates(device, clock, precisions, size=None, repeats=5):
        asked.append(list(precisions))
        return {p: {"bf16": 4e11, "int8": 1.6e12}[p] for p in precisions if p != "fp32"}

    monkeypatch.setattr(measure, "device_peaks", lambda device, clock: {"peak_flops": 1e11, "peak_bytes_per_s": 1e10})
    monkeypatch.setattr(measure, "precision_peaks", fake_rates)
    monkeypatch.setattr(measure, "cpu_vector_flags", lambda: flags)
    cfg = RunSettings(
        policies=["act"],
        profile=PROFILES["pusht"],
        refills=2,
        warmup=1,
        variants=variants,
        export_dir=export_dir,
        calibration=calibration,
    )
    results, warnings = run_on_fake_clock(cfg, _adapter)
    return {r.variant: r for r in results.results}, asked, warnings


def test_a_run_on_a_cpu_without_vnni_skips_the_int8_variants_and_measures_no_int8_peak(monkeypatch):
    rs, asked, _ = _run(monkeypatch, ["eager", *INT8, "bf16-weights"], NO_VNNI)
    assert all(rs[n].status == SKIPPED and "no int8 instructions" in rs[n].error for n in INT8)
    assert asked == [["fp32", "bf16"]]
    bf16 = rs["bf16-weights"]
    assert bf16.status == OK and bf16.roofline["precision"] == "bf16" and bf16.roofline["peak_flops"] == 4e11
    assert bf16.equivalence["equivalent"] and bf16.equivalence["tolerance"] == 2e-2


def _needs(variant: str) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip(VARIANTS[variant].runtime or "")
    if VARIANTS[variant].runtime == "openvino":
        pytest.importorskip("nncf", reason="nncf is not installed: pip install 'policybench[runtimes]'")


@pytest.mark.parametrize("name", INT8)
def test_each_int8_variant_runs_is_charged_the_int8_floor_and_saves_what_it_ran(monkeypatch, tmp_path, name):
    _needs(name)
    rs, asked, warnings = _run(monkeypatch, ["eager", name], [*NO_VNNI, "avx512_vnni"], str(tmp_path))
    r = rs[name]
    assert r.status == OK, r.error
    assert asked == [["fp32", "int8"]] and r.roofline["precision"] == "int8" and r.roofline["peak_flops"] == 1.6e12
    assert r.roofline["weight_bytes_read"] == rs["eager"].roofline["weight_bytes_read"] / 4
    assert [s.i for s in r.samples if s.phase == "refill"] == [0, N]
    assert "rel_error" in r.equivalence and "action_max_diff" in r.equivalence  # the accuracy path of every variant
    q = r.export["quantization"]
    assert q["tool"].startswith("nncf 3." if "openvino" in name else "onnxruntime.quantization")
    assert q["seconds"] > 0 and q["model_bytes"] > 0
    if VARIANTS[name].calibrated:
        assert q["calibration"]["name"].startswith("synthetic: 8 observations drawn as the run's (seeds 1-8)")
        assert q["calibration"]["calls"] == 8  # one refill each, one model call per refill
    else:
        assert "calibration" not in q
    manifest = json.loads((tmp_path / f"act+{name}.json").read_text())
    assert manifest["quantization"] == q and manifest["variant"] == name
    model = tmp_path / manifest["model"]
    x = _obs().__getitem__("observation.state").numpy()
    if name.startswith("openvino"):
        import openvino as ov

        assert model.suffix == ".xml" and manifest["weights_file"] == f"act+{name}.bin"
        out = ov.Core().compile_model(str(model), "CPU")({"batch.observation.state": x})[0]
    else:
        import onnxruntime

        assert model.suffix == ".onnx"
        out = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(
            None, {"batch.observation.state": x}
        )[0]
    assert out.shape == (1, N, 2)


# ----------------------------------------------------------------------------- --calibration FILE


def test_calibration_needs_a_variant_that_calibrates_and_a_file(tmp_path):
    from policybench.errors import UsageError

    path = tmp_path / "obs.pt"
    torch.save([_obs(1.0)], path)
    with pytest.raises(UsageError, match="^calibration is what the statically quantized variants calibrate on"):
        RunSettings(policies=["act"], variants=["eager", "onnxruntime-int8"], calibration=str(path))
    with pytest.raises(UsageError, match="no such file"):
        RunSettings(policies=["act"], variants=["eager", "openvino-int8-static"], calibration=str(tmp_path / "x"))
    cfg = RunSettings(policies=["act"], variants=["eager", "openvino-int8-static"], calibration=str(path))
    assert cfg.record()["calibration"] == str(path)
    assert RunSettings.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg


def test_the_cli_says_a_missing_calibration_file_by_its_flag(tmp_path, capsys):
    from policybench.cli import main

    missing = tmp_path / "none.pt"
    argv = ["run", "--policies", "act", "--variant", "onnxruntime-int8-static", "--calibration", str(missing)]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"policybench: error: --calibration {missing}: no such file"


def test_recorded_observations_are_held_to_the_runs(tmp_path):
    from policybench.variants.calibration import CalibrationRefused, recorded_calibration

    good = tmp_path / "good.pt"
    torch.save([_obs(1.0), _obs(2.0), _obs(3.0)], good)
    cal = recorded_calibration(str(good), _obs(), "cpu", seed=0)
    assert cal.name == f"recorded: 3 observations from {good}" and cal.seeds == [1, 2, 3]
    assert torch.equal(cal.observations[1]["observation.state"], _obs(2.0)["observation.state"])
    wrong = tmp_path / "wrong.pt"
    torch.save([{"observation.state": torch.zeros(1, 3)}], wrong)
    with pytest.raises(
        CalibrationRefused, match=r"observation 0 has observation.state \(1, 3\); the run's is \(1, 2\)"
    ):
        recorded_calibration(str(wrong), _obs(), "cpu", seed=0)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a tensor file")
    with pytest.raises(CalibrationRefused, match="cannot be read as torch.save'd tensors"):
        recorded_calibration(str(junk), _obs(), "cpu", seed=0)
    empty = tmp_path / "empty.pt"
    torch.save([], empty)
    with pytest.raises(CalibrationRefused, match="must hold a non-empty list of observation dicts"):
        recorded_calibration(str(empty), _obs(), "cpu", seed=0)


def test_a_run_calibrates_on_the_recorded_observations_and_names_them(monkeypatch, tmp_path):
    _needs("onnxruntime-int8-static")
    path = tmp_path / "obs.pt"
    torch.save([_obs(v) for v in (0.5, -1.0, 2.0)], path)
    flags = [*NO_VNNI, "avx512_vnni"]
    rs, _, _ = _run(monkeypatch, ["eager", "onnxruntime-int8-static"], flags, calibration=str(path))
    assert rs["onnxruntime-int8-static"].export["quantization"]["calibration"] == {
        "name": f"recorded: 3 observations from {path}",
        "observations": 3,
        "seeds": [1, 2, 3],
        "calls": 3,
    }
    torch.save([{"observation.state": torch.zeros(1, 5)}], path)
    rs, _, _ = _run(monkeypatch, ["eager", "onnxruntime-int8-static", "onnxruntime-int8"], flags, calibration=str(path))
    assert (
        rs["onnxruntime-int8-static"].status == SKIPPED and "the run's is (1, 2)" in rs["onnxruntime-int8-static"].error
    )
    assert rs["onnxruntime-int8"].status == OK  # needs no calibration


def test_a_calibration_file_that_is_no_regular_file_or_too_long_is_refused_in_one_line(tmp_path, monkeypatch):
    """A FIFO would block torch.load for ever; too many observations would run for ever."""
    import os

    import torch

    from policybench.variants import calibration
    from policybench.variants.calibration import CalibrationRefused, recorded_calibration

    fifo = tmp_path / "calibration.pt"
    os.mkfifo(fifo)
    with pytest.raises(CalibrationRefused, match="--calibration calibration.pt: .*(FIFO|not a regular file)"):
        recorded_calibration(str(fifo), _obs(), "cpu", seed=0)
    many = tmp_path / "many.pt"
    torch.save([_obs()] * 3, many)
    monkeypatch.setattr(calibration, "MAX_CALIBRATION_BYTES", 100)
    with pytest.raises(CalibrationRefused, match=r"^--calibration many.pt: larger than .* MB: not a calibration set"):
        recorded_calibration(str(many), _obs(), "cpu", seed=0)
    monkeypatch.undo()
    monkeypatch.setattr(calibration, "MAX_CALIBRATION_OBSERVATIONS", 2)
    with pytest.raises(CalibrationRefused, match="holds 3 observations; at most 2"):
        recorded_calibration(str(many), _obs(), "cpu", seed=0)
