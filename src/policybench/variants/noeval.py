"""The noeval variant: no ``self.eval()`` walk over every submodule on each ``select_action`` call."""

from __future__ import annotations

from policybench.variants.base import VariantWrapper


class NoEvalPolicy(VariantWrapper):
    """``inner`` put in eval mode once, its ``eval`` a no-op while the variant runs."""

    def __enter__(self) -> "NoEvalPolicy":
        policy = self.inner.policy
        policy.eval()
        policy.eval = lambda: policy  # an instance attribute shadows nn.Module.eval
        return self

    def __exit__(self, *exc) -> None:
        del self.inner.policy.eval
