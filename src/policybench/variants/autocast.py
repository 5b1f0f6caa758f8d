"""The autocast variants (bf16, fp16): each call of the policy under ``torch.autocast``."""

from __future__ import annotations

import torch

from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.variants.base import VariantWrapper
from policybench.variants.table import Variant


class AutocastPolicy(VariantWrapper):
    """``inner`` with autocast to the variant's dtype around each call, on the device of its weights."""

    def __init__(self, inner: LeRobotPolicy, variant: Variant):
        super().__init__(inner, variant)
        self._kind = "cuda" if next(inner.policy.parameters()).is_cuda else "cpu"
        self._dtype = getattr(torch, str(variant.dtype))

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.autocast(self._kind, dtype=self._dtype):
            return self.inner.select_action(obs)
