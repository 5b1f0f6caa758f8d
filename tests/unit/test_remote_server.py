"""The policy server child: in its own folder, on a Unix socket there or alone on its port,
answering only the run that started it, stopped by a signal, dead with its parent (its folder
with it). fake_server.py stands in for LeRobot's server (same binding, secret check and parent
watch; it unpickles what it is sent, as LeRobot's does)."""

import errno
import os
import pickle
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import grpc
import psutil
import pytest

from fake_server import SERVICE  # next to this file
from policybench.interrupt import Interrupted, interruptible
from policybench.measure import remote
from policybench.measure.server import SECRET_KEY

HERE = Path(__file__).resolve().parent


@pytest.fixture
def fake_server(monkeypatch, tmp_path):
    """policy_server() runs fake_server.py; the current folder is an empty one, to check that
    nothing lands in it."""
    monkeypatch.setattr(remote, "SERVER_MODULE", "fake_server")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def folder(tmp_path, name="server"):
    path = tmp_path / name
    path.mkdir()
    return path


def assert_nothing_listens(port):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port)).close()
    remote.check_port_free(port)


def server_child():
    (child,) = psutil.Process().children()
    return child


def listening(child) -> set:
    """Where ``child`` takes connections: its Unix sockets' paths, its TCP (host, port)s."""
    found = set()
    for c in child.net_connections(kind="all"):
        if c.family == socket.AF_UNIX and c.laddr:
            found.add(str(Path(child.cwd(), c.laddr)))  # as bound: relative to its folder
        elif c.family in (socket.AF_INET, socket.AF_INET6) and c.status == psutil.CONN_LISTEN:
            found.add(tuple(c.laddr[:2]))
    return found


