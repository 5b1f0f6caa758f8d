"""A checkpoint is data: what a downloaded checkpoint folder may hold, checked before LeRobot
reads any of it.

LeRobot runs code that a checkpoint names: a processor step saved as ``{"class": "module.Name"}``
is imported and called before its type is checked, and some policy types load tokenizers or
models with ``trust_remote_code=True``, which runs the Python files of the folder a config field
names. So before anything of a checkpoint is imported or called, policybench checks, on the
JSON text alone (no LeRobot, no torch):

- every processor step is named by LeRobot's step registry (``registry_name``), never by a
  Python class path;
- no JSON file of the checkpoint asks for code: no ``auto_map``, no ``trust_remote_code: true``;
- no string in the config or the processors names an existing file or folder outside the
  checkpoint folder, code (``.py``, native libraries) or pickled weights (``.bin``, ``.pt``, ...);
  a folder named inside the checkpoint holds no code either;
- a policy type that LeRobot builds with ``trust_remote_code=True`` (``Family.remote_code_fields``
  set) is refused unless the user passed ``--trust-remote-code``;
- every file of the folder is a regular file (no FIFO, device or socket, which would hang or
  never end) and every link in it stays inside it (``check_files``); the JSON files are read
  through a bounded reader that checks the file type before opening (``read_file``);
- the sizes config.json declares (cameras, image sides, vector sizes, chunk and step counts)
  are within the command line's limits (``sizes.check_declared_sizes``).

Each refusal is a ``CheckpointRefused`` naming the file and the field, in one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from policybench.procenv import environment_variable

TRUST_ENV = "POLICYBENCH_TRUST_REMOTE_CODE"  # "1" while a run allows remote code (--trust-remote-code)
CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pyd", ".so", ".dll", ".dylib")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")
PROCESSOR_FILES = ("policy_preprocessor.json", "policy_postprocessor.json")
_MAX_JSON_BYTES = 16 * 2**20  # a config or processor file is a few kB
_FILES = ("config.json", "model.safetensors", *PROCESSOR_FILES)  # files LeRobot opens by name: never folders
_MAX_FILES_SCANNED = 10_000
# Fields whose value LeRobot or transformers may open as a local file or folder (vlm_model_name,
# tokenizer_name, state_file, pretrained_path, vision_encoder_name, ...); other strings ("act",
# "mean_std", "cuda") are words, even when a folder of that name happens to be in the working folder.
_PATH_FIELD = re.compile(r"name|path|file|dir|model|tokenizer|backbone|checkpoint|repo|weights|encoder|base|config")


class CheckpointRefused(Exception):
    """The checkpoint asks for something policybench does not run; one line names it."""


def remote_code_trusted() -> bool:
    return os.environ.get(TRUST_ENV) == "1"


def remote_code(trusted: bool) -> contextlib.AbstractContextManager[None]:
    """Remote code allowed (``--trust-remote-code``) or not for what runs inside, child
    processes included (they inherit the environment); the previous setting restored after."""
    return environment_variable(TRUST_ENV, "1" if trusted else "0")


def check_checkpoint(folder: Path, remote_code_fields: tuple[str, ...], trusted: bool) -> None:
    """Refuse (CheckpointRefused) a checkpoint folder whose config or processors would make
    LeRobot run code; ``remote_code_fields`` are the config fields its policy type loads with
    ``trust_remote_code=True``."""
    root = folder.resolve()
    check_files(root)
    config = _load_json(root / "config.json")
    check_sizes(config)
    if not trusted:
        _check_remote_code_fields(config, remote_code_fields, "config.json")
    _check_document(config, "config.json", root, trusted)
    for name in PROCESSOR_FILES:
        if (root / name).is_file():
            processor = _load_json(root / name)
            _check_steps(processor, name)
            _check_document(processor, name, root, trusted)


def check_remote_code_config(values: dict, remote_code_fields: tuple[str, ...], policy: str) -> None:
    """A policy built by name: refused when its config makes LeRobot load code, unless trusted."""
    if not remote_code_trusted():
        _check_remote_code_fields(values, remote_code_fields, f"{policy}'s config")


def check_local_checkpoint(target: str) -> None:
    """What can be checked of a --policy-path folder before the run starts (nothing for a hub
    id): its files (``check_files``) and the sizes its config declares. A config.json that is not
    JSON is left for loading to report."""
    folder = Path(target)
    if not folder.is_dir():
        return
    root = folder.resolve()
    check_files(root)
    try:
        config = _load_json(root / "config.json")
    except CheckpointRefused:
        return
    check_sizes(config)


def check_sizes(config: dict) -> None:
    """The sizes config.json declares, within the limits the same values have as flags."""
    from policybench.errors import SettingsError
    from policybench.sizes import check_declared_sizes

    try:
        check_declared_sizes(config)
    except SettingsError as exc:
        raise CheckpointRefused(f"config.json: {exc}") from None


def check_files(root: Path) -> None:
    """Every entry of the checkpoint folder ``root`` (resolved), its subfolders included: a
    regular file or a folder, or a link that leads to one inside the folder (LeRobot opens
    model.safetensors, the processor files and their state files by name, through links)."""
    allowed = _link_root(root)
    n = 0
    for at, folders, files in os.walk(root, followlinks=False):
        for name in (*folders, *files):
            n += 1
            if n > _MAX_FILES_SCANNED:
                raise CheckpointRefused(f"{root} holds more than {_MAX_FILES_SCANNED} files: not a LeRobot checkpoint")
            path = Path(at) / name
            try:
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    st = os.stat(_inside(path, root, allowed))
            except OSError as exc:
                raise CheckpointRefused(f"{path.relative_to(root)}: cannot be read ({exc.strerror})") from None
            folder = stat.S_ISDIR(st.st_mode) and not (Path(at) == root and name in _FILES)
            if not (stat.S_ISREG(st.st_mode) or folder):
                raise CheckpointRefused(_not_regular(path.relative_to(root), st.st_mode))


def read_file(path: Path, limit: int, root: Path | None = None, kind: str = "a LeRobot checkpoint file") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (CheckpointRefused past
    it, saying it is not ``kind``): its type checked before it is opened (a FIFO blocks an open,
    a device never ends), a link leading outside ``root`` (default: its own folder) refused, and
    the size enforced on the bytes read, not on ``stat``."""
    with _open_regular(path, root) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise CheckpointRefused(f"{path.name}: larger than {limit / 2**20:g} MB: not {kind}")
    return data


