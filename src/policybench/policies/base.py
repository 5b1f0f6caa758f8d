"""The one seam between policybench and a policy: everything the loop may ask of a policy."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Callable

import torch

from policybench.anatomy.spec import Component
from policybench.observations import InputSpec


class PolicyAdapter(ABC):
    """A built policy, ready to run. Queue introspection stays inside the adapter."""

    name: str
    takes_raw_observation = False  # True: gets the host-side observation a robot delivers (--pipeline)

    @abstractmethod
    def reset(self) -> None:
        """Empty the action queue, as at the start of an episode."""

    @abstractmethod
    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """One control step: the action the robot executes next."""

    def stages(self) -> list[tuple[str, Callable]] | None:
        """For a staged call (--pipeline): (name, function) pairs, each taking the previous one's
        output, the first the observation. None: one plain ``select_action`` call."""
        return None

    def weight_bytes(self) -> int:
        """Bytes of parameters and buffers."""
        return 0

    def anatomy(self) -> tuple[object, Sequence[Component]] | None:
        """--breakdown: the object a refill's components are found on and their definitions;
        None: no definition (the refill is timed whole)."""
        return None

    @abstractmethod
    def queued_actions(self) -> int:
        """Actions left in the queue. 0 means the next ``select_action`` computes a new chunk."""

    def predict_chunk(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """A whole new chunk of actions, shape (n, action_dim), without popping any: what an
        asynchronous inference worker computes. Leaves the queue empty."""
        self.reset()
        first = self.select_action(obs)
        rest = [self.select_action(obs) for _ in range(self.queued_actions())]
        return torch.cat([first, *rest], dim=0)

    @abstractmethod
    def input_specs(self) -> list[InputSpec]:
        """The observation tensors the policy reads."""

    def extra_inputs(self, task: str) -> dict[str, torch.Tensor]:
        """Inputs that are not synthetic noise (e.g. the tokenized task). None by default."""
        return {}

    @abstractmethod
    def describe(self) -> dict[str, object]:
        """chunk_size, n_action_steps, inference_steps and other settings for the results file."""

    @abstractmethod
    def parameter_count(self) -> int:
        """Number of parameters."""


class WrappedPolicy(PolicyAdapter):
    """A policy run differently (a pipeline around it, a variant of it): everything but
    ``select_action`` and ``describe`` is the wrapped policy's."""

    def __init__(self, inner: PolicyAdapter):
        self.inner = inner
        self.name = inner.name

    def reset(self) -> None:
        self.inner.reset()

    def queued_actions(self) -> int:
        return self.inner.queued_actions()

    def input_specs(self) -> list[InputSpec]:
        return self.inner.input_specs()

    def extra_inputs(self, task: str) -> dict[str, torch.Tensor]:
        return self.inner.extra_inputs(task)

    def describe(self) -> dict[str, object]:
        return self.inner.describe()

    def parameter_count(self) -> int:
        return self.inner.parameter_count()

    def weight_bytes(self) -> int:
        return self.inner.weight_bytes()

    def anatomy(self) -> tuple[object, Sequence[Component]] | None:
        return self.inner.anatomy()
