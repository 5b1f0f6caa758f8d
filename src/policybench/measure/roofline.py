"""How fast could a refill be: its FLOPs, the bytes of weights it reads, and the device's peaks.

floor = max(FLOPs / peak FLOP/s, weight bytes read / peak bytes/s). Weight bytes read counts each
module's own parameters once per call of that module during one refill, so Diffusion's UNet is
counted once per denoising step and SmolVLA's expert once per flow step.

Each variant is charged the floor of the precision it computes in (variants/precision.py): its
FLOPs at the device's peak for that precision (a matrix product in it, measured here), and its
weights read at that precision's bytes per weight (bf16 2, int8 1; never more than the bytes the
weights take as stored). fp32 eager's floor is the one of the fp32 peak.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import torch

from policybench.clock import Clock
from policybench.variants.equivalence import seeded
from policybench.variants.precision import BF16, BYTES_PER_WEIGHT, FP16, FP32, INT8, TF32

if TYPE_CHECKING:
    from policybench.policies.lerobot_policies import LeRobotPolicy


def refill_cost(adapter: LeRobotPolicy, obs: dict[str, torch.Tensor], seed: int = 0) -> dict[str, float]:
    """FLOPs (torch.utils.flop_counter) and weight bytes read in one refill of a LeRobot policy,
    its sampling noise drawn from the global RNG seeded with ``seed`` and put back after."""
    from torch.utils.flop_counter import FlopCounterMode

    model = adapter.policy
    calls: Counter = Counter()
    hooks = [m.register_forward_pre_hook(lambda mod, args: calls.update([id(mod)])) for m in model.modules()]
    own_bytes = {id(m): sum(p.numel() * p.element_size() for p in m.parameters(recurse=False)) for m in model.modules()}
    own_count = {id(m): sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules()}
    try:
        counter = FlopCounterMode(display=False)
        with seeded(seed, str(next(model.parameters()).device)), counter:
            adapter.predict_chunk(obs)
    finally:
        for h in hooks:
            h.remove()
    return {
        "flops": float(counter.get_total_flops()),
        "weight_bytes_read": float(sum(own_bytes[k] * n for k, n in calls.items())),
        "weights_read": float(sum(own_count[k] * n for k, n in calls.items())),
    }


def device_peaks(device: str, clock: Clock, size: int | None = None, repeats: int = 5) -> dict[str, float]:
    """Peak fp32 matrix-product rate (FLOP/s) and copy bandwidth (bytes/s, read + write), the
    best of ``repeats`` timed runs after one untimed. The operands come from a generator of
    their own: the global RNG is left as it was."""
    src = torch.empty(64 * 2**20, dtype=torch.uint8, device=device)  # 64 MiB
    dst = torch.empty_like(src)
    t_copy = _best(lambda: dst.copy_(src), clock, repeats)
    rate = _peak_rate(device, FP32, size, clock, repeats)
    assert rate is not None, "an fp32 product runs on every device"
    return {"peak_flops": rate, "peak_bytes_per_s": 2 * src.numel() / t_copy}


def precision_peaks(
    device: str, clock: Clock, precisions: Iterable[str], size: int | None = None, repeats: int = 5
) -> dict[str, float]:
    """The peak matrix-product rate of each of ``precisions`` but fp32 (device_peaks measures
    it): bf16 and fp16 products, int8 through ``torch._int_mm`` (int32 sums), tf32 on CUDA (fp32
    products with TF32 allowed for their duration). One torch cannot run here is left out. Ask
    only for the precisions the run's variants compute in: one the CPU emulates takes minutes."""
    rates = {p: _peak_rate(device, p, size, clock, repeats) for p in dict.fromkeys(precisions) if p != FP32}
    return {p: rate for p, rate in rates.items() if rate}


