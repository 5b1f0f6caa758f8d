"""Runtime variants on real (tiny) LeRobot policies: what is exported, equivalence, the manifest.
Structure and tolerances only, never speed."""

from __future__ import annotations

import json

import pytest
from small_configs import TINY_ACT, TINY_DIFFUSION

from policybench.settings import RunSettings, parse_override
from policybench.profiles import PROFILES, customize_profile
from policybench.results import OK, SKIPPED
from policybench.orchestrate.run import run_benchmark

pytestmark = pytest.mark.slow


def _run(policy, overrides, variants, export_dir=None):
    cfg = RunSettings(
        policies=[policy],
        profile=PROFILES["pusht"],
        refills=2,
        warmup=1,
        variants=variants,
        overrides=[parse_override(o) for o in overrides],
        export_dir=export_dir,
    )
    return {r.variant: r for r in run_benchmark(cfg, "cpu", environment={}).results}


def test_act_refill_exported_whole_runs_on_each_runtime_and_is_saved(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("openvino")
    rs = _run("act", TINY_ACT, ["eager", "onnxruntime", "openvino", "openvino-bf16", "tensorrt"], str(tmp_path))
    assert rs["tensorrt"].status == SKIPPED and rs["tensorrt"].error == "TensorRT needs a CUDA device"
    for name in ("onnxruntime", "openvino"):
        assert rs[name].status == OK and rs[name].equivalence["rel_error"] <= 1e-4
    bf16 = rs["openvino-bf16"]
    if bf16.status == OK:  # skipped where the CPU has no bf16
        assert bf16.equivalence["tolerance"] == 2e-2 and bf16.export["runtime"]["INFERENCE_PRECISION_HINT"] == "bf16"
    for name in ("onnxruntime", "openvino"):
        r = rs[name]
        assert [s.i for s in r.samples if s.phase == "refill"] == [0, 4]
        assert r.export["module"] == "ACT" and r.export["calls_per_refill"] == 1
        assert r.export["outputs"][0]["shape"] == [1, 4, 2]  # the whole chunk
        assert {i["name"] for i in r.export["inputs"]} == {"batch.observation.state", "batch.observation.images.0"}
        assert r.params == rs["eager"].params and r.roofline["flops"] == rs["eager"].roofline["flops"]
        manifest = json.loads((tmp_path / f"act+{name}.json").read_text())
        assert manifest["equivalence"] == r.equivalence and manifest["runtime"]["name"] == name
        assert (tmp_path / manifest["model"]).stat().st_size == r.export["onnx_bytes"]


def test_diffusion_whole_refill_is_one_graph_with_eagers_noise_on_each_runtime():
    """Diffusion's whole refill (observation encoder, every denoising step, scheduler included) is
    one graph called once per refill, its sampling noise drawn in PyTorch as eager draws it: the
    actions are eager's on both runtimes. Two runtimes in one run: the second export must see the
    policy as the first did (an export once left it in training mode, its BatchNorm drifting)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("openvino")
    rs = _run("diffusion", TINY_DIFFUSION, ["eager", "openvino", "onnxruntime"])
    for name in ("openvino", "onnxruntime"):
        r = rs[name]
        assert r.status == OK, r.error
        assert r.equivalence["rel_error"] <= 1e-4, (name, r.equivalence)  # the same sampling noise as eager
        assert r.export["calls_per_refill"] == 1 and r.export["exported"].startswith("the whole refill")
        names = [i["name"] for i in r.export["inputs"]]
        assert names == ["batch.observation.state", "batch.observation.images", "noise", "step_noise"]
        step_noise = r.export["inputs"][3]["shape"]
        assert step_noise == [2, 1, 8, 2]  # DDPM draws at every timestep but the last: 3 steps, 2 draws
        assert r.params == rs["eager"].params


def test_smolvlas_whole_refill_is_one_graph_exported_by_dynamo():
    """SmolVLA (full size, 450 M; images are resized to 512x512 whatever the camera) with its whole
    refill (vision encoder, prefix pass into the KV cache, denoising steps) exported by the dynamo
    exporter as one graph: one call per refill, the initial noise an input, actions as eager's."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    cfg = RunSettings(
        policies=["smolvla"],
        profile=customize_profile(PROFILES["so100"], image_size=(96, 96)),
        refills=1,
        warmup=0,
        variants=["eager", "onnxruntime"],
        overrides=[parse_override("smolvla.num_steps=2")],
    )
    rs = {r.variant: r for r in run_benchmark(cfg, "cpu", environment={}).results}
    r = rs["onnxruntime"]
    assert r.status == OK, r.error
    assert r.equivalence["rel_error"] <= 1e-4
    assert r.export["calls_per_refill"] == 1
    assert r.export["exporter"].startswith("torch.onnx.export (dynamo)")
    assert r.export["exported"].startswith("the whole refill")
    inputs = {i["name"]: i["shape"] for i in r.export["inputs"]}
    assert inputs["images.0"] == [1, 3, 512, 512] and inputs["noise"] == [1, 50, 32]  # chunk 50, max_action_dim 32


REDUCED = ["bf16-weights", "onnxruntime-int8", "onnxruntime-int8-static", "openvino-int8", "openvino-int8-static"]


def test_act_reduced_precision_variants_run_end_to_end_with_their_floor_and_calibration(tmp_path):
    """The int8 and bf16-weights variants on a small ACT: each runs (or, on a CPU without the
    instructions, says why not), is charged the floor of its precision, goes through the accuracy
    path, and a quantized model is saved with its calibration set named. Accuracy is not asserted:
    the weights are random."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("openvino")
    pytest.importorskip("nncf", reason="nncf is not installed: pip install 'policybench[runtimes]'")
    rs = _run("act", TINY_ACT, ["eager", *REDUCED], str(tmp_path))
    for name in REDUCED:
        r = rs[name]
        if r.status == SKIPPED:  # a CPU without the precision's instructions
            assert "instructions" in r.error and "does not apply here" in r.error, r.error
            continue
        assert r.status == OK, f"{name}: {r.error}"
        assert r.roofline["precision"] == ("bf16" if name == "bf16-weights" else "int8")
        assert r.equivalence["rel_error"] >= 0 and "action_max_diff" in r.equivalence
        assert [s.i for s in r.samples if s.phase == "refill"] == [0, 4]
        if name == "bf16-weights":
            assert not r.export
            continue
        q = r.export["quantization"]
        assert q["model_bytes"] > 0 and q["method"]
        manifest = json.loads((tmp_path / f"act+{name}.json").read_text())
        assert manifest["quantization"] == q and (tmp_path / manifest["model"]).exists()
        if name.endswith("-static"):
            assert q["calibration"]["observations"] == 8 and q["calibration"]["calls"] == 8  # one ACT call a refill
            assert q["calibration"]["name"].startswith("synthetic: 8 observations")
    assert rs["eager"].params == rs["bf16-weights"].params
