"""The breakdown of a measured policy: refills of its own after the timed ones, each split into its
family's components, and one refill counted for each component's FLOPs and weight bytes read.

The headline refills never run with a wrapper installed: the breakdown comes after them, and its
wrappers are removed before anything else runs (an error included).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

import torch

from policybench.anatomy.ledger import Ledger, instrumented, patched, resolve
from policybench.anatomy.summary import breakdown_warnings
from policybench.clock import Clock
from policybench.policies.base import PolicyAdapter

if TYPE_CHECKING:
    from policybench.results import PolicyResult

BREAKDOWN_REFILLS = 5  # refills split per policy (and variant), after the timed ones
NO_DEFINITION = "no component definition for this policy type: whole refill only"
Found = list  # [(Component, [(owner, attribute)])], as ledger.resolve gives them


def components_of(adapter: PolicyAdapter) -> tuple[object, Found, list[str], str | None]:
    """The object the adapter's components are found on, those found, the names not found, and
    why there are none (None when some were found)."""
    anatomy = adapter.anatomy()
    if anatomy is None:
        return None, [], [], NO_DEFINITION
    found, missing = resolve(*anatomy)
    why = None if found else f"none of its components ({', '.join(missing)}) found in this LeRobot: whole refill only"
    return anatomy[0], found, missing, why


def time_refills(adapter: PolicyAdapter, obs: dict, clock: Clock, found: Found, refills: int) -> list[dict]:
    """``refills`` refills, each after ``reset()``: the whole call and each component's own time,
    the clock (and so the device) read at every component boundary."""
    ledger = Ledger(clock.read)
    out = []
    with instrumented(found, [ledger]):
        for _ in range(refills):
            adapter.reset()
            ledger.clear()
            start = clock.read()
            adapter.select_action(obs)
            end = clock.read()
            out.append(
                {
                    "total_ms": (end - start) * 1000.0,
                    "ms": {name: max(0.0, s * 1000.0) for name, s in ledger.totals.items()},
                    "calls": dict(ledger.calls),
                }
            )
    adapter.reset()
    return out


def component_costs(
    adapter: PolicyAdapter, obs: dict, root: torch.nn.Module, found: Found, seed: int, device: str
) -> dict[str, dict]:
    """One refill counted (torch.utils.flop_counter, and each module of ``root`` its own parameters
    once per forward call, as roofline.refill_cost counts the whole refill, an embedding's rows
    looked up only): per component, and under "" for the unattributed rest, its FLOPs and weight
    bytes read."""
    from torch.utils.flop_counter import FlopCounterMode

    from policybench.variants.equivalence import seeded

    read = [0.0]
    counter = FlopCounterMode(display=False)
    flops, moved = Ledger(lambda: float(counter.get_total_flops())), Ledger(lambda: read[0])
    try:  # the byte counters inside the components' wrappers: a module's own bytes count in its component
        with patched(_byte_counters(root, read)), instrumented(found, [flops, moved]), seeded(seed, device), counter:
            adapter.reset()
            adapter.select_action(obs)
    finally:
        adapter.reset()
    cost = {
        c.name: {"flops": flops.totals.get(c.name, 0.0), "weight_bytes_read": moved.totals.get(c.name, 0.0)}
        for c, _ in found
    }
    cost[""] = {
        "flops": float(counter.get_total_flops()) - sum(flops.totals.values()),
        "weight_bytes_read": read[0] - sum(moved.totals.values()),
    }
    return cost


def _byte_counters(root: torch.nn.Module, read: list[float]) -> list[tuple[object, str, Callable]]:
    """Each module's forward adding the bytes of its own parameters to ``read[0]`` when it is
    called; an embedding only the rows it looks up (its whole table would put a floor under a token
    lookup that no device could reach)."""

    def counting(module: torch.nn.Module) -> Callable[[Callable], Callable]:
        own = sum(p.numel() * p.element_size() for p in module.parameters(recurse=False))
        row = module.embedding_dim * module.weight.element_size() if isinstance(module, torch.nn.Embedding) else 0

        def wrap(forward: Callable) -> Callable:
            @functools.wraps(forward)
            def call(*args, **kwargs):
                read[0] += row * args[0].numel() if row and args and torch.is_tensor(args[0]) else own
                return forward(*args, **kwargs)

            return call

        return wrap

    return [(m, "forward", counting(m)) for m in root.modules()]


def measure_breakdown(
    adapter: PolicyAdapter,
    obs: dict,
    clock: Clock,
    device: str,
    seed: int,
    refills: int = BREAKDOWN_REFILLS,
    reason: str | None = None,
) -> dict[str, object]:
    """The raw breakdown a result keeps (schema.read_breakdown): the components, each breakdown
    refill's split and, for a torch module, each component's cost and the device's peaks.
    ``reason``: why this run cannot be split (a compiled variant): its refills are timed whole."""
    root, found, missing, note = (None, [], [], reason) if reason else components_of(adapter)
    out: dict[str, object] = {
        "components": [{"name": c.name, "repeat": c.repeat} for c, _ in found],
        "refills": time_refills(adapter, obs, clock, found, refills),
    }
    if missing and found:
        out["missing"] = missing
    if note:
        out["note"] = note
    if found and isinstance(root, torch.nn.Module):
        from policybench.measure.roofline import device_peaks, floor_ms

        cost = component_costs(adapter, obs, root, found, seed, device)
        peaks = device_peaks(device, clock)
        for c in cost.values():
            c["floor_ms"] = floor_ms(c, peaks)
        out["unattributed_cost"] = cost.pop("")
        out["cost"], out["peaks"] = cost, peaks
    return out


def unsplittable(variant: str | None) -> str | None:
    """Why a variant's refill cannot be split: wrappers inside compiled, captured or exported code
    would change what runs (None: it can be)."""
    from policybench.variants.table import VARIANTS

    v = VARIANTS.get(variant or "eager")
    if v is not None and (v.compile or v.cudagraph or v.runtime):
        return (
            f"--variant {v.name} runs compiled, captured or exported code that wrappers would change: whole refill only"
        )
    return None


def breakdown_of(
    result: PolicyResult,
    adapter: PolicyAdapter,
    obs: dict,
    clock: Clock,
    device: str,
    seed: int,
    warn: Callable[[str], None],
) -> dict[str, object]:
    """--breakdown after the timed refills of ``result``: its raw breakdown (warned about where it
    calls for it); one that fails is empty, leaves the timed figures as they are and says why."""
    try:
        breakdown = measure_breakdown(adapter, obs, clock, device, seed, reason=unsplittable(result.variant))
    except Exception as exc:  # noqa: BLE001 - the headline is measured already: keep it
        warn(
            f"{result.name}: warning: --breakdown failed, the timed figures stand: {type(exc).__name__}: "
            f"{(str(exc).splitlines() or [''])[0]}"
        )
        return {}
    for line in breakdown_warnings(result.name, breakdown):
        warn(line)
    return breakdown