def _open_regular(path: Path, root: Path | None) -> BinaryIO:
    """``path`` opened for reading once its type is known to be a regular file (O_NONBLOCK and
    a second look at the open file: one swapped in between is refused too)."""
    root = (root or path.parent).resolve()
    try:
        target = _inside(path, root, _link_root(root)) if os.path.islink(path) else path
        if not stat.S_ISREG(mode := os.stat(target).st_mode):
            raise CheckpointRefused(_not_regular(path.name, mode))
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise CheckpointRefused(f"{path.name}: cannot be read ({exc.strerror})") from None
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(mode := os.fstat(fd).st_mode):
        f.close()
        raise CheckpointRefused(_not_regular(path.name, mode))
    return f


def _holds(path: Path, needle: bytes, root: Path) -> bool:
    """Whether the regular file ``path`` holds ``needle``, read a MB at a time (a tokenizer.json
    can be tens of MB)."""
    with _open_regular(path, root) as f:
        tail = b""
        while chunk := f.read(1 << 20):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _inside(link: Path, root: Path, allowed: Path) -> Path:
    """Where ``link`` leads, refused unless inside ``allowed`` (the checkpoint folder, or the
    repository folder of a hub cache, whose snapshots link to its blobs)."""
    target = link.resolve()
    if not target.is_relative_to(allowed):
        shown = link.relative_to(root) if link.is_relative_to(root) else link.name
        raise CheckpointRefused(
            f"{shown}: a link to {target}, outside the checkpoint folder; a checkpoint may only hold its own files"
        )
    return target


def _link_root(root: Path) -> Path:
    """The folder links of ``root`` may lead into: ``root``, or for a hub cache snapshot
    (``models--OWNER--NAME/snapshots/REVISION``) the repository's folder, which holds its blobs."""
    if (
        root.parent.name == "snapshots"
        and root.parent.parent.name.startswith("models--")
        and (root.parent.parent / "blobs").is_dir()
    ):
        return root.parent.parent
    return root


def _not_regular(name: object, mode: int) -> str:
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a folder"
        if stat.S_ISDIR(mode)
        else "not a file"
    )
    return f"{name}: {kind}, not a regular file; a checkpoint holds regular files only"


def checkpoint_type(target: str) -> str | None:
    """The policy type a checkpoint folder's config.json names; None when it cannot be read here
    (a hub id, a folder without one: loading it says why)."""
    try:
        data = _load_json(Path(target) / "config.json")
    except CheckpointRefused:
        return None
    kind = data.get("type")
    return kind if isinstance(kind, str) else None


