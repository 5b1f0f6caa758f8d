"""Round trips through LeRobot's own async inference stack: its gRPC PolicyServer (the
``lerobot[async]`` extra), started in a subprocess, fed as LeRobot's robot client feeds it.

The server listens on a Unix socket in the run's temporary folder (mode 0700: no other user can
connect), or with ``--port`` on 127.0.0.1 as LeRobot's robot client reaches it; either way it
answers only calls that present the run's secret (see server.py), which it reads on its stdin.

One round trip = pickle the raw observation + send it in chunks (SendObservations) + the
server's preprocessing, inference and postprocessing + pickle and return the chunk
(GetActions) + unpickle on our side. The server is stopped and its folder removed at the end,
also on SIGINT and SIGTERM; it dies with us whatever kills us, and then removes the folder
itself. A folder left by a run that could not remove it is removed at the next run's start.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from policybench.errors import UsageError
from policybench.child_process import module_command, stop_child
from policybench.ports import check_port_free, free_port  # noqa: F401 - free_port: the server's port in tests
from policybench.policies.base import PolicyAdapter
from policybench.profiles import Profile

if TYPE_CHECKING:
    from policybench.policies.lerobot_policies import LeRobotPolicy


@dataclass(frozen=True)
class RemoteRun:
    round_trips: list[float]  # seconds
    chunk_length: int
    port: int | None  # None: a Unix socket


def overhead(
    round_trips_ms: list[float], in_process_ms: list[float], resamples: int = 2000, seed: int = 0
) -> dict[str, float | None]:
    """What the PolicyServer adds to a chunk, from two runs timed apart (the round trips, and the
    same chunk computed in-process): the 95% interval of the difference of their medians (a
    seeded percentile bootstrap, each side resampled on its own), and the difference itself only
    when the whole interval is above zero. Otherwise the difference is noise between the two runs:
    ``overhead_median_ms`` is None, never a negative overhead."""
    rng = np.random.default_rng(seed)
    trips, local = np.asarray(round_trips_ms), np.asarray(in_process_ms)
    diffs = np.median(trips[rng.integers(0, len(trips), size=(resamples, len(trips)))], axis=1) - np.median(
        local[rng.integers(0, len(local), size=(resamples, len(local)))], axis=1
    )
    low, high = float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))
    median = float(np.median(trips) - np.median(local))
    return {
        "overhead_median_ms": median if low > 0 and median > 0 else None,
        "overhead_low_ms": low,
        "overhead_high_ms": high,
    }


def grpc_problem() -> str | None:
    """Why LeRobot's async inference cannot run here, or None. Its server module is looked for,
    not imported: importing it sets up LeRobot's logging, with a log file in ./logs."""
    import importlib.util

    for module in ("grpc", "lerobot.async_inference.policy_server"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            return f"LeRobot's async inference needs the lerobot[async] extra (no module {module})"
    return None


def save_checkpoint(adapter: LeRobotPolicy, folder: Path) -> None:
    """What the server loads: the policy (config + weights) and its pre/post-processors."""
    from policybench.lerobot_adapter.processors import make_processors

    policy = adapter.policy
    policy.save_pretrained(folder)
    pre, post = make_processors(policy.config)
    pre.save_pretrained(folder)
    post.save_pretrained(folder)


def robot_features(profile: Profile) -> tuple[dict[str, object], dict[str, object]]:
    """``robot_features_of`` a profile's cameras and state (checked before anything is built)."""
    from policybench.observations import VECTOR, VISUAL, InputSpec

    specs = [InputSpec(c.key, VISUAL, (3, c.height, c.width)) for c in profile.cameras]
    specs.append(InputSpec("observation.state", VECTOR, (profile.state_dim,)))
    return robot_features_of(specs, profile.task, f"profile '{profile.name}'", "use --profile so100 or aloha")


def robot_features_of(specs, task: str, what: str, hint: str = "") -> tuple[dict[str, object], dict[str, object]]:
    """(hardware features as a LeRobot robot declares them, one raw observation a robot delivers)
    for a policy's inputs ``specs`` (a built policy's, a checkpoint's own): a float per joint of
    ``observation.state``, an HxWx3 uint8 image per ``observation.images.<name>``, the task."""
    from policybench.observations import VISUAL

    prefix = "observation.images."
    hw: dict[str, object] = {}
    rng = np.random.default_rng(0)
    raw: dict[str, object] = {}
    for spec in specs:
        if spec.kind == VISUAL and spec.key.startswith(prefix):
            c, h, w = spec.shape
            hw[spec.key[len(prefix) :]] = (h, w, c)
            raw[spec.key[len(prefix) :]] = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
        elif spec.key == "observation.state":
            for i in range(spec.shape[0]):
                hw[f"joint{i}.pos"] = float
                raw[f"joint{i}.pos"] = float(rng.standard_normal())
        else:
            raise UsageError(
                f"--remote needs cameras named {prefix}<name> and observation.state, as LeRobot "
                f"robots deliver them; {what} has {spec.key}" + (f": {hint}" if hint else "")
            )
    raw["task"] = task
    return hw, raw


SERVER_MODULE = "policybench.measure.server"  # what runs the server; the unit tests swap in a light one
RUN_PREFIX = "policybench-remote-"  # a run's folder: RUN_PREFIX + its process id + "-" + random letters
RUN_FOLDER = re.compile(re.escape(RUN_PREFIX) + r"([1-9][0-9]{0,9})-\w+")
SOCKET = "grpc.sock"  # the server's Unix socket, in its folder
SUN_PATH_MAX = 107 if sys.platform.startswith("linux") else 103  # bytes in a Unix socket's path


class PortTaken(RuntimeError):
    """Another program bound the port between our check and the server's start."""


def remove_stale_folders(where: Path | None = None) -> None:
    """Remove this user's run folders in ``where`` (default: the temporary folder) whose run's
    process is gone: a run killed before its server could remove its folder leaves it."""
    for path in Path(where or tempfile.gettempdir()).glob(f"{RUN_PREFIX}*"):
        match = RUN_FOLDER.fullmatch(path.name)
        try:
            info = path.lstat()
        except OSError:
            continue
        if match and stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not alive(int(match[1])):
            shutil.rmtree(path, ignore_errors=True)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (another user's included)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's
        return True
    return True


@contextlib.contextmanager
def socket_address(folder: Path):
    """The address at which a gRPC client reaches the socket SOCKET in ``folder``: its absolute
    path or, when that is too long for a Unix socket, the same file through a descriptor of the
    folder (``/proc/self/fd/N/``, Linux; elsewhere a path too long is refused)."""
    path = folder.resolve() / SOCKET
    if len(os.fsencode(path)) <= SUN_PATH_MAX:
        yield f"unix:{path}"
        return
    if not sys.platform.startswith("linux"):
        raise RuntimeError(
            f"the temporary folder {folder} has too long a path for a Unix socket: "
            "set TMPDIR to a shorter folder, or use --port"
        )
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"unix:/proc/self/fd/{fd}/{SOCKET}"
    finally:
        os.close(fd)


def with_secret(channel, secret: str):
    """``channel``, presenting ``secret`` as metadata on every call (server.RequireSecret checks it)."""
    import grpc

    from policybench.measure.server import SECRET_KEY

    class Details(
        collections.namedtuple(
            "Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
        ),
        grpc.ClientCallDetails,
    ):
        pass

    class PresentSecret(
        grpc.UnaryUnaryClientInterceptor,
        grpc.UnaryStreamClientInterceptor,
        grpc.StreamUnaryClientInterceptor,
        grpc.StreamStreamClientInterceptor,
    ):
        def call(self, continuation, details, request):
            metadata = [*(details.metadata or ()), (SECRET_KEY, secret)]
            return continuation(
                Details(
                    details.method,
                    details.timeout,
                    metadata,
                    details.credentials,
                    details.wait_for_ready,
                    details.compression,
                ),
                request,
            )

        intercept_unary_unary = intercept_unary_stream = intercept_stream_unary = intercept_stream_stream = call

    return grpc.intercept_channel(channel, PresentSecret())


@contextlib.contextmanager
def policy_server(port: int | None, folder: Path, startup_timeout: float = 60.0):
    """Start LeRobot's PolicyServer (see server.py) on a Unix socket in ``folder``, or, given a
    port, on 127.0.0.1:port; yield a gRPC stub that presents the run's secret; stop it on exit.
    ``folder`` (made mode 0700) is its working and temporary folder: its socket, its log and the
    files LeRobot leaves behind land there, and go with it; if we die first, the server removes it."""
    import grpc

    from policybench.lerobot_adapter import transport

    folder.chmod(0o700)
    secret = secrets.token_hex(32)
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(tempfile.TemporaryFile(dir=folder))
        if port is None:  # the server binds the socket relative to its folder, whatever the folder's path
            target, address = stack.enter_context(socket_address(folder)), f"unix:{SOCKET}"
        else:
            target = address = f"127.0.0.1:{port}"
        cmd = [*module_command(SERVER_MODULE, sys.executable), address, str(os.getpid()), str(folder)]
        env = {**os.environ, "TMPDIR": str(folder)}
        # A session of its own: a Ctrl-C in the terminal reaches us only, and we stop it in order.
        proc = subprocess.Popen(
            cmd,
            cwd=folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            bufsize=0,
        )
        stack.callback(stop_child, proc, grace=10.0)
        stdin = proc.stdin
        assert stdin is not None  # stdin=PIPE
        with contextlib.suppress(BrokenPipeError):  # it has exited already: wait_until_serving says why
            stdin.write(f"{secret}\n".encode())  # on stdin: not in its command line or environment
        stdin.close()
        channel = grpc.insecure_channel(target)
        stack.callback(channel.close)
        wait_until_serving(proc, folder, log, f"port {port}" if port is not None else "its socket", startup_timeout)
        # The server is up: no channel_ready_future, whose polling thread, cut short by a signal,
        # would outlive the channel closed on exit and die with a traceback.
        yield transport.stub(with_secret(channel, secret))


def wait_until_serving(proc: subprocess.Popen, folder: Path, log, where: str, timeout: float) -> None:
    """Until the server writes SERVING in ``folder`` (until then, whatever answers is not ours);
    an error naming why if it exits or the timeout passes first."""
    from policybench.measure.server import PORT_IN_USE, SERVING

    deadline = time.monotonic() + timeout
    while not (folder / SERVING).exists():
        code = proc.poll()
        if code == PORT_IN_USE:
            raise PortTaken(
                f"{where} on 127.0.0.1 was taken before LeRobot's policy server could bind it: "
                "pick another --port or leave --port out"
            )
        if code is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"LeRobot's policy server exited at start (code {code}): {tail[0]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"LeRobot's policy server did not start on {where} within {timeout:g} s")
        time.sleep(0.1)


def run_remote(
    adapter: PolicyAdapter, profile: Profile, calls: int, warmup: int, port: int | None = None, device: str = "cpu"
) -> RemoteRun:
    """Time ``calls`` round trips (after ``warmup`` untimed ones) of one observation to LeRobot's
    PolicyServer running ``adapter``'s policy, as its robot client sends them: on a Unix socket,
    or on 127.0.0.1:port given a port."""
    problem = grpc_problem()
    if problem:
        raise RuntimeError(problem)
    from policybench.lerobot_adapter.transport import RobotClient
    from policybench.policies.lerobot_policies import LeRobotPolicy

    if not isinstance(adapter, LeRobotPolicy):  # the noop and plain modules have no checkpoint
        raise RuntimeError(f"{adapter.name} is not a LeRobot policy; the policy server cannot load it")
    hw, raw = robot_features_of(adapter.input_specs(), profile.task, adapter.name)
    if port is not None:
        check_port_free(port)
    steps = adapter.describe().get("n_action_steps")
    n_actions = int(steps) if isinstance(steps, (int, float)) and steps else 1
    remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"{RUN_PREFIX}{os.getpid()}-") as tmp:  # removed on a signal too
        save_checkpoint(adapter, Path(tmp))
        with policy_server(port, Path(tmp)) as stub:
            client = RobotClient(stub)
            client.ready()
            client.send_policy(adapter.name, tmp, hw, n_actions, device)
            trips, length = [], 0
            for i in range(warmup + calls):
                obs = client.observation(raw, i)
                start = time.perf_counter()
                actions = client.round_trip(obs)
                elapsed = time.perf_counter() - start
                if not actions:
                    raise RuntimeError("LeRobot's policy server returned no actions (see its log)")
                length = len(actions)
                if i >= warmup:
                    trips.append(elapsed)
    return RemoteRun(trips, length, port)
