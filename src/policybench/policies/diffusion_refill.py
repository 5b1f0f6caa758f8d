"""Diffusion Policy's whole refill as one module call, so that a runtime runs it as one graph.

LeRobot's refill (``DiffusionModel.generate_actions``) encodes the observation, then loops over
the scheduler's timesteps: a UNet call and a scheduler step each, the step drawing fresh noise
from the global RNG (DDPM, for every timestep but the last). A graph cannot draw from PyTorch's
RNG, so the noise becomes an input: ``WholeRefill.forward(batch, noise, step_noise)`` runs
LeRobot's own ``generate_actions`` with the scheduler's ``randn_tensor`` handing out
``step_noise[0]``, ``step_noise[1]``, ... in place of its draws. Exported on one call, the loop
unrolls: the timesteps and the schedule's coefficients become constants of the graph, which
therefore holds this run's number of denoising steps.

``whole_refill_placed`` puts it where LeRobot calls the refill: ``generate_actions`` of the policy's
model now draws the initial noise and then each step's, from the global RNG in eager's order and
with eager's shapes and dtypes (found by a dry run of the scheduler on zeros, which draws as the real
loop does), and calls the whole-refill module with them. Under the same seed a variant's actions
are therefore eager's, computed by the runtime. Nothing of LeRobot is imported here: the module
whose ``randn_tensor`` is replaced is the one that defines the policy's scheduler class.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from typing import Any, Callable, Iterator

import torch

Draw = tuple[torch.Size, torch.dtype]


@contextlib.contextmanager
def _draws_replaced(scheduler: object, draw: Callable[..., torch.Tensor]) -> Iterator[None]:
    """The scheduler's module-level ``randn_tensor`` (diffusers' noise draw) replaced by ``draw``."""
    module = sys.modules[type(scheduler).__module__]
    original = getattr(module, "randn_tensor", None)
    if original is None:
        raise RuntimeError(f"{type(scheduler).__name__} draws its noise some other way than randn_tensor")
    module.randn_tensor = draw  # type: ignore[attr-defined]
    try:
        yield
    finally:
        module.randn_tensor = original  # type: ignore[attr-defined]


def step_draws(model: Any, shape: tuple[int, ...], dtype: torch.dtype) -> list[Draw]:
    """The shape and dtype of each noise draw of the scheduler's steps over one refill, in order:
    its loop run on zeros (a copy of the scheduler, no UNet), as ``conditional_sample`` runs it."""
    scheduler = copy.deepcopy(model.noise_scheduler)
    scheduler.set_timesteps(model.num_inference_steps)
    draws: list[Draw] = []

    def counted(shape, generator=None, device=None, dtype=None, layout=None):  # randn_tensor's signature
        draws.append((torch.Size(shape), dtype or torch.float32))
        return torch.zeros(shape, dtype=dtype, device=device)

    sample = torch.zeros(shape, dtype=dtype)
    with _draws_replaced(scheduler, counted):
        for t in scheduler.timesteps:
            sample = scheduler.step(torch.zeros_like(sample), t, sample).prev_sample
    return draws


class WholeRefill(torch.nn.Module):
    """``generate_actions`` with its sampling noise given: ``noise`` the initial sample,
    ``step_noise[k]`` the k-th draw of the scheduler's steps (an empty first dimension where the
    scheduler draws none, as DDIM)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model  # a child: the eval walk and the parameter count reach it
        self.training = model.training

    def forward(self, batch: dict[str, torch.Tensor], noise: torch.Tensor, step_noise: torch.Tensor) -> torch.Tensor:
        given = list(step_noise.unbind(0)) if step_noise.shape[0] else []
        used = 0

        def handed_out(shape, generator=None, device=None, dtype=None, layout=None):
            nonlocal used
            if used == len(given) or tuple(given[used].shape) != tuple(shape):
                raise RuntimeError(f"the scheduler drew noise {tuple(shape)} beyond the {len(given)} given")
            used += 1
            return given[used - 1]

        with _draws_replaced(self.model.noise_scheduler, handed_out):
            actions = type(self.model).generate_actions(self.model, batch, noise=noise)
        if used != len(given):
            raise RuntimeError(f"the scheduler drew {used} noises of the {len(given)} given")
        return actions


class _Placed:
    """What stands in ``generate_actions`` while the whole refill is placed; ``refill`` is the module
    a runtime variant replaces by its stand-in."""

    def __init__(self, model: torch.nn.Module):
        self.refill: torch.nn.Module = WholeRefill(model)
        self._model = model
        self._draws: dict[tuple[int, ...], list[Draw]] = {}

    def generate_actions(self, batch: dict[str, torch.Tensor], noise: torch.Tensor | None = None) -> torch.Tensor:
        model = self._model
        parameter = next(model.parameters())
        shape = (batch["observation.state"].shape[0], model.config.horizon, model.config.action_feature.shape[0])
        if noise is None:  # conditional_sample's own draw, first
            noise = torch.randn(size=shape, dtype=parameter.dtype, device=parameter.device)
        if shape not in self._draws:
            self._draws[shape] = step_draws(model, shape, noise.dtype)
        drawn = [torch.randn(s, dtype=d, device=noise.device) for s, d in self._draws[shape]]
        step_noise = torch.stack(drawn) if drawn else noise.new_empty((0, *shape))
        return self.refill(batch, noise, step_noise)


@contextlib.contextmanager
def whole_refill_placed(policy: Any) -> Iterator[tuple[object, str]]:
    """For the block: the policy's refill runs through a ``WholeRefill`` module; yields where that
    module is held, (owner, attribute), for a runtime to put its stand-in there."""
    model = policy.diffusion
    placed = _Placed(model)
    model.__dict__["generate_actions"] = placed.generate_actions  # an instance attribute shadows the method
    try:
        yield placed, "refill"
    finally:
        del model.__dict__["generate_actions"]
