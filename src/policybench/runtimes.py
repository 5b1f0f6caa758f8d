"""Deployment runtimes: a policy's heavy part exported to ONNX and run by ONNX Runtime or OpenVINO.

Which part is exported is each family's own business (``Family.export`` in lerobot_policies.py):
ACT's model forward, i.e. the whole refill; Diffusion's noise-prediction UNet, called once per
denoising step by the loop that stays in PyTorch; SmolVLA's and pi0's vision encoder, once per
camera. For the variant's lifetime that module is replaced by a stand-in (``RuntimeModule``). At
its first call the stand-in records the arguments LeRobot passes, exports the module on exactly
those shapes with ``torch.onnx.export`` (the TorchScript exporter, opset 17, or for the vision
encoders the dynamo exporter, opset 18), and opens a session; from then on every call runs the
session.
Everything around it is LeRobot's own ``select_action``: a step still pops from the policy's queue
(eval walk included), a refill runs the exported graph. The original module stays a child of the
stand-in, so the eval walk, the parameter count and the roofline are those of eager.

Export and session compilation happen in the variant's first refill (``first_chunk_seconds``
includes them) and are reported apart (``export_seconds``, ``session_seconds``), never as latency
samples. ``RuntimePolicy.finish_export`` records them and, with ``--export DIR``, saves the ONNX
file with a manifest, so that a user deploys exactly what was measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch.utils import _pytree as pytree

from policybench.policies.base import WrappedPolicy
from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.variants import Variant, VariantUnavailable, first_line, where

INSTALL = "pip install 'policybench[runtimes]'"
OPSET = 17  # the TorchScript exporter's
DYNAMO_OPSET = 18  # the lowest the dynamo exporter writes
LABELS = {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO", "tensorrt": "TensorRT"}
MODEL_FILE = "model.onnx"


class ExportFailed(VariantUnavailable):
    """The module did not export, or the runtime could not load it; the message is one line."""


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def openvino_capabilities() -> list[str]:
    """What OpenVINO finds on this CPU, e.g. ['BF16', 'FP32', 'INT8', ...]."""
    import openvino as ov

    return [str(c) for c in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")]


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
    if target.module is None:
        return f"{adapter.family.title()} is not exported: {target.what}"
    if runtime == "openvino" and variant.dtype is torch.bfloat16:
        found = openvino_capabilities()
        if "BF16" not in found:
            return f"OpenVINO finds no bfloat16 support on this CPU (it finds {', '.join(found)})"
    return None


@dataclass
class Session:
    """An opened runtime: ``run`` takes the graph's inputs by name and returns its outputs in order."""

    inputs: list[str]  # the names the graph reads (the exporter drops inputs the module never uses)
    run: Callable[[dict], list]
    settings: dict[str, object]  # runtime, version and options, for the results and the manifest


def _onnxruntime_session(path: str, variant: Variant, outputs: list[str]) -> Session:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # the threads eager gets
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    settings = {"name": "onnxruntime", "version": ort.__version__, "provider": "CPUExecutionProvider",
                "threads": options.intra_op_num_threads}
    return Session([i.name for i in session.get_inputs()], lambda feed: session.run(outputs, feed), settings)


def _openvino_session(path: str, variant: Variant, outputs: list[str]) -> Session:
    import openvino as ov

    precision = "bf16" if variant.dtype is torch.bfloat16 else "f32"
    config = {"INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": torch.get_num_threads(),
              "PERFORMANCE_HINT": "LATENCY"}
    compiled = ov.Core().compile_model(path, "CPU", config)
    request = compiled.create_infer_request()
    ports = [compiled.output(name) for name in outputs]

    def run(feed: dict) -> list:
        result = request.infer(feed, share_inputs=True)  # outputs are copies (share_outputs=False)
        return [result[p] for p in ports]

    settings = {"name": "openvino", "version": ov.__version__, "device": "CPU", **config,
                "capabilities": openvino_capabilities()}
    return Session([i.get_any_name() for i in compiled.inputs], run, settings)


SESSIONS = {"onnxruntime": _onnxruntime_session, "openvino": _openvino_session}


def _leaf_name(path: tuple) -> str:
    return ".".join(str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k)))) for k in path)


