"""The parent side of a child process: each job (measuring one policy, planning a run, a live
realtime run, a verify, the policy list) runs in a process of its own, and the parent reads back
its messages (child_process.py) without ever importing what the child runs.

One process per policy, as optimum-benchmark does: a segfault or an out-of-memory kill of one
policy loses that policy only; peak memory (the child's own ``ru_maxrss``) is the policy's own;
no policy starts from another's allocator, thread or CUDA state. The child's own stdout and
stderr go to a temporary file, whose last line is quoted when the child dies without results (a
Python traceback's last line names the error). A child that sends nothing for ``SILENCE_LIMIT_S``
without exiting is stopped. The child dies with its parent (Linux: ``PR_SET_PDEATHSIG``), and
the parent stops it on Ctrl-C or SIGTERM before the interruption goes on up.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time
from typing import Callable, Iterator

from policybench.child_process import (
    CHILD_FD_ENV,
    CHILD_MODULE,
    SILENCE_LIMIT_S,
    Message,
    death_reason,
    die_with_parent,
    module_command,
    stop_child,
)
from policybench.errors import SettingsError, UsageError
from policybench.results import FAILED, PolicyResult
from policybench.settings import RunSettings

Log = Callable[[str], None]
Progress = Callable[[str, int, int], None]


class ChildSilent(Exception):
    """The child sent nothing for the silence limit and has not exited."""


class ChildFailed(Exception):
    """The child ended (or was stopped) without results; the message says why, for a user."""


def run_in_child(
    job: str,
    payload: dict,
    *,
    log: Log,
    warn: Log,
    progress: Callable[[int, int], None] | None = None,
    command: list[str] | None = None,
    silence_s: float = SILENCE_LIMIT_S,
    on_stopped: Callable[[dict], None] | None = None,
) -> dict:
    """Run ``job`` with ``payload`` in a child (``command``: policybench's own child entry) and
    return the fields of its RESULTS message. ChildFailed when it dies or falls silent first; the
    user's mistake it found is raised again here (UsageError, SettingsError with its fields).
    Interrupted here (Ctrl-C, SIGTERM), the child is sent SIGTERM and given ``STOP_GRACE_S`` to
    answer with what it measured so far, which goes to ``on_stopped`` before the interruption
    goes on up."""
    sent = json.dumps({"job": job, **payload})
    with tempfile.TemporaryFile(mode="w+") as output:
        proc, read_fd = _start(command or module_command(CHILD_MODULE), sent, output)
        answer: dict | None = None
        try:
            for msg in _messages(read_fd, silence_s):
                answer = _heard(msg, log, warn, progress) or answer
            returncode = proc.wait()
        except ChildSilent:
            stop_child(proc)
            raise ChildFailed(
                f"the measuring process sent nothing for {silence_s:g} s without exiting and was stopped"
            ) from None
        except BaseException:  # Ctrl-C, SIGTERM, a broken pipe: the child must not outlive this call
            try:
                partial = _stopped_answer(proc, read_fd) if on_stopped is not None else None
            finally:
                stop_child(proc)
            if partial is not None and on_stopped is not None:
                on_stopped(partial)
            raise
        finally:
            os.close(read_fd)
        output.seek(0)
        last = [line for line in output.read().splitlines() if line.strip()][-1:]
    if answer is not None:
        return answer
    error = death_reason(returncode)
    if returncode > 0 and last:  # a Python error: its traceback's last line says which
        error += f" ({last[0].strip()})"
    raise ChildFailed(error)


def measure_in_child(
    name: str,
    cfg: RunSettings,
    device: str,
    log: Log,
    warn: Log,
    progress: Progress | None,
    command: list[str] | None = None,
    silence_s: float = SILENCE_LIMIT_S,
) -> list[PolicyResult]:
    """Measure one policy (all its variants) in a child process; a child that dies without
    results, or falls silent, becomes one failed result naming why."""
    on_progress = (lambda done, target: progress(name, done, target)) if progress is not None else None
    try:
        answer = run_in_child(
            "measure",
            {"name": name, "cfg": cfg.to_json(), "device": device},
            log=log,
            warn=warn,
            progress=on_progress,
            command=command,
            silence_s=silence_s,
        )
    except ChildFailed as exc:
        warn(f"{name}: FAILED: {exc}")
        return [PolicyResult(policy=name, status=FAILED, error=str(exc))]
    return [PolicyResult.from_json(r) for r in answer["results"]]


STOP_GRACE_S = 10.0  # a stopped child's time to send what it measured (a policy server to stop first)


def _stopped_answer(proc: subprocess.Popen, fd: int, grace: float = STOP_GRACE_S) -> dict | None:
    """SIGTERM to the child, then its messages until it exits or ``grace`` passes: the last answer
    it sent (its partial results), if any."""
    if proc.poll() is None:
        proc.terminate()
    answer, deadline = None, time.monotonic() + grace
    try:
        for msg in _messages(fd, max(0.05, deadline - time.monotonic()), tolerant=True):
            if msg.get("kind") == Message.RESULTS.value:
                answer = {k: v for k, v in msg.items() if k != "kind"}
            if time.monotonic() > deadline:
                break
    except (ChildSilent, OSError, ValueError):
        pass
    return answer


def _start(command: list[str], payload: str, output) -> tuple[subprocess.Popen, int]:
    """The child started with ``payload`` on its stdin; the end of its message pipe we read."""
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=output,
            pass_fds=(write_fd,),
            env={**os.environ, CHILD_FD_ENV: str(write_fd)},
            preexec_fn=die_with_parent,
            text=True,
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    assert proc.stdin is not None  # stdin=PIPE
    try:
        proc.stdin.write(payload)
        proc.stdin.close()
    except BaseException:
        stop_child(proc)
        os.close(read_fd)
        raise
    return proc, read_fd


def _messages(fd: int, silence_s: float, tolerant: bool = False) -> Iterator[dict]:
    """The child's messages until it closes the pipe; ChildSilent after ``silence_s`` of nothing.
    ``tolerant``: a line that is no JSON is passed over (a stopped child's message cut short)."""
    pending = b""
    while True:
        ready, _, _ = select.select([fd], [], [], silence_s)
        if not ready:
            raise ChildSilent
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    if not tolerant:
                        raise


def _heard(msg: dict, log: Log, warn: Log, progress: Callable[[int, int], None] | None) -> dict | None:
    """Pass one message on; the answer's fields, when it is the answer."""
    kind = Message(msg["kind"])
    if kind is Message.LOG:
        log(msg["text"])
    elif kind is Message.WARN:
        warn(msg["text"])
    elif kind is Message.PROGRESS and progress is not None:
        progress(msg["done"], msg["target"])
    elif kind is Message.USAGE_ERROR:
        template = msg.get("template")
        raise SettingsError(template) if isinstance(template, str) else UsageError(msg["text"])
    elif kind is Message.RESULTS:
        return {k: v for k, v in msg.items() if k != "kind"}
    return None
