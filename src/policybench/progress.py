"""What ``policybench run`` shows while it works.

On a terminal: a progress bar per policy (refills done of the target, elapsed time) and the
warnings. In a log that is not a terminal: the warnings only. ``--verbose`` adds a line per
step (build, measure); ``--quiet`` shows nothing but the final table.
"""

from __future__ import annotations

import sys

from policybench.terminal import terminal_safe


class RunOutput:
    def __init__(self, quiet: bool = False, verbose: bool = False, stream=None, policies=()):
        self.quiet, self.verbose = quiet, verbose
        self.policies = set(policies)  # whose "name: step" lines become the status of their bar
        self.stream = stream or sys.stderr
        self._bar = None
        self._tasks: dict[str, int] = {}
        if not quiet and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("refills"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=False,
                auto_refresh=False,  # no redraw thread competing with the timed calls
            )

    def __enter__(self) -> "RunOutput":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _print(self, line: str) -> None:
        line = terminal_safe(line)
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def info(self, line: str) -> None:
        """A step of a policy's life ("act: building", "act: first call", ...): a line with
        --verbose; on a terminal otherwise, the status of that policy's bar, with its elapsed time."""
        if self.verbose:
            self._print(line)
        elif self._bar is not None and line.split(": ", 1)[0] in self.policies:
            policy, status = line.split(": ", 1)
            self._task(policy, total=None)
            self._bar.update(self._tasks[policy], description=terminal_safe(f"{policy}: {status}"))
            self._bar.refresh()

    def _task(self, policy: str, total: int | None) -> None:
        if self._bar is not None and policy not in self._tasks:
            self._tasks[policy] = self._bar.add_task(terminal_safe(policy), total=total)

    def warn(self, line: str) -> None:
        if not self.quiet:
            self._print(line)

    def progress(self, policy: str, done: int, target: int) -> None:
        if self._bar is None:
            return
        self._task(policy, total=target)
        self._bar.update(self._tasks[policy], total=target, completed=min(done, target))
        self._bar.refresh()  # called between timed calls, never during one
