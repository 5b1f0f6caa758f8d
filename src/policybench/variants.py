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
    dtype: torch.dtype | None = None  # autocast dtype
    compile: bool = False
    skip_eval_walk: bool = False
    cudagraph: bool = False


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("eager", "the policy as LeRobot runs it (the reference)", 1e-4),
        Variant("noeval", "no self.eval() walk over every submodule on each select_action call (the policy stays in eval mode)", 1e-4, skip_eval_walk=True),
        Variant("bf16", "torch.autocast to bfloat16", 2e-2, dtype=torch.bfloat16),
        Variant("fp16", "torch.autocast to float16", 2e-2, dtype=torch.float16),
        Variant("compile", "torch.compile of the policy's heavy modules", 1e-4, compile=True),
        Variant("cudagraph", "the whole refill captured as one CUDA graph", 1e-4, cudagraph=True),
    )
}
# compile changes the modules in place, so it runs after the variants that need them as built.
ORDER = ["eager", "noeval", "bf16", "fp16", "cudagraph", "compile"]


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
    if variant.cudagraph:
        if not device.startswith("cuda"):
            return "CUDA graphs need a CUDA device"
        return "capturing a whole refill as one CUDA graph is not implemented in policybench yet"
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
        if variant.compile:
            for owner, attr in inner.compile_targets():
                setattr(owner, attr, torch.compile(getattr(owner, attr)))

    def __enter__(self) -> "VariantPolicy":
        if self.variant.skip_eval_walk:
            policy = self.inner.policy
            policy.eval()
            policy.eval = lambda: policy  # an instance attribute shadows nn.Module.eval
        return self

    def __exit__(self, *exc) -> None:
        if self.variant.skip_eval_walk:
            del self.inner.policy.eval

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        with self._autocast():
            return self.inner.select_action(obs)

    def describe(self) -> dict[str, object]:
        return {**self.inner.describe(), "variant": self.variant.name}


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
