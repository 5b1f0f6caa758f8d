"""The compile variant: the policy's heavy modules (its family's ``compile_targets``) run by ``torch.compile``."""

from __future__ import annotations

import torch

from policybench.variants.base import VariantWrapper


class CompiledPolicy(VariantWrapper):
    """``inner`` with its heavy modules replaced by their compiled forms while the variant runs."""

    def __enter__(self) -> "CompiledPolicy":
        self._replaced = [(owner, attr, getattr(owner, attr)) for owner, attr in self.inner.compile_targets()]
        for owner, attr, original in self._replaced:
            setattr(owner, attr, torch.compile(original))
        return self

    def __exit__(self, *exc) -> None:
        for owner, attr, original in reversed(self._replaced):  # the next variants get the modules as built
            setattr(owner, attr, original)
        self._replaced = []
