"""The cast variant (bf16-weights): the policy's floating weights and buffers, and the float
tensors of each observation, cast to the variant's dtype once, so that its weights are read in it
(autocast alone keeps them in fp32 and casts them again at each call). Autocast to the same dtype
stays on around each call for the tensors a policy makes in fp32 itself (ACT's latent of zeros,
made with dtype=torch.float32), which would otherwise meet a bf16 weight in a matrix product."""

from __future__ import annotations

import torch

from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.variants.base import VariantWrapper
from policybench.variants.table import Variant


class CastPolicy(VariantWrapper):
    """``inner`` with its weights in the variant's dtype while entered; the fp32 tensors are kept
    (not cast back, which would round them) and put back on exit. Actions come out as fp32."""

    def __init__(self, inner: LeRobotPolicy, variant: Variant):
        super().__init__(inner, variant)
        self._dtype = getattr(torch, str(variant.dtype))
        self._kind = "cuda" if next(inner.policy.parameters()).is_cuda else "cpu"
        self._saved: list[tuple[torch.Tensor, torch.Tensor]] = []  # (the tensor cast, its fp32 data)

    def __enter__(self) -> "CastPolicy":
        module = self.inner.policy
        with torch.no_grad():
            for t in [*module.parameters(), *module.buffers()]:
                if t.is_floating_point() and t.dtype != self._dtype:
                    self._saved.append((t, t.data))
                    t.data = t.data.to(self._dtype)
        return self

    def __exit__(self, *exc) -> None:
        for t, data in self._saved:
            t.data = data
        self._saved = []

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        cast = {
            k: v.to(self._dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v for k, v in obs.items()
        }
        with torch.autocast(self._kind, dtype=self._dtype):
            return self.inner.select_action(cast).float()
