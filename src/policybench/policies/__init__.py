"""The policy registry: every name policybench knows, how to build it, and whether it can be built here.

LeRobot is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from policybench.config import Profile
from policybench.errors import UsageError
from policybench.policies.base import PolicyAdapter


@dataclass(frozen=True)
class PolicyEntry:
    name: str
    label: str  # column header in tables
    short: str  # name in ratio headers, e.g. "Diff" in "Diff/SmolVLA"
    summary: str


ENTRIES: dict[str, PolicyEntry] = {
    e.name: e
    for e in (
        PolicyEntry("act", "ACT", "ACT", "Action Chunking Transformer"),
        PolicyEntry("smolvla", "SmolVLA", "SmolVLA", "SmolVLA vision-language-action (SmolVLM2-500M architecture, offline)"),
        PolicyEntry("diffusion", "Diffusion", "Diff", "Diffusion Policy (DDPM, 100 denoising steps by default)"),
        PolicyEntry("pi0", "pi0", "pi0", "pi0 flow-matching VLA (PaliGemma)"),
        PolicyEntry("pi05", "pi0.5", "pi05", "pi0.5 flow-matching VLA (PaliGemma)"),
        PolicyEntry("vqbet", "VQ-BeT", "VQBeT", "Vector-quantized Behavior Transformer"),
        PolicyEntry("tdmpc", "TD-MPC", "TDMPC", "TD-MPC (one square camera at most)"),
        PolicyEntry("noop", "noop", "noop", "built-in: returns preallocated actions (measures the harness)"),
    )
}


def known_names() -> list[str]:
    return list(ENTRIES)


def is_checkpoint(name: str) -> bool:
    """A --policy-path target (a folder or hub id) rather than a built-in policy name."""
    from policybench.policies.checkpoint import looks_like_checkpoint

    return name not in ENTRIES and looks_like_checkpoint(name)


def check_name(name: str) -> None:
    if name not in ENTRIES and not is_checkpoint(name):
        raise UsageError(f"unknown policy '{name}'; known policies: {', '.join(ENTRIES)} (or --policy-path DIR)")


def availability(name: str) -> str | None:
    """None when ``name`` can be built here, else the reason it cannot (cheap: imports only)."""
    check_name(name)
    if name == "noop":
        return None
    from policybench.policies.lerobot_policies import FAMILIES

    try:
        importlib.import_module("lerobot")
    except ImportError as exc:
        return f"LeRobot is not installed ({exc})"
    try:
        from policybench.policies import compat

        compat.policy_class(name)
    except Exception as exc:  # an optional dependency of this policy is missing
        return f"{type(exc).__name__}: {exc}"
    return FAMILIES[name].availability_problem()


def config_fields(name: str) -> list[str]:
    """Fields a ``--set NAME.FIELD=VALUE`` may name."""
    check_name(name)
    if name == "noop":
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
    if name == "noop":
        from policybench.policies.noop import check_chunk_size

        return check_chunk_size(overrides)
    from policybench.policies import compat
    from policybench.policies.lerobot_policies import _coerce

    cls = compat.config_class(name)
    try:
        cls(**_coerce(cls, overrides))
    except (TypeError, ValueError, AssertionError) as exc:
        sets = " ".join(f"--set {name}.{k}={v!r}" for k, v in overrides.items())
        raise UsageError(f"{sets}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def build(name: str, profile: Profile, overrides: dict[str, object], device: str, seed: int = 0) -> PolicyAdapter:
    check_name(name)
    if is_checkpoint(name):
        from policybench.policies.checkpoint import load_checkpoint

        return load_checkpoint(name, overrides, device)
    if name == "noop":
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
