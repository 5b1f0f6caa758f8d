"""Measure one policy in this process (the child's side of a run): built, its steady-state loop run
once per variant, and its results returned; and ``verify``'s one inference, and the checks of
names and ``--set`` values against LeRobot's configs.

A policy that fails to build or run (CUDA out-of-memory included) becomes a failed result with
its error, not an exception: the run (orchestrate/run.py) goes on with the next.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from typing import Callable

import torch

from policybench import machine_load, policies
from policybench.clock import Clock
from policybench.settings import RunSettings
from policybench.errors import UsageError, describe_error
from policybench.measure.loop import MIN_AUTO_REFILLS, LoopResult, run_steady_state
from policybench.observations import input_shapes, synthetic_observation, synthetic_raw_observation
from policybench.policies.base import PolicyAdapter
from policybench.sizes import MAX_SAMPLES
from policybench.results import FAILED, OK, PolicyResult

Log = Callable[[str], None]
Progress = Callable[[str, int, int], None]  # (policy, refills done, target)
Builder = Callable[..., PolicyAdapter]  # (name, profile, overrides, device, seed) -> adapter; policies.build


def validate_overrides(cfg: RunSettings, skip: set[str] | frozenset[str] = frozenset()) -> None:
    """Names, ``--set`` fields and values checked before anything is built (imports LeRobot's
    configs); the policies in ``skip`` (given as objects, not by name) are not looked up."""
    for name in cfg.policies:
        if name not in skip:
            policies.check_name(name)
    for o in cfg.overrides:
        if o.policy not in skip:
            policies.check_override_field(o.policy, o.field)
    for name in dict.fromkeys(o.policy for o in cfg.overrides if o.policy not in skip):
        policies.check_override_values(name, cfg.overrides_for(name))


def measure_policy(
    name: str,
    cfg: RunSettings,
    device: str,
    clock: Clock,
    log: Log,
    build: Builder = policies.build,
    warn: Log | None = None,
    progress: Progress | None = None,
) -> list[PolicyResult]:
    """Build one policy and run the steady-state loop on it (once per ``--variant``); any
    exception becomes a failed result, with what was known of the policy before it."""
    warn = warn or log
    known: dict[str, object] = {}  # the policy's facts as they are found; a failed result keeps them
    results: list[PolicyResult] = []
    adapter = None
    try:
        log(f"{name}: building")
        t0 = time.perf_counter()
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(device)
        source = name if policies.is_checkpoint(name) else None
        known["source"] = source
        adapter = build(name, cfg.profile, cfg.overrides_for(name), device, cfg.seed)
        if cfg.pipeline:
            adapter = policies.with_pipeline(adapter, source, device, cfg.profile.task)
        known["build_seconds"] = build_seconds = time.perf_counter() - t0
        for note in getattr(adapter, "notes", ()):  # e.g. a checkpoint's config keys this LeRobot ignores
            warn(f"{name}: {note}")
        known["params"] = params = adapter.parameter_count()
        known["memory"] = {"weight_bytes": adapter.weight_bytes(), "rss_after_build_mb": current_rss_mb()}
        obs = make_observation(adapter, cfg, device)
        inputs = (
            {s.key: list(s.shape) for s in adapter.input_specs()}
            if adapter.takes_raw_observation
            else input_shapes(obs)
        )
        known["config"] = {**adapter.describe(), "inputs": inputs}
        log(f"{name}: built in {build_seconds:.1f} s ({params / 1e6:.1f} M params), measuring")
        base = PolicyResult(policy=name, status=FAILED, **known)  # type: ignore[arg-type]

        def measured(r: PolicyResult, a: PolicyAdapter) -> PolicyResult:
            return _measured(r, a, obs, cfg, device, clock, log, warn, progress)

        if cfg.variants == ["eager"]:
            results = [measured(base, adapter)]
        else:
            from policybench.measure.variants import measure_variants

            results = measure_variants(
                base, adapter, obs, cfg, device, clock, warn, describe_error=describe_error, measure=measured, log=log
            )
    except UsageError:
        raise  # the user's mistake: one line and exit 2, not a failed policy
    except Exception as exc:  # noqa: BLE001 - isolate every policy; the error is reported, not raised
        error = describe_error(exc)
        results = [PolicyResult(policy=name, status=FAILED, error=error, **known)]  # type: ignore[arg-type]
        warn(f"{name}: FAILED: {error.splitlines()[0]}")
    finally:
        del adapter
        release_memory(device)
    return results


def _measured(
    result: PolicyResult,
    adapter: PolicyAdapter,
    obs: dict,
    cfg: RunSettings,
    device: str,
    clock: Clock,
    log: Log,
    warn: Log,
    progress: Progress | None,
) -> PolicyResult:
    """``result`` with the steady-state loop's samples, its memory and load figures, and (with
    --breakdown) its components: a new record, status OK."""
    name = result.name
    on_refill = (lambda done: progress(name, done, _target(cfg, done))) if progress else None
    cold = ColdStartCounters()

    def on_phase(phase: str) -> None:  # called between calls, never inside a timed one
        cold.mark(phase)
        log(f"{name}: {phase}")

    load = machine_load.watch(clock, device)  # other work on the machine while measuring
    loop = run_steady_state(
        adapter,
        obs,
        clock,
        cfg.refills,
        cfg.warmup,
        cfg.max_seconds,
        on_refill,
        on_phase=on_phase,
        precision=cfg.precision,
    )
    result = dataclasses.replace(
        result,
        status=OK,
        machine_load=load.stop().to_json() if load is not None else result.machine_load,
        samples=loop.samples,
        cold_start_ms=loop.cold_start_ms,
        complete=loop.complete,
        precision=loop.precision,
        memory={**result.memory, **peak_memory(device), **cold.during_first_call()},
    )
    if cfg.breakdown:  # refills of its own, after the timed ones and their memory figures
        from policybench.measure.breakdown import BREAKDOWN_REFILLS, breakdown_of

        log(f"{name}: --breakdown: {BREAKDOWN_REFILLS} refills of its own, split into components")
        result = dataclasses.replace(
            result, breakdown=breakdown_of(result, adapter, obs, clock, device, cfg.seed, warn)
        )
    n_refills = sum(s.phase == "refill" for s in loop.samples)
    log(f"{name}: {len(loop.samples)} calls, {n_refills} refills in {loop.measured_seconds:.1f} s")
    if not loop.warmup_complete:
        warn(
            f"{name}: warning: --max-seconds {cfg.max_seconds:g} ended warm-up before {cfg.warmup} full cycles; "
            "measuring began mid-cycle: raise --max-seconds"
        )
    if not loop.complete and cfg.auto_refills:
        warn(
            f"{name}: warning: {_auto_stop(loop, cfg)} before the refill median was known to "
            f"+-{cfg.precision * 100:g} % ({_reached(loop.precision)} with {n_refills} refills): raise --max-seconds "
            "or --precision"
        )
    elif not loop.complete and len(loop.samples) >= MAX_SAMPLES:
        warn(
            f"{name}: warning: stopped at {MAX_SAMPLES:,} calls, the most a result keeps, before {cfg.refills} "
            f"full refill cycles ({n_refills} refills measured): lower --refills"
        )
    elif not loop.complete:
        warn(
            f"{name}: warning: stopped by --max-seconds {cfg.max_seconds:g} before {cfg.refills} full refill cycles "
            f"({n_refills} refills measured); raise --max-seconds for the full count"
        )
    return result


def _target(cfg: RunSettings, done: int) -> int:
    """The refills a progress bar counts to: --refills, or with auto the floor, then one more."""
    return max(MIN_AUTO_REFILLS, done + 1) if cfg.auto_refills else int(cfg.refills)


def _auto_stop(loop: LoopResult, cfg: RunSettings) -> str:
    if len(loop.samples) >= MAX_SAMPLES:
        return f"stopped at {MAX_SAMPLES:,} calls, the most a result keeps,"
    return f"stopped by --max-seconds {cfg.max_seconds:g}"


def _reached(precision: float | None) -> str:
    return "no interval yet" if precision is None else f"+-{precision * 100:.1f} % reached"


def release_memory(device: str) -> None:
    """After a policy is dropped: collect it, and hand its cached CUDA memory back."""
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def verify_policy(name: str, cfg: RunSettings, device: str, build: Builder = policies.build) -> tuple[bool, str]:
    """Build one policy and run one inference: (passed, what to print)."""
    adapter = None
    try:
        adapter = build(name, cfg.profile, cfg.overrides_for(name), device, cfg.seed)
        obs = make_observation(adapter, cfg, device)
        adapter.reset()
        action = adapter.select_action(obs)
        return True, f"action {tuple(action.shape)}, {adapter.parameter_count() / 1e6:.1f} M params"
    except Exception as exc:  # noqa: BLE001 - report every policy
        return False, describe_error(exc).splitlines()[0]
    finally:
        del adapter
        release_memory(device)


def make_observation(adapter: PolicyAdapter, cfg: RunSettings, device: str) -> dict:
    if adapter.takes_raw_observation:
        return synthetic_raw_observation(adapter.input_specs(), cfg.seed)
    return synthetic_observation(adapter.input_specs(), device, cfg.seed, extra=adapter.extra_inputs(cfg.profile.task))


def current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class ColdStartCounters:
    """What the process did during the first call besides computing: bytes it read from disk
    (weights a loader maps lazily are read then) and major page faults, from the OS's counters
    read just before and just after the call (outside its timed region)."""

    def __init__(self) -> None:
        self._before: tuple[int, int] | None = None
        self._delta: tuple[int, int] | None = None

    @staticmethod
    def _read() -> tuple[int, int] | None:
        import resource

        import psutil

        try:
            read_bytes = psutil.Process().io_counters().read_bytes
        except (AttributeError, psutil.Error, OSError):  # not on every platform
            return None
        return read_bytes, resource.getrusage(resource.RUSAGE_SELF).ru_majflt

    def mark(self, phase: str) -> None:
        if phase == "first call":
            self._before = self._read()
        elif self._before is not None and self._delta is None:
            after = self._read()
            if after is not None:
                self._delta = (after[0] - self._before[0], after[1] - self._before[1])

    def during_first_call(self) -> dict[str, float]:
        if self._delta is None:
            return {}
        return {"first_call_read_mb": self._delta[0] / 2**20, "first_call_major_faults": self._delta[1]}


def peak_memory(device: str) -> dict[str, float]:
    """Peak host RSS of the process so far (it never goes down: policies run earlier in the same
    process count too) and, on CUDA, this policy's peak device memory."""
    import resource

    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.startswith("cuda"):
        out["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        out["cuda_max_reserved_mb"] = torch.cuda.max_memory_reserved(device) / 2**20
    return out