def _check_remote_code_fields(config: dict, fields: tuple[str, ...], where: str) -> None:
    for name in fields:
        if config.get(name):
            raise CheckpointRefused(
                f"{where}: {name} ({config[name]!r}) is loaded by LeRobot with trust_remote_code=True, which runs "
                "the Python files that come with it: pass --trust-remote-code only if you trust where it comes from"
            )


def _load_json(path: Path, root: Path | None = None) -> dict:
    try:
        data = json.loads(read_file(path, _MAX_JSON_BYTES, root).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise CheckpointRefused(f"{path.name}: cannot be read as JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise CheckpointRefused(f"{path.name}: not a JSON object")
    return data


def _check_steps(processor: dict, where: str) -> None:
    steps = processor.get("steps", [])
    if not isinstance(steps, list):
        raise CheckpointRefused(f"{where}: 'steps' is not a list")
    for k, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("registry_name"), str):
            named = step.get("class") if isinstance(step, dict) else step
            raise CheckpointRefused(
                f"{where}: step {k} ({named!r}) is not named by LeRobot's processor registry (registry_name): "
                "a class path would be imported and called; policybench loads registered LeRobot steps only"
            )


def _check_document(data, where: str, root: Path, trusted: bool, path: str = "") -> None:
    """Every key and string of a JSON document, depth first."""
    stack = [(path, data)]
    while stack:
        at, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                field = f"{at}.{key}" if at else str(key)
                if key == "auto_map":
                    raise CheckpointRefused(
                        f"{where}: {field} names Python code to import; policybench does not run it"
                    )
                if key == "trust_remote_code" and item and not trusted:
                    raise CheckpointRefused(
                        f"{where}: {field} is true: the step would run the Python files of the "
                        "model it loads; pass --trust-remote-code only if you trust their source"
                    )
                stack.append((field, item))
        elif isinstance(value, list):
            stack.extend((f"{at}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, str):
            key = re.sub(r"\[\d+\]$", "", at).rsplit(".", 1)[-1]
            _check_path_value(value, f"{where}: {at}", root, bool(_PATH_FIELD.search(key.lower())))


def _check_path_value(value: str, where: str, root: Path, path_field: bool) -> None:
    """A string that names code or pickled weights, or (in a ``path_field``) an existing path
    outside ``root``."""
    if not value or len(value) > 4096 or "\0" in value:
        return
    lowered = value.lower()
    if lowered.endswith(CODE_SUFFIXES):
        raise CheckpointRefused(
            f"{where} ({value!r}) names a code file; policybench does not run code from checkpoints"
        )
    if lowered.endswith(PICKLE_SUFFIXES):
        raise CheckpointRefused(
            f"{where} ({value!r}) names pickled data, which can run code when loaded; "
            "policybench loads weights from safetensors only"
        )
    target = _existing(value, root) if path_field else None
    if target is None:
        return
    if not target.is_relative_to(_link_root(root)):  # a hub cache's snapshot names its blobs
        raise CheckpointRefused(
            f"{where} ({value!r}) names {target}, outside the checkpoint folder; a checkpoint "
            "may only refer to its own files"
        )
    if target.is_dir():
        _check_no_code(target, where, root)


def _existing(value: str, root: Path) -> Path | None:
    """The file or folder ``value`` names, as LeRobot and transformers would open it (relative
    to the working folder) or as the checkpoint's own file; None if it names none."""
    try:
        for candidate in (Path(value).expanduser(), root / value):
            if candidate.exists():
                return candidate.resolve()
    except (OSError, ValueError):
        return None
    return None


def _check_no_code(folder: Path, where: str, root: Path) -> None:
    for n, path in enumerate(folder.rglob("*")):
        if n > _MAX_FILES_SCANNED:
            raise CheckpointRefused(f"{where}: {folder} holds more than {_MAX_FILES_SCANNED} files")
        if path.name.lower().endswith(CODE_SUFFIXES):
            raise CheckpointRefused(
                f"{where} names a folder with code ({path.relative_to(root)}); "
                "policybench does not run code from checkpoints"
            )
        if path.suffix == ".json" and path.is_file() and _holds(path, b'"auto_map"', root):
            raise CheckpointRefused(
                f"{where} names a folder whose {path.name} asks for code (auto_map); policybench does not run it"
            )
