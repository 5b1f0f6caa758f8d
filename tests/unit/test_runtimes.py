"""Runtime variants (variants/runtimes.py) on a tiny LeRobot-shaped policy: skip reasons, export, the
stand-in module, the runner's record and the --export manifest. Deterministic, no timing; the
tests that run a runtime skip where its package is not installed."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import pytest
import torch
from fakes import TINY_CHUNK as N
from fakes import TinyAct

from policybench.clock import Clock
from policybench.settings import RunSettings
from policybench.errors import UsageError
from policybench.measure.loop import run_steady_state
from policybench.observations import VECTOR, InputSpec
from policybench.policies.lerobot_policies import FAMILIES, LeRobotPolicy
from policybench.profiles import PROFILES
from policybench.results import OK, SKIPPED
from policybench.variants import VARIANTS, parse_variants, runtimes
from policybench.variants.export import Flattened
from policybench.variants.manifest import save_export
from policybench.variants.runtimes import INSTALL, ExportFailed, RuntimePolicy, runtime_problem

RUNTIMES = {"onnxruntime": "onnxruntime", "openvino": "openvino", "openvino-bf16": "openvino"}


def _adapter(unexportable: bool = False) -> LeRobotPolicy:
    return LeRobotPolicy(FAMILIES["act"], TinyAct(unexportable), [InputSpec("observation.state", VECTOR, (2,))])


def _obs(value: float = 1.0) -> dict[str, torch.Tensor]:
    return {"observation.state": torch.tensor([[value, -2.0 * value]])}


def _needs(variant: str) -> None:
    pytest.importorskip(RUNTIMES[variant])


def test_runtime_variants_run_after_compile_and_before_the_captures():
    assert parse_variants("cudagraph,openvino,onnxruntime") == ["eager", "onnxruntime", "openvino", "cudagraph"]
    assert parse_variants("all")[6:14] == [
        "onnxruntime",
        "openvino",
        "openvino-bf16",
        "onnxruntime-int8",
        "onnxruntime-int8-static",
        "openvino-int8",
        "openvino-int8-static",
        "tensorrt",
    ]


def test_skip_reasons(monkeypatch):
    adapter = _adapter()
    monkeypatch.setattr(runtimes, "installed", lambda package: False)
    assert runtime_problem(VARIANTS["onnxruntime"], adapter, "cpu") == f"onnxruntime is not installed: {INSTALL}"
    assert runtime_problem(VARIANTS["openvino"], adapter, "cpu") == f"openvino is not installed: {INSTALL}"
    assert runtime_problem(VARIANTS["tensorrt"], adapter, "cpu") == "TensorRT needs a CUDA device"
    assert runtime_problem(VARIANTS["tensorrt"], adapter, "cuda") == "TensorRT is not installed: pip install tensorrt"
    assert "measure it with --device cpu" in runtime_problem(VARIANTS["openvino"], adapter, "cuda")
    monkeypatch.setattr(runtimes, "installed", lambda package: package != "onnx")
    assert runtime_problem(VARIANTS["openvino"], adapter, "cpu") == f"onnx is not installed: {INSTALL}"

    monkeypatch.setattr(runtimes, "installed", lambda package: True)
    assert runtime_problem(VARIANTS["onnxruntime"], adapter, "cpu") is None
    vqbet = LeRobotPolicy(FAMILIES["vqbet"], TinyAct(), [])
    assert runtime_problem(VARIANTS["onnxruntime"], vqbet, "cpu") == (
        "VQ-BeT is not exported: no export path is known for this policy type"
    )
    smolvla = LeRobotPolicy(FAMILIES["smolvla"], TinyAct(), [])
    assert runtime_problem(VARIANTS["onnxruntime"], smolvla, "cpu") is None
    monkeypatch.setattr(runtimes, "installed", lambda package: package != "onnxscript")
    assert runtime_problem(VARIANTS["onnxruntime"], smolvla, "cpu") == f"onnxscript is not installed: {INSTALL}"
    assert runtime_problem(VARIANTS["onnxruntime"], adapter, "cpu") is None  # ACT: the TorchScript exporter
    monkeypatch.setattr(runtimes, "installed", lambda package: True)
    monkeypatch.setattr(runtimes, "openvino_capabilities", lambda: ["FP32", "INT8"])
    assert runtime_problem(VARIANTS["openvino"], adapter, "cpu") is None
    assert (
        runtime_problem(VARIANTS["openvino-bf16"], adapter, "cpu")
        == "OpenVINO finds no bfloat16 support on this CPU (it finds FP32, INT8)"
    )


@pytest.mark.parametrize("variant", list(RUNTIMES))
def test_steps_pop_from_the_queue_and_refills_run_the_exported_graph(variant):
    _needs(variant)
    adapter = _adapter()
    model = adapter.policy.model
    with RuntimePolicy(adapter, VARIANTS[variant]) as rt:
        stand_in = adapter.policy.model
        assert stand_in is not model and stand_in.original is model
        eager_calls = None
        for value in (1.0, -2.0, 3.5):  # a new observation at each refill
            actions = [rt.select_action(_obs(value)) for _ in range(N)]
            eager_calls = model.calls if eager_calls is None else eager_calls
            with torch.no_grad():
                expected = model.lin(_obs(value)["observation.state"]).view(N, 2)
            assert torch.allclose(torch.cat(actions), expected, rtol=0, atol=VARIANTS[variant].tolerance * 10)
        assert model.calls == eager_calls  # after the export, no refill runs the PyTorch module
        assert stand_in.calls == 3

        loop = run_steady_state(
            rt, _obs(), Clock(now=iter(range(10**6)).__next__), refills=3, warmup=1, max_seconds=60.0
        )
        refills = [s.i for s in loop.samples if s.phase == "refill"]
        assert len(refills) == 3 and {b - a for a, b in zip(refills, refills[1:])} == {N}
    assert adapter.policy.model is model  # put back on exit


def test_the_stand_in_keeps_the_module_for_the_eval_walk_and_the_counts():
    adapter = _adapter()
    modules, params = len(list(adapter.policy.modules())), adapter.parameter_count()
    with RuntimePolicy(adapter, VARIANTS["onnxruntime"]):
        assert adapter.parameter_count() == params
        assert len(list(adapter.policy.modules())) == modules + 1  # the stand-in, around the original


def test_an_unexportable_module_is_a_skip_with_the_exporters_reason(capfd):
    pytest.importorskip("onnxruntime")
    adapter = _adapter(unexportable=True)
    with RuntimePolicy(adapter, VARIANTS["onnxruntime"]) as rt:
        with pytest.raises(ExportFailed) as failure:
            rt.select_action(_obs())
    assert str(failure.value) == (
        "torch.onnx.export (TorchScript) failed: UnsupportedOperatorError: Exporting the operator "
        "'aten::linalg_svd' to ONNX opset version 17 is not supported"
    )
    assert "Torch IR graph" not in capfd.readouterr().out  # the exporter's dump kept off the table's stream


def test_the_stand_in_hands_out_plain_attributes_of_the_original_but_not_its_parts():
    adapter = _adapter()
    model = adapter.policy.model
    model.dtype_seen = torch.float32
    with RuntimePolicy(adapter, VARIANTS["onnxruntime"]):
        stand_in = adapter.policy.model
        assert stand_in.dtype_seen is torch.float32 and stand_in.unexportable is False
        with pytest.raises(AttributeError, match="TinyModel.lin is part of the exported module"):
            stand_in.lin  # noqa: B018 - the read is what raises
        with pytest.raises(AttributeError):
            stand_in.no_such_attribute  # noqa: B018


def test_the_arguments_are_named_by_their_place_and_rebuilt():
    call = Flattened.of(
        {"batch": {"observation.state": torch.zeros(1, 2), "images": [torch.ones(1, 3)], "task": "pick"}, "noise": None}
    )
    assert call.names == ["batch.observation.state", "batch.images.0"]
    rebuilt = call.rebuild([torch.full((1, 2), 5.0), torch.full((1, 3), 7.0)])
    assert rebuilt["batch"]["task"] == "pick" and rebuilt["noise"] is None
    assert rebuilt["batch"]["images"][0][0, 0] == 7.0
    with pytest.raises(RuntimeError, match="other arguments than at export"):
        call.tensors({"batch": {}, "noise": None})


def test_an_export_leaves_every_submodule_in_the_mode_it_found(tmp_path):
    """The TorchScript exporter puts back the training mode of the wrapper it is given, recursively:
    a policy in eval mode came back in training mode, and its BatchNorm then moved its statistics
    on every later refill (a second export of Diffusion's whole refill gave other actions)."""
    pytest.importorskip("onnx")
    from policybench.variants.export import bound_arguments, export_onnx

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Dropout(0.5))
    model.eval()
    model[2].train()  # a mixed tree stays mixed
    x = torch.rand(1, 3, 8, 8)
    signature, arguments = bound_arguments(model, (x,), {})
    export_onnx(model, signature, Flattened.of(arguments), arguments, str(tmp_path / "m.onnx"), "torchscript")
    assert [m.training for m in model.modules()] == [False, False, False, True]
    statistics = model[1].running_mean.clone()
    model(torch.rand(1, 3, 8, 8) * 10)
    assert torch.equal(model[1].running_mean, statistics)


