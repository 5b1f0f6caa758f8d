"""Acceleration variants of a built policy, and the check that their actions still match.

Every variant wraps the *same* built policy (same weights) and is measured in the same run and on
the same device as ``eager``. Equivalence: the first chunk of a variant and of fp32 eager, from the
same observation with the global RNG seeded identically before each (Diffusion's and SmolVLA's
sampling noise comes from it), compared by max |Δaction| and relative error.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import torch

from policybench.errors import UsageError
from policybench.policies.base import PolicyAdapter, WrappedPolicy
from policybench.policies.lerobot_policies import LeRobotPolicy


@dataclass(frozen=True)
class Variant:
    name: str
    help: str
    tolerance: float  # relative error allowed against fp32 eager
    dtype: torch.dtype | None = None  # autocast dtype; with a runtime, the runtime's inference precision
    compile: bool = False
    skip_eval_walk: bool = False
    cudagraph: bool = False
    runtime: str | None = None  # deployment runtime that runs the exported part (runtimes.py)


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("eager", "the policy as LeRobot runs it (the reference)", 1e-4),
        Variant("noeval", "no self.eval() walk over every submodule on each select_action call (the policy stays in eval mode)", 1e-4, skip_eval_walk=True),
        Variant("bf16", "torch.autocast to bfloat16", 2e-2, dtype=torch.bfloat16),
        Variant("fp16", "torch.autocast to float16", 2e-2, dtype=torch.float16),
        Variant("compile", "torch.compile of the policy's heavy modules", 1e-4, compile=True),
        Variant("cudagraph", "the whole refill captured once as one CUDA graph and replayed (CUDA only)", 1e-4, cudagraph=True),
        Variant("cudagraph-bf16", "the CUDA graph of the refill under bfloat16 autocast (CUDA only)", 2e-2,
                dtype=torch.bfloat16, cudagraph=True),
        Variant("onnxruntime", "the policy's heavy part exported to ONNX and run by ONNX Runtime (CPU provider)", 1e-4,
                runtime="onnxruntime"),
        Variant("openvino", "the exported part run by OpenVINO on the CPU, precision hint f32", 1e-4, runtime="openvino"),
        Variant("openvino-bf16", "the exported part run by OpenVINO in bfloat16 (its default where the CPU has bf16)",
                2e-2, dtype=torch.bfloat16, runtime="openvino"),
        Variant("tensorrt", "the exported part run by TensorRT (CUDA only)", 1e-4, runtime="tensorrt"),
    )
}
# A failed graph capture can leave CUDA unusable for the rest of the process: the captures run last.
ORDER = ["eager", "noeval", "bf16", "fp16", "compile", "onnxruntime", "openvino", "openvino-bf16", "tensorrt",
         "cudagraph", "cudagraph-bf16"]


def parse_variants(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(ORDER)
    for n in names:
        if n not in VARIANTS:
            raise UsageError(f"unknown variant '{n}'; known variants: {', '.join(VARIANTS)} or all")
    if not names:
        raise UsageError("--variant is empty")
    names = ["eager"] + [n for n in ORDER if n in names and n != "eager"]  # eager is the reference
    return names


def skip_reason(variant: Variant, adapter: PolicyAdapter, device: str) -> str | None:
    """Why ``variant`` cannot run here, or None."""
    if variant.name != "eager" and not isinstance(adapter, LeRobotPolicy):
        return f"{adapter.name} is not a LeRobot policy"
    if variant.runtime is not None:
        from policybench.runtimes import runtime_problem

        return runtime_problem(variant, adapter, device)
    if variant.cudagraph and not device.startswith("cuda"):
        return "CUDA graphs need a CUDA device"
    if variant.dtype is not None and device == "mps" and variant.dtype == torch.bfloat16:
        return "bfloat16 autocast is not supported on MPS"
    if variant.compile and not adapter.compile_targets():
        return f"no heavy module known to compile for {adapter.name}"
    return None


class VariantPolicy(WrappedPolicy):
    """``inner`` run as ``variant``: autocast around each call, no eval walk, or compiled modules."""

    def __init__(self, inner: LeRobotPolicy, variant: Variant):
        super().__init__(inner)
        self.variant = variant
        self._autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
        if variant.dtype is not None:
            kind = "cuda" if next(inner.policy.parameters()).is_cuda else "cpu"
            self._autocast = lambda: torch.autocast(kind, dtype=variant.dtype)
        self._replaced: list[tuple[object, str, object]] = []

    def __enter__(self) -> "VariantPolicy":
        if self.variant.skip_eval_walk:
            policy = self.inner.policy
            policy.eval()
            policy.eval = lambda: policy  # an instance attribute shadows nn.Module.eval
        if self.variant.compile:
            for owner, attr in self.inner.compile_targets():
                original = getattr(owner, attr)
                self._replaced.append((owner, attr, original))
                setattr(owner, attr, torch.compile(original))
        return self

    def __exit__(self, *exc) -> None:
        if self.variant.skip_eval_walk:
            del self.inner.policy.eval
        for owner, attr, original in reversed(self._replaced):  # the next variants get the modules as built
            setattr(owner, attr, original)
        self._replaced.clear()

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        with self._autocast():
            return self.inner.select_action(obs)

    def describe(self) -> dict[str, object]:
        return {**self.inner.describe(), "variant": self.variant.name}


class VariantUnavailable(Exception):
    """A variant found at its first refill that it cannot run here; the message is the skip reason."""


class CaptureFailed(VariantUnavailable):
    """The refill could not be captured as a CUDA graph; the message names where it broke."""


def first_line(exc: BaseException) -> str:
    """'ExceptionType: the first line of its message', for a one-line skip reason."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def where(exc: BaseException) -> str:
    """The deepest frame of LeRobot, transformers or diffusers in a traceback: the operation that broke."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if any(k in f.filename for k in ("/lerobot/", "/transformers/", "/diffusers/"))]
    if not frames:
        return ""
    f = frames[-1]
    return f" at {f.filename.split('site-packages/')[-1]}:{f.lineno} `{(f.line or '').strip()}`"


GraphCapture = Callable[[Callable[[], torch.Tensor], str, bool], Callable[[], None]]


class PythonConstants:
    """Tensors a refill makes from Python numbers (``torch.tensor([0, 0, 1], device=...)``: SmolVLA's
    and pi0's attention masks, the flow-matching time of each denoising step) are host-to-device
    copies, which stream capture forbids. ``recording()`` (the warm-up) keeps each such tensor by its
    arguments; ``reusing()`` (the capture) hands the kept one back instead of copying again, so the
    graph reads it from where the warm-up put it. A caller that changed such a tensor in place would
    see its change replayed: the equivalence check against eager catches that."""

    def __init__(self) -> None:
        self.kept: dict[str, torch.Tensor] = {}
        self.reused = 0

    @staticmethod
    def _key(data, args: tuple, kwargs: dict) -> str | None:
        """The call's arguments as text where ``data`` is Python numbers only, else None."""
        def plain(x) -> bool:
            return isinstance(x, (bool, int, float)) or (isinstance(x, (list, tuple)) and all(plain(i) for i in x))
        return repr((data, args, sorted(kwargs.items()), torch.get_default_device())) if plain(data) else None

    @contextlib.contextmanager
    def _patched(self, reuse: bool):
        original = torch.tensor

        def tensor(data, *args, **kwargs):
            key = self._key(data, args, kwargs)
            if key is not None and reuse and key in self.kept:
                self.reused += 1
                return self.kept[key]
            made = original(data, *args, **kwargs)
            if key is not None and not reuse:
                self.kept[key] = made
            return made

        torch.tensor = tensor
        try:
            yield
        finally:
            torch.tensor = original

    def recording(self):
        return self._patched(reuse=False)

    def reusing(self):
        return self._patched(reuse=True)


def capture_cuda_graph(fn: Callable[[], torch.Tensor], device: str, default_device: bool = True) -> Callable[[], None]:
    """Capture ``fn`` as one CUDA graph and return its replay. Warmed up first on a side stream
    (as torch.cuda.graphs asks), keeping the tensors it makes from Python numbers for the capture
    (``PythonConstants``). With ``default_device``, factory calls default to ``device``
    during capture, since a tensor made on the CPU and copied over (ACT's latent) is a host copy
    that capture forbids; without it, tensors made from Python numbers stay on the CPU (diffusers'
    DDPM scheduler indexes its CPU tables with them)."""
    placed = (lambda: torch.device(device)) if default_device else contextlib.nullcontext
    constants = PythonConstants()
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side), placed(), constants.recording():
        fn()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), placed(), constants.reusing():
        fn()

    def replay() -> None:  # keeps the constants the graph reads alive as long as the graph
        graph.replay()

    replay.constants = constants  # type: ignore[attr-defined]
    return replay


