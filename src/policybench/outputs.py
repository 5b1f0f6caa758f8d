"""How policybench writes files, so that nothing a user has is lost.

- Atomic: a temporary file in the same folder, then a rename; a crash never leaves half a file,
  and a rename replaces a symbolic link itself, never the file it points to.
- A replaced file keeps its permissions (a 0600 results file stays 0600); a new one gets the
  usual ones (0666 less the umask).
- Never through a symbolic link, never onto an input of the same command (``check_output``).
- One writer per results file: ``ResultsFile`` holds a ``WriterLock`` for the whole run, so that a second
  run on the same ``--json`` stops at once instead of both saying "results written". The lock
  file is never written through a link (symbolic or hard).
- A results file that holds an earlier run is replaced only once this run has measured
  something: a run interrupted (or failed) before any policy was measured leaves it as it was.
"""

from __future__ import annotations

import contextlib
import json
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


def holds_results(path: str | os.PathLike) -> bool:
    """True when ``path`` is a non-empty file: what a run must not replace before it has measured."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size > 0


class WriterLock:
    """An exclusive lock on ``.<name>.lock`` beside the file ``path``, taken at once or UsageError:
    one writer of a results file at a time."""

    def __init__(self, path: str):
        p = Path(path)
        self.path = p.with_name(f".{p.name}{LOCK_SUFFIX}")
        self.fd: int | None = None
        try:
            import fcntl
        except ImportError:  # no flock (Windows): one writer is not enforced there
            return
        while True:
            fd = _open_lock(self.path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                owner = self._owner()
                raise UsageError(
                    f"{path}: another policybench run{owner} is writing this results file; "
                    "wait for it or pick another file"
                ) from None
            if _same_inode(fd, self.path):  # not a lock file that its last holder just removed
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid()}).encode())
        self.fd = fd

    def _owner(self) -> str:
        try:
            return f" (process {int(json.loads(self.path.read_text())['pid'])})"
        except (OSError, ValueError, KeyError, TypeError):
            return ""

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self.fd)  # closing releases the lock
        self.fd = None


def _open_lock(path: Path) -> int:
    """The lock file ``path`` opened for writing, never through a link: O_NOFOLLOW refuses a
    symbolic link, and one that is not a regular file of its own (a FIFO, a device, a hard link
    to another file, which truncating it would empty) is refused before anything is written."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        why = "is a symbolic link" if os.path.islink(path) else f"cannot be opened ({exc.strerror})"
        raise UsageError(
            f"{path}: the results file's lock {why}; remove it (policybench writes no lock through a link)"
        ) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:  # 0: its last holder just removed it (retried)
        os.close(fd)
        what = "is not a regular file" if not stat.S_ISREG(st.st_mode) else f"has {st.st_nlink} names (a hard link)"
        raise UsageError(
            f"{path}: the results file's lock {what}; remove it (policybench writes no lock through a link)"
        )
    return fd


def _same_inode(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False
