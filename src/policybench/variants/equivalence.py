"""Do a variant's actions still match? The first chunk of a variant and of fp32 eager, from the
same observation with the global RNG seeded identically before each (Diffusion's and SmolVLA's
sampling noise comes from it), compared by max |Δaction| and relative error."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from policybench.policies.base import PolicyAdapter


@contextlib.contextmanager
def seeded(seed: int, device: str) -> Iterator[None]:
    """Inside: the global RNG of the CPU and of ``device`` seeded with ``seed`` (LeRobot's policies
    draw their sampling noise from it); after: every generator as it was, so that nothing
    process-wide is left changed. Other devices are not touched (seeding CUDA before it starts
    would leave a seed queued for later)."""
    place = torch.device(device)
    with torch.random.fork_rng(devices=[] if place.type == "cpu" else [place], device_type=place.type):
        torch.random.default_generator.manual_seed(seed)
        if place.type == "cuda":
            with torch.cuda.device(place):
                torch.cuda.manual_seed(seed)
        elif place.type == "mps":
            torch.mps.manual_seed(seed)
        yield


def first_chunk(adapter: PolicyAdapter, obs: dict[str, torch.Tensor], seed: int, device: str) -> torch.Tensor:
    """The chunk a fresh refill computes, with the global RNG seeded for it."""
    with seeded(seed, device):
        return adapter.predict_chunk(obs).float()


def equivalence(reference: torch.Tensor, actions: torch.Tensor, tolerance: float) -> dict[str, object]:
    """max |Δaction| and relative error (max |Δ| / max |reference|) against fp32 eager."""
    diff = (actions.float().cpu() - reference.float().cpu()).abs().max().item()
    scale = reference.abs().max().item()
    rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
    return {"max_abs_diff": diff, "rel_error": rel, "tolerance": tolerance, "equivalent": rel <= tolerance}
