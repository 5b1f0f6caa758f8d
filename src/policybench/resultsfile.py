"""The results file of one run: locked while the run lasts, written atomically after every
policy (outputs.write_atomic, through results.write_results), and left as it was when it holds
an earlier run and this run has measured nothing."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from policybench.errors import UsageError
from policybench.outputs import LOCK_SUFFIX, check_writable
from policybench.results import RunResults, write_results


def holds_results(path: str | os.PathLike) -> bool:
    """True when ``path`` is a non-empty file: what a run must not replace before it has measured."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size > 0


class ResultsFile:
    """The results file of one run (``--json``): locked while the run lasts, written atomically
    after every policy, and left as it was when it holds an earlier run and this one has
    measured nothing (``kept``; ``RunResults.measured``). Closed, it tells ``said`` which: the file
    written (also by a run that stopped: what it measured is there), or left as it was."""

    def __init__(self, path: str | None, said: Callable[[str], None] | None = None):
        if path is not None:  # a path that cannot be written fails here, before anything is measured
            check_writable(path)
        self.path = path
        self._earlier = path is not None and holds_results(path)
        self.kept = False  # an earlier file was left unchanged at the last save
        self._written = False
        self._said = said
        self._lock = _Lock(path) if path is not None else None

    def save(self, results: RunResults) -> None:
        """Write ``results`` (NotWritten when the disk refuses); skipped while an earlier file must be kept."""
        if self.path is None:
            return
        if self._earlier and not results.measured():
            self.kept = True
            return
        write_results(results, self.path)
        self._earlier = self.kept = False
        self._written = True

    def close(self) -> None:
        """The lock released; ``said`` told what became of the file."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        said, self._said = self._said, None
        if said is None:
            return
        if self.kept:
            said(f"{self.path}: left as it was: nothing was measured in this run")
        elif self._written:
            said(f"results written to {self.path}")

    def __enter__(self) -> "ResultsFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Lock:
    """An exclusive lock on ``.<name>.lock`` beside the file, taken at once or UsageError."""

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
