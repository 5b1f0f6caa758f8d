"""A variant's actions in the units a user reads: a checkpoint's actions after its postprocessor
(its dataset statistics turn normalized outputs into degrees, metres, a gripper's opening), the
action range those statistics give, and where the weights come from (random weights' accuracy
figures say little about a trained policy's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from policybench.lerobot_adapter.processors import action_statistics
from policybench.policies.base import PolicyAdapter
from policybench.policies.lerobot_policies import LeRobotPolicy
from policybench.policies.pipeline import PipelinePolicy, processors_for
from policybench.variants.equivalence import action_error

ACTION, OUTPUT = "action", "output"  # after a postprocessor with statistics; the policy's output as it is


@dataclass(frozen=True)
class ActionUnits:
    """How a chunk becomes actions in the user's units (``convert``; None: it already is)."""

    convert: Callable[[torch.Tensor], torch.Tensor] | None
    units: str  # ACTION or OUTPUT
    action_range: list[float] | None  # each dimension's max - min in the statistics; None without
    weights: str | None  # "random", "checkpoint", "given" (the caller's object); None: not a LeRobot policy

    def compare(self, reference: torch.Tensor, actions: torch.Tensor) -> dict[str, object]:
        """action_error of the two chunks in these units, with the units and the weights named."""
        ref, act = (reference, actions) if self.convert is None else (self.convert(reference), self.convert(actions))
        return {
            **action_error(ref, act, self.action_range),
            "units": self.units,
            **({"weights": self.weights} if self.weights else {}),
        }


def action_units(adapter: PolicyAdapter, source: str | None, device: str, warn: Callable[[str], None]) -> ActionUnits:
    """The units of ``adapter``'s actions: with --pipeline its chunks are already postprocessed;
    a checkpoint's (``source``) go through its postprocessor; a random-weight policy has no
    statistics, so its output is its unit. A postprocessor that cannot be loaded is a warning."""
    inner = adapter.inner if isinstance(adapter, PipelinePolicy) else adapter
    weights = inner.weights if isinstance(inner, LeRobotPolicy) else None
    if isinstance(adapter, PipelinePolicy):
        return _units(None, action_statistics(adapter.postprocessor), weights)
    if not source or not isinstance(adapter, LeRobotPolicy):
        return ActionUnits(None, OUTPUT, None, weights)
    try:
        _, post = processors_for(adapter.policy, source, device)
    except Exception as exc:  # noqa: BLE001 - accuracy then stays in the policy's output units
        warn(
            f"{adapter.name}: action differences in the policy's output units: its postprocessor did not load "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        )
        return ActionUnits(None, OUTPUT, None, weights)

    def convert(chunk: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return post(chunk.clone()).float().cpu()

    return _units(convert, action_statistics(post), weights)


def _units(
    convert: Callable[[torch.Tensor], torch.Tensor] | None, stats: dict[str, list[float]] | None, weights: str | None
) -> ActionUnits:
    if not stats:
        return ActionUnits(convert, OUTPUT, None, weights)
    high, low = stats.get("max"), stats.get("min")
    span = [h - lo for h, lo in zip(high, low)] if high is not None and low is not None else None
    return ActionUnits(convert, ACTION, span, weights)
