"""The isolation message loop with fake children: typed messages, results, silence, death."""

from __future__ import annotations

import json
import sys
import time

from policybench.settings import RunSettings
from policybench.orchestrate.children import CHILD_FD_ENV, Message, measure_in_child
from policybench.results import FAILED, OK, PolicyResult


def fake_child(tmp_path, body: str) -> list[str]:
    """A child that writes to the message pipe as ``body`` says (``send(kind, **fields)``)."""
    script = tmp_path / "child.py"
    script.write_text(
        "import json, os, sys, time\n"
        f"out = os.fdopen(int(os.environ[{CHILD_FD_ENV!r}]), 'w', buffering=1)\n"
        "def send(kind, **fields):\n"
        "    out.write(json.dumps({'kind': kind, **fields}) + '\\n')\n"
        "sys.stdin.read()\n" + body
    )
    return [sys.executable, str(script)]


def listen(command, silence_s=30.0):
    heard: dict[str, list] = {"log": [], "warn": [], "progress": []}
    results = measure_in_child(
        "p",
        RunSettings(policies=["p"]),
        "cpu",
        heard["log"].append,
        heard["warn"].append,
        lambda *a: heard["progress"].append(a),
        command=command,
        silence_s=silence_s,
    )
    return results, heard


def test_every_kind_of_message_reaches_its_callback(tmp_path):
    sent = PolicyResult(policy="p", status=OK)
    body = (
        f"send({Message.LOG.value!r}, text='built')\nsend({Message.WARN.value!r}, text='slow')\n"
        f"send({Message.PROGRESS.value!r}, done=1, target=2)\n"
        f"send({Message.RESULTS.value!r}, results=[json.loads({json.dumps(json.dumps(sent.to_json()))})])\n"
    )
    (result,), heard = listen(fake_child(tmp_path, body))
    assert result.to_json() == sent.to_json()
    assert heard == {"log": ["built"], "warn": ["slow"], "progress": [("p", 1, 2)]}


def test_a_child_that_falls_silent_without_exiting_is_stopped_and_its_policy_fails(tmp_path):
    start = time.monotonic()
    (failed,), heard = listen(fake_child(tmp_path, "send('log', text='building')\ntime.sleep(600)\n"), silence_s=0.5)
    assert time.monotonic() - start < 30
    assert failed.status == FAILED and failed.policy == "p"
    assert failed.error == "the measuring process sent nothing for 0.5 s without exiting and was stopped"
    assert heard["log"] == ["building"] and heard["warn"] == [f"p: FAILED: {failed.error}"]


def test_a_child_that_exits_without_results_fails_with_its_last_line(tmp_path):
    (failed,), _ = listen(fake_child(tmp_path, "raise SystemExit('no model here')\n"))
    assert failed.status == FAILED
    assert failed.error == "the measuring process exited with code 1 before reporting results (no model here)"
