"""Adapters for LeRobot's policy classes, built from their configs with random weights.

Each family says where its action queue lives, which config settings make it build offline,
and what to report as its number of inference (denoising) steps. Nothing outside this module
touches a LeRobot policy's private attributes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections import deque
from dataclasses import dataclass
from typing import Callable

import torch

from policybench.config import Profile
from policybench.observations import InputSpec
from policybench.policies import compat
from policybench.policies.base import PolicyAdapter


def _queues_action(policy) -> deque | None:
    return policy._queues[compat.ACTION]


def _act_queue(policy) -> deque | None:
    # With temporal ensembling ACT computes a chunk on every call: it has no queue, every call refills.
    if policy.config.temporal_ensemble_coeff is not None:
        return None
    return policy._action_queue


def _action_queue(policy) -> deque | None:
    return policy._action_queue


def _offline_act(profile: Profile) -> dict[str, object]:
    # Otherwise torchvision downloads ImageNet weights for the ResNet18 backbone.
    return {"pretrained_backbone_weights": None}


def _offline_smolvla(profile: Profile) -> dict[str, object]:
    from policybench.policies.offline_vlm import smolvlm2_500m_dir

    return {"vlm_model_name": str(smolvlm2_500m_dir()), "load_vlm_weights": False}


def _no_settings(profile: Profile) -> dict[str, object]:
    return {}


def _diffusion_steps(cfg) -> int:
    return cfg.num_inference_steps if cfg.num_inference_steps is not None else cfg.num_train_timesteps


@dataclass(frozen=True)
class Family:
    name: str  # policybench's name and LeRobot's policy type
    queue: Callable[[object], deque | None]  # the policy's action queue (None: it has none)
    offline_settings: Callable[[Profile], dict[str, object]] = _no_settings
    inference_steps: Callable[[object], int | None] = lambda cfg: None
    chunk_fields: tuple[str, str] = ("chunk_size", "n_action_steps")
    uses_language: bool = False
    availability_problem: Callable[[], str | None] = lambda: None
    uses_env_state: bool = True


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("act", _act_queue, _offline_act),
        Family("diffusion", _queues_action, inference_steps=_diffusion_steps, chunk_fields=("horizon", "n_action_steps")),
        Family(
            "smolvla",
            _queues_action,
            _offline_smolvla,
            inference_steps=lambda cfg: cfg.num_steps,
            uses_language=True,
            uses_env_state=False,
        ),
        *(
            Family(
                name,  # PaliGemma-based flow matching: same queue, same blocker
                _action_queue,
                inference_steps=lambda cfg: cfg.num_inference_steps,
                uses_language=True,
                availability_problem=compat.pi_transformers_problem,
                uses_env_state=False,
            )
            for name in ("pi0", "pi05")
        ),
        Family("vqbet", _queues_action, chunk_fields=("action_chunk_size", "action_chunk_size")),
        Family("tdmpc", _queues_action, chunk_fields=("horizon", "n_action_steps")),
    )
}


class LeRobotPolicy(PolicyAdapter):
    def __init__(self, family: Family, policy, specs: list[InputSpec]):
        self.name = family.name
        self.family = family
        self.policy = policy
        self._specs = specs

    def reset(self) -> None:
        self.policy.reset()

    def select_action(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        # As LeRobot's own deployment loop (predict_action) calls it.
        with torch.inference_mode():
            return self.policy.select_action(obs)

    def queued_actions(self) -> int:
        queue = self.family.queue(self.policy)
        return 0 if queue is None else len(queue)

    def predict_chunk(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """A fresh chunk through the policy's own select_action: reset, one refill, then drain
        the queue it filled. Shape (n_action_steps, action_dim)."""
        self.policy.reset()
        first = self.select_action(obs)
        queue = self.family.queue(self.policy)
        rest = list(queue) if queue is not None else []
        if queue is not None:
            queue.clear()
        return torch.cat([first, *rest], dim=0)

    def input_specs(self) -> list[InputSpec]:
        return list(self._specs)

    def extra_inputs(self, task: str) -> dict[str, torch.Tensor]:
        if not self.family.uses_language:
            return {}
        return _tokenize_task(self.policy.config, task)

    def describe(self) -> dict[str, object]:
        cfg = self.policy.config
        chunk_field, steps_field = self.family.chunk_fields
        info: dict[str, object] = {
            "chunk_size": getattr(cfg, chunk_field, None),
            "n_action_steps": getattr(cfg, steps_field, None),
            "inference_steps": self.family.inference_steps(cfg),
            "n_obs_steps": getattr(cfg, "n_obs_steps", None),
        }
        if self.family.name == "act":
            info["temporal_ensemble_coeff"] = cfg.temporal_ensemble_coeff
        return info

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.policy.parameters())

    def weight_bytes(self) -> int:
        tensors = [*self.policy.parameters(), *self.policy.buffers()]
        return sum(t.numel() * t.element_size() for t in tensors)


def _tokenize_task(cfg, task: str) -> dict[str, torch.Tensor]:
    """The task string as SmolVLA's (and pi0's) preprocessor tokenizes it: a trailing newline,
    the VLM's tokenizer, right padding as the config says, at most ``tokenizer_max_length``."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(cfg.vlm_model_name)
    text = task if task.endswith("\n") else task + "\n"
    enc = tokenizer(
        [text],
        max_length=cfg.tokenizer_max_length,
        truncation=True,
        padding=getattr(cfg, "pad_language_to", "max_length"),
        padding_side="right",
        return_tensors="pt",
    )
    return {
        compat.OBS_LANGUAGE_TOKENS: enc["input_ids"],
        compat.OBS_LANGUAGE_ATTENTION_MASK: enc["attention_mask"].bool(),
    }


