"""Every --variant of one built policy measured in turn: equivalence against fp32 eager, the
steady-state loop (measure/policy.py's, handed in), and the refill's roofline floor."""

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
from policybench.environment import cpu_vector_flags
from policybench.observations import synthetic_observation
from policybench.measure.accuracy import ActionUnits, action_units
from policybench.anatomy.summary import divergence_text
from policybench.measure.divergence import Outputs, divergence, traced_chunk
from policybench.measure.roofline import device_peaks, precision_floor, precision_peaks, refill_cost
from policybench.variants.calibration import (
    Calibration,
    CalibrationRefused,
    recorded_calibration,
    synthetic_calibration,
)
from policybench.variants.cudagraph import CaptureFailed
from policybench.variants.equivalence import equivalence, first_chunk
from policybench.variants.runtimes import ExportCache, RuntimePolicy
from policybench.variants.strategies import make_variant, skip_reason
from policybench.variants.precision import FP32, TF32
from policybench.variants.table import VARIANTS, Variant
from policybench.variants.unavailable import VariantUnavailable

if TYPE_CHECKING:
    from policybench.settings import RunSettings

Log = Callable[[str], None]
Measure = Callable[[PolicyResult, PolicyAdapter], PolicyResult]  # the steady-state loop on an adapter: the result


def measure_variants(
    base: PolicyResult,
    adapter: PolicyAdapter,
    obs: dict,
    cfg: RunSettings,
    device: str,
    clock: Clock,
    warn: Log,
    measure: Measure,
    describe_error: Callable[[BaseException], str],
    log: Log = lambda line: None,
) -> list[PolicyResult]:
    """Each --variant of one built policy, as a result of its own made from ``base``. A variant that
    cannot run here is "skipped" with its reason; one that fails is "failed", and the others still run.
    ``log`` hears each step as it starts (a compile variant's first chunk can take minutes)."""
    log(f"{base.name}: fp32 eager's first chunk (the variants' reference) and the refill's cost")
    flags = cpu_vector_flags() if device == "cpu" else None
    reasons = {name: skip_reason(VARIANTS[name], _policy(adapter), device, flags) for name in cfg.variants}
    if any(
        traceable(VARIANTS[n], adapter) and why is None for n, why in reasons.items()
    ):  # to find where one leaves it
        chunk, outputs = traced_chunk(adapter, obs, cfg.seed, device)
    else:
        chunk, outputs = first_chunk(adapter, obs, cfg.seed, device), None
    reference = Reference(chunk, action_units(adapter, base.source, device, warn), outputs)
    precisions = {name: variant_precision(VARIANTS[name], device) for name in cfg.variants}
    cost, peaks, rates = _roofline(
        adapter, obs, cfg.seed, device, clock, [precisions[n] for n, why in reasons.items() if why is None]
    )
    calibration = None
    if any(VARIANTS[n].calibrated and why is None for n, why in reasons.items()):
        try:
            calibration = calibration_set(adapter, obs, cfg, device)
        except CalibrationRefused as exc:  # the variants that calibrate are skipped with it
            reasons = {n: str(exc) if VARIANTS[n].calibrated and why is None else why for n, why in reasons.items()}
    out = []
    capture_failed = None  # a failed capture can leave CUDA unusable: no second attempt in this process
    with ExportCache() as exports:  # one fp32 export of the policy for all its runtime variants
        for name in cfg.variants:
            variant = VARIANTS[name]
            r = dataclasses.replace(base, variant=name)
            reason = reasons[name]
            if reason is None and variant.cudagraph and capture_failed:
                reason = f"not attempted after a failed capture in this process ({capture_failed})"
            if reason:
                out.append(dataclasses.replace(r, status=SKIPPED, error=reason))
                warn(f"{r.name}: skipped: {reason}")
                continue
            found: dict[str, object] = {}  # what the variant's first chunk showed; a failed result keeps it
            try:
                r = _measure_variant(
                    r, found, variant, adapter, obs, reference, cfg, device, warn, measure, log, calibration, exports
                )
                if cost:
                    roofline = _against_floor(r, precision_floor(cost, peaks, rates, precisions[name]), warn)
                    r = dataclasses.replace(r, roofline=roofline)
            except VariantUnavailable as exc:  # a failed capture or export: skipped with its reason
                r = dataclasses.replace(r, **found, status=SKIPPED, error=str(exc))  # type: ignore[arg-type]
                if isinstance(exc, CaptureFailed):
                    capture_failed = name
                warn(f"{r.name}: skipped: {r.error}")
            except Exception as exc:  # noqa: BLE001 - one variant failing leaves the others
                r = dataclasses.replace(r, **found, status=FAILED, error=describe_error(exc))  # type: ignore[arg-type]
                warn(f"{r.name}: FAILED: {(r.error or '').splitlines()[0]}")
            out.append(r)
    return out


