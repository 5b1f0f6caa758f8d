"""The policy registry: every name policybench knows, how to build it, and whether it can be built here.

LeRobot is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import importlib

from policybench.config import Profile
from policybench.errors import UsageError
from policybench.policies.base import PolicyAdapter


NOOP = "noop"
NOOP_SUMMARY = "built-in: returns preallocated actions (measures the harness)"


def known_names() -> list[str]:
    """Every policy type the installed LeRobot registers (curated ones first), then noop.
    Without LeRobot, only the curated types and noop."""
    from policybench.policies.lerobot_policies import FAMILIES, registered_types

    try:
        names = registered_types()
    except ImportError:
        names = list(FAMILIES)
    return [*names, NOOP]


def label(name: str) -> str:
    """A policy's name in tables, e.g. "Diffusion" (no LeRobot import)."""
    from policybench.policies.lerobot_policies import FAMILIES

    return FAMILIES[name].title() if name in FAMILIES else name


def short_label(name: str) -> str:
    """A policy's name in ratio headers, e.g. "Diff" (no LeRobot import)."""
    from policybench.policies.lerobot_policies import FAMILIES

    return FAMILIES[name].abbreviation() if name in FAMILIES else name


def summary(name: str) -> str:
    from policybench.policies.lerobot_policies import family

    return NOOP_SUMMARY if name == NOOP else family(name).summary


def is_curated(name: str) -> bool:
    """Tried and measured by policybench (not only known from LeRobot's registry)."""
    from policybench.policies.lerobot_policies import family

    return name == NOOP or family(name).curated


def _is_known(name: str) -> bool:
    from policybench.policies.lerobot_policies import FAMILIES

    return name == NOOP or name in FAMILIES or name in known_names()


def is_checkpoint(name: str) -> bool:
    """A --policy-path target (a folder or hub id) rather than a built-in policy name."""
    from policybench.policies.checkpoint import looks_like_checkpoint

    return looks_like_checkpoint(name) and not _is_known(name)


def check_name(name: str) -> None:
    from policybench.policies.checkpoint import looks_like_checkpoint

    if looks_like_checkpoint(name) or _is_known(name):
        return
    raise UsageError(f"unknown policy '{name}'; known policies: {', '.join(known_names())} (or --policy-path DIR)")


def availability(name: str) -> str | None:
    """None when ``name`` can be built here, else the reason it cannot (cheap: imports only)."""
    check_name(name)
    if name == NOOP:
        return None
    from policybench.policies.lerobot_policies import family

    try:
        importlib.import_module("lerobot")
    except ImportError as exc:
        return f"LeRobot is not installed ({exc})"
    try:
        from policybench.policies import compat

        compat.policy_class(name)
    except ModuleNotFoundError as exc:  # an optional dependency of this policy is missing
        return f"needs the Python package '{exc.name}', which is not installed: pip install {exc.name}"
    except Exception as exc:  # noqa: BLE001 - LeRobot's own import-time checks
        return f"{type(exc).__name__}: {exc}"
    return family(name).availability_problem()


def config_fields(name: str) -> list[str]:
    """Fields a ``--set NAME.FIELD=VALUE`` may name."""
    check_name(name)
    if name == NOOP:
        from policybench.policies.noop import NOOP_CONFIG_FIELDS

        return list(NOOP_CONFIG_FIELDS)
    from policybench.policies.lerobot_policies import config_fields as lerobot_fields

    return lerobot_fields(name)


def check_override_field(name: str, field: str) -> None:
    if is_checkpoint(name):
        return  # checked against the checkpoint's own config when it is loaded
    valid = config_fields(name)
    if field not in valid:
        raise UsageError(f"unknown field '{field}' for {name}; valid fields: {', '.join(valid)}")


def check_override_values(name: str, overrides: dict[str, object]) -> None:
    """Build the policy's config (not the policy) with the ``--set`` values: a bad value is a usage error."""
    if is_checkpoint(name):
        return
    if name == NOOP:
        from policybench.policies.noop import check_chunk_size

        return check_chunk_size(overrides)
    from policybench.policies import compat
    from policybench.policies.lerobot_policies import coerce_overrides

    cls = compat.config_class(name)
    try:
        cls(**coerce_overrides(cls, overrides))
    except (TypeError, ValueError, AssertionError, NotImplementedError) as exc:
        sets = " ".join(f"--set {name}.{k}={v!r}" for k, v in overrides.items())
        raise UsageError(f"{sets}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def build(name: str, profile: Profile, overrides: dict[str, object], device: str, seed: int = 0) -> PolicyAdapter:
    check_name(name)
    if is_checkpoint(name):
        from policybench.policies.checkpoint import load_checkpoint

        return load_checkpoint(name, overrides, device)
    if name == NOOP:
        from policybench.policies.noop import build_noop

        return build_noop(profile, overrides, device, seed)
    from policybench.policies.lerobot_policies import build_lerobot

    return build_lerobot(name, profile, overrides, device, seed)


def with_pipeline(adapter: PolicyAdapter, checkpoint: str | None, device: str, task: str) -> PolicyAdapter:
    """Wrap a LeRobot policy so that each call runs LeRobot's whole deployment pipeline (--pipeline)."""
    from policybench.policies.lerobot_policies import LeRobotPolicy
    from policybench.policies.pipeline import PipelinePolicy, make_processors

    if not isinstance(adapter, LeRobotPolicy):
        return adapter  # noop: no processors, nothing to stage
    pre, post = make_processors(adapter.policy, checkpoint, device)
    return PipelinePolicy(adapter, pre, post, device, task)