@dataclass
class Flattened:
    """A nested structure (a call's arguments, a module's output) as named tensor leaves; the
    other leaves (None, numbers, strings) are kept as first seen."""

    spec: pytree.TreeSpec
    leaves: list
    slots: list[int]  # positions of the tensor leaves
    names: list[str]

    @classmethod
    def of(cls, tree: object, prefix: str = "") -> "Flattened":
        try:
            with_paths, spec = pytree.tree_flatten_with_path(tree)
        except ValueError:  # a node type registered without key paths (transformers' ModelOutput): name by place
            leaves, spec = pytree.tree_flatten(tree)
            with_paths = [((i,), leaf) for i, leaf in enumerate(leaves)]
        slots = [i for i, (_, leaf) in enumerate(with_paths) if isinstance(leaf, torch.Tensor)]
        names: list[str] = []
        for i in slots:
            name = prefix + _leaf_name(with_paths[i][0])
            names.append(name if name not in names else f"{name}_{len(names)}")
        return cls(spec, [leaf for _, leaf in with_paths], slots, names)

    def tensors(self, tree: object) -> list[torch.Tensor]:
        leaves, spec = pytree.tree_flatten(tree)
        if spec != self.spec:
            raise RuntimeError(f"the exported module is called with other arguments than at export: {spec}")
        return [leaves[i] for i in self.slots]

    def rebuild(self, tensors) -> object:
        leaves = list(self.leaves)
        for i, t in zip(self.slots, tensors):
            leaves[i] = t
        return pytree.tree_unflatten(leaves, self.spec)


def _bound(module: torch.nn.Module, args: tuple, kwargs: dict) -> tuple[inspect.Signature, dict]:
    """The call's arguments by parameter name (positional ones get their names from forward)."""
    signature = inspect.signature(module.forward)
    return signature, dict(signature.bind(*args, **kwargs).arguments)


class _Flat(torch.nn.Module):
    """The module as the exporter sees it: tensors in (in ``call``'s order), a tuple of tensors out."""

    def __init__(self, module: torch.nn.Module, signature: inspect.Signature, call: Flattened, output: Flattened):
        super().__init__()
        self.module, self.signature, self.call, self.output = module, signature, call, output

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        bound = inspect.BoundArguments(self.signature, self.call.rebuild(tensors))
        return tuple(self.output.tensors(self.module(*bound.args, **bound.kwargs)))


@contextlib.contextmanager
def _native_stdout_discarded():
    """File descriptor 1 sent to a scratch file: the TorchScript exporter prints the whole graph
    there from C++ when it fails, which would land in the middle of the results table."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with tempfile.TemporaryFile() as scratch:
            os.dup2(scratch.fileno(), 1)
            try:
                yield
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
    finally:
        os.close(saved)


@contextlib.contextmanager
def _exporting():
    """Ordinary tensors (not inference ones), no autograd, the RNG left as it was, the exporter quiet."""
    with torch.inference_mode(False), torch.no_grad(), torch.random.fork_rng(devices=[]), \
            warnings.catch_warnings(), _native_stdout_discarded():
        warnings.simplefilter("ignore")
        yield


def _shapes(names: list[str], tensors: list[torch.Tensor], keep: list[str] | None = None) -> list[dict[str, object]]:
    return [{"name": n, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
            for n, t in zip(names, tensors) if keep is None or n in keep]


class RuntimeModule(torch.nn.Module):
    """Stands in for an exported module: its first call exports ``original`` and opens the
    variant's session; every call runs the session. ``calls`` counts the calls."""

    def __init__(self, original: torch.nn.Module, variant: Variant, folder: str, exporter: str = "torchscript"):
        super().__init__()
        self.original = original  # a child, so that eval() walks it and parameters() counts it
        self._variant, self._path, self._exporter = variant, str(Path(folder) / MODEL_FILE), exporter
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
        signature, arguments = _bound(self.original, args, kwargs)
        self._signature, self._call = signature, Flattened.of(arguments)
        start = time.perf_counter()
        try:
            with _exporting():
                example = tuple(t.clone() for t in self._call.tensors(arguments))
                bound = inspect.BoundArguments(signature, self._call.rebuild(example))
                self._output = Flattened.of(self.original(*bound.args, **bound.kwargs), prefix="output.")
                flat = _Flat(self.original, signature, self._call, self._output)
                names = {"input_names": self._call.names, "output_names": self._output.names}
                if self._exporter == "dynamo":  # weights inline, except above torch's 1.5 GB (save_export reads both)
                    torch.onnx.export(flat, example, self._path, dynamo=True, opset_version=DYNAMO_OPSET,
                                      external_data=False, verbose=False, **names)
                else:
                    torch.onnx.export(flat, example, self._path, dynamo=False, opset_version=OPSET, **names)
        except Exception as exc:  # noqa: BLE001 - the exporter's reason becomes the variant's skip reason
            exporter = "dynamo" if self._exporter == "dynamo" else "TorchScript"
            raise ExportFailed(f"torch.onnx.export ({exporter}) failed{where(exc)}: {first_line(exc)}") from exc
        exported = time.perf_counter() - start
        label = LABELS[self._variant.runtime or ""]
        try:
            session = SESSIONS[self._variant.runtime or ""](self._path, self._variant, self._output.names)
        except Exception as exc:  # noqa: BLE001 - e.g. an operator the runtime lacks
            raise ExportFailed(f"{label} could not load the exported model: {first_line(exc)}") from exc
        self._feed = [(name, i) for i, name in enumerate(self._call.names) if name in session.inputs]
        self.record = {
            "module": type(self.original).__name__,
            "exporter": (f"torch.onnx.export (dynamo), opset {DYNAMO_OPSET}" if self._exporter == "dynamo"
                         else f"torch.onnx.export (TorchScript), opset {OPSET}") + f", torch {torch.__version__}",
            "export_seconds": exported,
            "session_seconds": time.perf_counter() - start - exported,
            "onnx_bytes": sum(f.stat().st_size for f in Path(self._path).parent.iterdir()),  # with external data
            "inputs": _shapes(self._call.names, list(example), session.inputs),
            "outputs": _shapes(self._output.names, [self._output.leaves[i] for i in self._output.slots]),
            "runtime": session.settings,
        }
        self._session = session

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
                raise AttributeError(f"{type(original).__name__}.{name} is part of the exported module; "
                                     "its stand-in does not hand it out") from None
            return value

    @property
    def model_path(self) -> str:
        return self._path