class CudaGraphPolicy(WrappedPolicy):
    """The whole refill (observation in, chunk out) captured once as a graph and replayed at every
    refill; a step still pops from the policy's own queue, eagerly.

    The graph reads the observation from static buffers (each refill copies the new observation
    in) and writes the chunk to static outputs: the first action, which the refill returns, and the
    rest, which go back into the policy's queue after each replay. Capture happens at the first
    refill, with the RNG state restored afterwards, so that sampling noise matches eager's. A
    policy with an observation history (n_obs_steps > 1) sees its static buffer repeated, which
    for one repeated synthetic observation is what eager sees too.
    """

    def __init__(self, inner: LeRobotPolicy, variant: Variant, device: str, capture: GraphCapture = capture_cuda_graph):
        super().__init__(inner)
        self.variant, self.device, self._capture = variant, device, capture
        self._replay: Callable[[], None] | None = None
        self._static: dict[str, torch.Tensor] = {}
        self._first: torch.Tensor | None = None
        self._rest: list[torch.Tensor] = []

    def __enter__(self) -> "CudaGraphPolicy":
        return self

    def __exit__(self, *exc) -> None:
        self._replay, self._static, self._first, self._rest = None, {}, None, []  # frees the graph's memory

    def _refill(self) -> torch.Tensor:
        autocast = (torch.autocast("cuda", dtype=self.variant.dtype, cache_enabled=False)
                    if self.variant.dtype is not None else contextlib.nullcontext())
        self.inner.reset()
        with autocast:
            return self.inner.select_action(self._static)

    def _record(self, obs: dict[str, torch.Tensor]) -> None:
        self._static = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in obs.items()}  # --pipeline: the task
        cpu_rng = torch.get_rng_state()
        cuda_rng = torch.cuda.get_rng_state(self.device) if torch.cuda.is_available() else None
        outputs: list[torch.Tensor] = []

        def refill() -> torch.Tensor:
            outputs[:] = [self._refill()]
            return outputs[0]

        try:
            self._replay = self._capture(refill, self.device, self.inner.family.graph_default_device)
        except Exception as exc:  # noqa: BLE001 - any capture error becomes the variant's skip reason
            raise CaptureFailed(f"capture failed{where(exc)}: {first_line(exc)}") from exc
        self._first, self._rest = outputs[0], self.inner.queue_contents()
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state(cuda_rng, self.device)

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.inner.queued_actions() > 0:
            return self.inner.select_action(obs)
        if self._replay is None:
            self._record(obs)
        for key, buffer in self._static.items():
            if isinstance(buffer, torch.Tensor):
                buffer.copy_(obs[key])
        self._replay()
        self.inner.refill_queue(self._rest)
        return self._first

    def describe(self) -> dict[str, object]:
        return {**self.inner.describe(), "variant": self.variant.name}


def make_variant(adapter: LeRobotPolicy, variant: Variant, device: str) -> WrappedPolicy:
    """``adapter`` run as ``variant``; use it as a context manager (it undoes what it changed)."""
    if variant.runtime is not None:
        from policybench.runtimes import RuntimePolicy

        return RuntimePolicy(adapter, variant)
    if variant.cudagraph:
        return CudaGraphPolicy(adapter, variant, device)
    return VariantPolicy(adapter, variant)


def first_chunk(adapter: PolicyAdapter, obs: dict[str, torch.Tensor], seed: int) -> torch.Tensor:
    """The chunk a fresh refill computes, with the global RNG seeded first."""
    torch.manual_seed(seed)
    return adapter.predict_chunk(obs).float()


def equivalence(reference: torch.Tensor, actions: torch.Tensor, tolerance: float) -> dict[str, object]:
    """max |Δaction| and relative error (max |Δ| / max |reference|) against fp32 eager."""
    diff = (actions.float().cpu() - reference.float().cpu()).abs().max().item()
    scale = reference.abs().max().item()
    rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
    return {"max_abs_diff": diff, "rel_error": rel, "tolerance": tolerance, "equivalent": rel <= tolerance}