def _run(tmp_path, monkeypatch, variants, export_dir=None):
    from policybench.orchestrate.run import run_benchmark
    from policybench.measure import variants as measure

    monkeypatch.setattr(measure, "device_peaks", lambda device, clock: {"peak_flops": 1e9, "peak_bytes_per_s": 1e9})
    cfg = RunSettings(
        policies=["act"], profile=PROFILES["pusht"], refills=2, warmup=1, variants=variants, export_dir=export_dir
    )
    warnings: list[str] = []
    build = lambda name, profile, overrides, device, seed=0: _adapter()  # noqa: E731
    results = run_benchmark(
        cfg, "cpu", clock=Clock(now=iter(range(10**6)).__next__), environment={}, build=build, warn=warnings.append
    )
    return {r.variant: r for r in results.results}, warnings


def test_the_run_records_the_export_and_saves_the_model_with_its_manifest(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    folder = tmp_path / "models"
    rs, _ = _run(tmp_path, monkeypatch, ["eager", "onnxruntime", "tensorrt"], str(folder))
    r = rs["onnxruntime"]
    assert r.status == OK and r.name == "act+onnxruntime" and r.equivalence["equivalent"]
    assert [s.i for s in r.samples if s.phase == "refill"] == [0, N]
    assert rs["tensorrt"].status == SKIPPED and rs["tensorrt"].error == "TensorRT needs a CUDA device"
    export = r.export
    assert export["calls_per_refill"] == 1 and export["export_seconds"] > 0 and export["module"] == "TinyModel"
    assert export["inputs"] == [{"name": "batch.observation.state", "shape": [1, 2], "dtype": "float32"}]
    assert export["outputs"] == [{"name": "output.0", "shape": [1, N, 2], "dtype": "float32"}]
    assert export["saved"] == [str(folder / "act+onnxruntime.onnx"), str(folder / "act+onnxruntime.json")]

    manifest = json.loads((folder / "act+onnxruntime.json").read_text())
    assert manifest["sha256"] == hashlib.sha256((folder / "act+onnxruntime.onnx").read_bytes()).hexdigest()
    assert manifest["equivalence"] == r.equivalence and manifest["inputs"] == export["inputs"]
    assert manifest["runtime"]["name"] == "onnxruntime" and manifest["runtime"]["version"]
    assert manifest["policy"] == "act+onnxruntime" and manifest["model"] == "act+onnxruntime.onnx"
    assert manifest["exported"].startswith("the whole refill") and manifest["config"] == r.config

    import onnxruntime

    session = onnxruntime.InferenceSession(str(folder / "act+onnxruntime.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["batch.observation.state"]


def test_a_model_with_external_data_is_saved_with_its_weights_under_its_own_name(tmp_path):
    """The dynamo exporter puts large weights in ``model.onnx.data`` beside ``model.onnx`` (pi0's
    vision tower, 1.6 GB): the saved model names its own data file, so that two variants saved
    into one folder do not share one, and it still runs."""
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weight = np.arange(600, dtype=np.float32).reshape(2, 300)  # over the 1 KB that onnx keeps inline
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 300])],
        [numpy_helper.from_array(weight, "w")],
    )
    exported = tmp_path / "export"
    exported.mkdir()
    onnx.save_model(
        helper.make_model(graph),
        str(exported / "model.onnx"),
        save_as_external_data=True,
        location="model.onnx.data",
        size_threshold=0,
    )
    assert (exported / "model.onnx.data").exists()
    result = SimpleNamespace(
        name="pi0+openvino", variant="openvino", source="lerobot", config={}, equivalence={"rel_error": 0.0}
    )

    folder = tmp_path / "models"
    saved = save_export(str(exported / "model.onnx"), str(folder), result, {"module": "M"})
    assert saved == [
        str(folder / "pi0+openvino.onnx"),
        str(folder / "pi0+openvino.onnx.data"),
        str(folder / "pi0+openvino.json"),
    ]
    assert json.loads((folder / "pi0+openvino.json").read_text())["external_data"] == "pi0+openvino.onnx.data"
    manifest = json.loads((folder / "pi0+openvino.json").read_text())
    data = (folder / "pi0+openvino.onnx.data").read_bytes()
    assert len(data) == weight.nbytes and (folder / "pi0+openvino.onnx").stat().st_size < weight.nbytes
    assert manifest["external_data_sha256"] == hashlib.sha256(data).hexdigest()
    save_export(str(exported / "model.onnx"), str(folder), result, {"module": "M"})  # again: replaced
    assert (folder / "pi0+openvino.onnx.data").read_bytes() == data
    (exported / "model.onnx.data").unlink()  # the saved model reads its own copy
    session = onnxruntime.InferenceSession(str(folder / "pi0+openvino.onnx"), providers=["CPUExecutionProvider"])
    x = np.array([[1.0, 2.0]], dtype=np.float32)
    assert np.allclose(session.run(None, {"x": x})[0], x @ weight)