@dataclasses.dataclass(frozen=True)
class Reference:
    """What every variant is checked against: fp32 eager's first chunk, the action units it is
    read in, and (None when no variant is traceable) each component's output in eager's refill."""

    chunk: torch.Tensor
    units: ActionUnits
    outputs: Outputs | None


def traceable(variant: Variant, adapter: PolicyAdapter) -> bool:
    """Whether a variant's components can be reached to find where it leaves eager: not after
    torch.compile or a CUDA graph capture (wrapping a module there would recompile or be replayed
    past), not in a runtime that runs the whole refill as one graph (none of them is called), and
    not eager itself."""
    policy = _policy(adapter)
    whole = variant.runtime is not None and isinstance(policy, LeRobotPolicy) and policy.family.export.whole
    return variant.name != "eager" and not variant.compile and not variant.cudagraph and not whole


def calibration_set(adapter: PolicyAdapter, obs: dict, cfg: RunSettings, device: str) -> Calibration:
    """The observations the statically quantized variants calibrate on (variants/calibration.py):
    --calibration's recorded ones, like the run's ``obs``, else synthetic ones drawn as the run's,
    from the seeds after its own."""
    policy = _policy(adapter)
    if cfg.calibration:  # held to what select_action takes (with --pipeline, not the raw observation)
        task = policy.extra_inputs(cfg.profile.task) if policy is not adapter else None
        like = obs if policy is adapter else synthetic_observation(policy.input_specs(), device, cfg.seed, task)
        return recorded_calibration(cfg.calibration, like, device, cfg.seed)
    return synthetic_calibration(policy.input_specs(), device, cfg.seed, policy.extra_inputs(cfg.profile.task))


def variant_precision(variant: Variant, device: str) -> str:
    """The precision ``variant`` computes in on ``device``: its own, except that fp32 products on
    CUDA run in TF32 while torch allows it (torch.backends.cuda.matmul.allow_tf32)."""
    if variant.precision == FP32 and device.startswith("cuda") and tf32_allowed():
        return TF32
    return variant.precision


def tf32_allowed() -> bool:
    return bool(torch.backends.cuda.matmul.allow_tf32)


def _policy(adapter: PolicyAdapter) -> PolicyAdapter:
    """What a variant changes: with --pipeline the policy inside LeRobot's processors, which stay as they are."""
    return adapter.inner if isinstance(adapter, PipelinePolicy) else adapter