class RuntimePolicy(WrappedPolicy):
    """``inner`` with its family's export target run by the variant's runtime; use it as a
    context manager (it puts the original module back and deletes the exported file)."""

    def __init__(self, inner: LeRobotPolicy, variant: Variant):
        super().__init__(inner)
        self.variant = variant
        self._stand_in: RuntimeModule | None = None
        self._owner: tuple[object, str] | None = None
        self._folder: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> "RuntimePolicy":
        locate = self.inner.family.export.module
        assert locate is not None, "runtime_problem skips a family without an export target"
        owner, attr = locate(self.inner.policy)
        self._folder = tempfile.TemporaryDirectory(prefix="policybench-export-")
        self._stand_in = RuntimeModule(getattr(owner, attr), self.variant, self._folder.name,
                                       self.inner.family.export.exporter)
        self._owner = (owner, attr)
        setattr(owner, attr, self._stand_in)
        return self

    def __exit__(self, *exc) -> None:
        if self._owner is not None and self._stand_in is not None:
            setattr(*self._owner, self._stand_in.original)
        if self._folder is not None:
            self._folder.cleanup()
        self._stand_in, self._owner, self._folder = None, None, None

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.inner.select_action(obs)

    def describe(self) -> dict[str, object]:
        return {**self.inner.describe(), "variant": self.variant.name}

    def finish_export(self, result, folder: str | None, warn: Callable[[str], None]) -> dict[str, object]:
        """After the first refill (which exported): what was exported, how, and its calls per
        refill; with ``folder`` the model and its manifest are saved there (a failure to write
        is a warning: the variant is still measured)."""
        assert self._stand_in is not None
        record = {"exported": self.inner.family.export.what, **self._stand_in.record,
                  "calls_per_refill": self._stand_in.calls}
        if folder:
            try:
                record["saved"] = save_export(self._stand_in.model_path, folder, result, record)
            except OSError as exc:
                record["saved"] = None
                warn(f"{result.policy}: --export {folder}: cannot write there ({exc.strerror or exc}); still measured")
        return record


def file_stem(policy: str) -> str:
    """A file name for a result's policy ("act+onnxruntime"; a checkpoint path made flat)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", policy).strip("._") or "policy"


def save_export(model_path: str, folder: str, result, record: dict[str, object]) -> list[str]:
    """Copy the exported model into ``folder`` and write its manifest beside it: the policy and
    its config, the exported part, inputs and outputs, runtime and version, equivalence."""
    from policybench.environment import cpu_model, cpu_vector_flags
    from policybench.policies.compat import lerobot_version

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(result.policy)
    model = out / f"{stem}.onnx"
    written = [str(model)]
    if len(list(Path(model_path).parent.iterdir())) == 1:
        shutil.copyfile(model_path, model)
    else:  # weights in an external data file, which the model names: saved again under the model's own name
        import onnx

        data = f"{stem}.onnx.data"
        (out / data).unlink(missing_ok=True)  # onnx appends to an existing data file
        onnx.save_model(onnx.load(model_path), str(model), save_as_external_data=True, location=data)
        if (out / data).exists():  # onnx keeps tensors under 1 KB inline
            record = {**record, "external_data": data,
                      "external_data_sha256": hashlib.sha256((out / data).read_bytes()).hexdigest()}
            written.append(str(out / data))
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    manifest = {
        "policy": result.policy,
        "variant": result.variant,
        "source": result.source,
        "config": result.config,
        "model": model.name,
        "sha256": digest,
        **record,
        "io": "inputs as the policy's select_action receives them (after LeRobot's preprocessor: normalized, "
              "batch of 1); outputs before its postprocessor (not unnormalized)",
        "equivalence": result.equivalence,
        "versions": {"torch": torch.__version__, "lerobot": lerobot_version()},
        "cpu": {"model": cpu_model(), "flags": cpu_vector_flags()},
    }
    manifest.pop("saved", None)
    path = out / f"{stem}.json"
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return [*written, str(path)]
