"""The observations a statically quantized variant calibrates its activation scales on, and the
inputs its exported module receives from them.

The set is named in the results and the manifest (``Calibration.describe``). By default it is
synthetic: ``CALIBRATION_SIZE`` observations drawn as the run's own (images uniform in [0, 1],
state standard normal, the same task tokens) from the seeds after the run's, so that the
observation whose actions are compared with eager's is never one the scales were fitted on.
``--calibration FILE`` gives recorded ones instead (``recorded_calibration``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch.utils import _pytree as pytree

from policybench.checkpoint_guard import CheckpointRefused, read_file
from policybench.observations import synthetic_observation
from policybench.variants.equivalence import seeded
from policybench.variants.unavailable import VariantUnavailable

CALIBRATION_SIZE = 8


@dataclass(frozen=True)
class Calibration:
    """Observations (as ``select_action`` takes them) and, for each, the seed of the global RNG
    its refill draws sampling noise from."""

    name: str  # what they are, for the results and the manifest
    observations: list[dict[str, torch.Tensor]] = field(repr=False)
    seeds: list[int]

    def describe(self, calls: int) -> dict[str, object]:
        """The calibration set as the results and the manifest record it; ``calls``: the exported
        module's calls those observations made (Diffusion's UNet: one per denoising step)."""
        return {"name": self.name, "observations": len(self.observations), "seeds": self.seeds, "calls": calls}


MAX_CALIBRATION_BYTES = 2 * 2**30  # a recorded calibration set: observations of a few MB each
MAX_CALIBRATION_OBSERVATIONS = 1_000  # each one is a refill of the eager policy while calibrating


def synthetic_calibration(
    specs, device: str, seed: int, extra: dict[str, torch.Tensor] | None = None, size: int = CALIBRATION_SIZE
) -> Calibration:
    """``size`` synthetic observations of ``specs`` (observations.InputSpec) from seeds seed+1 ...
    seed+size, with the ``extra`` inputs (the task's tokens) as given."""
    seeds = list(range(seed + 1, seed + 1 + size))
    observations = [synthetic_observation(specs, device, s, extra=extra) for s in seeds]
    name = f"synthetic: {size} observations drawn as the run's (seeds {seeds[0]}-{seeds[-1]}), not the one compared"
    return Calibration(name, observations, seeds)


class CalibrationRefused(VariantUnavailable):
    """A --calibration file that cannot be read, or whose observations are not the run's kind."""


def recorded_calibration(path: str, like: dict[str, torch.Tensor], device: str, seed: int) -> Calibration:
    """The observations of a ``torch.save``'d list of dicts (read with weights_only: tensors, no
    code), each with the keys and shapes of ``like`` (the run's observation); their refills'
    sampling noise from the seeds seed+1, seed+2, ..."""
    try:  # a regular file of bounded size, read before torch sees it (a FIFO would block, a device never end)
        data = read_file(Path(path), MAX_CALIBRATION_BYTES, kind="a calibration set policybench reads")
    except CheckpointRefused as exc:
        raise CalibrationRefused(f"--calibration {exc}") from None
    try:
        loaded = torch.load(io.BytesIO(data), map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any reason it cannot be read is said in one line
        raise CalibrationRefused(f"--calibration {path}: cannot be read as torch.save'd tensors: {exc}") from exc
    if not isinstance(loaded, list) or not loaded or not all(isinstance(o, dict) for o in loaded):
        raise CalibrationRefused(f"--calibration {path}: must hold a non-empty list of observation dicts")
    if len(loaded) > MAX_CALIBRATION_OBSERVATIONS:
        raise CalibrationRefused(
            f"--calibration {path}: holds {len(loaded)} observations; at most {MAX_CALIBRATION_OBSERVATIONS} "
            "are run through the policy to calibrate"
        )
    for i, obs in enumerate(loaded):
        for key, value in like.items():
            got = obs.get(key)
            if not isinstance(got, torch.Tensor) or got.shape != value.shape:
                shape = tuple(got.shape) if isinstance(got, torch.Tensor) else got
                raise CalibrationRefused(
                    f"--calibration {path}: observation {i} has {key} {shape}; the run's is {tuple(value.shape)}"
                )
    seeds = list(range(seed + 1, seed + 1 + len(loaded)))
    observations = [{k: obs[k].to(device) for k in like} for obs in loaded]
    return Calibration(f"recorded: {len(loaded)} observations from {path}", observations, seeds)


def record_inputs(
    module: torch.nn.Module, refill: Callable[[dict[str, torch.Tensor]], object], calibration: Calibration, device: str
) -> list[tuple[tuple, dict]]:
    """The (args, kwargs) of every call of ``module`` while ``refill`` runs on each calibration
    observation, under its seed (the global RNG put back after); tensors cloned as they came."""
    calls: list[tuple[tuple, dict]] = []

    def keep(_module, args, kwargs):
        clone = lambda v: v.detach().clone() if isinstance(v, torch.Tensor) else v  # noqa: E731
        calls.append((pytree.tree_map(clone, args), pytree.tree_map(clone, kwargs)))

    hook = module.register_forward_pre_hook(keep, with_kwargs=True)
    try:
        for obs, s in zip(calibration.observations, calibration.seeds):
            with seeded(s, device):
                refill(obs)
    finally:
        hook.remove()
    return calls
