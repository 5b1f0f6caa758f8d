"""A policy's whole refill as one module call, so that a runtime runs it as one graph.

A refill draws sampling noise from PyTorch's global RNG, which a graph cannot do, so the noise
becomes an input: each placement below puts, for its block, a method of its own where LeRobot calls
the refill; it draws the noise as eager draws it (the same calls, shapes and dtypes, in the same
order, so that under the same seed a variant's actions are eager's) and calls a module that runs
LeRobot's own refill on that noise. A runtime variant replaces that module by its stand-in.
Exported on one call, the loop unrolls, so the graph holds this run's number of denoising steps.

- Diffusion (``DiffusionModel.generate_actions``): the observation encoder, then per timestep a
  UNet call and a scheduler step, which draws fresh noise (DDPM, at every timestep but the last).
  ``WholeDiffusionRefill.forward(batch, noise, step_noise)`` runs it with the scheduler's
  ``randn_tensor`` handing out ``step_noise[0]``, ``step_noise[1]``, ...; how many, and their
  shapes, a dry run of the scheduler on zeros finds (it draws as the real loop does).
- Flow matching (SmolVLA's ``sample_actions``; pi0's and pi0.5's take other arguments and are not
  placed): the vision encoder, the language model's prefix pass filling its KV cache, then the
  Euler steps of the action expert reading that cache.
  Only the initial noise is drawn; ``WholeFlowRefill.forward(images, img_masks, lang_tokens,
  lang_masks, state, noise)`` runs it. The KV cache lives and dies inside the call, so the exported
  graph holds it as intermediate tensors: a static cache, sized by the prefix of this run's inputs.

Nothing of LeRobot is imported here: the module whose ``randn_tensor`` is replaced is the one that
defines the policy's scheduler class.
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


class WholeDiffusionRefill(torch.nn.Module):
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


class _DiffusionPlaced:
    """What stands in ``generate_actions`` while the whole refill is placed; ``refill`` is the module
    a runtime variant replaces by its stand-in."""

    def __init__(self, model: torch.nn.Module):
        self.refill: torch.nn.Module = WholeDiffusionRefill(model)
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
def _shadowed(owner: torch.nn.Module, method: str, by: Callable) -> Iterator[None]:
    """``owner.method`` is ``by`` for the block (an instance attribute shadows the class's method)."""
    owner.__dict__[method] = by
    try:
        yield
    finally:
        del owner.__dict__[method]


@contextlib.contextmanager
def diffusion_refill_placed(policy: Any) -> Iterator[tuple[object, str]]:
    """For the block: Diffusion's refill runs through a ``WholeDiffusionRefill`` module; yields where
    that module is held, (owner, attribute), for a runtime to put its stand-in there."""
    placed = _DiffusionPlaced(policy.diffusion)
    with _shadowed(policy.diffusion, "generate_actions", placed.generate_actions):
        yield placed, "refill"


class WholeFlowRefill(torch.nn.Module):
    """``sample_actions`` with its initial noise given."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model  # a child: the eval walk and the parameter count reach it
        self.training = model.training

    def forward(self, images, img_masks, lang_tokens, lang_masks, state, noise):
        return type(self.model).sample_actions(self.model, images, img_masks, lang_tokens, lang_masks, state, noise)


class _FlowPlaced:
    """What stands in ``sample_actions`` while the whole refill is placed."""

    def __init__(self, model: torch.nn.Module):
        self.refill: torch.nn.Module = WholeFlowRefill(model)
        self._model = model

    def sample_actions(self, images, img_masks, lang_tokens, lang_masks, state, noise=None, **kwargs):
        model = self._model
        if kwargs and any(v is not None for v in kwargs.values()):  # Real-Time Chunking's guidance, per call
            raise RuntimeError(f"the exported refill takes no {', '.join(sorted(kwargs))}")
        if noise is None:  # sample_actions' own draw, first
            shape = (state.shape[0], model.config.chunk_size, model.config.max_action_dim)
            noise = model.sample_noise(shape, state.device)
        return self.refill(images, img_masks, lang_tokens, lang_masks, state, noise)


@contextlib.contextmanager
def flow_refill_placed(policy: Any) -> Iterator[tuple[object, str]]:
    """For the block: a flow-matching VLA's refill (``policy.model.sample_actions``) runs through a
    ``WholeFlowRefill`` module; yields where that module is held."""
    placed = _FlowPlaced(policy.model)
    with _shadowed(policy.model, "sample_actions", placed.sample_actions):
        yield placed, "refill"
