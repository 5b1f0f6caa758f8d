"""Fake time, fake policies and hand-made results: every figure in the unit tests is exactly computable.

Costs are in seconds and chosen exact in binary floating point (0.25, 0.5, 1.0), so that
latencies in ms (``(end - start) * 1000``) compare with ``==``.
"""

from __future__ import annotations

import copy
from collections import deque
from types import SimpleNamespace
from typing import Callable

import torch

from policybench.clock import Clock
from policybench.observations import VECTOR, InputSpec
from policybench.policies.base import PolicyAdapter
from policybench.results import FAILED, OK, PolicyResult, RunResults
from policybench.samples import REFILL, STEP, Sample

ACTION_DIM = 2


TINY_CHUNK = N = 4  # actions per chunk of TinyAct


class TinyModel(torch.nn.Module):
    """ACT-shaped: a batch dict in, (chunk, (None, None)) out; ``calls`` counts eager calls."""

    def __init__(self, unexportable: bool = False):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2 * N)
        self.unexportable = unexportable
        self.calls = 0

    def forward(self, batch):
        self.calls += 1
        x = batch["observation.state"]
        if self.unexportable:
            x = x + torch.linalg.svd(x.T @ x)[1].sum()  # no ONNX operator for linalg_svd at opset 17
        return self.lin(x).view(1, N, 2), (None, None)


class TinyAct(torch.nn.Module):
    """LeRobot-shaped: select_action walks eval(), pops from _action_queue, refills with self.model."""

    def __init__(self, unexportable: bool = False):
        super().__init__()
        torch.manual_seed(0)
        self.model = TinyModel(unexportable)
        self.config = SimpleNamespace(n_action_steps=N, temporal_ensemble_coeff=None)
        self.reset()

    def reset(self):
        self._action_queue = deque(maxlen=N)

    def select_action(self, batch):
        self.eval()
        if not self._action_queue:
            self._action_queue.extend(self.model(dict(batch))[0].transpose(0, 1))
        return self._action_queue.popleft()


class FakeTime:
    """A clock that only moves when a fake policy charges a cost.

    ``pending`` is device work queued but not finished: only ``sync()`` turns it into elapsed time,
    as ``torch.cuda.synchronize`` waits for queued kernels.
    """

    def __init__(self) -> None:
        self.t = 0.0
        self.pending = 0.0
        self.syncs = 0

    def now(self) -> float:
        return self.t

    def sync(self) -> None:
        self.syncs += 1
        self.t += self.pending
        self.pending = 0.0

    def clock(self) -> Clock:
        return Clock(now=self.now, sync=self.sync)


class FakePolicy(PolicyAdapter):
    """Chunked policy: a call on an empty queue costs ``refill_cost`` and fills ``chunk`` actions
    (the call pops one of them); any other call pops and costs ``step_cost``.

    ``deferred=True``: a call only enqueues its cost as pending device work (an asynchronous GPU
    launch); the time passes only when the clock synchronizes.
    """

    name = "fake"

    def __init__(
        self,
        time: FakeTime,
        chunk: int = 5,
        step_cost: float = 0.25,
        refill_cost: float = 1.0,
        deferred: bool = False,
        name: str = "fake",
    ):
        self.time = time
        self.chunk = chunk
        self.step_cost = step_cost
        self.refill_cost = refill_cost
        self.deferred = deferred
        self.name = name
        self.queue = 0
        self.calls: list[str] = []  # phase of every call, in order

    def charge(self, cost: float) -> None:
        if self.deferred:
            self.time.pending += cost
        else:
            self.time.t += cost

    def reset(self) -> None:
        self.queue = 0

    def select_action(self, obs):
        if self.queue == 0:
            self.calls.append(REFILL)
            self.charge(self.refill_cost)
            self.queue = self.chunk
        else:
            self.calls.append(STEP)
            self.charge(self.step_cost)
        self.queue -= 1
        return torch.zeros(1, ACTION_DIM)

    def queued_actions(self) -> int:
        return self.queue

    def input_specs(self):
        return [InputSpec("observation.state", VECTOR, (ACTION_DIM,))]

    def describe(self):
        return {"chunk_size": self.chunk, "n_action_steps": self.chunk, "inference_steps": None}

    def parameter_count(self) -> int:
        return 123


