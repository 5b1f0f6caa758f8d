"""LeRobot's policy types: their config and policy classes, features, and configs read from a folder."""

from __future__ import annotations

from policybench.lerobot_adapter import ACTION


def _config_base():
    """LeRobot's PreTrainedConfig, with every policy type's config class registered on it."""
    from lerobot.configs.policies import PreTrainedConfig

    import lerobot.policies  # noqa: F401  (registers every config subclass)

    return PreTrainedConfig


def registered_policy_types() -> list[str]:
    """Every policy type the installed LeRobot registers (its config classes' draccus choices)."""
    base = _config_base()
    import lerobot.policies.factory  # noqa: F401  (0.4.4 registers sac and reward_classifier here)

    return sorted(base.get_known_choices())


def config_class(policy_type: str):
    """LeRobot's config dataclass for a policy type."""
    return _config_base().get_choice_class(policy_type)


def policy_class(policy_type: str):
    from lerobot.policies.factory import get_policy_class

    return get_policy_class(policy_type)


def features(profile_inputs: list[tuple[str, str, tuple[int, ...]]], action_dim: int):
    """LeRobot ``PolicyFeature`` dicts from (key, kind, shape) triples; kind is visual/state/env."""
    from lerobot.configs.types import FeatureType, PolicyFeature

    kinds = {"visual": FeatureType.VISUAL, "state": FeatureType.STATE, "env": FeatureType.ENV}
    inputs = {key: PolicyFeature(type=kinds[kind], shape=shape) for key, kind, shape in profile_inputs}
    outputs = {ACTION: PolicyFeature(type=FeatureType.ACTION, shape=(action_dim,))}
    return inputs, outputs


def feature_kind(feature) -> str:
    """'visual' for camera features, 'vector' for the rest."""
    return "visual" if feature.type.name == "VISUAL" else "vector"


def read_config(folder: str):
    """LeRobot's own parser run on the config.json in ``folder`` (a policy config of any type)."""
    return _config_base().from_pretrained(folder)


def loads_key_for_key(policy) -> bool:
    """True where LeRobot loads model.safetensors key for key (the base class's from_pretrained,
    no remapping of the policy's own)."""
    from lerobot.policies.pretrained import PreTrainedPolicy

    return getattr(type(policy).from_pretrained, "__func__", None) is PreTrainedPolicy.from_pretrained.__func__
