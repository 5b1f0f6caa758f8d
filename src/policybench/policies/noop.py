"""A policy that computes nothing: it returns preallocated actions from a queue like the others,
so that a run of it measures policybench's own overhead per call."""

from __future__ import annotations

from collections import deque

import torch

from policybench.errors import UsageError
from policybench.observations import VECTOR, InputSpec
from policybench.policies.base import PolicyAdapter
from policybench.profiles import Profile


class NoopPolicy(PolicyAdapter):
    name = "noop"

    def __init__(self, action_dim: int, chunk_size: int = 50, device: str = "cpu"):
        self.chunk_size = chunk_size
        self.action_dim = action_dim
        chunk = torch.zeros(chunk_size, 1, action_dim, device=device)
        self._rows = list(chunk.unbind(0))
        self._queue: deque[torch.Tensor] = deque(maxlen=chunk_size)

    def reset(self) -> None:
        self._queue.clear()

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        if not self._queue:
            self._queue.extend(self._rows)
        return self._queue.popleft()

    def queued_actions(self) -> int:
        return len(self._queue)

    def input_specs(self) -> list[InputSpec]:
        return [InputSpec("observation.state", VECTOR, (self.action_dim,))]

    def describe(self) -> dict[str, object]:
        return {"chunk_size": self.chunk_size, "n_action_steps": self.chunk_size, "inference_steps": None}

    def parameter_count(self) -> int:
        return 0


NOOP_CONFIG_FIELDS = ("chunk_size",)


MAX_NOOP_CHUNK = 1_000_000  # its queue is preallocated; a chunk must fit in the samples a result keeps (MAX_SAMPLES)


def check_chunk_size(overrides: dict[str, object]) -> int:
    chunk = overrides.get("chunk_size", 50)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk <= 0:
        raise UsageError(f"noop.chunk_size must be a positive integer, got {chunk!r}")
    if chunk > MAX_NOOP_CHUNK:
        raise UsageError(f"noop.chunk_size must be at most {MAX_NOOP_CHUNK:,}, got {chunk}")
    return chunk


def build_noop(profile: Profile, overrides: dict[str, object], device: str, seed: int) -> NoopPolicy:
    return NoopPolicy(profile.action_dim, chunk_size=check_chunk_size(overrides), device=device)