class EnsemblingPolicy(FakePolicy):
    """Like ACT with temporal ensembling: a chunk is computed on every call, the queue reads 0."""

    def select_action(self, obs):
        self.calls.append(REFILL)
        self.charge(self.refill_cost)
        return torch.zeros(1, ACTION_DIM)

    def queued_actions(self) -> int:
        return 0


class NeverEmptyPolicy(FakePolicy):
    """reset() does not empty the queue: the first call is not a refill."""

    def reset(self) -> None:
        self.queue = self.chunk


class NeverDrainsPolicy(FakePolicy):
    """Empty after reset, then the queue never reads 0 again: only max_seconds can stop the loop."""

    def __init__(self, time: FakeTime, cost: float = 0.25):
        super().__init__(time, chunk=1, step_cost=cost, refill_cost=cost)
        self.started = False

    def reset(self) -> None:
        self.started = False

    def select_action(self, obs):
        self.calls.append(STEP if self.started else REFILL)
        self.started = True
        self.charge(self.step_cost)
        return torch.zeros(1, ACTION_DIM)

    def queued_actions(self) -> int:
        return 1 if self.started else 0


def cycle_samples(chunk: int, cycles: int, refill_ms: float, step_ms: float) -> list[Sample]:
    """``cycles`` full refill cycles: a refill then ``chunk - 1`` steps each."""
    out: list[Sample] = []
    for _ in range(cycles):
        for k in range(chunk):
            out.append(Sample(len(out), REFILL if k == 0 else STEP, refill_ms if k == 0 else step_ms))
    return out


def ok_result(
    policy: str, chunk: int, cycles: int, refill_ms: float, step_ms: float, cold_ms: float, complete: bool = True
) -> PolicyResult:
    return PolicyResult(
        policy=policy,
        status=OK,
        config={"chunk_size": chunk, "n_action_steps": chunk, "inference_steps": None},
        params=1000,
        samples=cycle_samples(chunk, cycles, refill_ms, step_ms),
        cold_start_ms=cold_ms,
        build_seconds=0.5,
        complete=complete,
    )


def failed_result(policy: str, error: str) -> PolicyResult:
    return PolicyResult(policy=policy, status=FAILED, error=error)


ENVIRONMENT = {
    "policybench": "0.1.0",
    "python": "3.11.0",
    "torch": "2.0.0",
    "lerobot": "0.4.4",
    "transformers": None,
    "device": "cpu",
    "device_name": "Test CPU",
    "cpu_model": "Test CPU",
    "cpu_count": 2,
    "threads": 2,
    "platform": "test",
    "git_commit": None,
}


def run_results(results: list[PolicyResult], profile: str = "so100") -> RunResults:
    return RunResults(dict(ENVIRONMENT), {"profile": {"name": profile}, "refills": 2, "warmup": 1}, results)


def assert_one_error_line(capsys, code: int, expected: str = "") -> str:
    """A user's mistake: exit 2, exactly one line on stderr naming it, no traceback anywhere."""
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith("policybench: error: ")
    assert expected in lines[0]
    return lines[0]


# ----------------------------------------------------------------------------- results files as JSON


