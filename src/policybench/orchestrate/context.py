"""The one run context: what a run does to the parent process, done on entry and undone on exit.

A run checks its output paths before anything is measured, closes or opens the Hugging Face hub,
allows or refuses a model's own Python files (both as environment variables its children
inherit), silences warnings and LeRobot's log lines, and turns SIGINT and SIGTERM into
``Interrupted``; then it plans: a child (or, not isolated, this process) resolves the device,
checks every policy name and ``--set`` value against LeRobot's configs and describes the
environment. ``RunContext`` puts every piece back as it found it, after an error too: a notebook
that calls ``policybench.run`` twice sees the same process both times. What a measuring job sets
(torch's threads, the random generators) the job sets and restores itself (measure/jobs.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from policybench.checkpoint_guard import remote_code
from policybench.interrupt import interruptible
from policybench.orchestrate.launch import Given, Launcher, launcher
from policybench.outputs import check_folder, check_writable
from policybench.procenv import hub_access, quiet_libraries
from policybench.settings import RunSettings

Log = Callable[[str], None]


class RunContext:
    """Everything a run changes in this process, for the length of a ``with`` block.

    ``outputs`` (files) and ``folders`` ({path: the setting that names it}) are checked before
    anything runs; then the plan gives ``device`` and ``environment``. ``isolate`` says whether
    named policies run in a child process each (``launch`` runs a job there or here); ``skip``
    names policies given as objects, which are not looked up. ``signals`` makes SIGINT and
    SIGTERM raise Interrupted inside (interrupt.py)."""

    def __init__(
        self,
        cfg: RunSettings,
        *,
        outputs: tuple[str, ...] = (),
        folders: dict[str, str] | None = None,
        isolate: bool = True,
        signals: bool = True,
        skip: tuple[str, ...] = (),
        given: Given | None = None,
        log: Log | None = None,
    ):
        self.cfg, self.outputs, self.folders, self.isolate, self.signals = cfg, outputs, folders or {}, isolate, signals
        self.skip, self.given, self.log = skip, given, log or (lambda line: None)
        self.device = ""  # resolved on entry
        self.environment: dict[str, object] = {}
        self._stack = contextlib.ExitStack()

    @property
    def launch(self) -> Launcher:
        """Runs a job (measure/jobs.py) in a child process, or here when not isolated."""
        return launcher(self.isolate, self.given)

    def __enter__(self) -> RunContext:
        self._check()
        with contextlib.ExitStack() as stack:
            if self.signals:
                stack.enter_context(interruptible())
            for part in (hub_access(self.cfg.hub), quiet_libraries(), remote_code(self.cfg.trust_remote_code)):
                stack.enter_context(part)
            plan = self.launch(
                "plan", {"cfg": self.cfg.to_json(), "skip": list(self.skip)}, log=self.log, warn=self.log
            )
            self.device, self.environment = plan["device"], plan["environment"]
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.__exit__(*exc_info)

    def _check(self) -> None:
        """Every output, before anything is set or built (a UsageError each)."""
        for path in self.outputs:
            check_writable(path)
        for path, field in self.folders.items():
            check_folder(path, field)
