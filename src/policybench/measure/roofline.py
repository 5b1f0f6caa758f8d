"""How fast could a refill be: its FLOPs, the bytes of weights it reads, and the device's peaks.

floor = max(FLOPs / peak FLOP/s, weight bytes read / peak bytes/s). Weight bytes read counts each
module's own parameters once per call of that module during one refill, so Diffusion's UNet is
counted once per denoising step and SmolVLA's expert once per flow step.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import torch

from policybench.clock import Clock
from policybench.variants.equivalence import seeded

if TYPE_CHECKING:
    from policybench.policies.lerobot_policies import LeRobotPolicy


def refill_cost(adapter: LeRobotPolicy, obs: dict[str, torch.Tensor], seed: int = 0) -> dict[str, float]:
    """FLOPs (torch.utils.flop_counter) and weight bytes read in one refill of a LeRobot policy,
    its sampling noise drawn from the global RNG seeded with ``seed`` and put back after."""
    from torch.utils.flop_counter import FlopCounterMode

    model = adapter.policy
    calls: Counter = Counter()
    hooks = [m.register_forward_pre_hook(lambda mod, args: calls.update([id(mod)])) for m in model.modules()]
    own_bytes = {
        id(m): sum(p.numel() * p.element_size() for p in m.parameters(recurse=False)) for m in model.modules()
    }
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
    }


def device_peaks(device: str, clock: Clock, size: int | None = None, repeats: int = 5) -> dict[str, float]:
    """Peak fp32 matrix-product rate (FLOP/s) and copy bandwidth (bytes/s, read + write), the
    best of ``repeats`` timed runs after one untimed. The operands come from a generator of
    their own: the global RNG is left as it was."""
    n = size or (8192 if device.startswith("cuda") else 2048)
    rng = torch.Generator(device=device)
    a = torch.randn(n, n, device=device, generator=rng)
    b = torch.randn(n, n, device=device, generator=rng)
    src = torch.empty(64 * 2**20, dtype=torch.uint8, device=device)  # 64 MiB
    dst = torch.empty_like(src)

    def best(fn) -> float:
        fn()
        times = []
        for _ in range(repeats):
            start = clock.read()
            fn()
            times.append(clock.read() - start)
        return min(times)

    t_mm = best(lambda: a @ b)
    t_copy = best(lambda: dst.copy_(src))
    return {"peak_flops": 2 * n**3 / t_mm, "peak_bytes_per_s": 2 * src.numel() / t_copy}


def floor_ms(cost: dict[str, float], peaks: dict[str, float]) -> float:
    return 1000.0 * max(cost["flops"] / peaks["peak_flops"], cost["weight_bytes_read"] / peaks["peak_bytes_per_s"])
