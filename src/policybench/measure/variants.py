"""Every --variant of one built policy measured in turn: equivalence against fp32 eager, the
steady-state loop (the runner's, handed in), and the refill's roofline floor."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import TYPE_CHECKING, Callable

import torch

from policybench.clock import Clock
from policybench.policies.base import PolicyAdapter
from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.policies.pipeline import PipelinePolicy
from policybench.results import FAILED, SKIPPED, PolicyResult
from policybench.measure.roofline import device_peaks, floor_ms, refill_cost
from policybench.variants.cudagraph import CaptureFailed
from policybench.variants.equivalence import equivalence, first_chunk
from policybench.variants.runtimes import RuntimePolicy
from policybench.variants.strategies import make_variant, skip_reason
from policybench.variants.table import VARIANTS, Variant
from policybench.variants.unavailable import VariantUnavailable

if TYPE_CHECKING:
    from policybench.settings import RunSettings

Log = Callable[[str], None]
Measure = Callable[[PolicyResult, PolicyAdapter], None]  # the steady-state loop on an adapter, into a result


def measure_variants(
    base: PolicyResult, adapter: PolicyAdapter, obs: dict, cfg: RunSettings, device: str, clock: Clock,
    warn: Log, measure: Measure, describe_error: Callable[[BaseException], str], log: Log = lambda line: None,
) -> list[PolicyResult]:
    """Each --variant of one built policy, as a result of its own made from ``base``. A variant that
    cannot run here is "skipped" with its reason; one that fails is "failed", and the others still run.
    ``log`` hears each step as it starts (a compile variant's first chunk can take minutes)."""
    log(f"{base.name}: fp32 eager's first chunk (the variants' reference) and the refill's cost")
    reference = first_chunk(adapter, obs, cfg.seed, device)
    roofline = _roofline(adapter, obs, cfg.seed, device, clock)
    out = []
    capture_failed = None  # a failed capture can leave CUDA unusable: no second attempt in this process
    for name in cfg.variants:
        variant = VARIANTS[name]
        r = dataclasses.replace(base, memory=dict(base.memory), variant=name)
        out.append(r)
        reason = skip_reason(variant, _policy(adapter), device)
        if reason is None and variant.cudagraph and capture_failed:
            reason = f"not attempted after a failed capture in this process ({capture_failed})"
        if reason:
            r.status, r.error = SKIPPED, reason
            warn(f"{r.name}: skipped: {reason}")
            continue
        try:
            _measure_variant(r, variant, adapter, obs, reference, cfg, device, warn, measure, log)
            if roofline:
                median = r.summary()["refill"]["median_ms"]
                r.roofline = {**roofline, "x_of_floor": median / roofline["floor_ms"] if median else None}
        except VariantUnavailable as exc:  # a failed capture or export: skipped with its reason
            r.status, r.error = SKIPPED, str(exc)
            if isinstance(exc, CaptureFailed):
                capture_failed = name
            warn(f"{r.name}: skipped: {r.error}")
        except Exception as exc:  # noqa: BLE001 - one variant failing leaves the others
            r.status, r.error = FAILED, describe_error(exc)
            warn(f"{r.name}: FAILED: {r.error.splitlines()[0]}")
    return out


def _policy(adapter: PolicyAdapter) -> PolicyAdapter:
    """What a variant changes: with --pipeline the policy inside LeRobot's processors, which stay as they are."""
    return adapter.inner if isinstance(adapter, PipelinePolicy) else adapter


def _roofline(adapter: PolicyAdapter, obs: dict, seed: int, device: str, clock: Clock) -> dict[str, float]:
    """The refill's cost, the device's peaks and the floor they give; none but for a LeRobot policy run alone
    (not inside --pipeline's processors)."""
    if not isinstance(adapter, LeRobotPolicy):
        return {}
    roofline = {**refill_cost(adapter, obs, seed), **device_peaks(device, clock)}
    roofline["floor_ms"] = floor_ms(roofline, roofline)
    return roofline


def _measure_variant(
    r: PolicyResult, variant: Variant, adapter: PolicyAdapter, obs: dict, reference: torch.Tensor, cfg: RunSettings,
    device: str, warn: Log, measure: Measure, log: Log = lambda line: None,
) -> None:
    """One variant: its first chunk against eager's (compilation and export included), then the loop."""
    log(f"{r.name}: first chunk, checked against fp32 eager's{_first_chunk_work(variant)}")
    run: contextlib.AbstractContextManager = contextlib.nullcontext()
    wrapped = adapter
    if variant.name != "eager":
        policy = _policy(adapter)
        assert isinstance(policy, LeRobotPolicy), "skip_reason skips any other policy"
        run = make_variant(policy, variant, device)
        wrapped = adapter.around(run) if isinstance(adapter, PipelinePolicy) else run
    with run:
        start = time.perf_counter()
        chunk = first_chunk(wrapped, obs, cfg.seed, device)  # includes torch.compile's compilation
        r.first_chunk_seconds = time.perf_counter() - start
        r.equivalence = equivalence(reference, chunk, variant.tolerance)
        if isinstance(run, RuntimePolicy):  # the first refill exported: record it, save it
            r.export = run.finish_export(r, cfg.export_dir, warn)
        measure(r, wrapped)
    if not r.equivalence["equivalent"]:
        warn(f"{r.name}: actions differ from fp32 eager (relative error {r.equivalence['rel_error']:.2g} "
             f"> {variant.tolerance:g}): its speed is not a win")



def _first_chunk_work(variant: Variant) -> str:
    """What a variant's first chunk does besides computing one: the slow part, said up front."""
    if variant.compile:
        return " (torch.compile compiles on it: minutes for a large policy)"
    if variant.runtime:
        return f" (the policy exported to {variant.name} on it)"
    if variant.cudagraph:
        return " (the CUDA graph captured on it)"
    return ""
