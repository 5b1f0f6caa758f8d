"""Do a variant's actions still match? The first chunk of a variant and of fp32 eager, from the
same observation with the global RNG seeded identically before each (Diffusion's and SmolVLA's
sampling noise comes from it), compared by max |Δaction| and relative error (the verdict, against
a tolerance), and in the units a user reads: the largest and the median |Δ| in the policy's
action units (after its postprocessor) and the largest as a share of the action range."""

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
    return {"max_abs_diff": diff, "rel_error": rel, "tolerance": float(tolerance), "equivalent": rel <= tolerance}


def action_error(
    reference: torch.Tensor, actions: torch.Tensor, action_range: list[float] | None = None
) -> dict[str, object]:
    """The difference of two chunks (n, action_dim) in action units: its largest and median |Δ|,
    and the largest |Δ| of each action dimension as a share of that dimension's range, the
    largest share kept (``range_share``). ``action_range``: each dimension's range (max - min)
    from the dataset's statistics; None: the reference chunk's own span, all dimensions
    together. Dimensions whose range is 0 are left out of the share (None when all are)."""
    ref, act = reference.float().cpu(), actions.float().cpu()
    diff = (act - ref).abs()
    flat = diff.reshape(-1, diff.shape[-1]) if diff.dim() else diff.reshape(1, 1)
    if action_range is not None and len(action_range) == flat.shape[-1]:
        span, where = torch.tensor(action_range, dtype=torch.float32), "dataset statistics"
        per_dim = flat.amax(0)
        shares = [d / s for d, s in zip(per_dim.tolist(), span.tolist()) if s > 0]
    else:
        whole = (ref.max() - ref.min()).item() if ref.numel() else 0.0
        action_range, where = [whole], "reference chunk"
        shares = [flat.max().item() / whole] if whole > 0 else []
    return {
        "action_max_diff": flat.max().item() if flat.numel() else 0.0,
        "action_median_diff": flat.flatten().quantile(0.5).item() if flat.numel() else 0.0,
        "action_range": [float(x) for x in action_range],
        "range_from": where,
        "range_share": max(shares) if shares else None,
    }