def _roofline(
    adapter: PolicyAdapter, obs: dict, seed: int, device: str, clock: Clock, precisions: list[str]
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """The refill's cost, the device's fp32 peak and bandwidth, and its peak rate in each of
    ``precisions`` (the precisions of the variants that run); none but for a LeRobot policy run
    alone (not inside --pipeline's processors)."""
    if not isinstance(adapter, LeRobotPolicy):
        return {}, {}, {}
    cost, peaks = refill_cost(adapter, obs, seed), device_peaks(device, clock)
    rates = {FP32: peaks["peak_flops"], **precision_peaks(device, clock, precisions)}
    return cost, peaks, rates


def _against_floor(r: PolicyResult, roofline: dict[str, object], warn: Log) -> dict[str, object]:
    """``roofline`` with the refill median as a multiple of its floor; a median below the floor
    is said at once: the floor is then wrong (a peak measured below what the variant reached)."""
    median = r.summary()["refill"]["median_ms"]
    floor = roofline.get("floor_ms")
    if not isinstance(floor, float) or not floor:
        return roofline
    x = median / floor if median else None
    if x is not None and x < 1:
        warn(
            f"{r.name}: refill median {median:.4g} ms is below its {roofline['precision']} floor of {floor:.4g} ms "
            f"({x:.2f}x): the floor is wrong, not the refill faster than the device"
        )
    return {**roofline, "x_of_floor": x}


def _measure_variant(
    r: PolicyResult,
    found: dict[str, object],
    variant: Variant,
    adapter: PolicyAdapter,
    obs: dict,
    reference: Reference,
    cfg: RunSettings,
    device: str,
    warn: Log,
    measure: Measure,
    log: Log = lambda line: None,
    calibration: Calibration | None = None,
    exports: ExportCache | None = None,
) -> PolicyResult:
    """One variant: its first chunk against eager's (compilation and export included), then the
    loop; ``found`` gets what the first chunk shows as it is known (a failure later keeps it).
    ``calibration``: what a statically quantized variant calibrates on; ``exports``: the runtime
    exports of this policy so far, reused by a runtime variant."""
    log(f"{r.name}: first chunk, checked against fp32 eager's{_first_chunk_work(variant)}")
    run: contextlib.AbstractContextManager = contextlib.nullcontext()
    wrapped = adapter
    if variant.name != "eager":
        policy = _policy(adapter)
        assert isinstance(policy, LeRobotPolicy), "skip_reason skips any other policy"
        run = make_variant(policy, variant, device, calibration, exports)
        wrapped = adapter.around(run) if isinstance(adapter, PipelinePolicy) else run
    with run:
        start = time.perf_counter()
        chunk = first_chunk(wrapped, obs, cfg.seed, device)  # includes torch.compile's compilation
        found["first_chunk_seconds"] = time.perf_counter() - start
        found["equivalence"] = equivalent = judge(reference.chunk, chunk, reference.units, variant, cfg.tolerance)
        if not equivalent["equivalent"] and reference.outputs and traceable(variant, adapter):
            log(f"{r.name}: its actions differ from eager's; one more refill, to find where it leaves eager")
            tolerance = equivalent["tolerance"]
            assert isinstance(tolerance, float)
            theirs = traced_chunk(wrapped, obs, cfg.seed, device)[1] or []
            equivalent = {**equivalent, "divergence": divergence(reference.outputs, theirs, tolerance)}
            found["equivalence"] = equivalent
        if isinstance(run, RuntimePolicy):  # the first refill exported: record it, save it
            found["export"] = run.finish_export(dataclasses.replace(r, **found), cfg.export_dir, warn)  # type: ignore[arg-type]
        r = measure(dataclasses.replace(r, **found), wrapped)  # type: ignore[arg-type]
    if not equivalent["equivalent"]:
        where = equivalent.get("divergence")
        after = f"; {divergence_text(where)}" if isinstance(where, dict) else ""
        warn(f"{r.name}: actions differ from fp32 eager ({miss_text(equivalent)}): its speed is not a win{after}")
    return r


def judge(
    reference: torch.Tensor, chunk: torch.Tensor, units: ActionUnits, variant: Variant, tolerance: float | None
) -> dict[str, object]:
    """The equivalence of ``chunk`` with eager's: the verdict against ``tolerance`` (the user's;
    None: the variant's own), and the differences in action units."""
    given = tolerance is not None
    verdict = equivalence(reference, chunk, tolerance if tolerance is not None else variant.tolerance)
    return {**verdict, **({"tolerance_given": True} if given else {}), **units.compare(reference, chunk)}


def miss_text(eq: dict[str, object]) -> str:
    """'relative error 0.03, 1.5x the tolerance 0.02; largest action difference 0.012 (0.8 % of its range)'."""
    rel, tol = eq["rel_error"], eq["tolerance"]
    assert isinstance(rel, float) and isinstance(tol, float)
    whose = "your tolerance" if eq.get("tolerance_given") else "the tolerance"
    text = f"relative error {rel:.2g}, {rel / tol:.2g}x {whose} {tol:g}" if tol > 0 else f"relative error {rel:.2g}"
    largest, share = eq.get("action_max_diff"), eq.get("range_share")
    if isinstance(largest, float):
        text += f"; largest action difference {largest:.3g}"
        text += f" ({100 * share:.2g} % of its range)" if isinstance(share, float) else ""
    return text


def _first_chunk_work(variant: Variant) -> str:
    """What a variant's first chunk does besides computing one: the slow part, said up front."""
    if variant.compile:
        return " (torch.compile compiles on it: minutes for a large policy)"
    export = "exported on it (once per policy, the runtime variants sharing it: minutes for a large policy)"
    if variant.calibrated:
        return f" (eager run on the calibration set first, then {export}, and quantized)"
    if variant.runtime:
        return f" ({export})"
    if variant.cudagraph:
        return " (the CUDA graph captured on it)"
    return ""
