"""The number formats a variant computes in: how many bytes a weight takes in each, and which CPU
instructions run each natively. No torch here: settings, reports and the skip check read it.

A CPU without a precision's instructions emulates it: torch's bf16 matrix products on an AVX-512
CPU without AVX512_BF16 ran 30-40x slower than fp32 (docs/variants-cpu.md), and fp16 on this
project's EPYC (no AVX512_FP16) 7-50x slower by the matrix size. A variant in such a precision does not apply
there: it is skipped with the reason instead of being measured.
"""

from __future__ import annotations

from collections.abc import Sequence

FP32, TF32, BF16, FP16, INT8 = "fp32", "tf32", "bf16", "fp16", "int8"
PRECISIONS = (FP32, TF32, BF16, FP16, INT8)
BYTES_PER_WEIGHT = {FP32: 4, TF32: 4, BF16: 2, FP16: 2, INT8: 1}
# x86 flags as /proc/cpuinfo names them, any one of which runs the precision's matrix products natively
CPU_INSTRUCTIONS: dict[str, tuple[str, ...]] = {
    BF16: ("amx_bf16", "avx512_bf16"),
    FP16: ("amx_fp16", "avx512_fp16"),
    INT8: ("amx_int8", "avx512_vnni", "avx_vnni"),
}
_NAMES = {BF16: "bfloat16", FP16: "float16", INT8: "int8"}
_SLOWER = {BF16: "30-40x", FP16: "7-50x"}


def cpu_precision_problem(precision: str, flags: Sequence[str]) -> str | None:
    """Why a CPU with ``flags`` (environment.cpu_vector_flags: its AVX/AMX/FMA flags) does not run
    ``precision`` natively, or None. Unknown flags ([]: no /proc/cpuinfo, or not an x86 CPU) are
    not a reason: the variant runs and its speed says."""
    needed = CPU_INSTRUCTIONS.get(precision)
    if not needed or not flags or any(f in flags for f in needed):
        return None
    slower = f" (torch runs it {_SLOWER[precision]} slower than fp32 there)" if precision in _SLOWER else ""
    return (
        f"this CPU has no {_NAMES[precision]} instructions ({' or '.join(needed)} not among its flags): "
        f"{precision} is emulated{slower}, so it does not apply here"
    )


def best_cpu_instructions(flags: Sequence[str]) -> dict[str, str]:
    """For each reduced precision, the CPU's instruction set that runs it ("amx_bf16"), from
    ``flags``; a precision the CPU lacks is left out."""
    return {
        p: next(f for f in needed if f in flags)
        for p, needed in CPU_INSTRUCTIONS.items()
        if any(f in flags for f in needed)
    }
