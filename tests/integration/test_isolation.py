"""One process per policy: a child killed mid-run is one failed policy, with its cause; the
others are measured and written."""

from __future__ import annotations

import json
import signal

import psutil
import pytest

import policybench


@pytest.mark.slow  # builds a small ACT
def test_a_child_killed_by_sigkill_is_a_failed_policy_and_the_next_one_is_measured(tmp_path):
    out = tmp_path / "r.json"
    killed = []

    def progress(name, done, target):
        if name == "noop" and not killed:  # mid-run: the noop child has measured one refill
            for child in psutil.Process().children():
                if "policybench.measure.child" in " ".join(child.cmdline()):
                    child.send_signal(signal.SIGKILL)
                    killed.append(child.pid)

    results = policybench.run(
        ["noop", "act"],
        device="cpu",
        profile="pusht",
        refills=2,
        warmup=0,
        max_seconds=60,
        overrides={
            "noop.chunk_size": 300000,  # a cycle lasts long enough for the kill to land
            "act.chunk_size": 4,
            "act.n_action_steps": 4,
            "act.dim_model": 32,
            "act.n_encoder_layers": 1,
            "act.n_decoder_layers": 1,
        },
        json_path=str(out),
        progress=progress,
        isolate=True,
    )
    assert killed
    noop, act = results["noop"], results["act"]
    assert not noop.ok
    assert noop.error == "the measuring process was killed by signal 9 (SIGKILL): out of memory?"
    assert act.ok and act.refill.count == 2
    written = json.loads(out.read_text())["results"]
    assert [(r["policy"], r["status"]) for r in written] == [("noop", "failed"), ("act", "ok")]


def test_no_child_outlives_the_run():
    policybench.run(["noop"], device="cpu", refills=1, warmup=0, isolate=True)
    assert not [
        c for c in psutil.Process().children(recursive=True) if "policybench.measure.child" in " ".join(c.cmdline())
    ]


def test_sigterm_stops_the_child_keeps_what_was_measured_and_marks_the_policy(tmp_path):
    import os

    from policybench.interrupt import Interrupted

    out = tmp_path / "r.json"
    sent = []

    def progress(name, done, target):
        if name == "noop" and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(Interrupted) as stop:
        policybench.api.measure(
            policybench.api.build_config(
                ["noop", "act"],
                device="cpu",
                refills=2,
                warmup=0,
                overrides={"noop.chunk_size": 300000},
                json_path=str(out),
            ),
            progress=progress,
            isolate=True,
        )
    assert stop.value.exit_code == 143
    written = json.loads(out.read_text())["results"]
    assert [(r["policy"], r["status"], r["error"]) for r in written] == [("noop", "interrupted", "SIGTERM received")]
    assert not [
        c for c in psutil.Process().children(recursive=True) if "policybench.measure.child" in " ".join(c.cmdline())
    ]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL or callable(signal.getsignal(signal.SIGTERM))
