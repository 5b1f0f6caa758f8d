"""What ``policybench run`` shows while it works.

On a terminal: a progress bar per policy (refills done of the target, elapsed time) whose status
is the step it is at, and the warnings. In a log that is not a terminal (a pipe, a file): a line
as each step of a policy starts (building, first call, warm-up, measuring, each variant's first
chunk, ...), the warnings, and after 10 s without a line, one saying what is still running and for
how long (with the refills done when measuring): no silent minute. Each line of a log is folded at
spaces to 100 columns. ``--verbose`` also puts each step as a line on a terminal; ``--quiet`` shows
nothing but the final table.
"""

from __future__ import annotations

import sys
import threading
import time

from policybench.terminal import PIPE_WIDTH, terminal_safe, wrapped

HEARTBEAT_S = 10.0  # in a log: the longest stretch without a line


class RunOutput:
    def __init__(
        self, quiet: bool = False, verbose: bool = False, stream=None, policies=(), heartbeat_s: float = HEARTBEAT_S
    ):
        self.quiet, self.verbose = quiet, verbose
        self.policies = set(policies)  # whose "name: step" lines become the status of their bar
        self.stream = stream or sys.stderr
        self.heartbeat_s = heartbeat_s
        self._bar = None
        self._tasks: dict[str, int] = {}
        self._lock = threading.Lock()  # a line is printed whole, by the caller or the heartbeat
        self._said = time.monotonic()  # when the last line was printed
        self._status: tuple[str, float] | None = None  # what is running, and since when (a log)
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
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

    @property
    def _log(self) -> bool:
        """Output to a log, not a terminal: a line per step, and the heartbeat."""
        return not self.quiet and self._bar is None

    def __enter__(self) -> "RunOutput":
        if self._bar is not None:
            self._bar.start()
        elif self._log:
            # Wakes once per heartbeat_s of silence at most; the timed calls run in a child process.
            self._beat = threading.Thread(target=self._heartbeat, name="policybench-heartbeat", daemon=True)
            self._beat.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._stop.set()
        if self._beat is not None:
            self._beat.join()

    def _print(self, line: str) -> None:
        line = terminal_safe(line)
        if self._bar is not None:  # rich folds to the terminal's width
            self._bar.console.print(line, markup=False, highlight=False)
        else:  # a log: folded at spaces to a pipe's width, continuation lines indented
            with self._lock:
                print("\n".join(wrapped(line, PIPE_WIDTH)), file=self.stream, flush=True)
                self._said = time.monotonic()

    def _heartbeat(self) -> None:
        """In a log: after heartbeat_s without a line, what is running and for how long."""
        while not self._stop.wait(max(0.01, self._said + self.heartbeat_s - time.monotonic())):
            with self._lock:
                now = time.monotonic()
                if self._status is None or now - self._said < self.heartbeat_s:
                    continue
                text, since = self._status
                print(
                    "\n".join(wrapped(terminal_safe(f"{text} ... {now - since:.0f} s"), PIPE_WIDTH)),
                    file=self.stream,
                    flush=True,
                )
                self._said = now

    def _owner(self, line: str) -> str | None:
        """The policy whose step ``line`` is ("act: building", "act+compile: first call"), or None."""
        name = line.split(": ", 1)[0]
        return next((p for p in self.policies if name == p or name.startswith((f"{p}+", f"{p}["))), None)

    def info(self, line: str) -> None:
        """A step of a policy's life ("act: building", "act: first call", ...): a line in a log or
        with --verbose; on a terminal otherwise, the status of that policy's bar, with its elapsed time.
        A line that is no policy's step ("policybench: device cpu, ...") is shown with --verbose only."""
        policy = self._owner(line)
        if self._log and policy is not None:
            self._status = (line, time.monotonic())
        if self.verbose or (self._log and policy is not None):
            self._print(line)
            return
        if self._bar is not None and policy is not None:
            self._task(policy, total=None)
            self._bar.update(self._tasks[policy], description=terminal_safe(line))
            self._bar.refresh()

    def _task(self, policy: str, total: int | None) -> None:
        if self._bar is not None and policy not in self._tasks:
            self._tasks[policy] = self._bar.add_task(terminal_safe(policy), total=total)

    def warn(self, line: str) -> None:
        if not self.quiet:
            self._print(line)

    def progress(self, policy: str, done: int, target: int) -> None:
        """Refills measured: the bar on a terminal; in a log, what the next heartbeat line says."""
        if self._bar is None:
            if self._log and self._status is not None:
                step, since = self._status
                self._status = (f"{step.split(', ', 1)[0]}, {done}/{target} refills", since)
            return
        self._task(policy, total=target)
        self._bar.update(self._tasks[policy], total=target, completed=min(done, target))
        self._bar.refresh()  # called between timed calls, never during one
