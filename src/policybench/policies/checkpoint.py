"""A user's own trained policy: a LeRobot ``pretrained_model`` folder (config.json +
model.safetensors, plus the processor files LeRobot writes), or a hub id with --hub.

Its config decides the input features and its weights are loaded; nothing is re-initialized.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

from policybench.policies import compat
from policybench.policies.lerobot_policies import LeRobotPolicy, coerce_overrides, family, registered_types
from policybench.observations import InputSpec


class CheckpointError(Exception):
    """A checkpoint that cannot be loaded; the message names the problem in one line."""


def looks_like_checkpoint(target: str) -> bool:
    """A --policy-path value rather than a policy name: it has a path separator or exists on disk."""
    return "/" in target or os.sep in target or os.path.exists(target)


def _read_type(folder: Path) -> str:
    config = folder / "config.json"
    if not config.is_file():
        raise CheckpointError(f"{folder}: no config.json (expected a LeRobot pretrained_model folder)")
    try:
        data = json.loads(config.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{config}: not valid JSON ({exc})") from None
    policy_type = data.get("type") if isinstance(data, dict) else None
    _check_type(str(config), policy_type)
    return policy_type


def _check_type(where: str, policy_type) -> None:
    known = registered_types()
    if policy_type not in known:
        raise CheckpointError(
            f"{where}: policy type {policy_type!r} is not registered by the installed LeRobot "
            f"({compat.lerobot_version()}); known: {', '.join(known)}"
        )


def load_checkpoint(target: str, overrides: dict[str, object], device: str) -> LeRobotPolicy:
    """Load a checkpoint folder (or hub id) onto ``device``; ``overrides`` set config fields."""
    from lerobot.configs.policies import PreTrainedConfig

    import lerobot.policies  # noqa: F401  (registers every policy type's config class)

    folder = Path(target)
    if folder.exists():
        if not folder.is_dir():
            raise CheckpointError(f"{target}: not a folder (expected a LeRobot pretrained_model folder)")
        policy_type = _read_type(folder)
        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise CheckpointError(f"{folder}: no model.safetensors")
    elif os.environ.get("HF_HUB_OFFLINE") == "1":
        raise CheckpointError(
            f"{target}: no such folder; if it is a hub id, add --hub (nothing is downloaded without it)"
        )
    else:
        policy_type = None  # a hub id: the config says which type
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            config = PreTrainedConfig.from_pretrained(target)
    except Exception as exc:  # noqa: BLE001 - hub errors come in many types
        raise CheckpointError(f"{target}: cannot read its config ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    policy_type = policy_type or config.type
    _check_type(target, policy_type)
    config.device = device
    unknown = sorted(set(overrides) - set(vars(config)))
    if unknown:
        raise CheckpointError(f"{target}: unknown config field '{unknown[0]}'")
    for key, value in coerce_overrides(type(config), overrides).items():
        setattr(config, key, value)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            policy = compat.policy_class(policy_type).from_pretrained(target, config=config)
    except Exception as exc:  # noqa: BLE001 - safetensors, shape mismatches, hub errors
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise CheckpointError(f"{target}: cannot load its weights ({type(exc).__name__}: {first})") from None
    policy.to(device)
    policy.eval()
    specs = [InputSpec(k, compat.feature_kind(f), tuple(f.shape)) for k, f in policy.config.input_features.items()]
    return LeRobotPolicy(family(policy_type), policy, specs)
