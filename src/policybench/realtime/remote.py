"""Round trips through LeRobot's own async inference stack: its gRPC PolicyServer (the
``lerobot[async]`` extra), started on loopback in a subprocess, fed as LeRobot's robot client
feeds it.

One round trip = pickle the raw observation + send it in chunks (SendObservations) + the
server's preprocessing, inference and postprocessing + pickle and return the chunk
(GetActions) + unpickle on our side. The server is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
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
from policybench.policies.base import PolicyAdapter


@dataclass(frozen=True)
class RemoteRun:
    round_trips: list[float]  # seconds
    chunk_length: int
    port: int


def grpc_problem() -> str | None:
    try:
        import grpc  # noqa: F401

        from lerobot.async_inference import policy_server  # noqa: F401
    except ImportError as exc:
        return f"LeRobot's async inference needs the lerobot[async] extra ({exc})"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
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


@contextlib.contextmanager
def policy_server(port: int, startup_timeout: float = 60.0):
    """Start LeRobot's PolicyServer on 127.0.0.1:port; yield a gRPC stub; stop it on exit."""
    import grpc
    from lerobot.transport import services_pb2_grpc

    log = tempfile.TemporaryFile()
    cmd = [sys.executable, "-m", "lerobot.async_inference.policy_server", "--host=127.0.0.1",
           f"--port={port}", "--inference_latency=0", "--obs_queue_timeout=30"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise RuntimeError(f"LeRobot's policy server exited at start (code {proc.returncode}): {tail[0]}")
            try:
                grpc.channel_ready_future(channel).result(timeout=0.5)
                break
            except grpc.FutureTimeoutError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"LeRobot's policy server did not answer on port {port} within {startup_timeout:g} s")
        yield services_pb2_grpc.AsyncInferenceStub(channel)
    finally:
        channel.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
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
    with tempfile.TemporaryDirectory(prefix="policybench-remote-") as tmp:
        save_checkpoint(adapter, Path(tmp))
        spec = RemotePolicyConfig(
            policy_type=adapter.name,
            pretrained_name_or_path=tmp,
            lerobot_features=hw_to_dataset_features(hw, "observation", use_video=False),
            actions_per_chunk=n_actions,
            device=device,
        )
        with policy_server(port) as stub:
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
