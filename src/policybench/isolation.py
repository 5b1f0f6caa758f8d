"""Child processes: each policy measured in a process of its own, and what every child of
policybench needs (dying with its parent, being stopped).

One process per policy, as optimum-benchmark does: a segfault or an out-of-memory kill of one
policy loses that policy only; peak memory (the child's own ``ru_maxrss``) is the policy's own;
no policy starts from another's allocator, thread or CUDA state.

The parent starts ``python -m policybench.isolation``, sends it the run's settings as JSON on its
stdin, and reads JSON lines back on a pipe of their own (LeRobot prints to stdout while it builds,
so stdout is not used): ``Message`` LOG, WARN and PROGRESS as they happen, then RESULTS. The
child's own stdout and stderr go to a temporary file, whose last line is quoted when the child
dies without results (a Python traceback's last line names the error). A child that sends
nothing for ``SILENCE_LIMIT_S`` without exiting is stopped, and its policy fails naming the
wait. The child dies with its parent (Linux: ``PR_SET_PDEATHSIG``), and the parent stops it on
Ctrl-C or SIGTERM before the interruption goes on up.
"""

from __future__ import annotations

import enum
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from typing import Callable, Iterator

from policybench.settings import RunSettings
from policybench.results import FAILED, PolicyResult

Log = Callable[[str], None]
Progress = Callable[[str, int, int], None]

CHILD_FD_ENV = "POLICYBENCH_CHILD_FD"
CHILD_MODULE = "policybench.isolation"
SILENCE_LIMIT_S = 1800.0  # longer than any build or refill: a child this quiet is stuck


class Message(str, enum.Enum):
    """The kinds of line a measuring child sends its parent."""

    LOG = "log"  # {"text"}
    WARN = "warn"  # {"text"}
    PROGRESS = "progress"  # {"done", "target"}: refills measured
    RESULTS = "results"  # {"results"}: the policy's results, last


class ChildSilent(Exception):
    """The child sent nothing for the silence limit and has not exited."""


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


def measure_in_child(
    name: str, cfg: RunSettings, device: str, log: Log, warn: Log, progress: Progress | None,
    command: list[str] | None = None, silence_s: float = SILENCE_LIMIT_S,
) -> list[PolicyResult]:
    """Measure one policy (all its variants) in a child process (``command``: this module's own);
    a child that dies without results, or falls silent, becomes one failed result naming why."""
    payload = json.dumps({"name": name, "cfg": cfg.to_json(), "device": device})
    with tempfile.TemporaryFile(mode="w+") as output:
        proc, read_fd = _start(command or module_command(CHILD_MODULE), payload, output)
        results: list[PolicyResult] | None = None
        error = None
        try:
            for msg in _messages(read_fd, silence_s):
                results = _heard(msg, name, log, warn, progress) or results
            returncode = proc.wait()
        except ChildSilent:
            stop_child(proc)
            error = f"the measuring process sent nothing for {silence_s:g} s without exiting and was stopped"
        except BaseException:  # Ctrl-C, SIGTERM, a broken pipe: the child must not outlive this call
            stop_child(proc)
            raise
        finally:
            os.close(read_fd)
        output.seek(0)
        last = [line for line in output.read().splitlines() if line.strip()][-1:]
    if results is not None:
        return results
    if error is None:
        error = death_reason(returncode)
        if returncode > 0 and last:  # a Python error: its traceback's last line says which
            error += f" ({last[0].strip()})"
    warn(f"{name}: FAILED: {error}")
    return [PolicyResult(policy=name, status=FAILED, error=error)]


def _start(command: list[str], payload: str, output) -> tuple[subprocess.Popen, int]:
    """The child started with ``payload`` on its stdin; the end of its message pipe we read."""
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=output, stderr=output, pass_fds=(write_fd,),
            env={**os.environ, CHILD_FD_ENV: str(write_fd)}, preexec_fn=die_with_parent, text=True,
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


def _messages(fd: int, silence_s: float) -> Iterator[dict]:
    """The child's messages until it closes the pipe; ChildSilent after ``silence_s`` of nothing."""
    pending = b""
    while True:
        ready, _, _ = select.select([fd], [], [], silence_s)
        if not ready:
            raise ChildSilent
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        *lines, pending = (pending + chunk).split(b"\n")
        yield from (json.loads(line) for line in lines if line.strip())


def _heard(msg: dict, name: str, log: Log, warn: Log, progress: Progress | None) -> list[PolicyResult] | None:
    """Pass one message on; the results, when it is the results."""
    kind = Message(msg["kind"])
    if kind is Message.LOG:
        log(msg["text"])
    elif kind is Message.WARN:
        warn(msg["text"])
    elif kind is Message.PROGRESS and progress is not None:
        progress(name, msg["done"], msg["target"])
    elif kind is Message.RESULTS:
        return [PolicyResult.from_json(r) for r in msg["results"]]
    return None


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


def child_main() -> int:
    """The child: reads {"name", "cfg", "device"} as JSON on stdin, measures the policy in a
    quiet process of its own, and writes Message lines to the file descriptor in $POLICYBENCH_CHILD_FD."""
    payload = json.loads(sys.stdin.read())
    out = os.fdopen(int(os.environ[CHILD_FD_ENV]), "w", buffering=1)

    def send(kind: Message, **fields) -> None:
        out.write(json.dumps({"kind": kind.value, **fields}) + "\n")

    from policybench.context import quiet_libraries, torch_threads

    cfg = RunSettings.from_json(payload["cfg"])
    device = payload["device"]
    with quiet_libraries(), torch_threads(cfg.threads):  # before the imports: their warnings too
        from policybench.clock import clock_for
        from policybench.runner import measure_policy

        results = measure_policy(
            payload["name"], cfg, device, clock_for(device),
            log=lambda text: send(Message.LOG, text=text),
            warn=lambda text: send(Message.WARN, text=text),
            progress=lambda name, done, target: send(Message.PROGRESS, done=done, target=target),
        )
    send(Message.RESULTS, results=[r.to_json() for r in results])
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