def rich_json(mixed: dict) -> dict:
    """mixed_results.json plus every optional section a run writes: --variant (eager, bf16,
    equivalence, roofline, export), --pipeline stages, memory, cpu flags, a realtime section."""
    d = copy.deepcopy(mixed)
    d["environment"]["cpu_flags"] = ["avx", "avx2", "avx512f"]
    d["run"].update(
        {
            "policies": ["smolvla", "act", "pi0", "diffusion"],
            "overrides": ["act.n_action_steps=2"],
            "baseline": "smolvla",
            "pipeline": True,
            "variants": ["eager", "bf16"],
            "threads": None,
        }
    )
    smolvla, act = d["results"][0], d["results"][1]
    for s in smolvla["samples"]:
        ms = s["latency_ms"]
        s["stages_ms"] = {"prepare": ms / 4, "preprocess": ms / 4, "select_action": ms / 2}
    smolvla["config"]["pipeline"] = ["prepare", "preprocess", "select_action"]
    act.update(
        variant="eager",
        first_chunk_seconds=0.5,
        memory={"weight_bytes": 4096, "rss_after_build_mb": 300.5, "peak_rss_mb": 400.25},
        roofline={
            "flops": 2e9,
            "weight_bytes_read": 1e8,
            "peak_flops": 1e11,
            "peak_bytes_per_s": 2e10,
            "floor_ms": 20.0,
            "x_of_floor": 1.5,
        },
    )
    bf16 = copy.deepcopy(act)
    bf16.update(
        policy="act+bf16",
        variant="bf16",
        first_chunk_seconds=1.5,
        equivalence={"max_abs_diff": 0.01, "rel_error": 0.002, "tolerance": 0.01, "equivalent": True},
        export={"exported": "the whole refill", "export_seconds": 1.0, "onnx_bytes": 1000, "inputs": []},
    )
    d["results"].insert(2, bf16)
    tick = {"k": 0, "scheduled_ms": 0.0, "start_ms": 0.5, "end_ms": 40.0, "phase": "refill", "queue": 0, "missed": True}
    ticks = [
        tick,
        {**tick, "k": 1, "scheduled_ms": 33.3, "start_ms": 40.0, "end_ms": 41.0, "phase": "step", "missed": False},
    ]
    d["realtime"] = [
        {
            "policy": "act",
            "mode": "sync",
            "hz": 30.0,
            "threshold": None,
            "aggregate": None,
            "source": "measured",
            "status": "ok",
            "error": None,
            "summary": {"ticks": 2, "deadline_misses": 1, "longest_stall_ms": 40.0},
            "ticks": ticks,
        },
        {
            "policy": "act",
            "mode": "async",
            "hz": 30.0,
            "threshold": 0.5,
            "aggregate": "weighted_average",
            "source": "measured",
            "status": "ok",
            "error": None,
            "summary": {"ticks": 2, "starved_ticks": 1},
            "ticks": [{**t, "phase": p} for t, p in zip(ticks, ("pop", "starved"))],
            "chunk_latencies_ms": [30.0],
        },
        {
            "policy": "act",
            "mode": "remote",
            "hz": 30.0,
            "status": "ok",
            "summary": {"calls": 2, "overhead_median_ms": -0.1},
            "round_trips_ms": [2.0, 3.0],
            "in_process_chunks_ms": [1.0, 1.5],
        },
    ]
    return d


def sweep_json(small: dict) -> dict:
    """A two-axis sweep (cameras x image size) of small_results.json's act."""
    d = copy.deepcopy(small)
    act = next(r for r in d["results"] if r["policy"] == "act")
    d["run"]["sweep"] = {
        "axes": [{"name": "cameras", "values": ["1", "2"]}, {"name": "image_size", "values": ["224x224", "480x640"]}],
        "hz": 30.0,
    }
    d["results"] = []
    for cameras in ("1", "2"):
        for size in ("224x224", "480x640"):
            r = copy.deepcopy(act)
            scale = int(cameras) * (2 if size == "480x640" else 1)
            for s in r["samples"]:
                s["latency_ms"] *= scale
            r["policy"] = f"act[cameras={cameras},image_size={size}]"
            r["config"].update(sweep_point={"cameras": cameras, "image_size": size}, sweep_policy="act")
            d["results"].append(r)
    return d


def unfolded(text: str) -> str:
    """Printed output with the lines a pipe's width folded (terminal.wrapped: a continuation is
    indented) joined back, so that a sentence can be looked for whole. Indented lines of the
    output's own are joined too, which only ever adds text between two lines."""
    import re

    return re.sub(r"\n +", " ", text)


def run_on_fake_clock(cfg, make: Callable[[], PolicyAdapter]) -> tuple[RunResults, list[str]]:
    """``cfg`` run in this process on the adapter ``make()`` builds for each policy, the clock a
    counter that moves one second per reading; the results and the warnings said."""
    from policybench.orchestrate.run import run_benchmark

    warnings: list[str] = []
    results = run_benchmark(
        cfg,
        "cpu",
        clock=Clock(now=iter(range(10**6)).__next__),
        environment={},
        build=lambda name, profile, overrides, device, seed=0: make(),
        warn=warnings.append,
    )
    return results, warnings
