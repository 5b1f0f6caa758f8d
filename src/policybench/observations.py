"""Synthetic observations built from a policy's input features.

Images are float tensors in [0, 1] (as LeRobot's camera pipeline delivers them), state vectors
standard normal, language tokens whatever the policy's tokenizer made of the task string.
All tensors carry a batch dimension of 1 and live on the benchmark device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    import numpy as np

VISUAL = "visual"
VECTOR = "vector"


@dataclass(frozen=True)
class InputSpec:
    key: str
    kind: str  # VISUAL or VECTOR
    shape: tuple[int, ...]  # without the batch dimension


def synthetic_observation(
    specs: list[InputSpec],
    device: str,
    seed: int = 0,
    extra: dict[str, torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """One observation for batch size 1; ``extra`` tensors (e.g. language tokens) are added as given."""
    gen = torch.Generator().manual_seed(seed)
    obs: dict[str, torch.Tensor] = {}
    for spec in specs:
        if spec.kind == VISUAL:
            value = torch.rand((1, *spec.shape), generator=gen)
        elif spec.kind == VECTOR:
            value = torch.randn((1, *spec.shape), generator=gen)
        else:
            raise ValueError(f"unknown input kind {spec.kind!r} for {spec.key}")
        obs[spec.key] = value.to(device)
    for key, value in (extra or {}).items():
        obs[key] = value.to(device)
    return obs


def input_shapes(obs: dict[str, torch.Tensor]) -> dict[str, list[int]]:
    """Shapes (without batch) of an observation, for the results file."""
    return {k: list(v.shape[1:]) for k, v in obs.items()}


def synthetic_raw_observation(specs: list[InputSpec], seed: int = 0) -> dict[str, "np.ndarray"]:
    """One observation as a robot delivers it to LeRobot's deployment loop, on the host:
    uint8 HxWxC camera images and float32 vectors, without a batch dimension."""
    import numpy as np

    rng = np.random.default_rng(seed)
    raw: dict[str, np.ndarray] = {}
    for spec in specs:
        if spec.kind == VISUAL:
            c, h, w = spec.shape
            raw[spec.key] = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
        else:
            raw[spec.key] = rng.standard_normal(spec.shape).astype(np.float32)
    return raw