def config_fields(name: str) -> list[str]:
    return sorted(f.name for f in dataclasses.fields(compat.config_class(name)) if f.init)


def _coerce(cls, overrides: dict[str, object]) -> dict[str, object]:
    """Lists from the command line become tuples where LeRobot's default is a tuple."""
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    out = {}
    for key, value in overrides.items():
        f = defaults[key]
        default = f.default if f.default is not dataclasses.MISSING else None
        out[key] = tuple(value) if isinstance(value, list) and isinstance(default, tuple) else value
    return out


def _profile_inputs(family: Family, profile: Profile) -> list[tuple[str, str, tuple[int, ...]]]:
    inputs = [(c.key, "visual", (3, c.height, c.width)) for c in profile.cameras]
    inputs.append((compat.OBS_STATE, "state", (profile.state_dim,)))
    if profile.env_state_dim and family.uses_env_state:
        inputs.append((compat.OBS_ENV_STATE, "env", (profile.env_state_dim,)))
    return inputs


def build_lerobot(name: str, profile: Profile, overrides: dict[str, object], device: str, seed: int) -> LeRobotPolicy:
    """Build a random-weight LeRobot policy for ``profile`` on ``device``."""
    family = FAMILIES[name]
    problem = family.availability_problem()
    if problem:
        raise RuntimeError(f"{name} cannot be built here: {problem}")
    cls = compat.config_class(name)
    inputs, outputs = compat.features(_profile_inputs(family, profile), profile.action_dim)
    settings = {**family.offline_settings(profile), **_coerce(cls, overrides)}
    cfg = cls(device=device, input_features=inputs, output_features=outputs, **settings)
    torch.manual_seed(seed)
    with contextlib.redirect_stdout(io.StringIO()):  # LeRobot prints progress while building
        policy = compat.policy_class(name)(cfg)
    policy.to(device)
    policy.eval()
    specs = [InputSpec(k, compat.feature_kind(f), tuple(f.shape)) for k, f in cfg.input_features.items()]
    return LeRobotPolicy(family, policy, specs)
