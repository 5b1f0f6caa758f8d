"""The cudagraph variants: the whole refill captured once as one CUDA graph and replayed."""

from __future__ import annotations

import contextlib
from typing import Callable

import torch

from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.variants.base import VariantWrapper
from policybench.variants.table import Variant
from policybench.variants.unavailable import VariantUnavailable, first_line, where


class CaptureFailed(VariantUnavailable):
    """The refill could not be captured as a CUDA graph; the message names where it broke."""


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


class CudaGraphPolicy(VariantWrapper):
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
        super().__init__(inner, variant)
        self.device, self._capture = device, capture
        self._replay: Callable[[], None] | None = None
        self._static: dict[str, torch.Tensor] = {}
        self._first: torch.Tensor | None = None
        self._rest: list[torch.Tensor] = []

    def __exit__(self, *exc) -> None:
        self._replay, self._static, self._first, self._rest = None, {}, None, []  # frees the graph's memory

    def _refill(self) -> torch.Tensor:
        autocast = (
            torch.autocast("cuda", dtype=getattr(torch, self.variant.dtype), cache_enabled=False)
            if self.variant.dtype is not None
            else contextlib.nullcontext()
        )
        self.inner.reset()
        with autocast:
            return self.inner.select_action(self._static)

    def _record(self, obs: dict[str, torch.Tensor]) -> Callable[[], None]:
        self._static = {
            k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in obs.items()
        }  # --pipeline: the task
        cpu_rng = torch.get_rng_state()
        cuda_rng = torch.cuda.get_rng_state(self.device) if torch.cuda.is_available() else None
        outputs: list[torch.Tensor] = []

        def refill() -> torch.Tensor:
            outputs[:] = [self._refill()]
            return outputs[0]

        try:
            replay = self._capture(refill, self.device, self.inner.family.graph_default_device)
        except Exception as exc:  # noqa: BLE001 - any capture error becomes the variant's skip reason
            raise CaptureFailed(f"capture failed{where(exc)}: {first_line(exc)}") from exc
        self._first, self._rest = outputs[0], self.inner.queue_contents()
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state(cuda_rng, self.device)
        return replay

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.inner.queued_actions() > 0:
            return self.inner.select_action(obs)
        if self._replay is None:
            self._replay = self._record(obs)
        for key, buffer in self._static.items():
            if isinstance(buffer, torch.Tensor):
                buffer.copy_(obs[key])
        self._replay()
        self.inner.refill_queue(self._rest)
        return self._first
