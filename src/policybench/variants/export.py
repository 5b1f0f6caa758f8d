"""A module exported to ONNX on exactly the arguments of one call, by ``torch.onnx.export``."""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils import _pytree as pytree

OPSET = 17  # the TorchScript exporter's
DYNAMO_OPSET = 18  # the lowest the dynamo exporter writes


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

    def rebuild(self, tensors) -> Any:
        leaves = list(self.leaves)
        for i, t in zip(self.slots, tensors):
            leaves[i] = t
        return pytree.tree_unflatten(leaves, self.spec)


def bound_arguments(module: torch.nn.Module, args: tuple, kwargs: dict) -> tuple[inspect.Signature, dict]:
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
    with (
        torch.inference_mode(False),
        torch.no_grad(),
        torch.random.fork_rng(devices=[]),
        warnings.catch_warnings(),
        _native_stdout_discarded(),
    ):
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _modes_kept(module: torch.nn.Module):
    """Each submodule's training flag as it was: the TorchScript exporter exports in eval mode and
    then puts back, recursively, the mode it found on the wrapper it was given (a new module's,
    training), which left a policy in training mode (Diffusion's BatchNorm then updating its
    statistics on every later refill)."""
    modes = [(m, m.training) for m in module.modules()]
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def exporter_name(exporter: str) -> str:
    return "torch.onnx.export (dynamo)" if exporter == "dynamo" else "torch.onnx.export (TorchScript)"


def exporter_opset(exporter: str) -> int:
    return DYNAMO_OPSET if exporter == "dynamo" else OPSET


def export_onnx(
    module: torch.nn.Module, signature: inspect.Signature, call: Flattened, arguments: dict, path: str, exporter: str
) -> tuple[Flattened, list[torch.Tensor]]:
    """Run ``module`` once on a copy of ``arguments`` and export it to ``path`` as a graph of their
    tensors (in ``call``'s order); returns the structure of its output and the example inputs."""
    with _exporting(), _modes_kept(module):
        example = tuple(t.clone() for t in call.tensors(arguments))
        bound = inspect.BoundArguments(signature, call.rebuild(example))
        output = Flattened.of(module(*bound.args, **bound.kwargs), prefix="output.")
        flat = _Flat(module, signature, call, output)
        names = {"input_names": call.names, "output_names": output.names}
        if exporter == "dynamo":  # weights inline, except above torch's 1.5 GB (save_export reads both)
            torch.onnx.export(
                flat,
                example,
                path,
                dynamo=True,
                opset_version=DYNAMO_OPSET,
                external_data=False,
                verbose=False,
                **names,
            )
        else:
            torch.onnx.export(flat, example, path, dynamo=False, opset_version=OPSET, **names)
    return output, list(example)


def shapes(names: list[str], tensors: list[torch.Tensor], keep: list[str] | None = None) -> list[dict[str, object]]:
    """Name, shape and dtype of each tensor (of those named in ``keep``), for the record and the manifest."""
    return [
        {"name": n, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
        for n, t in zip(names, tensors)
        if keep is None or n in keep
    ]
