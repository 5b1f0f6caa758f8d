"""The run context leaves the process as it found it: after a run, and after a failed one."""

from __future__ import annotations

import logging
import os
import random
import signal

import numpy
import pytest
import torch

import policybench
from policybench.measure.jobs import process_state as job_state
from policybench.orchestrate.context import RunContext
from policybench.settings import RunSettings


def settings(device: str = "cpu", **kw) -> RunSettings:
    return RunSettings(policies=["noop"], device=device, threads=1, **kw)


def process_state() -> dict[str, object]:
    """What a run may change, as the process holds it now."""
    return {
        "threads": torch.get_num_threads(),
        "env": {
            k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TOKENIZERS_PARALLELISM", "POLICYBENCH_TRUST_REMOTE_CODE")
        },
        "levels": [logging.getLogger(n).level for n in ("lerobot", "root")],
        "signals": [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)],
        "python": random.random(),
        "numpy": numpy.random.random(),
        "torch": torch.rand(1).item(),
    }


def same_state_after(action) -> None:
    """``action`` run between two identical snapshots of the process (the generators re-seeded
    alike before each, so that equal draws mean an untouched state)."""

    def seeded_state():
        random.seed(7), numpy.random.seed(7), torch.manual_seed(7)
        return process_state()

    expected = seeded_state()
    random.seed(7), numpy.random.seed(7), torch.manual_seed(7)
    action()
    assert process_state() == expected


def test_a_run_changes_nothing_it_does_not_restore():
    threads = max(1, torch.get_num_threads() - 1)
    same_state_after(
        lambda: policybench.run(["noop"], device="cpu", refills=1, warmup=0, threads=threads, isolate=False, seed=3)
    )


def test_a_failed_run_changes_nothing_either():
    class Broken(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("broken")

    def fail():
        with RunContext(settings(hub=True, trust_remote_code=True), isolate=False), job_state(1):
            torch.manual_seed(0)
            random.seed(0)
            logging.getLogger("lerobot").setLevel(logging.DEBUG)  # a library's own setting, undone too
            raise RuntimeError("a bug inside the run")

    same_state_after(lambda: pytest.raises(RuntimeError, fail))
    same_state_after(lambda: policybench.run([Broken()], device="cpu", refills=1, warmup=0, inputs=torch.ones(1)))


def test_inside_the_context_the_run_has_what_it_asked_for():
    # the parent's context sets the hub, remote code, logging and signals; a job sets torch's threads
    with RunContext(settings(trust_remote_code=True), isolate=False) as ctx, job_state(1):
        assert ctx.device == "cpu" and not ctx.isolate
        assert torch.get_num_threads() == 1
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["POLICYBENCH_TRUST_REMOTE_CODE"] == "1"
        assert logging.getLogger("lerobot").level == logging.ERROR
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None)


def test_a_bad_device_or_output_stops_before_anything_is_set(tmp_path):
    from policybench.errors import UsageError

    def refused():
        with pytest.raises(UsageError, match="unknown device 'tpu'"):
            RunContext(settings("tpu"), isolate=False).__enter__()
        (tmp_path / "folder").mkdir()
        with pytest.raises(UsageError, match="folder"):
            RunContext(settings(), outputs=(str(tmp_path / "folder"),)).__enter__()

    same_state_after(refused)
