"""LeRobot's PolicyServer as realtime --remote runs it: alone on its port, deaf to callers without
the run's secret, and, killed from outside as a user or a job scheduler does, the paced run
already measured is kept and no process, listening port, folder or log is left behind."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import time

import grpc
import psutil
import pytest

from policybench.measure import remote
from policybench.measure.remote import grpc_problem

pytestmark = [pytest.mark.slow, pytest.mark.skipif(grpc_problem() is not None, reason="needs lerobot[async]")]


def wait_for(condition, what: str, timeout: float = 300.0):
    """Poll until ``condition()`` is true; the timeout only keeps a broken run from hanging."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_killed_remote_run_leaves_nothing_behind(tmp_path, signum):
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "rt.json"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp / f"{remote.RUN_PREFIX}{dead.pid}-k2j_9x"  # as a run killed before its server started leaves it
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"weights")
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "policybench",
            "realtime",
            "--policies",
            "act",
            "--set",
            "act.chunk_size=6",
            "--set",
            "act.n_action_steps=6",
            "--cameras",
            "1",
            "--image-size",
            "96x128",
            "--device",
            "cpu",
            "--hz",
            "10",
            "--ticks",
            "3",
            "--mode",
            "sync",
            "--remote",
            "--remote-calls",
            "30",
            "--port",
            str(port),
            "--json",
            str(out),
        ],
        cwd=cwd,
        env={**os.environ, "TMPDIR": str(tmp), "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:  # the paced loops, and the server they start, run in a child of the command (measure/child.py)
        wait_for(
            lambda: list(tmp.glob("policybench-remote-*/serving")) or run.poll() is not None, "the policy server serves"
        )
        assert run.poll() is None, run.communicate()
        assert not stale.exists()  # removed as the run started: its process is gone
        (server,) = [
            p for p in psutil.Process(run.pid).children(recursive=True) if remote.SERVER_MODULE in " ".join(p.cmdline())
        ]
        run.send_signal(signum)
        stdout, stderr = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
    server.wait(timeout=60)  # gone: stopped by us, or by the kernel when we were killed
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port)).close()
    assert list(cwd.iterdir()) == []  # no logs/ in the user's folder
    left = [p.name for p in tmp.iterdir() if not p.name.startswith("torchinductor_")]  # torch's own cache
    assert left == []  # the checkpoint, the server's log and LeRobot's config copies went with their folder
    if signum == signal.SIGKILL:
        return  # nothing of ours ran: the server, told by the kernel, removed the folder as it went
    assert run.returncode == 128 + signum, stderr
    assert stderr.splitlines()[-1] == "policybench: interrupted" and "Traceback" not in stderr, stderr
    assert stdout.splitlines()[2].split()[:2] == ["ACT", "sync"]
    data = json.loads(out.read_text())["realtime"]
    assert [(e["mode"], e["status"]) for e in data] == [("sync", "ok"), ("remote", "interrupted")]


def test_two_servers_on_one_port_the_second_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    port = remote.free_port()
    with remote.policy_server(port, first):
        with pytest.raises(remote.PortTaken, match=f"port {port} on 127.0.0.1 was taken"):
            with remote.policy_server(port, second):
                pass
        assert list(first.glob("logs/policy_server_*.log"))  # LeRobot's log, in the server's folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "second"]  # none in the current folder


class Marker:
    """Unpickled, it makes the folder ``path``: the sign that a pickle sent was unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_lerobots_server_unpickles_nothing_from_a_caller_without_the_secret(tmp_path, monkeypatch):
    from lerobot.transport import services_pb2, services_pb2_grpc

    monkeypatch.chdir(tmp_path)
    where, unpickled = tmp_path / "server", tmp_path / "unpickled"
    where.mkdir()
    evil = pickle.dumps(Marker(unpickled))
    with remote.policy_server(None, where) as stub:
        stub.Ready(services_pb2.Empty())  # the run's own stub is let in
        with grpc.insecure_channel(f"unix:{where / remote.SOCKET}") as channel:
            other = services_pb2_grpc.AsyncInferenceStub(channel)
            for call in (
                lambda: other.Ready(services_pb2.Empty()),
                lambda: other.SendPolicyInstructions(services_pb2.PolicySetup(data=evil)),
                lambda: other.SendObservations(iter([services_pb2.Observation(data=evil)])),
            ):
                with pytest.raises(grpc.RpcError) as refused:
                    call()
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert not unpickled.exists()
        with pytest.raises(grpc.RpcError):  # not a RemotePolicyConfig: refused, but only once unpickled
            stub.SendPolicyInstructions(services_pb2.PolicySetup(data=evil))
    assert unpickled.is_dir()  # the control: with the secret, LeRobot's server does unpickle what it is sent
