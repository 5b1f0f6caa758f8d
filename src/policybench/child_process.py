"""What parent and child agree on about a child process, and the helpers every child of
policybench needs: the messages a measuring child sends on its pipe, dying with the parent,
the command that starts a module, why a child died, and stopping one.

The parent starts ``python -m policybench.measure.child`` (orchestrate/children.py), sends it a
job as JSON on its stdin, and reads JSON lines back on a pipe of their own (LeRobot prints to
stdout while it builds, so stdout is not used): LOG, WARN and PROGRESS as they happen, then
RESULTS, or USAGE_ERROR when the job found the user's mistake (a policy name, a ``--set`` value).
"""

from __future__ import annotations

import enum
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable

CHILD_FD_ENV = "POLICYBENCH_CHILD_FD"
CHILD_MODULE = "policybench.measure.child"  # the child's entry point; the parent names it, never imports it
JOBS_MODULE = "policybench.measure.jobs"  # the jobs a child runs; run here by name with --in-process
SILENCE_LIMIT_S = 1800.0  # longer than any build or refill: a child this quiet is stuck


@dataclass(frozen=True)
class Given:
    """What cannot travel to a child as JSON, so runs here: policies given as objects (by the name
    they run as) and the inputs of their forward; for tests, a clock and a builder of every policy."""

    policies: dict[str, object] = field(default_factory=dict)
    inputs: object = None
    clock: object = None
    build: Callable | None = None


class Message(str, enum.Enum):
    """The kinds of line a child sends its parent."""

    LOG = "log"  # {"text"}
    WARN = "warn"  # {"text"}
    PROGRESS = "progress"  # {"done", "target"}: refills measured
    RESULTS = "results"  # {"value"}: what the job returns, last
    USAGE_ERROR = "usage_error"  # {"text", "template"}: the user's mistake, raised again in the parent


Send = Callable[..., None]  # send(Message, **fields)


def open_channel(fd: int) -> Send:
    """The child's end of the message pipe: ``send(kind, **fields)`` writes one JSON line (after a
    line break of its own: a message a signal cut short ends there, and the parent passes it over)."""
    out = os.fdopen(fd, "w", buffering=1)

    def send(kind: Message, **fields: object) -> None:
        out.write("\n" + json.dumps({"kind": kind.value, **fields}) + "\n")

    return send


def ask_death_signal(signum: int) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent dies (Linux only: False
    elsewhere, where a caller must watch the parent itself)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signum)
    return True


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """A ``preexec_fn``: the child is killed when its parent dies."""
    ask_death_signal(signal.SIGKILL)


def module_command(module: str, python: str = sys.executable) -> list[str]:
    """The command that runs ``python -m module`` without the current folder on ``sys.path``:
    ``-m`` would put it first, so a ``json.py`` in the folder where the user runs policybench
    would be imported in place of the standard library's. Python >= 3.11 has ``-P`` for this;
    3.10 drops the entry itself before running the module."""
    if sys.version_info >= (3, 11):
        return [python, "-P", "-m", module]
    bootstrap = f"import sys, runpy; del sys.path[0]; runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    return [python, "-c", bootstrap]


def death_reason(returncode: int) -> str:
    """Why a child ended without results, in words a user can act on."""
    if returncode < 0:
        sig = -returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        hint = {signal.SIGKILL.value: ": out of memory?", signal.SIGSEGV.value: ": a crash in native code"}.get(sig, "")
        return f"the measuring process was killed by signal {sig} ({name}){hint}"
    return f"the measuring process exited with code {returncode} before reporting results"


def stop_child(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds or if the wait is cut short (a second signal)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
