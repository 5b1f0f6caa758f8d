"""A user's own trained policy: a LeRobot ``pretrained_model`` folder (config.json +
model.safetensors, plus the processor files LeRobot writes), or a hub id with --hub.

Its config decides the input features and its weights are loaded; nothing is re-initialized.
Checkpoints saved by LeRobot 0.3 to 0.6 load offline on whichever of those is installed:

- config keys the installed LeRobot does not know (``pretrained_revision`` from 0.6 on 0.4.4,
  keys older releases wrote) are dropped, and the result names them;
- backbones that name ImageNet weights (ACT, Diffusion, VQ-BeT) are built without them: the
  trained weights are in model.safetensors, nothing is downloaded;
- SmolVLA's VLM (``vlm_model_name``) and the tokenizer its saved preprocessor names are the
  local stand-ins of ``offline_vlm`` when they name the hub ids policybench writes locally;
- a weights file that does not fit the installed LeRobot's policy is an error, not a policy
  left with random weights.

Anything that cannot work raises ``CheckpointError`` with one line saying why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import tempfile
import typing
from pathlib import Path

from policybench.lerobot_adapter import processors, registry
from policybench.lerobot_adapter.version import lerobot_version
from policybench.observations import InputSpec
from policybench.checkpoint_guard import (
    CheckpointRefused,
    check_checkpoint,
    check_files,
    read_file,
    remote_code_trusted,
)
from policybench.policies.lerobot_policies import LeRobotPolicy, coerce_overrides, family, input_specs, registered_types

WEIGHTS = "model.safetensors"
PREPROCESSOR = "policy_preprocessor.json"
POSTPROCESSOR = "policy_postprocessor.json"
# Where LeRobot before 0.4 kept normalization statistics: inside the policy, under these modules.
_OLD_NORMALIZATION = ("normalize_inputs.", "normalize_targets.", "unnormalize_outputs.")
# The camera features SmolVLA and pi0 add for ``empty_cameras``: the policy fills them itself.
_EMPTY_CAMERA = "observation.images.empty_camera_"
# What LeRobot 0.6's pi0/pi05/pi0_fast print (and otherwise swallow) when the weights do not load.
_SWALLOWED_LOAD_FAILURES = ("Warning: Could not load state dict", "Returning model without loading pretrained weights")
_MAX_CONFIG_BYTES = 16 * 2**20  # config.json and the processor files are a few kB


class CheckpointError(Exception):
    """A checkpoint that cannot be loaded; the message names the problem in one line."""


class CheckpointPolicy(LeRobotPolicy):
    """A LeRobot policy loaded from a checkpoint; ``notes`` say what was ignored or changed to
    load it here (they go into the results file as ``checkpoint_notes``)."""

    weights = "checkpoint"

    def __init__(self, family, policy, specs: list[InputSpec], notes: list[str]):
        super().__init__(family, policy, specs)
        self.notes = notes

    def describe(self) -> dict[str, object]:
        info = super().describe()
        if self.notes:
            info["checkpoint_notes"] = list(self.notes)
        return info


def looks_like_checkpoint(target: str) -> bool:
    """A --policy-path value rather than a policy name: it has a path separator or exists on disk."""
    return "/" in target or os.sep in target or os.path.exists(target)


def hub_offline() -> bool:
    """True unless the hub may be reached (policybench sets HF_HUB_OFFLINE=1 without --hub)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _guard(target: str, folder: Path, policy_type: str) -> None:
    """The checkpoint_guard checks, before LeRobot reads anything of the checkpoint."""
    try:
        check_checkpoint(folder, family(policy_type).remote_code_fields, remote_code_trusted())
    except CheckpointRefused as exc:
        raise CheckpointError(f"{target}: refused: {exc}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _config_file(target: str) -> Path:
    """config.json of a checkpoint folder, or fetched for a hub id."""
    folder = Path(target)
    if folder.exists():
        if not folder.is_dir():
            raise CheckpointError(f"{target}: not a folder (expected a LeRobot pretrained_model folder)")
        if not (folder / "config.json").is_file():
            raise CheckpointError(f"{folder}: no config.json (expected a LeRobot pretrained_model folder)")
        return folder / "config.json"
    if hub_offline():
        raise CheckpointError(
            f"{target}: no such folder; if it is a hub id, add --hub (nothing is downloaded without it)"
        )
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id=target, filename="config.json"))
    except Exception as exc:  # noqa: BLE001 - hub errors come in many types
        raise CheckpointError(f"{target}: cannot read its config ({_first_line(exc)})") from None


