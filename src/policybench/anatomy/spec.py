"""What a refill component is: a name and the callables whose calls it times."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Targets = Callable[[Any], list[tuple[object, str]]]  # the policy -> (owner, attribute) pairs of callables


@dataclass(frozen=True)
class Component:
    """One named part of a refill. Each call of a target is timed as this component; time spent in
    another component's call made inside it is that one's (a component's time is its own, so
    nested components are never counted twice). ``outermost``: a call made inside another
    component is not timed as this one but left to the enclosing one (a module called two ways,
    such as a VLM's forward, once for the prefix and once inside every denoising step)."""

    name: str
    targets: Targets
    repeat: str = ""  # what its calls per refill count: "per camera", "per step"; "" for once
    outermost: bool = False


def forward_of(module: object) -> tuple[object, str]:
    """A module's ``forward`` as a target: timed however it is called (``m(x)`` or ``m.forward(x)``)."""
    return module, "forward"
