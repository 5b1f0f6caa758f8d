"""How policybench writes files, so that nothing a user has is lost.

- Atomic: a temporary file in the same folder, then a rename; a crash never leaves half a file,
  and a rename replaces a symbolic link itself, never the file it points to.
- A replaced file keeps its permissions (a 0600 results file stays 0600); a new one gets the
  usual ones (0666 less the umask).
- Never through a symbolic link, never onto an input of the same command (``check_output``).
- One writer per results file: ``ResultsFile`` holds a lock for the whole run, so that a second
  run on the same ``--json`` stops at once instead of both saying "results written". The lock
  file is never written through a link (symbolic or hard).
- A results file that holds an earlier run is replaced only once this run has measured
  something: a run interrupted (or failed) before any policy was measured leaves it as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from policybench.errors import SettingsError, UsageError, literal

LOCK_SUFFIX = ".lock"


def write_atomic(path: str | os.PathLike, data: bytes | Callable[[BinaryIO], object]) -> None:
    """Replace ``path`` by ``data`` (bytes, or a function that writes them into the open file)
    atomically, keeping the mode of the file it replaces. OSError when the folder cannot be
    written; no temporary file is left behind."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    mode = _mode_for(p)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_for(p: Path) -> int:
    try:
        st = os.lstat(p)
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def check_output(path: str | os.PathLike, flag: str, inputs: tuple[str, ...] = ()) -> None:
    """UsageError when writing ``path`` would follow a symbolic link or overwrite one of ``inputs``."""
    p = Path(path)
    if p.is_symlink():
        raise UsageError(
            f"{flag} {path}: is a symbolic link; policybench does not write through links (give the file's own path)"
        )
    for source in inputs:
        if _same_file(p, Path(source)):
            raise UsageError(f"{flag} {path}: is the input {source}; writing there would overwrite it")


def check_writable(path: str, field: str = "json_path") -> None:
    """Fail early, before anything is measured, when the output file ``path`` (the setting
    ``field``) cannot be written: a SettingsError naming the field."""
    p = Path(path)
    what = f"{{{field}}} {literal(path)}"
    if p.is_symlink():
        raise SettingsError(
            f"{what}: is a symbolic link; policybench does not write through links (give the file's own path)"
        )
    if p.is_dir():
        raise SettingsError(f"{what}: is a folder, not a file")
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise SettingsError(f"{what}: {literal(parent)} is a file, not a folder")
    if not parent.is_dir():
        raise SettingsError(f"{what}: folder {literal(parent)} does not exist")
    _probe(parent, what)


def check_folder(path: str, field: str) -> None:
    """Fail early when the output folder ``path`` (the setting ``field``) cannot be made or
    written (it is made if missing)."""
    p = Path(path)
    what = f"{{{field}}} {literal(path)}"
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SettingsError(f"{what}: is a file, not a folder") from None
    except OSError as exc:
        raise SettingsError(f"{what}: cannot create the folder ({literal(exc.strerror)})") from None
    _probe(p, what)


def _probe(folder: Path, what: str) -> None:
    """``what``: a SettingsError template naming the output."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".policybench-check-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise SettingsError(f"{what}: cannot write there ({literal(exc.strerror)})") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