def _read_config(config: Path, where: str) -> dict:
    try:
        check_files(config.parent.resolve())  # no FIFO, device or link out of the folder, before any is read
        data = json.loads(read_file(config, _MAX_CONFIG_BYTES))
    except CheckpointRefused as exc:
        raise CheckpointError(f"{where}: refused: {exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{config}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{config}: not a LeRobot policy config (a JSON object with a 'type')")
    if "type" not in data:
        raise CheckpointError(
            f"{config}: no 'type' field: a config from before LeRobot 0.3's format (input_shapes, ...), "
            "which no installed LeRobot reads; load it with the LeRobot that saved it and save it again"
        )
    _check_type(where, data["type"])
    return data


def _check_type(where: str, policy_type) -> None:
    known = registered_types()
    if policy_type not in known:
        raise CheckpointError(
            f"{where}: policy type {policy_type!r} is not registered by the installed LeRobot "
            f"({lerobot_version()}); known: {', '.join(known)}"
        )


def _nested_dataclass(annotation):
    """The dataclass a field holds (``X`` or ``X | None``), unless it is a draccus choice type."""
    candidates = typing.get_args(annotation) or (annotation,)
    for tp in candidates:
        if dataclasses.is_dataclass(tp) and isinstance(tp, type) and not hasattr(tp, "get_choice_class"):
            return tp
    return None


def known_fields(cls, data: dict, prefix: str = "") -> tuple[dict, list[str]]:
    """``data`` without the keys that dataclass ``cls`` (and the dataclasses its fields hold)
    does not have, and the dotted names of the keys dropped."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: no nested cleaning
        hints = {}
    kept: dict = {}
    dropped: list[str] = []
    for key, value in data.items():
        if key not in fields:
            dropped.append(prefix + key)
            continue
        nested = _nested_dataclass(hints.get(key))
        if nested is not None and isinstance(value, dict):
            value, more = known_fields(nested, value, f"{prefix}{key}.")
            dropped += more
        kept[key] = value
    return kept, dropped


def _parse_config(target: str, policy_type: str, fields: dict):
    """LeRobot's own config parser, run on a cleaned copy of config.json in a temporary folder."""
    try:
        return _parsed(policy_type, fields)
    except Exception as exc:  # noqa: BLE001 - draccus raises many types
        raise CheckpointError(f"{target}: cannot read its config ({_first_line(exc)})") from None


def _parsed(policy_type: str, fields: dict):
    """The config LeRobot's parser makes of ``fields`` (its own exceptions)."""
    with tempfile.TemporaryDirectory(prefix="policybench-config-") as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps({"type": policy_type, **fields}))
        system_temp = tempfile.tempdir
        tempfile.tempdir = tmp  # LeRobot writes a copy of the config there and never removes it
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                return registry.read_config(tmp)
        finally:
            tempfile.tempdir = system_temp


class OverrideRefused(CheckpointError):
    """``--set`` values the checkpoint's own config rejects: ``policy_type``, the values
    (``overrides``) and ``reason`` say which and why."""

    def __init__(self, target: str, policy_type: str, overrides: dict[str, object], reason: str):
        self.policy_type, self.overrides, self.reason = policy_type, dict(overrides), reason
        sets = ", ".join(f"{policy_type}.{k}={v!r}" for k, v in overrides.items())
        super().__init__(f"{target}: {sets}: {reason}")


