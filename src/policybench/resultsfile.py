"""The results file of one run: locked while the run lasts, written atomically after every
policy (outputs.write_atomic, through results.write_results), and left as it was when it holds
an earlier run and this run has measured nothing."""

from __future__ import annotations

from collections.abc import Callable

from policybench.outputs import WriterLock, check_writable, holds_results
from policybench.results import RunResults, write_results


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
        self._lock = WriterLock(path) if path is not None else None

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