def test_an_export_folder_that_cannot_be_written_is_a_warning_and_the_variant_is_measured(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    blocker = tmp_path / "file"
    blocker.write_text("")
    rs, warnings = _run(tmp_path, monkeypatch, ["eager", "onnxruntime"], str(blocker / "models"))
    assert rs["onnxruntime"].status == OK and rs["onnxruntime"].export["saved"] is None
    assert len(warnings) == 1 and warnings[0].startswith(
        f"act+onnxruntime: --export {blocker / 'models'}: cannot write"
    )


def test_a_failed_export_is_skipped_and_the_run_goes_on(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(runtimes, "SESSIONS", {"onnxruntime": _broken_session})
    rs, warnings = _run(tmp_path, monkeypatch, ["eager", "onnxruntime", "noeval"])
    assert rs["onnxruntime"].status == SKIPPED
    assert rs["onnxruntime"].error == "ONNX Runtime could not load the exported model: RuntimeError: no kernel for Gemm"
    assert rs["noeval"].status == OK and rs["eager"].status == OK


def test_a_policys_runtime_variants_share_one_export(tmp_path, monkeypatch):
    """The fp32 export is the same file for every runtime variant of a policy (SmolVLA's whole refill
    took minutes to export): made once, each later variant links it into its own folder, says whose
    it reused, and runs, quantizes and saves it as its own."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("openvino")
    made: list[str] = []
    real = runtimes.export_onnx

    def counted(module, signature, call, arguments, path, exporter):
        """The export, its weights then moved to a data file beside it, as torch writes a large
        model's (onnx refuses such a file where it has more than one hard link)."""
        import onnx

        made.append(path)
        exported = real(module, signature, call, arguments, path, exporter)
        model = onnx.load(path)
        onnx.save_model(model, path, save_as_external_data=True, location="model.onnx.data", size_threshold=0)
        return exported

    monkeypatch.setattr(runtimes, "export_onnx", counted)
    folder = tmp_path / "models"
    rs, _ = _run(tmp_path, monkeypatch, ["eager", "onnxruntime", "openvino"], str(folder))
    assert len(made) == 1, made
    first, second = rs["onnxruntime"], rs["openvino"]
    assert first.status == OK and second.status == OK and second.equivalence["equivalent"]
    assert "export_reused_from" not in first.export and first.export["export_seconds"] > 0
    assert second.export["export_reused_from"] == "onnxruntime" and second.export["export_seconds"] == 0
    assert second.export["export_seconds_then"] == first.export["export_seconds"]
    assert second.export["inputs"] == first.export["inputs"] and second.export["outputs"] == first.export["outputs"]
    saved = [(folder / f"act+{name}.onnx").read_bytes() for name in ("onnxruntime", "openvino")]
    assert saved[0] == saved[1]


def test_a_failed_export_fails_the_policys_other_runtime_variants_without_a_second_try(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("openvino")
    tries: list[str] = []

    def fails(module, signature, call, arguments, path, exporter):
        tries.append(path)
        raise RuntimeError("Unsupported: data-dependent control flow")

    monkeypatch.setattr(runtimes, "export_onnx", fails)
    rs, _ = _run(tmp_path, monkeypatch, ["eager", "onnxruntime", "openvino", "noeval"])
    assert len(tries) == 1
    reason = "torch.onnx.export (TorchScript) failed: RuntimeError: Unsupported: data-dependent control flow"
    assert rs["onnxruntime"].status == SKIPPED and rs["onnxruntime"].error.startswith("torch.onnx.export")
    assert rs["openvino"].status == SKIPPED and rs["openvino"].error == rs["onnxruntime"].error
    assert reason.split(": ", 1)[1] in rs["openvino"].error
    assert rs["noeval"].status == OK


def _broken_session(path, variant, outputs):
    raise RuntimeError("no kernel for Gemm\nmore detail")


def test_export_needs_a_runtime_variant_and_travels_to_a_child_process(tmp_path):
    with pytest.raises(UsageError, match="^export_dir saves what a runtime variant exported"):
        RunSettings(policies=["act"], export_dir=str(tmp_path))
    cfg = RunSettings(policies=["act"], variants=["eager", "openvino"], export_dir=str(tmp_path))
    assert RunSettings.from_json(json.loads(json.dumps(cfg.to_json()))) == cfg


def test_an_export_folder_that_is_a_file_is_one_line(tmp_path, capsys):
    from policybench.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["run", "--policies", "noop", "--variant", "onnxruntime", "--export", str(blocker)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"policybench: error: --export {blocker}: is a file, not a folder"]


def test_the_library_takes_export_dir_too(tmp_path):
    from policybench.api import build_config, run

    cfg = build_config("act", variants="onnxruntime", export_dir=str(tmp_path))
    assert cfg.variants == ["eager", "onnxruntime"] and cfg.export_dir == str(tmp_path)
    with pytest.raises(ValueError, match="^export_dir saves what a runtime variant exported: add one with variants"):
        run("noop", export_dir=str(tmp_path))
