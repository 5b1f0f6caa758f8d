"""Each policy measured in a child process of its own.

One process per policy, as optimum-benchmark does: a segfault or an out-of-memory kill of one
policy loses that policy only; peak memory (the child's own ``ru_maxrss``) is the policy's own;
no policy starts from another's allocator, thread or CUDA state.

The parent starts ``python -m policybench._child``, sends it the run's settings as JSON on its
stdin, and reads JSON lines back on a pipe of their own (LeRobot prints to stdout while it builds,
so stdout is not used): ``log``, ``warn`` and ``progress`` messages as they happen, then
``results``. The child's own stdout and stderr go to a temporary file, whose last line is quoted
when the child dies without results (a Python traceback's last line names the error). The child dies with its
parent (Linux: ``PR_SET_PDEATHSIG``), and the parent stops it on Ctrl-C or SIGTERM before the
interruption goes on up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from typing import Callable

from policybench.config import RunConfig
from policybench.results import FAILED, PolicyResult

Log = Callable[[str], None]
Progress = Callable[[str, int, int], None]

CHILD_FD_ENV = "POLICYBENCH_CHILD_FD"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


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
        hint = {signal.SIGKILL: ": out of memory?", signal.SIGSEGV: ": a crash in native code"}.get(sig, "")
        return f"the measuring process was killed by signal {sig} ({name}){hint}"
    return f"the measuring process exited with code {returncode} before reporting results"


def measure_in_child(
    name: str, cfg: RunConfig, device: str, log: Log, warn: Log, progress: Progress | None,
    python: str = sys.executable,
) -> list[PolicyResult]:
    """Measure one policy (all its variants) in a child process; a child that dies without results
    becomes one failed result naming the cause."""
    read_fd, write_fd = os.pipe()
    env = {**os.environ, CHILD_FD_ENV: str(write_fd)}
    payload = json.dumps({"name": name, "cfg": cfg.to_json(), "device": device})
    output = tempfile.TemporaryFile(mode="w+")
    try:
        proc = subprocess.Popen(
            module_command("policybench._child", python), stdin=subprocess.PIPE, stdout=output, stderr=output,
            pass_fds=(write_fd,), env=env, preexec_fn=_die_with_parent, text=True,
        )
    finally:
        os.close(write_fd)
    results: list[PolicyResult] | None = None
    try:
        proc.stdin.write(payload)
        proc.stdin.close()
        with os.fdopen(read_fd, "r") as messages:
            for line in messages:
                msg = json.loads(line)
                kind = msg["kind"]
                if kind == "log":
                    log(msg["text"])
                elif kind == "warn":
                    warn(msg["text"])
                elif kind == "progress" and progress is not None:
                    progress(name, msg["done"], msg["target"])
                elif kind == "results":
                    results = [PolicyResult.from_json(r) for r in msg["results"]]
        returncode = proc.wait()
    except BaseException:  # Ctrl-C, SIGTERM, a broken pipe: the child must not outlive this call
        stop_child(proc)
        output.close()
        raise
    output.seek(0)
    last = [line for line in output.read().splitlines() if line.strip()][-1:]
    output.close()
    if results is None:
        error = death_reason(returncode)
        if returncode > 0 and last:  # a Python error: its traceback's last line says which
            error += f" ({last[0].strip()})"
        warn(f"{name}: FAILED: {error}")
        return [PolicyResult(policy=name, status=FAILED, error=error)]
    return results


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
