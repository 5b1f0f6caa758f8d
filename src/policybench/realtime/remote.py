"""Round trips through LeRobot's own async inference stack: its gRPC PolicyServer (the
``lerobot[async]`` extra), started on loopback in a subprocess, fed as LeRobot's robot client
feeds it.

One round trip = pickle the raw observation + send it in chunks (SendObservations) + the
server's preprocessing, inference and postprocessing + pickle and return the chunk
(GetActions) + unpickle on our side. The server is stopped and its folder removed at the end,
also on SIGINT and SIGTERM; it dies with us whatever kills us.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policybench.config import Profile
from policybench.errors import UsageError
from policybench.isolation import stop_child
from policybench.policies.base import PolicyAdapter


@dataclass(frozen=True)
class RemoteRun:
    round_trips: list[float]  # seconds
    chunk_length: int
    port: int


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port_free(port: int) -> None:
    """Nothing listens on the port (connections closing there, as gRPC's server can bind, do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(f"--port {port} is in use on 127.0.0.1; pick another or leave --port out") from None


def save_checkpoint(adapter: PolicyAdapter, folder: Path) -> None:
    """What the server loads: the policy (config + weights) and its pre/post-processors."""
    from lerobot.policies.factory import make_pre_post_processors

    policy = adapter.policy  # a LeRobotPolicy; the noop has no checkpoint
    policy.save_pretrained(folder)
    pre, post = make_pre_post_processors(policy.config, dataset_stats=None)
    pre.save_pretrained(folder)
    post.save_pretrained(folder)


def robot_features(profile: Profile) -> tuple[dict[str, object], dict[str, object]]:
    """(hardware features as a LeRobot robot declares them, one raw observation a robot delivers):
    a float per joint, an HxWx3 uint8 image per camera, the task string."""
    hw: dict[str, object] = {f"joint{i}.pos": float for i in range(profile.state_dim)}
    rng = np.random.default_rng(0)
    raw: dict[str, object] = {f"joint{i}.pos": float(rng.standard_normal()) for i in range(profile.state_dim)}
    for cam in profile.cameras:
        prefix = "observation.images."
        if not cam.key.startswith(prefix):
            raise UsageError(
                f"--remote needs cameras named {prefix}<name> as LeRobot robots deliver them; profile "
                f"'{profile.name}' has {cam.key}: use --profile so100 or aloha"
            )
        name = cam.key[len(prefix):]
        hw[name] = (cam.height, cam.width, 3)
        raw[name] = rng.integers(0, 256, size=(cam.height, cam.width, 3), dtype=np.uint8)
    raw["task"] = profile.task
    return hw, raw


SERVER_MODULE = "policybench.realtime.server"  # what runs the server; the unit tests swap in a light one


class PortTaken(RuntimeError):
    """Another program bound the port between our check and the server's start."""


@contextlib.contextmanager
def policy_server(port: int, folder: Path, startup_timeout: float = 60.0):
    """Start LeRobot's PolicyServer on 127.0.0.1:port (see server.py); yield a gRPC stub; stop it
    on exit. ``folder`` is its working and temporary folder: its log and the files LeRobot
    leaves behind land there, and go with it."""
    import grpc
    from lerobot.transport import services_pb2_grpc

    from policybench.realtime.server import PORT_IN_USE, SERVING

    log = tempfile.TemporaryFile(dir=folder)
    cmd = [sys.executable, "-m", SERVER_MODULE, str(port), str(os.getpid())]
    env = {**os.environ, "TMPDIR": str(folder)}
    # A session of its own: a Ctrl-C in the terminal reaches us only, and we stop it in order.
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + startup_timeout
        while not (folder / SERVING).exists():  # until then, whatever answers on the port is not ours
            code = proc.poll()
            if code == PORT_IN_USE:
                raise PortTaken(f"port {port} on 127.0.0.1 was taken before LeRobot's policy server could bind it: "
                                "pick another --port or leave --port out")
            if code is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise RuntimeError(f"LeRobot's policy server exited at start (code {code}): {tail[0]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"LeRobot's policy server did not start on port {port} within {startup_timeout:g} s")
            time.sleep(0.1)
        # The server is up: no channel_ready_future, whose polling thread, cut short by a signal,
        # would outlive the channel closed below and die with a traceback.
        yield services_pb2_grpc.AsyncInferenceStub(channel)
    finally:
        channel.close()
        stop_child(proc, grace=10.0)
        log.close()


def run_remote(adapter: PolicyAdapter, profile: Profile, calls: int, warmup: int, port: int | None = None,
               device: str = "cpu") -> RemoteRun:
    """Time ``calls`` round trips (after ``warmup`` untimed ones) of one observation to LeRobot's
    PolicyServer running ``adapter``'s policy, as its robot client sends them."""
    problem = grpc_problem()
    if problem:
        raise RuntimeError(problem)
    from lerobot.async_inference.helpers import RemotePolicyConfig, TimedObservation
    from lerobot.transport import services_pb2
    from lerobot.transport.utils import send_bytes_in_chunks

    from policybench.policies.compat import hw_to_dataset_features

    if not hasattr(adapter, "policy"):
        raise RuntimeError(f"{adapter.name} is not a LeRobot policy; the policy server cannot load it")
    hw, raw = robot_features(profile)
    if port is None:
        port = free_port()
    else:
        check_port_free(port)
    n_actions = int(adapter.describe().get("n_action_steps") or 1)
    with tempfile.TemporaryDirectory(prefix="policybench-remote-") as tmp:  # removed on a signal too
        save_checkpoint(adapter, Path(tmp))
        spec = RemotePolicyConfig(
            policy_type=adapter.name,
            pretrained_name_or_path=tmp,
            lerobot_features=hw_to_dataset_features(hw, "observation", use_video=False),
            actions_per_chunk=n_actions,
            device=device,
        )
        with policy_server(port, Path(tmp)) as stub:
            stub.Ready(services_pb2.Empty())
            stub.SendPolicyInstructions(services_pb2.PolicySetup(data=pickle.dumps(spec)))
            trips, length = [], 0
            for i in range(warmup + calls):
                obs = TimedObservation(timestamp=time.time(), observation=raw, timestep=i, must_go=True)
                start = time.perf_counter()
                stub.SendObservations(send_bytes_in_chunks(pickle.dumps(obs), services_pb2.Observation))
                reply = stub.GetActions(services_pb2.Empty())
                actions = pickle.loads(reply.data) if reply.data else []  # nosec - our own server
                elapsed = time.perf_counter() - start
                if not actions:
                    raise RuntimeError("LeRobot's policy server returned no actions (see its log)")
                length = len(actions)
                if i >= warmup:
                    trips.append(elapsed)
    return RemoteRun(trips, length, port)