def _overridden(target: str, policy_type: str, fields: dict, config, overrides: dict[str, object]):
    """``config`` (the checkpoint's, as saved) with ``overrides`` set, held to the rules a config
    of its type is held to when it is made (its ``__post_init__``: ACT's n_action_steps at most its
    chunk_size, ...), as for a built-in type: the config parsed again with the values in place.
    OverrideRefused names the values refused."""
    unknown = sorted(set(overrides) - set(vars(config)))
    if unknown:
        valid = ", ".join(sorted(f.name for f in dataclasses.fields(config) if f.init))
        raise OverrideRefused(
            target,
            policy_type,
            {unknown[0]: overrides[unknown[0]]},
            f"unknown field '{unknown[0]}' of its {policy_type} config; valid fields: {valid}",
        )
    try:
        coerced = coerce_overrides(type(config), overrides)
    except ValueError as exc:
        raise OverrideRefused(target, policy_type, overrides, str(exc)) from None
    if not coerced:
        return config
    as_json = {k: list(v) if isinstance(v, tuple) else v for k, v in coerced.items()}
    try:
        _parsed(policy_type, {**fields, **as_json, "device": getattr(config, "device", None)})
    except Exception as exc:  # noqa: BLE001 - the config class's own checks raise many types
        raise OverrideRefused(target, policy_type, overrides, _innermost(exc)) from None
    for key, value in coerced.items():
        setattr(config, key, value)
    return config