def _sizes(device: str, size: int | None) -> tuple[int, ...]:
    """The square products a peak is the best of: no one size is the fastest in every precision
    (on a 2-core Xeon with AMX, bf16 ran fastest at 1024, int8 at 2048, fp32 at 2048-4096)."""
    if size:
        return (size,)
    return (4096, 8192) if device.startswith("cuda") else (1024, 2048, 4096)


def _peak_rate(device: str, precision: str, size: int | None, clock: Clock, repeats: int) -> float | None:
    """The best rate of a product in ``precision`` over the sizes of ``_sizes``; None where torch has none."""
    rates = [r for n in _sizes(device, size) if (r := _matmul_rate(device, precision, n, clock, repeats))]
    return max(rates) if rates else None


def _best(fn: Callable[[], object], clock: Clock, repeats: int) -> float:
    """The shortest of ``repeats`` timed calls after one untimed."""
    fn()
    times = []
    for _ in range(repeats):
        start = clock.read()
        fn()
        times.append(clock.read() - start)
    return min(times)


_DTYPES = {FP32: torch.float32, TF32: torch.float32, BF16: torch.bfloat16, FP16: torch.float16}


def _matmul_rate(device: str, precision: str, n: int, clock: Clock, repeats: int) -> float | None:
    """2 n^3 / the best time of an n x n matrix product in ``precision``; None where torch has no
    such product on ``device`` (tf32 off CUDA, int8 without torch._int_mm)."""
    rng = torch.Generator(device=device)
    if precision == INT8:
        if not hasattr(torch, "_int_mm"):
            return None
        a = torch.randint(-128, 128, (n, n), dtype=torch.int8, device=device, generator=rng)
        b = torch.randint(-128, 128, (n, n), dtype=torch.int8, device=device, generator=rng)
        product: Callable[[], object] = lambda: torch._int_mm(a, b)  # noqa: E731
    elif precision in _DTYPES:
        if precision == TF32 and not device.startswith("cuda"):
            return None
        a = torch.randn(n, n, device=device, generator=rng).to(_DTYPES[precision])
        b = torch.randn(n, n, device=device, generator=rng).to(_DTYPES[precision])
        product = lambda: a @ b  # noqa: E731
    else:
        return None
    try:
        with _tf32(precision == TF32):
            return 2 * n**3 / _best(product, clock, repeats)
    except RuntimeError:  # the product is not implemented for this dtype on this device
        return None


@contextlib.contextmanager
def _tf32(allowed: bool) -> Iterator[None]:
    """CUDA's fp32 products in TF32 inside when ``allowed``; the setting put back after."""
    if not allowed:
        yield
        return
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def floor_ms(cost: dict[str, float], peaks: dict[str, float]) -> float:
    return 1000.0 * max(cost["flops"] / peaks["peak_flops"], cost["weight_bytes_read"] / peaks["peak_bytes_per_s"])


def precision_floor(
    cost: dict[str, float], peaks: dict[str, float], rates: dict[str, float], precision: str
) -> dict[str, object]:
    """A variant's roofline in ``precision``: ``cost`` (refill_cost's) at the peak ``rates[precision]``
    and its weights read at that precision's bytes per weight, against ``peaks``' bandwidth; the
    four terms, the floor, its precision, and every rate measured. {} when ``precision``'s peak
    was not measured."""
    rate = rates.get(precision)
    if not rate:
        return {}
    weight_bytes = cost["weight_bytes_read"]
    if cost.get("weights_read") is not None:
        weight_bytes = min(weight_bytes, cost["weights_read"] * BYTES_PER_WEIGHT[precision])
    terms = {
        "flops": cost["flops"],
        "weight_bytes_read": weight_bytes,
        "peak_flops": rate,
        "peak_bytes_per_s": peaks["peak_bytes_per_s"],
    }
    return {
        **terms,
        "weights_read": cost.get("weights_read"),
        "floor_ms": floor_ms(terms, terms),
        "precision": precision,
        "peak_flops_by_precision": dict(rates),
    }
