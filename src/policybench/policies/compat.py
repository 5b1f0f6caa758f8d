"""Everything that depends on the installed LeRobot version, in one place.

Written against LeRobot 0.4.4 (the newest release for Python 3.11): its policy factory
(``lerobot.policies.factory``), its feature types (``lerobot.configs.types``) and the
observation key names below. Imports are lazy: importing LeRobot takes seconds.
"""

from __future__ import annotations

OBS_LANGUAGE_TOKENS = "observation.language.tokens"
OBS_LANGUAGE_ATTENTION_MASK = "observation.language.attention_mask"
OBS_STATE = "observation.state"
OBS_ENV_STATE = "observation.environment_state"
ACTION = "action"


def lerobot_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("lerobot")
    except Exception:
        return None


def config_class(policy_type: str):
    """LeRobot's config dataclass for a policy type."""
    from lerobot.configs.policies import PreTrainedConfig

    import lerobot.policies  # noqa: F401  (registers every config subclass)

    return PreTrainedConfig.get_choice_class(policy_type)


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


def pi_transformers_problem() -> str | None:
    """LeRobot 0.4.4's pi0/pi05 refuse to build unless LeRobot's patched transformers is installed."""
    try:
        from transformers.models.siglip import check

        if check.check_whether_transformers_replace_is_installed_correctly():
            return None
    except ImportError:
        pass
    return (
        "needs LeRobot's patched transformers (transformers.models.siglip.check); "
        "the registry's transformers is refused with 'An incorrect transformer version is used'"
    )
