"""--pipeline: what a LeRobot deployment runs each control step, stage by stage.

raw observation (uint8 HWC images and float vectors on the host, the task string)
  -> prepare (to tensors, images to float CHW in [0, 1], batch dimension, to the device;
     LeRobot's prepare_observation_for_inference)
  -> preprocess (the policy's preprocessor: rename, normalize, tokenize, device)
  -> select_action
  -> postprocess (the policy's postprocessor: unnormalize, back to the host)
as LeRobot's ``predict_action`` (lerobot/utils/control_utils.py) does, all under inference mode.
"""

from __future__ import annotations

from copy import copy
from typing import Callable

import torch

from policybench.lerobot_adapter.processors import make_processors, prepare_observation
from policybench.policies.base import WrappedPolicy
from policybench.policies.lerobot_policies import LeRobotPolicy

STAGES = ("prepare", "preprocess", "select_action", "postprocess")


def processors_for(policy, checkpoint: str | None, device: str):
    """The policy's pre/post-processors: a checkpoint's own (see ``checkpoint_processors``), else
    made from its config (with no dataset statistics: normalization steps have nothing to apply)."""
    if checkpoint:
        from policybench.policies.checkpoint import checkpoint_processors

        return checkpoint_processors(policy.config, checkpoint, device)
    return make_processors(policy.config)


class PipelinePolicy(WrappedPolicy):
    """A LeRobot policy with its processors; each call runs and times the four stages."""

    takes_raw_observation = True

    def __init__(self, inner: LeRobotPolicy, preprocessor, postprocessor, device: str, task: str):
        super().__init__(inner)
        self.device, self.task = device, task
        self._pre, self._post = preprocessor, postprocessor
        self._stages: list[tuple[str, Callable]] = [
            ("prepare", self._prepare),
            ("preprocess", self._preprocess),
            ("select_action", inner.select_action),
            ("postprocess", self._postprocess),
        ]

    def _prepare(self, raw: dict) -> dict:
        with torch.inference_mode():
            return prepare_observation(copy(raw), torch.device(self.device), self.task)

    def _preprocess(self, obs: dict) -> dict:
        with torch.inference_mode():
            return self._pre(obs)

    def _postprocess(self, action: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self._post(action)

    @property
    def postprocessor(self):
        """LeRobot's postprocessor this pipeline ends with (unnormalizes the actions)."""
        return self._post

    def stages(self) -> list[tuple[str, Callable]]:
        return self._stages

    def select_action(self, obs: dict) -> torch.Tensor:
        value = obs
        for _, fn in self._stages:
            value = fn(value)
        return value

    def extra_inputs(self, task: str) -> dict[str, torch.Tensor]:
        return {}  # the preprocessor tokenizes the task itself

    def around(self, inner) -> "PipelinePolicy":
        """The same processors around another run of the policy (a --variant of it)."""
        return PipelinePolicy(inner, self._pre, self._post, self.device, self.task)

    def describe(self) -> dict[str, object]:
        return {**self.inner.describe(), "pipeline": list(STAGES)}