def _innermost(exc: BaseException) -> str:
    """The first line of the exception that started ``exc`` (draccus wraps a config's own
    ValueError in a ParsingError that says only that the class could not be made)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_overrides(target: str, overrides: dict[str, object]) -> None:
    """``overrides`` held to the checkpoint's own config (``_overridden``), before anything is built
    and without reading its weights: OverrideRefused for a value it rejects. A checkpoint that
    cannot be read here (a hub id offline, a broken config) is left for its build to report."""
    if not overrides:
        return
    try:
        config_file = _config_file(target)
        data = _read_config(config_file, str(config_file) if Path(target).exists() else target)
        policy_type = data.pop("type")
        fields, _ = known_fields(registry.config_class(policy_type), data)
        config = _parse_config(target, policy_type, {**fields, "device": "cpu"})
    except CheckpointError:
        return
    _overridden(target, policy_type, fields, config, overrides)


def _offline_settings(target: str, policy_type: str, config) -> tuple[list[str], bool]:
    """Settings that keep the build from downloading what model.safetensors already holds, and
    that let select_action run: (notes, whether the weights must keep the dtypes they were saved in)."""
    notes = []
    backbone = getattr(config, "pretrained_backbone_weights", None)
    if backbone:
        config.pretrained_backbone_weights = None
        notes.append(f"backbone built without downloading {backbone}: its trained weights are in {WEIGHTS}")
    rtc = getattr(config, "rtc_config", None)
    if rtc is not None and getattr(rtc, "enabled", False):
        rtc.enabled = False
        notes.append(
            "real-time chunking (rtc_config.enabled) turned off: select_action refuses it "
            "(LeRobot runs it through predict_action_chunk in its asynchronous inference)"
        )
    vlm = family(policy_type).vlm_fields
    if not vlm:
        return notes, False
    vlm_notes, saved_dtypes = _offline_vlm(target, config, *vlm)
    return notes + vlm_notes, saved_dtypes


def _offline_vlm(target: str, config, name_field: str, weights_field: str) -> tuple[list[str], bool]:
    """A VLM built without downloading its weights (they are in the checkpoint), offline from its
    local stand-in: (notes, whether the weights must keep the dtypes they were saved in)."""
    saved_dtypes = bool(getattr(config, weights_field))
    if saved_dtypes:
        # LeRobot would load the VLM from the hub in bfloat16 and then the checkpoint over it:
        # built without the download, the weights keep the dtypes they were saved in instead.
        setattr(config, weights_field, False)
    name = getattr(config, name_field)
    local = _stand_in(target, name, f"its VLM {name} ({name_field}) is read from the hub while the policy builds")
    if local is None:
        return [], saved_dtypes
    setattr(config, name_field, local)
    return [
        f"VLM {name}: architecture and tokenizer written locally (offline), weights from {WEIGHTS}; "
        "the local tokenizer has the same vocabulary size but other token ids, so latency is "
        "faithful and actions are not"
    ], saved_dtypes


def _stand_in(target: str, name: str, read_from_hub: str) -> str | None:
    """Offline, the folder of policybench's local stand-in for the hub id ``name`` (a
    CheckpointError saying ``read_from_hub`` when there is none); None online or for a folder."""
    if not hub_offline() or Path(name).is_dir():
        return None
    from policybench.policies.offline_vlm import local_stand_in

    local = local_stand_in(name)
    if local is None:
        raise CheckpointError(f"{target}: {read_from_hub}: add --hub")
    return str(local)


def _load_policy(target: str, policy_type: str, config):
    cls = registry.policy_class(policy_type)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            policy = cls.from_pretrained(target, config=config)
    except Exception as exc:  # noqa: BLE001 - safetensors, shape mismatches, hub errors
        raise CheckpointError(f"{target}: cannot load its weights ({_first_line(exc)})") from None
    for line in printed.getvalue().splitlines():
        if line.strip().startswith(_SWALLOWED_LOAD_FAILURES):
            raise CheckpointError(f"{target}: cannot load its weights ({line.strip()})")
    return policy


def weights_mismatch(state: dict, saved_keys: set[str]) -> tuple[list[str], list[str]]:
    """(the policy's tensors that the weights file lacks, the file's tensors the policy lacks).
    A tensor the file lacks under one name but holds under another that shares its storage
    (tied weights, which safetensors saves once) is not missing."""
    names_by_storage: dict[int, list[str]] = {}
    for key, tensor in state.items():
        if tensor.numel():
            names_by_storage.setdefault(tensor.untyped_storage().data_ptr(), []).append(key)

    def stored(key: str) -> bool:
        tensor = state[key]
        if key in saved_keys or not tensor.numel():
            return True
        return any(k in saved_keys for k in names_by_storage[tensor.untyped_storage().data_ptr()])

    missing = [k for k in state if not stored(k)]
    unexpected = sorted(saved_keys - set(state))
    return missing, unexpected


def _check_weights(target: str, policy_type: str, policy, weights: Path) -> list[str]:
    """Raise where LeRobot's non-strict loading left tensors random or weights unused; a note
    for the normalization statistics that LeRobot before 0.4 kept in the weights."""
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as f:
        saved = set(f.keys())
    state = policy.state_dict()
    missing, unexpected = weights_mismatch(state, saved)
    version = lerobot_version()
    if missing:
        raise CheckpointError(
            f"{target}: {WEIGHTS} lacks {len(missing)} of the {len(state)} tensors of LeRobot {version}'s "
            f"{policy_type} (first: {missing[0]}): saved for another architecture or LeRobot version"
        )
    statistics = [k for k in unexpected if k.startswith(_OLD_NORMALIZATION)]
    other = [k for k in unexpected if k not in statistics]
    if other:
        raise CheckpointError(
            f"{target}: {WEIGHTS} has {len(other)} tensors that LeRobot {version}'s {policy_type} has no "
            f"place for (first: {other[0]}): saved for another architecture or LeRobot version"
        )
    if statistics:
        return [
            f"{len(statistics)} normalization statistics in {WEIGHTS} (LeRobot before 0.4 kept them in "
            "the policy): not part of the policy; --pipeline normalizes with them"
        ]
    return []


_SAFETENSORS_FLOATS = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def _keep_saved_dtypes(policy, weights: Path) -> list[str]:
    """Cast floating tensors to the dtype model.safetensors stores them in."""
    import torch
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as f:
        saved = {k: _SAFETENSORS_FLOATS.get(f.get_slice(k).get_dtype()) for k in f.keys()}
    cast: dict[str, int] = {}
    for key, tensor in [*policy.named_parameters(), *policy.named_buffers()]:
        dtype = saved.get(key)
        if dtype and tensor.is_floating_point() and str(tensor.dtype) != f"torch.{dtype}":
            tensor.data = tensor.data.to(getattr(torch, dtype))
            cast[dtype] = cast.get(dtype, 0) + 1
    return [f"{n} tensors kept in {dtype} as saved (LeRobot loads the VLM in that dtype)" for dtype, n in cast.items()]


def _input_specs(config) -> list[InputSpec]:
    """The inputs a robot delivers: the config's input features less the empty cameras that
    SmolVLA and pi0 add for ``empty_cameras`` and fill themselves when they are absent."""
    empty = {f"{_EMPTY_CAMERA}{i}" for i in range(getattr(config, "empty_cameras", 0) or 0)}
    return input_specs(config.input_features, empty)


def load_checkpoint(target: str, overrides: dict[str, object], device: str) -> CheckpointPolicy:
    """Load a checkpoint folder (or hub id) onto ``device``; ``overrides`` set config fields."""
    config_file = _config_file(target)
    data = _read_config(config_file, str(config_file) if Path(target).exists() else target)
    policy_type = data["type"]
    _guard(target, config_file.parent, policy_type)
    data.pop("type")
    weights = Path(target) / WEIGHTS
    if Path(target).exists() and not weights.is_file():
        raise CheckpointError(f"{target}: no {WEIGHTS}")
    fields, ignored = known_fields(registry.config_class(policy_type), data)
    notes = []
    if ignored:
        notes.append(f"ignored config keys that LeRobot {lerobot_version()} does not know: {', '.join(ignored)}")
    config = _overridden(
        target, policy_type, fields, _parse_config(target, policy_type, {**fields, "device": device}), overrides
    )
    offline_notes, saved_dtypes = _offline_settings(target, policy_type, config)
    notes += offline_notes
    policy = _load_policy(target, policy_type, config)
    if weights.is_file():
        if registry.loads_key_for_key(policy):  # its keys can be checked against the policy's
            notes += _check_weights(target, policy_type, policy, weights)
        if saved_dtypes:
            notes += _keep_saved_dtypes(policy, weights)
    policy.to(device)
    policy.eval()
    return CheckpointPolicy(family(policy_type), policy, _input_specs(policy.config), notes)


def processor_overrides(target: str, processor_file: Path, device: str) -> dict[str, dict]:
    """Overrides for a saved processor's steps: every device setting becomes ``device`` (a
    checkpoint saved on "cuda" runs on the CPU), and offline, a tokenizer named by its hub id
    becomes policybench's local stand-in (one with no stand-in is a CheckpointError)."""
    try:
        steps = json.loads(read_file(processor_file, _MAX_CONFIG_BYTES)).get("steps", [])
    except CheckpointRefused as exc:
        raise CheckpointError(f"{target}: refused: {exc}") from None
    except (ValueError, AttributeError) as exc:
        raise CheckpointError(f"{target}: cannot read {processor_file.name} ({_first_line(exc)})") from None
    overrides: dict[str, dict] = {}
    for step in steps:
        key = step.get("registry_name") or str(step.get("class", "")).rsplit(".", 1)[-1]
        saved = step.get("config") or {}
        change: dict[str, object] = {}
        if "device" in saved:
            change["device"] = device
        tokenizer = saved.get("tokenizer_name")
        why = f"its preprocessor's tokenizer {tokenizer} is read from the hub"
        local = _stand_in(target, tokenizer, why) if tokenizer else None
        if local:
            change["tokenizer_name"] = local
        if change:
            overrides[key] = change
    return overrides


def normalization_statistics(weights: Path) -> dict | None:
    """The normalization statistics that LeRobot before 0.4 kept in the policy's weights, in
    the form processors take (feature -> statistic -> tensor); None when there are none."""
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys() if k.startswith(_OLD_NORMALIZATION)}
    return processors.normalization_statistics(tensors)


def checkpoint_processors(config, target: str, device: str):
    """The checkpoint's pre/post-processors: the saved ones (made to run on ``device`` and
    offline), else made from its config with the statistics its weights hold, if any."""
    folder = Path(target)
    if (folder / PREPROCESSOR).is_file():
        _guard(target, folder, config.type)
        pre = processor_overrides(target, folder / PREPROCESSOR, device)
        post_file = folder / POSTPROCESSOR
        post = processor_overrides(target, post_file, "cpu") if post_file.is_file() else {}
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                return processors.load_processors(config, str(folder), pre, post)
        except Exception as exc:  # noqa: BLE001 - missing files, unknown steps, hub errors
            raise CheckpointError(f"{target}: cannot load its processors ({_first_line(exc)})") from None
    stats = normalization_statistics(folder / WEIGHTS) if (folder / WEIGHTS).is_file() else None
    return processors.make_processors(config, stats)
