"""What every variant's wrapper shares: it runs ``inner`` as ``variant``, is used as a context
manager (it undoes on exit what it changed on entry), and names its variant in the results."""

from __future__ import annotations

import torch

from policybench.policies.base import WrappedPolicy
from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.variants.table import Variant


class VariantWrapper(WrappedPolicy):
    inner: LeRobotPolicy

    def __init__(self, inner: LeRobotPolicy, variant: Variant):
        super().__init__(inner)
        self.variant = variant

    def __enter__(self) -> "VariantWrapper":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.inner.select_action(obs)

    def describe(self) -> dict[str, object]:
        return {**self.inner.describe(), "variant": self.variant.name}
