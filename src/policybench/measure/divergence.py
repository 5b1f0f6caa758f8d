"""Where a variant's refill leaves fp32 eager's: the output of each --breakdown component, call by
call, from one seeded refill of each, compared in the order eager's calls returned. The first
output further from eager's than the tolerance names the step of the refill that diverges first
(bf16 in the scheduler's arithmetic, say, rather than in the UNet); when every component's output
stays within it, the difference arises between them (the rest of the refill)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Callable

import torch

from policybench.anatomy.ledger import patched, resolve
from policybench.policies.base import PolicyAdapter
from policybench.variants.equivalence import first_chunk

Outputs = list[tuple[str, torch.Tensor]]  # (component, its output) in the order the calls returned
MAX_CALLS = 64  # calls kept per component: a refill's denoising steps fit; an autoregressive decode is cut


def first_tensor(value: object) -> torch.Tensor | None:
    """The tensor a component returns: itself, or the first one in a tuple, list or mapping (a
    scheduler's output, a backbone's feature dict), searched depth first; None when there is none."""
    if isinstance(value, torch.Tensor):
        return value
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, (tuple, list)) else ()
    for item in items:
        found = first_tensor(item)
        if found is not None:
            return found
    return None


def traced_chunk(adapter: PolicyAdapter, obs: dict, seed: int, device: str) -> tuple[torch.Tensor, Outputs | None]:
    """The first chunk of one seeded refill of ``adapter`` (a variant's wrapper, or the policy
    itself), as variants/equivalence.first_chunk computes it, and each component's output in that
    refill, as an fp32 copy on the CPU (None when the policy has no components defined or none is
    found). A component marked ``outermost`` is kept only when called outside the others, as
    --breakdown times it."""
    anatomy = adapter.anatomy()
    found = resolve(*anatomy)[0] if anatomy is not None else []
    if not found:
        return first_chunk(adapter, obs, seed, device), None
    kept: Outputs = []
    calls: dict[str, int] = {}
    depth = [0]

    def keeping(component) -> Callable[[Callable], Callable]:
        def wrap(fn: Callable) -> Callable:
            @functools.wraps(fn)
            def call(*args, **kwargs):
                if component.outermost and depth[0]:
                    return fn(*args, **kwargs)
                depth[0] += 1
                try:
                    out = fn(*args, **kwargs)
                finally:
                    depth[0] -= 1
                tensor = first_tensor(out)
                if tensor is not None and tensor.is_floating_point() and calls.get(component.name, 0) < MAX_CALLS:
                    calls[component.name] = calls.get(component.name, 0) + 1
                    kept.append((component.name, tensor.detach().float().cpu().clone()))
                return out

            return call

        return wrap

    with patched((owner, attr, keeping(c)) for c, targets in found for owner, attr in targets):
        chunk = first_chunk(adapter, obs, seed, device)
    return chunk, kept


def relative_difference(reference: torch.Tensor, other: torch.Tensor) -> float:
    """max |Δ| / max |reference|, as the actions' relative error is computed (variants/equivalence.py)."""
    diff = (other - reference).abs().max().item() if reference.numel() else 0.0
    scale = reference.abs().max().item() if reference.numel() else 0.0
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def divergence(reference: Outputs, variant: Outputs, tolerance: float) -> dict[str, object]:
    """Each component's largest relative difference over its calls, and the first output, in
    eager's order, further from eager's than ``tolerance`` (None: every one within it). A call the
    variant does not make (a part run by a runtime, where the components cannot be reached) or one
    of another shape is not compared."""
    theirs: dict[str, list[torch.Tensor]] = {}
    for name, tensor in variant:
        theirs.setdefault(name, []).append(tensor)
    seen: dict[str, int] = {}
    largest: dict[str, float] = {}
    compared: dict[str, int] = {}
    first = None
    for name, tensor in reference:
        index = seen.get(name, 0)
        seen[name] = index + 1
        other = theirs.get(name, [])
        if index >= len(other) or other[index].shape != tensor.shape:
            continue
        rel = relative_difference(tensor, other[index])
        largest[name] = max(largest.get(name, 0.0), rel)
        compared[name] = compared.get(name, 0) + 1
        if first is None and rel > tolerance:
            first = {"component": name, "call": index + 1, "rel_error": rel}
    if first is not None:
        first["calls"] = seen[str(first["component"])]
    return {
        "first": first,
        "components": [
            {"component": name, "calls_compared": compared[name], "largest_rel_error": largest[name]}
            for name in dict.fromkeys(n for n, _ in reference)
            if name in compared
        ],
        "not_compared": [name for name in dict.fromkeys(n for n, _ in reference) if name not in compared],
        "tolerance": tolerance,
    }
