"""The policy server child: in its own folder, alone on its port, stopped by a signal, dead with
its parent. fake_server.py stands in for LeRobot's server (same binding and parent watch)."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from policybench.interrupt import Interrupted, interruptible
from policybench.realtime import remote

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


def test_the_server_works_in_its_folder_and_leaves_nothing(tmp_path, fake_server):
    where = folder(tmp_path)
    with remote.policy_server(remote.free_port(), where):
        child = server_child()
        assert Path(child.cwd()) == where
        assert (where / "logs" / "fake_server.log").read_text() == "started\n"  # not in the user's folder
        assert [p.suffix for p in where.iterdir() if p.is_file() and p.name != "serving"] == [".json"]  # TMPDIR
    assert not child.is_running()
    assert list(fake_server.iterdir()) == []


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


def test_the_server_dies_with_its_parent_even_by_sigkill(tmp_path, fake_server):
    port = remote.free_port()
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import pathlib, time
        from policybench.realtime import remote
        remote.SERVER_MODULE = "fake_server"
        with remote.policy_server({port}, pathlib.Path({str(folder(tmp_path))!r})):
            print("serving", flush=True)
            time.sleep(600)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline() == "serving\n"
        (child,) = psutil.Process(parent.pid).children()
    finally:
        parent.kill()
        parent.wait()
    child.wait(timeout=60)  # returns once the kernel has killed it
    assert_nothing_listens(port)


def test_server_that_fails_to_start_names_why(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with pytest.raises(RuntimeError, match="policy server exited at start"):
        with remote.policy_server(remote.free_port(), folder(tmp_path), startup_timeout=5):
            pass
