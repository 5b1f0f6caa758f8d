"""Policies a user built themselves and hands to ``policybench.run`` as objects.

A LeRobot policy object (anything with LeRobot's ``config.input_features``, ``select_action``
and ``reset``) is measured as a built-in one is: its config gives the inputs, its queue tells
steps from refills. Any other ``torch.nn.Module`` is called with the ``inputs`` given (a tensor,
a tuple of tensors or a dict of keyword tensors); it has no queue, so every call is a refill.
"""

from __future__ import annotations

import torch

from policybench.errors import UsageError
from policybench.observations import InputSpec
from policybench.policies.base import PolicyAdapter


class ModulePolicy(PolicyAdapter):
    """A plain module: every call runs its forward on the given inputs."""

    def __init__(self, name: str, module: torch.nn.Module, inputs, device: str):
        self.name = name
        self.module = module.to(device).eval()
        self._inputs = _to(inputs, device)

    def reset(self) -> None:
        pass

    def queued_actions(self) -> int:
        return 0

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.inference_mode():
            if isinstance(self._inputs, dict):
                out = self.module(**self._inputs)
            elif isinstance(self._inputs, tuple):
                out = self.module(*self._inputs)
            else:
                out = self.module(self._inputs)
        return out if isinstance(out, torch.Tensor) else _first_tensor(out)

    def input_specs(self) -> list[InputSpec]:
        return []

    def describe(self) -> dict[str, object]:
        return {"chunk_size": None, "n_action_steps": 1, "inference_steps": None, "module": type(self.module).__name__}

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.module.parameters())

    def weight_bytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in [*self.module.parameters(), *self.module.buffers()])


def _to(inputs, device: str):
    if isinstance(inputs, torch.Tensor):
        return inputs.to(device)
    if isinstance(inputs, dict):
        return {k: _to(v, device) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        return tuple(_to(v, device) for v in inputs)
    return inputs


def _first_tensor(out) -> torch.Tensor:
    values = out.values() if isinstance(out, dict) else out if isinstance(out, (list, tuple)) else []
    for v in values:
        if isinstance(v, torch.Tensor):
            return v
    raise TypeError(f"the module returned {type(out).__name__}, with no tensor in it")


def adapt_object(name: str, obj, inputs, device: str) -> PolicyAdapter:
    """The adapter for a user's own object (raises UsageError for one policybench cannot run)."""
    config = getattr(obj, "config", None)
    if config is not None and hasattr(config, "input_features") and hasattr(obj, "select_action"):
        from policybench.policies.lerobot_policies import LeRobotPolicy, family, input_specs

        obj.to(device)
        obj.eval()
        adapter = LeRobotPolicy(family(getattr(config, "type", name)), obj, input_specs(config.input_features))
        adapter.weights = "given"
        return adapter
    if isinstance(obj, torch.nn.Module):
        if inputs is None:
            raise UsageError(f"{name}: a plain torch.nn.Module needs inputs= (a tensor, a tuple or a dict of tensors)")
        return ModulePolicy(name, obj, inputs, device)
    raise UsageError(f"cannot run a {type(obj).__name__}: pass a policy name, a LeRobot policy or a torch.nn.Module")
