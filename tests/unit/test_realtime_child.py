"""A live realtime run in a child process: stopped by a signal to the parent, the modes the
child finished are kept, the one it was in is marked interrupted, and no child is left."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from policybench.interrupt import Interrupted
from policybench.orchestrate.children import CHILD_FD_ENV, run_in_child


def fake_child(tmp_path, body: str) -> list[str]:
    """A child that writes to the message pipe as ``body`` says (``send(kind, **fields)``)."""
    script = tmp_path / "child.py"
    script.write_text(
        "import json, os, signal, sys, time\n"
        f"out = os.fdopen(int(os.environ[{CHILD_FD_ENV!r}]), 'w', buffering=1)\n"
        "def send(kind, **fields):\n"
        "    out.write(json.dumps({'kind': kind, **fields}) + '\\n')\n"
        "sys.stdin.read()\n" + body
    )
    return [sys.executable, str(script)]


def test_a_stopped_child_hands_over_what_it_measured(tmp_path):
    # the handler writes with os.write: a signal can arrive inside the buffered writer's own call
    body = (
        "def stop(signum, frame):\n"
        "    os.write(out.fileno(), b'\\n' + json.dumps({'kind': 'results', 'entries': ['sync done'], "
        "'interrupted': 'SIGTERM received'}).encode() + b'\\n')\n"
        "    os._exit(143)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "send('log', text='ready')\n"
        "time.sleep(600)\n"
    )
    kept: list[dict] = []

    def log(line: str) -> None:
        if line == "ready":  # the parent is stopped while the child works
            raise Interrupted(signal.SIGINT)

    start = time.monotonic()
    with pytest.raises(Interrupted):
        run_in_child("realtime", {}, log=log, warn=log, command=fake_child(tmp_path, body), on_stopped=kept.append)
    assert kept == [{"entries": ["sync done"], "interrupted": "SIGTERM received"}]
    assert time.monotonic() - start < 30


def test_a_child_that_sends_nothing_when_stopped_is_killed_and_nothing_is_kept(tmp_path):
    body = "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nsend('log', text='ready')\ntime.sleep(600)\n"
    kept: list[dict] = []

    def log(line: str) -> None:
        raise Interrupted(signal.SIGTERM)

    with pytest.raises(Interrupted):
        run_in_child("realtime", {}, log=log, warn=log, command=fake_child(tmp_path, body), on_stopped=kept.append)
    assert kept == []


def test_realtime_stopped_by_sigterm_keeps_the_finished_mode(tmp_path):
    path = tmp_path / "rt.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "policybench",
            "realtime",
            "--policies",
            "noop",
            "--profile",
            "pusht",
            "--hz",
            "50",
            "--seconds",
            "60",
            "--json",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:  # the child's log lines, passed on by the parent as they come
        lines.append(line)
        if "async at 50 Hz" in line:  # sync is done: stop the parent now
            proc.send_signal(signal.SIGTERM)
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, "".join(lines) + err
    data = json.loads(path.read_text())["realtime"]
    assert [(e["mode"], e["status"]) for e in data] == [("sync", "ok"), ("async", "interrupted")]
    assert data[1]["error"] == "SIGTERM received" and len(data[0]["ticks"]) == 3000
    assert "Traceback" not in err
    alive = subprocess.run(["pgrep", "-f", f"policybench.measure.child.*{tmp_path}"], capture_output=True)
    assert alive.returncode == 1  # no child left


def test_a_message_the_signal_cut_short_does_not_lose_the_answer_after_it(tmp_path):
    body = (
        "def stop(signum, frame):\n"
        '    os.write(out.fileno(), b\'{"kind": "log", "te\')  # cut short by the signal\n'
        "    os.write(out.fileno(), b'\\n' + json.dumps({'kind': 'results', 'entries': []}).encode() + b'\\n')\n"
        "    os._exit(143)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "send('log', text='ready')\n"
        "time.sleep(600)\n"
    )
    kept: list[dict] = []

    def log(line: str) -> None:
        raise Interrupted(signal.SIGTERM)

    with pytest.raises(Interrupted):
        run_in_child("realtime", {}, log=log, warn=log, command=fake_child(tmp_path, body), on_stopped=kept.append)
    assert kept == [{"entries": []}]
