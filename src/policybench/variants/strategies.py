"""Which wrapper runs a variant, and why a variant cannot run here."""

from __future__ import annotations

from collections.abc import Sequence

from policybench.policies.base import PolicyAdapter
from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.variants.autocast import AutocastPolicy
from policybench.variants.base import VariantWrapper
from policybench.variants.calibration import Calibration
from policybench.variants.cast import CastPolicy
from policybench.variants.compile import CompiledPolicy
from policybench.variants.cudagraph import CudaGraphPolicy
from policybench.variants.noeval import NoEvalPolicy
from policybench.variants.precision import cpu_precision_problem
from policybench.variants.runtimes import ExportCache, RuntimePolicy, runtime_problem
from policybench.variants.table import Variant


def skip_reason(
    variant: Variant, adapter: PolicyAdapter, device: str, cpu_flags: Sequence[str] | None = None
) -> str | None:
    """Why ``variant`` cannot run here, or None. ``cpu_flags``: the CPU's vector flags
    (environment.cpu_vector_flags, read when None), which say whether it runs the variant's
    precision natively."""
    if variant.name == "eager":
        return None
    if not isinstance(adapter, LeRobotPolicy):
        return f"{adapter.name} is not a LeRobot policy"
    if device == "cpu":
        if cpu_flags is None:
            from policybench.environment import cpu_vector_flags

            cpu_flags = cpu_vector_flags()
        problem = cpu_precision_problem(variant.precision, cpu_flags)
        if problem:
            return problem
    if variant.runtime is not None:
        return runtime_problem(variant, adapter, device)
    if variant.cudagraph and not device.startswith("cuda"):
        return "CUDA graphs need a CUDA device"
    if variant.dtype is not None and device == "mps" and variant.dtype == "bfloat16":
        return "bfloat16 autocast is not supported on MPS"
    if variant.compile and not adapter.compile_targets():
        return f"no heavy module known to compile for {adapter.name}"
    return None


def make_variant(
    adapter: LeRobotPolicy,
    variant: Variant,
    device: str,
    calibration: Calibration | None = None,
    exports: ExportCache | None = None,
) -> VariantWrapper:
    """``adapter`` run as ``variant``; use it as a context manager (it undoes what it changed).
    ``calibration``: the observations a statically quantized variant calibrates on; ``exports``:
    the policy's runtime exports so far, which a runtime variant reuses."""
    if variant.runtime is not None:
        return RuntimePolicy(adapter, variant, calibration, exports)
    if variant.cudagraph:
        return CudaGraphPolicy(adapter, variant, device)
    if variant.compile:
        return CompiledPolicy(adapter, variant)
    if variant.skip_eval_walk:
        return NoEvalPolicy(adapter, variant)
    if variant.cast_weights:
        return CastPolicy(adapter, variant)
    if variant.dtype is not None:
        return AutocastPolicy(adapter, variant)
    return VariantWrapper(adapter, variant)
