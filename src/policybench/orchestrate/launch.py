"""Where a job runs: in a child process of its own (orchestrate/children.py), or here, in the
caller's process (``--in-process``, policies given as objects). Both take the same job and
JSON payload and give back the same answer; here, the jobs module is imported by its name at
the moment it is needed, as a child names it, so that nothing the parent imports loads torch."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from policybench.child_process import JOBS_MODULE, Given, Message
from policybench.orchestrate.children import ChildFailed, run_in_child

Log = Callable[[str], None]


Stopped = Callable[[dict], None]  # receives what a stopped child measured (its partial answer)


class Launcher(Protocol):
    def __call__(
        self,
        job: str,
        payload: dict,
        *,
        log: Log,
        warn: Log,
        progress: Callable[[int, int], None] | None = None,
        on_stopped: Stopped | None = None,
    ) -> dict: ...


def launcher(isolate: bool, given: Given | None = None) -> Launcher:
    """A child process per job when ``isolate``, else this process (``given``: policies given as
    objects, which only run here)."""
    if isolate:
        return _in_child
    return lambda job, payload, *, log, warn, progress=None, on_stopped=None: run_here(
        job, payload, log=log, warn=warn, progress=progress, given=given
    )


def _in_child(
    job: str,
    payload: dict,
    *,
    log: Log,
    warn: Log,
    progress: Callable[[int, int], None] | None = None,
    on_stopped: Stopped | None = None,
) -> dict:
    try:
        return run_in_child(job, payload, log=log, warn=warn, progress=progress, on_stopped=on_stopped)
    except ChildFailed as exc:
        raise JobFailed(f"{job}: {exc}") from None


class JobFailed(RuntimeError):
    """A child that was to plan or list died without answering (a crash, an out-of-memory kill)."""


def run_here(
    job: str,
    payload: dict,
    *,
    log: Log,
    warn: Log,
    progress: Callable[[int, int], None] | None = None,
    given: Given | None = None,
) -> dict:
    """``job`` run in this process; its messages go to the same callbacks as a child's would."""
    jobs = importlib.import_module(JOBS_MODULE)

    def send(kind: Message, **fields: object) -> None:
        if kind is Message.LOG:
            log(str(fields["text"]))
        elif kind is Message.WARN:
            warn(str(fields["text"]))
        elif kind is Message.PROGRESS and progress is not None:
            progress(int(str(fields["done"])), int(str(fields["target"])))

    return jobs.run_job(job, payload, send, **({"given": given} if job == "measure" and given is not None else {}))


__all__ = ["Given", "JobFailed", "Launcher", "launcher", "run_here"]  # Given: child_process's, named here for callers
