"""Everything that depends on the installed LeRobot version, in one place.

Supported: LeRobot 0.6 (Python >= 3.12; the primary target) and 0.4.4 (the newest release for
Python 3.10/3.11). Both offer the policy factory (``lerobot.policies.factory``), the feature
types (``lerobot.configs.types``), the policy registry (``PreTrainedConfig``'s draccus choices)
and the observation key names below. What differs is handled here: pi0/pi05 on 0.4.4 need
LeRobot's patched transformers; the processor factory's signature; where the inference helpers
live. Imports are lazy: importing LeRobot takes seconds.
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


def lerobot_at_least(major: int, minor: int) -> bool:
    from packaging.version import Version

    v = lerobot_version()
    return v is not None and Version(v) >= Version(f"{major}.{minor}")


def registered_policy_types() -> list[str]:
    """Every policy type the installed LeRobot registers (its config classes' draccus choices)."""
    from lerobot.configs.policies import PreTrainedConfig

    import lerobot.policies  # noqa: F401  (registers every config subclass)
    import lerobot.policies.factory  # noqa: F401  (0.4.4 registers sac and reward_classifier here)

    return sorted(PreTrainedConfig.get_known_choices())


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


def pi_problem() -> str | None:
    """LeRobot 0.4.4's pi0/pi05 refuse to build unless LeRobot's patched transformers is installed;
    LeRobot 0.5 and later build them on the registry's transformers with their own Gemma code."""
    if lerobot_at_least(0, 5):
        return None
    try:
        from transformers.models.siglip import check

        if check.check_whether_transformers_replace_is_installed_correctly():
            return None
    except ImportError:
        pass
    return (
        "LeRobot 0.4.4 needs its patched transformers (transformers.models.siglip.check) and refuses "
        "the registry's with 'An incorrect transformer version is used': use Python >= 3.12, where "
        "`make` installs LeRobot 0.6, which builds pi0 and pi0.5 on the registry's transformers"
    )


def hw_to_dataset_features(*args, **kwargs):
    """LeRobot's hw_to_dataset_features: in lerobot.utils.feature_utils from 0.6, lerobot.datasets.utils before."""
    try:
        from lerobot.utils.feature_utils import hw_to_dataset_features as fn
    except ImportError:
        from lerobot.datasets.utils import hw_to_dataset_features as fn
    return fn(*args, **kwargs)
