"""A policy's pre/post-processors and the observation preparation of LeRobot's deployment loop."""

from __future__ import annotations


def make_processors(config, dataset_stats: dict | None = None):
    """(preprocessor, postprocessor) made from a policy config, normalizing with ``dataset_stats``
    (None: normalization steps have nothing to apply)."""
    from lerobot.policies.factory import make_pre_post_processors

    return make_pre_post_processors(config, dataset_stats=dataset_stats)


def load_processors(config, folder: str, pre_overrides: dict[str, dict], post_overrides: dict[str, dict]):
    """(preprocessor, postprocessor) saved in ``folder``, their steps' settings changed by the overrides."""
    from lerobot.policies.factory import make_pre_post_processors

    return make_pre_post_processors(
        config, pretrained_path=folder, preprocessor_overrides=pre_overrides, postprocessor_overrides=post_overrides
    )


def normalization_statistics(tensors: dict) -> dict | None:
    """Normalization statistics from the weights LeRobot before 0.4 kept in a policy, in the
    form processors take (feature -> statistic -> tensor); None when there are none."""
    from lerobot.processor.migrate_policy_normalization import extract_normalization_stats

    return extract_normalization_stats(tensors) or None


def prepare_observation(raw: dict, device, task: str) -> dict:
    """A robot's raw observation as LeRobot's deployment loop hands it to the preprocessor."""
    from lerobot.policies.utils import prepare_observation_for_inference

    return prepare_observation_for_inference(raw, device, task, None)


def action_statistics(postprocessor) -> dict[str, list[float]] | None:
    """The dataset statistics a postprocessor unnormalizes the actions with ({"min": [...],
    "max": [...], "mean": ..., "std": ...}, one value per action dimension); None where it has
    none (a random-weight policy's processors)."""
    import torch

    for step in getattr(postprocessor, "steps", None) or []:
        stats = getattr(step, "stats", None)
        action = stats.get("action") if isinstance(stats, dict) else None
        if isinstance(action, dict) and action:
            return {str(k): torch.as_tensor(v, dtype=torch.float64).flatten().tolist() for k, v in action.items()}
    return None


def point_steps_at(pipeline, field: str, old: str, new: str) -> int:
    """The steps of a processor pipeline whose ``field`` is ``old`` (a hub id a step loads from when
    it first runs) given ``new`` in its place (a local folder); how many were changed."""
    changed = 0
    for step in getattr(pipeline, "steps", []):
        if getattr(step, field, None) == old:
            setattr(step, field, new)
            changed += 1
    return changed
