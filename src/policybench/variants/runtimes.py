"""Deployment runtimes: a policy's heavy part exported to ONNX and run by ONNX Runtime or OpenVINO.

Which part is exported is each family's own business (``Family.export`` in lerobot_policies.py):
ACT's model forward, i.e. the whole refill; Diffusion's and SmolVLA's whole refill too
(policies/whole_refill.py: the unrolled denoising loop, the sampling noise drawn in PyTorch and
given as inputs); pi0's vision encoder, once per camera. For the variant's lifetime that
module is replaced by a stand-in (``RuntimeModule``). At its first call the stand-in records the
arguments LeRobot passes, exports the module on exactly those shapes (export.py: the TorchScript
exporter, opset 17, or for the vision encoders the dynamo exporter, opset 18), and opens a session
(sessions.py); from then on every call runs the session.
Everything around it is LeRobot's own ``select_action``: a step still pops from the policy's queue
(eval walk included), a refill runs the exported graph. The original module stays a child of the
stand-in, so the eval walk, the parameter count and the roofline are those of eager.

Export and session compilation happen in the variant's first refill (``first_chunk_seconds``
includes them) and are reported apart (``export_seconds``, ``session_seconds``), never as latency
samples. ``RuntimePolicy.finish_export`` records them and, with ``--export DIR``, saves the ONNX
file with a manifest (manifest.py), so that a user deploys exactly what was measured.

An int8 variant quantizes the exported file before the session opens on it (quantize.py); a
statically quantized one first runs eager's refill on each calibration observation
(calibration.py), before the stand-in goes in, recording the inputs the module receives, which
become the calibration feeds. The quantized model is the one run, recorded and saved.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.variants.base import VariantWrapper
from policybench.variants.calibration import Calibration, record_inputs
from policybench.variants.export import Flattened, bound_arguments, export_onnx, exporter_name, exporter_opset, shapes
from policybench.variants.manifest import save_export
from policybench.variants.quantize import Feeds, graph_inputs, quantize_model
from policybench.variants.sessions import SESSIONS, Session, openvino_capabilities
from policybench.variants.table import Variant
from policybench.variants.unavailable import VariantUnavailable, first_line, where

INSTALL = "pip install 'policybench[runtimes]'"
LABELS = {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO", "tensorrt": "TensorRT"}
MODEL_FILE = "model.onnx"


class ExportFailed(VariantUnavailable):
    """The module did not export, or the runtime could not load it; the message is one line."""


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def runtime_problem(variant: Variant, adapter: LeRobotPolicy, device: str) -> str | None:
    """Why ``variant`` (a runtime) cannot run here, or None."""
    runtime = variant.runtime or ""
    label = LABELS[runtime]
    if runtime == "tensorrt":
        if not device.startswith("cuda"):
            return "TensorRT needs a CUDA device"
        if not installed("tensorrt"):
            return "TensorRT is not installed: pip install tensorrt"
        return "policybench does not build TensorRT engines yet"
    if device != "cpu":
        return f"{label} runs here on the CPU, beside eager on the CPU: measure it with --device cpu"
    target = adapter.family.export
    packages = [runtime, "onnx"]  # torch.onnx.export (TorchScript) reads its result back with onnx
    if target.exporter == "dynamo":
        packages.append("onnxscript")  # what the dynamo exporter writes ONNX with
    for package in packages:
        if not installed(package):
            return f"{package} is not installed: {INSTALL}"
    if not target.exports:
        return f"{adapter.family.title()} is not exported: {target.what}"
    if runtime == "openvino" and variant.quantize and not installed("nncf"):
        return f"nncf is not installed (it quantizes for OpenVINO): {INSTALL}"
    if runtime == "openvino" and (variant.dtype == "bfloat16" or variant.quantize):
        found, wanted = openvino_capabilities(), "INT8" if variant.quantize else "BF16"
        if wanted not in found:
            named = "int8" if variant.quantize else "bfloat16"
            return f"OpenVINO finds no {named} support on this CPU (it finds {', '.join(found)})"
    return None


@dataclass
class _Exported:
    folder: str  # a copy of the fp32 export's files, which outlives the variant that made them
    output: Flattened
    example: list[torch.Tensor]
    seconds: float
    by: str  # the variant that exported it


class ExportCache:
    """The fp32 ONNX export of one module on one call's shapes, made once for a policy's runtime
    variants: each later one copies its files into its own folder (quantizing from there) and
    records whose export it reused. A failed export fails every later one at once, with its
    reason. Use it as a context manager around the variants of one built policy."""

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory | None = None
        self._made: dict[tuple, _Exported | ExportFailed] = {}

    def __enter__(self) -> "ExportCache":
        self._folder = tempfile.TemporaryDirectory(prefix="policybench-exports-")
        return self

    def __exit__(self, *exc) -> None:
        if self._folder is not None:
            self._folder.cleanup()
        self._folder, self._made = None, {}

    def get(self, key: tuple) -> "_Exported | None":
        made = self._made.get(key)
        if isinstance(made, ExportFailed):
            raise ExportFailed(str(made))
        return made

    def failed(self, key: tuple, exc: ExportFailed) -> None:
        self._made[key] = exc

    def keep(self, key: tuple, folder: str, output: Flattened, example: list, seconds: float, by: str) -> None:
        if self._folder is None:
            return
        kept = Path(self._folder.name) / str(len(self._made))
        _copy_files(Path(folder), kept)
        self._made[key] = _Exported(str(kept), output, example, seconds, by)


def _copy_files(source: Path, target: Path) -> None:
    """Every file of ``source`` copied into ``target``: copies, not hard links, which onnx refuses
    for external data ("multiple hard links, indicating a potential hardlink attack")."""
    target.mkdir(parents=True, exist_ok=True)
    for f in source.iterdir():
        shutil.copyfile(f, target / f.name)


class RuntimeModule(torch.nn.Module):
    """Stands in for an exported module: its first call exports ``original`` and opens the
    variant's session; every call runs the session. ``calls`` counts the calls."""

    def __init__(
        self,
        original: torch.nn.Module,
        variant: Variant,
        folder: str,
        exporter: str = "torchscript",
        calibration: tuple[Calibration, list[tuple[tuple, dict]]] | None = None,
        exports: ExportCache | None = None,
    ):
        super().__init__()
        self.original = original  # a child, so that eval() walks it and parameters() counts it
        self._variant, self._path, self._exporter = variant, str(Path(folder) / MODEL_FILE), exporter
        self._exports = exports
        self._calibration = calibration  # the set, and the inputs the module received from it
        self._session: Session | None = None
        self._feed: list[tuple[str, int]] = []  # (input name, tensor index) the graph reads
        self.record: dict[str, object] = {}
        self.calls = 0

    def forward(self, *args, **kwargs):
        if self._session is None:
            self._export(args, kwargs)
        self.calls += 1
        tensors = self._call.tensors(dict(self._signature.bind(*args, **kwargs).arguments))  # read once, at export
        outputs = self._session.run({name: tensors[i].detach().cpu().contiguous().numpy() for name, i in self._feed})
        device = tensors[0].device if tensors else torch.device("cpu")
        return self._output.rebuild([torch.from_numpy(o).to(device) for o in outputs])

    def _export(self, args: tuple, kwargs: dict) -> None:
        self._signature, arguments = bound_arguments(self.original, args, kwargs)
        self._call = Flattened.of(arguments)
        tensors = self._call.tensors(arguments)
        # One policy's (the cache is per policy): the same module called with the same structure and shapes.
        shapes_ = tuple((t.shape, t.dtype) for t in tensors)
        key = (type(self.original).__name__, self._exporter, str(self._call.spec), shapes_)
        cache = self._exports if self._exports is not None else ExportCache()
        reused = cache.get(key)
        if reused is not None:  # another runtime variant's export of the same call: its files, copied here
            _copy_files(Path(reused.folder), Path(self._path).parent)
            self._output, example, exported = reused.output, reused.example, 0.0
        else:
            start = time.perf_counter()
            try:
                self._output, example = export_onnx(
                    self.original, self._signature, self._call, arguments, self._path, self._exporter
                )
            except Exception as exc:  # noqa: BLE001 - the exporter's reason becomes the variant's skip reason
                failed = ExportFailed(f"{exporter_name(self._exporter)} failed{where(exc)}: {first_line(exc)}")
                cache.failed(key, failed)
                raise failed from exc
            exported = time.perf_counter() - start
            cache.keep(key, str(Path(self._path).parent), self._output, example, exported, self._variant.name)
        onnx_bytes = sum(f.stat().st_size for f in Path(self._path).parent.iterdir())  # with external data
        label = LABELS[self._variant.runtime or ""]
        quantization = self._quantize(label) if self._variant.quantize else None
        opened = time.perf_counter()
        try:
            session = SESSIONS[self._variant.runtime or ""](self._path, self._variant, self._output.names)
        except Exception as exc:  # noqa: BLE001 - e.g. an operator the runtime lacks
            raise ExportFailed(f"{label} could not load the exported model: {first_line(exc)}") from exc
        self._feed = [(name, i) for i, name in enumerate(self._call.names) if name in session.inputs]
        self.record = {
            "module": type(self.original).__name__,
            "exporter": f"{exporter_name(self._exporter)}, opset {exporter_opset(self._exporter)}, "
            f"torch {torch.__version__}",
            "export_seconds": exported,
            **({"export_reused_from": reused.by, "export_seconds_then": reused.seconds} if reused else {}),
            "session_seconds": time.perf_counter() - opened,
            "onnx_bytes": onnx_bytes,
            **({"quantization": quantization} if quantization else {}),
            "inputs": shapes(self._call.names, example, session.inputs),
            "outputs": shapes(self._output.names, [self._output.leaves[i] for i in self._output.slots]),
            "runtime": session.settings,
        }
        self._session = session

    def _quantize(self, label: str) -> dict[str, object]:
        """The exported file quantized (quantize.py), the path then the quantized model's; with a
        calibration set, its recorded inputs fed by the graph's input names."""
        feeds: Feeds | None = None
        if self._calibration is not None:
            names = set(graph_inputs(self._path))
            feeds = []
            for args, kwargs in self._calibration[1]:
                tensors = self._call.tensors(dict(self._signature.bind(*args, **kwargs).arguments))
                named = zip(self._call.names, tensors)
                feeds.append({n: t.detach().cpu().numpy() for n, t in named if n in names})
        try:
            self._path, record = quantize_model(self._path, self._variant, feeds)
        except Exception as exc:  # noqa: BLE001 - the quantizer's reason becomes the variant's skip reason
            raise ExportFailed(f"{label} could not quantize the exported model: {first_line(exc)}") from exc
        if self._calibration is not None:
            record["calibration"] = self._calibration[0].describe(len(self._calibration[1]))
        return record

    def __getattr__(self, name: str):
        """Plain attributes the caller reads off the module it expects (SmolVLA reads its vision
        encoder's ``dtype``) come from the original; its submodules, parameters and tensors do
        not, since a caller that ran them would run PyTorch outside the exported graph unseen."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            original = super().__getattr__("original")
            value = getattr(original, name)
            if isinstance(value, (torch.nn.Module, torch.Tensor)):
                raise AttributeError(
                    f"{type(original).__name__}.{name} is part of the exported module; "
                    "its stand-in does not hand it out"
                ) from None
            return value

    @property
    def model_path(self) -> str:
        return self._path


class RuntimePolicy(VariantWrapper):
    """``inner`` with its family's export target run by the variant's runtime; use it as a
    context manager (it puts the original module back and deletes the exported file)."""

    def __init__(
        self,
        inner: LeRobotPolicy,
        variant: Variant,
        calibration: Calibration | None = None,
        exports: ExportCache | None = None,
    ):
        super().__init__(inner, variant)
        self._calibration = calibration  # a statically quantized variant's (calibration.py)
        self._exports = exports  # the policy's exports so far, shared by its runtime variants
        self._stand_in: RuntimeModule | None = None
        self._owner: tuple[object, str] | None = None
        self._folder: tempfile.TemporaryDirectory | None = None
        self._placed = contextlib.ExitStack()  # what undoes the family's reshaping of the policy (ExportTarget.placed)

    def __enter__(self) -> "RuntimePolicy":
        with contextlib.ExitStack() as stack:  # the policy reshaped for the export, undone on a failure
            owner, attr = stack.enter_context(self.inner.family.export.placed(self.inner.policy))
            original = getattr(owner, attr)
            recorded = None
            if self.variant.calibrated:
                if self._calibration is None:
                    raise VariantUnavailable(f"{self.variant.name} calibrates on observations and was given none")
                device = str(next(self.inner.policy.parameters()).device)
                calls = record_inputs(original, self.inner.predict_chunk, self._calibration, device)
                recorded = (self._calibration, calls)
            self._folder = tempfile.TemporaryDirectory(prefix="policybench-export-")
            self._stand_in = RuntimeModule(
                original, self.variant, self._folder.name, self.inner.family.export.exporter, recorded, self._exports
            )
            self._owner = (owner, attr)
            setattr(owner, attr, self._stand_in)
            self._placed = stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        if self._owner is not None and self._stand_in is not None:
            setattr(*self._owner, self._stand_in.original)
        self._placed.close()
        if self._folder is not None:
            self._folder.cleanup()
        self._stand_in, self._owner, self._folder = None, None, None

    def finish_export(self, result, folder: str | None, warn: Callable[[str], None]) -> dict[str, object]:
        """After the first refill (which exported): what was exported, how, and its calls per
        refill; with ``folder`` the model and its manifest are saved there (a failure to write
        is a warning: the variant is still measured)."""
        assert self._stand_in is not None
        record = {
            "exported": self.inner.family.export.what,
            **self._stand_in.record,
            "calls_per_refill": self._stand_in.calls,
        }
        if folder:
            try:
                record["saved"] = save_export(self._stand_in.model_path, folder, result, record)
            except OSError as exc:
                record["saved"] = None
                warn(f"{result.name}: --export {folder}: cannot write there ({exc.strerror or exc}); still measured")
        return record