class Marker:
    """Unpickled, it makes the folder ``path``: the sign that a pickle sent was unpickled."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def send_pickle(channel, method: str, payload: bytes, metadata=()) -> None:
    """Call the service's ``method`` with ``payload`` on ``channel``, adding ``metadata``
    (SendObservations: in two chunks, as a stream)."""
    if method == "SendObservations":
        call, request = channel.stream_unary(f"/{SERVICE}/{method}"), iter([payload[:8], payload[8:]])
    else:
        call, request = channel.unary_unary(f"/{SERVICE}/{method}"), payload
    call(request, metadata=metadata, timeout=10)


def connect_as(target, uid: int | None = None) -> int:
    """0 if a child process (become user ``uid``, if given) connects to ``target`` (a Unix socket's
    path, or a TCP (host, port)), else the errno it got."""
    pid = os.fork()
    if pid == 0:  # the child: a connect and out, no Python clean-up, no gRPC
        code = 255
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            with socket.socket(socket.AF_UNIX if isinstance(target, str) else socket.AF_INET) as s:
                s.settimeout(5)
                s.connect(target)
            code = 0
        except OSError as exc:
            code = exc.errno or 254
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_the_server_works_in_its_folder_and_leaves_nothing(tmp_path, fake_server):
    where = folder(tmp_path)
    with remote.policy_server(remote.free_port(), where):
        child = server_child()
        assert Path(child.cwd()) == where
        assert (where / "logs" / "fake_server.log").read_text() == "started\n"  # not in the user's folder
        assert [p.suffix for p in where.iterdir() if p.is_file() and p.name != "serving"] == [".json"]  # TMPDIR
    assert not child.is_running()
    assert list(fake_server.iterdir()) == []
    assert where.is_dir()  # stopped by its living parent, it leaves the folder to the parent


def test_without_a_port_it_serves_on_a_socket_in_its_private_folder_and_on_no_port(tmp_path, fake_server):
    from lerobot.transport import services_pb2

    where = folder(tmp_path)
    with remote.policy_server(None, where) as stub:
        stub.Ready(services_pb2.Empty(), timeout=10)  # LeRobot's stub reaches it, presenting the run's secret
        assert stat.S_IMODE(where.stat().st_mode) == 0o700
        assert (where / remote.SOCKET).is_socket()
        assert listening(server_child()) == {str(where / remote.SOCKET)}  # no TCP port


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reached through /proc/self/fd")
def test_a_folder_too_deep_for_a_socket_address_serves_all_the_same(tmp_path, fake_server):
    from lerobot.transport import services_pb2

    where = tmp_path / ("x" * 60) / ("y" * 60)
    where.mkdir(parents=True)
    assert len(os.fsencode(where / remote.SOCKET)) > 108  # longer than a Unix socket address may be
    with remote.policy_server(None, where) as stub:
        stub.Ready(services_pb2.Empty(), timeout=10)
        assert listening(server_child()) == {str(where / remote.SOCKET)}


@pytest.mark.parametrize("on_port", [False, True], ids=["socket", "port"])
@pytest.mark.parametrize("metadata", [(), ((SECRET_KEY, "0" * 64),)], ids=["no secret", "a wrong secret"])
@pytest.mark.parametrize("method", ["SendPolicyInstructions", "SendObservations"])
def test_a_caller_without_the_secret_gets_no_pickle_unpickled(tmp_path, fake_server, on_port, metadata, method):
    unpickled = tmp_path / "unpickled"
    port = remote.free_port() if on_port else None
    where = folder(tmp_path)
    with remote.policy_server(port, where):
        address = f"127.0.0.1:{port}" if on_port else f"unix:{where / remote.SOCKET}"
        with grpc.insecure_channel(address) as channel, pytest.raises(grpc.RpcError) as refused:
            send_pickle(channel, method, pickle.dumps(Marker(unpickled)), metadata)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert not unpickled.exists()


@pytest.mark.parametrize("method", ["SendPolicyInstructions", "SendObservations"])
def test_with_the_secret_the_same_pickle_is_unpickled(tmp_path, fake_server, monkeypatch, method):
    """The control of the test above: the stand-in unpickles as LeRobot's server does, and the
    secret, presented by remote.with_secret, lets the call in."""
    monkeypatch.setattr(remote.secrets, "token_hex", lambda nbytes: "5e" * nbytes)
    unpickled = tmp_path / "unpickled"
    where = folder(tmp_path)
    with remote.policy_server(None, where):
        with grpc.insecure_channel(f"unix:{where / remote.SOCKET}") as channel:
            send_pickle(remote.with_secret(channel, "5e" * 32), method, pickle.dumps(Marker(unpickled)))
    assert unpickled.is_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to become another user")
def test_another_user_cannot_even_connect(fake_server):
    # Not under pytest's tmp_path, whose 0700 folders would keep another user out by themselves.
    base = Path(tempfile.mkdtemp())
    try:
        base.chmod(0o755)
        where = base / "server"
        where.mkdir()
        with remote.policy_server(None, where):
            targets = listening(server_child())
            assert targets
            assert [connect_as(t) for t in targets] == [0] * len(targets)  # we can
            assert [connect_as(t, uid=65534) for t in targets] == [errno.EACCES] * len(targets)  # nobody cannot
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_second_server_on_the_same_port_is_refused(tmp_path, fake_server):
    port = remote.free_port()
    with remote.policy_server(port, folder(tmp_path, "first")):
        with pytest.raises(remote.PortTaken, match=f"port {port} on 127.0.0.1 was taken"):
            with remote.policy_server(port, folder(tmp_path, "second")):
                pass
        assert len(psutil.Process().children()) == 1  # the second is gone, the first serves on


def test_a_port_bound_by_another_program_is_refused(tmp_path, fake_server):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        with pytest.raises(remote.PortTaken):
            with remote.policy_server(other.getsockname()[1], folder(tmp_path)):
                pass


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_server(tmp_path, fake_server, signum):
    port = remote.free_port()
    with pytest.raises(Interrupted):
        with interruptible(), remote.policy_server(port, folder(tmp_path)):
            child = server_child()
            os.kill(os.getpid(), signum)
    assert not child.is_running()
    assert_nothing_listens(port)


@pytest.mark.parametrize("on_port", [True, False], ids=["port", "socket"])
def test_the_server_dies_with_its_parent_even_by_sigkill(tmp_path, fake_server, on_port):
    port = remote.free_port() if on_port else None
    where = folder(tmp_path)
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import pathlib, time
        from policybench.measure import remote
        remote.SERVER_MODULE = "fake_server"
        with remote.policy_server({port}, pathlib.Path({str(where)!r})):
            print("serving", flush=True)
            time.sleep(600)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout.readline() == "serving\n"
        (child,) = psutil.Process(parent.pid).children()
    finally:
        parent.kill()
        parent.wait()
    child.wait(timeout=60)  # returns once the kernel's signal has made it exit
    if on_port:
        assert_nothing_listens(port)
    assert not where.exists()  # it removed the folder (model, socket, log) that its killed parent could not


def test_the_folder_is_removed_even_when_a_file_is_made_in_it_as_it_goes(tmp_path, monkeypatch):
    """What the server's handler removes while its worker threads run on: LeRobot's from_pretrained
    writes a config copy in TMPDIR, and one made after rmtree listed the folder keeps it standing."""
    from policybench.measure import server

    where = folder(tmp_path)
    (where / "model.safetensors").write_bytes(b"weights")
    real, calls = shutil.rmtree, []

    def racing_rmtree(path, ignore_errors=False):
        calls.append(path)
        real(path, ignore_errors=ignore_errors)
        if len(calls) == 1:  # as a worker thread does between the listing and the rmdir
            where.mkdir()
            (where / "tmpconfig.json").write_text("{}")

    monkeypatch.setattr(server.shutil, "rmtree", racing_rmtree)
    server.remove_folder(str(where), pause=0)
    assert not where.exists()
    assert len(calls) == 2


def test_the_folders_of_dead_runs_are_removed_and_no_other(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()  # its process id is free now
    prefix = remote.RUN_PREFIX
    stale = tmp_path / f"{prefix}{dead.pid}-k2j_9x"
    (stale / "model").mkdir(parents=True)
    (stale / "model" / "model.safetensors").write_bytes(b"weights")
    for kept in [
        f"{prefix}{os.getpid()}-a1b2c3",
        f"{prefix}{os.getppid()}-a1b2c3",
        f"{prefix}x{dead.pid}-a1",
        f"{prefix}{dead.pid}",
        "policybench-other-1-a1",
    ]:
        (tmp_path / kept).mkdir()  # live runs, and names that are not a run's
    (tmp_path / f"{prefix}{dead.pid}-file").write_text("")
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / f"{prefix}{dead.pid}-link").symlink_to(target, target_is_directory=True)
    remote.remove_stale_folders(tmp_path)
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            f"{prefix}{os.getpid()}-a1b2c3",
            f"{prefix}{os.getppid()}-a1b2c3",
            f"{prefix}x{dead.pid}-a1",
            f"{prefix}{dead.pid}",
            "policybench-other-1-a1",
            f"{prefix}{dead.pid}-file",
            "elsewhere",
            f"{prefix}{dead.pid}-link",
        ]
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to give a folder to another user")
def test_another_users_run_folder_is_left_alone(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    theirs = tmp_path / f"{remote.RUN_PREFIX}{dead.pid}-a1b2c3"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    remote.remove_stale_folders(tmp_path)
    assert theirs.is_dir()


def test_by_default_the_temporary_folder_is_swept(tmp_path, monkeypatch):
    dead = subprocess.Popen(["true"])
    dead.wait()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / f"{remote.RUN_PREFIX}{dead.pid}-a1b2c3").mkdir()
    remote.remove_stale_folders()
    assert list(tmp_path.iterdir()) == []


def test_server_that_fails_to_start_names_why(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with pytest.raises(RuntimeError, match="policy server exited at start"):
        with remote.policy_server(remote.free_port(), folder(tmp_path), startup_timeout=5):
            pass
