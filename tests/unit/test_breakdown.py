"""--breakdown on the fake clock: exact binary-fraction costs per component make every split exact."""

from __future__ import annotations

from dataclasses import replace
import json

import pytest
import torch
from fakes import ENVIRONMENT, FakePolicy, FakeTime, ok_result, run_results

from policybench.anatomy import Component
from policybench.anatomy.ledger import Ledger, instrumented, resolve
from policybench.measure.breakdown import (
    BREAKDOWN_REFILLS,
    NO_DEFINITION,
    component_costs,
    measure_breakdown,
    unsplittable,
)
from policybench.anatomy.spec import forward_of
from policybench.anatomy.summary import REST, breakdown_warnings, split
from policybench.errors import UsageError
from policybench.profiles import PROFILES
from policybench.report.breakdown import render_breakdown
from policybench.results import PolicyResult
from policybench.orchestrate.run import run_benchmark
from policybench.samples import REFILL
from policybench.settings import RunSettings


class Part:
    """A fake submodule: each call charges its cost to the policy's fake time, then calls ``inner``."""

    def __init__(self, policy: FakePolicy, cost: float, inner: tuple["Part", ...] = ()):
        self.policy, self.cost, self.inner = policy, cost, inner

    def forward(self) -> None:
        self.policy.charge(self.cost)
        for part in self.inner:
            part.forward()


COMPONENTS = (
    Component("camera", lambda p: [forward_of(p.camera)], "per camera"),
    Component("shared", lambda p: [forward_of(p.shared)], outermost=True),
    Component("decoder", lambda p: [forward_of(p.decoder)]),
    Component("head", lambda p: [forward_of(p.head)]),
)


class SplitPolicy(FakePolicy):
    """A refill: the camera part twice (0.25 s each), ``shared`` alone (0.125 s), the decoder (0.125 s)
    which calls the head (0.0625 s) and ``shared`` again, and the rest (``refill_cost``)."""

    def __init__(self, time: FakeTime, rest: float = 0.03125, components=COMPONENTS, **kwargs):
        super().__init__(time, refill_cost=rest, **kwargs)
        self.camera, self.head, self.shared = Part(self, 0.25), Part(self, 0.0625), Part(self, 0.125)
        self.decoder = Part(self, 0.125, (self.head, self.shared))
        self.components = components

    def select_action(self, obs):
        if self.queue == 0:
            self.camera.forward()
            self.camera.forward()
            self.shared.forward()
            self.decoder.forward()
        return super().select_action(obs)

    def anatomy(self):
        return self, self.components


# the decoder's own 125 ms plus the outermost-only shared part called inside it
EXACT_MS = {"camera": 500.0, "shared": 125.0, "decoder": 250.0, "head": 62.5}
EXACT_CALLS = {"camera": 2, "shared": 1, "decoder": 1, "head": 1}


@pytest.mark.parametrize("deferred", [False, True])
def test_split_is_exact_and_the_rest_is_its_own_row(deferred):
    """Queued device work (deferred) is split exactly too: the clock synchronizes at every boundary."""
    time = FakeTime()
    bd = measure_breakdown(SplitPolicy(time, deferred=deferred), {}, time.clock(), "cpu", 0, refills=3)
    assert [c["name"] for c in bd["components"]] == list(EXACT_MS)
    for refill in bd["refills"]:
        assert refill == {"total_ms": 968.75, "ms": EXACT_MS, "calls": EXACT_CALLS}
    s = split(bd)
    assert [(p.name, p.median_ms, p.calls) for p in s.parts] == [
        *((n, ms, EXACT_CALLS[n]) for n, ms in EXACT_MS.items()),
        (REST, 31.25, None),
    ]
    assert s.refill_ms == 968.75 and s.coverage == 937.5 / 968.75
    assert s.parts[0].repeat == "per camera" and s.parts[0].share == 500.0 / 968.75
    assert "cost" not in bd  # not a torch module: no FLOPs to count
    assert breakdown_warnings("fake", bd) == []


def test_breakdown_refills_come_after_the_timed_ones_and_leave_them_as_they_were():
    def measure(breakdown: bool):
        time = FakeTime()
        policy = SplitPolicy(time)
        cfg = RunSettings(
            policies=["fake"], profile=PROFILES["so100"], refills=2, warmup=1, max_seconds=100.0, breakdown=breakdown
        )
        results = run_benchmark(
            cfg, "cpu", clock=time.clock(), environment=dict(ENVIRONMENT), build=lambda *args, **kwargs: policy
        )
        return results.results[0], policy

    plain, plain_policy = measure(False)
    split_run, split_policy = measure(True)
    assert split_run.samples == plain.samples and not plain.breakdown
    assert split_policy.calls[: len(plain_policy.calls)] == plain_policy.calls
    assert split_policy.calls[len(plain_policy.calls) :] == [REFILL] * BREAKDOWN_REFILLS
    assert len(split_run.breakdown["refills"]) == BREAKDOWN_REFILLS
    assert "decoder" not in vars(split_policy.decoder) and "forward" not in vars(split_policy.decoder)


def test_coverage_under_80_percent_is_a_warning_naming_the_rest():
    time = FakeTime()
    bd = measure_breakdown(SplitPolicy(time, rest=1.0), {}, time.clock(), "cpu", 0, refills=1)
    s = split(bd)
    assert s.rest.median_ms == 1000.0 and s.coverage == 937.5 / 1937.5
    lines = breakdown_warnings("fake", bd)
    assert lines == [
        f"fake: warning: --breakdown: the components cover 48 % of the refill; the {REST} rest is "
        "1000 ms (52 %), time spent outside every component"
    ]
    assert "under 80 %" in "\n".join(render_breakdown(run_results([_ok("fake", bd)])))


def test_a_policy_without_a_definition_is_timed_whole_with_one_line():
    time = FakeTime()
    bd = measure_breakdown(FakePolicy(time), {}, time.clock(), "cpu", 0, refills=2)
    assert bd == {"components": [], "note": NO_DEFINITION, "refills": [{"total_ms": 1000.0, "ms": {}, "calls": {}}] * 2}
    s = split(bd)
    assert [(p.name, p.median_ms, p.share) for p in s.parts] == [(REST, 1000.0, 1.0)] and s.coverage is None
    assert breakdown_warnings("fake", bd) == [f"fake: --breakdown: {NO_DEFINITION}"]


def test_components_this_policy_lacks_are_named_and_counted_in_the_rest():
    time = FakeTime()
    missing = Component("vision", lambda p: [forward_of(p.vision)])
    bd = measure_breakdown(SplitPolicy(time, components=(*COMPONENTS, missing)), {}, time.clock(), "cpu", 0, refills=1)
    assert bd["missing"] == ["vision"] and bd["refills"][0]["ms"] == EXACT_MS
    assert breakdown_warnings("fake", bd) == [
        f"fake: --breakdown: vision not found in this policy: its time is in the {REST} rest"
    ]


def test_wrappers_are_removed_after_the_breakdown_even_on_error():
    time = FakeTime()
    policy = SplitPolicy(time)
    found, missing = resolve(policy, COMPONENTS)
    ledger = Ledger(time.clock().read)
    with pytest.raises(RuntimeError), instrumented(found, [ledger]):
        assert "forward" in vars(policy.camera)
        raise RuntimeError("a component failed")
    for part in (policy.camera, policy.shared, policy.decoder, policy.head):
        assert "forward" not in vars(part)
    policy.select_action({})
    assert ledger.totals == {} and missing == []


def test_an_attribute_of_its_own_is_put_back():
    time = FakeTime()
    policy = SplitPolicy(time)
    own = policy.camera.forward
    policy.camera.forward = own  # now an instance attribute, as a patched method is
    found, _ = resolve(policy, COMPONENTS[:1])
    with instrumented(found, [Ledger(time.clock().read)]):
        assert policy.camera.forward is not own
    assert vars(policy.camera)["forward"] is own


def test_compiled_and_exported_variants_are_timed_whole():
    assert unsplittable("eager") is None and unsplittable("bf16") is None and unsplittable(None) is None
    for variant in ("compile", "cudagraph", "onnxruntime"):
        assert "whole refill only" in unsplittable(variant)
    time = FakeTime()
    bd = measure_breakdown(SplitPolicy(time), {}, time.clock(), "cpu", 0, refills=1, reason=unsplittable("compile"))
    assert bd["components"] == [] and bd["refills"][0]["ms"] == {} and "compile" in bd["note"]


class Tiny(torch.nn.Module):
    """A token lookup and two linear layers: FLOPs and weight bytes known exactly (2 x in x out per
    row; 4 bytes a float; a lookup reads only its rows and computes nothing)."""

    def __init__(self):
        super().__init__()
        self.e = torch.nn.Embedding(100, 4)
        self.a, self.b = torch.nn.Linear(4, 8, bias=False), torch.nn.Linear(8, 2, bias=False)

    def forward(self, tokens):
        return self.b(self.a(self.e(tokens).sum(dim=1))) * 2.0


class TinyPolicy(FakePolicy):
    def __init__(self, time: FakeTime):
        super().__init__(time)
        self.model = Tiny()

    def select_action(self, obs):
        if self.queue == 0:
            self.model(torch.tensor([[1, 2]]))
        return super().select_action(obs)

    def anatomy(self):
        return self.model, (Component("a", lambda m: [forward_of(m.a)]),)


def test_each_component_has_its_flops_and_weight_bytes():
    time = FakeTime()
    policy = TinyPolicy(time)
    found, _ = resolve(*policy.anatomy())
    cost = component_costs(policy, {}, policy.model, found, 0, "cpu")
    assert cost == {
        "a": {"flops": 64.0, "weight_bytes_read": 128.0},
        "": {"flops": 32.0, "weight_bytes_read": 96.0},
    }  # b and two rows of e
    assert policy.queued_actions() == 0


def _ok(name: str, bd: dict, policy: str | None = None, config: dict | None = None) -> PolicyResult:
    r = ok_result(policy or name, 5, 2, 10.0, 1.0, 20.0)
    return replace(r, breakdown=bd, config={**r.config, **(config or {})})


def test_the_breakdown_survives_the_results_file_and_an_old_file_has_none():
    time = FakeTime()
    r = _ok("fake", measure_breakdown(SplitPolicy(time), {}, time.clock(), "cpu", 0, refills=2))
    back = PolicyResult.from_json(json.loads(json.dumps(r.to_json())))
    assert back.breakdown["refills"] == r.breakdown["refills"] and split(back.breakdown) == split(r.breakdown)
    plain = _ok("plain", {}).to_json()
    assert "breakdown" not in plain and PolicyResult.from_json(plain).breakdown == {}


@pytest.mark.parametrize(
    "bad, where",
    [
        ({"refills": [{"total_ms": -1.0}]}, "breakdown.refills[0].total_ms"),
        ({"components": [{"name": "a"}], "refills": [{"total_ms": 1.0, "ms": {"b": 1.0}}]}, "not among"),
        ({"refills": [{"total_ms": 1.0, "calls": {"a": 0.5}}]}, "breakdown.refills[0].calls.a"),
        ({"cost": {"a": {"flops": "many"}}}, "breakdown.cost.a.flops"),
        ({"refills": "all"}, "breakdown.refills"),
    ],
)
def test_a_bad_breakdown_in_a_file_is_one_error_naming_it(bad, where):
    d = _ok("act", {}).to_json()
    d["breakdown"] = bad
    with pytest.raises(UsageError, match=where.replace("[", r"\[").replace("]", r"\]")):
        PolicyResult.from_json(d)


def test_the_block_shows_each_component_its_floor_and_a_matching_anchor():
    parts = ("vision encoder", "language embedding", "prefix forward (VLM)", "denoising step", "action projection")
    refill = {"total_ms": 100.0, "ms": dict(zip(parts, (16.0, 2.0, 30.0, 24.0, 4.0))), "calls": dict.fromkeys(parts, 1)}
    cost = {p: {"flops": 2e9, "weight_bytes_read": 1e9, "floor_ms": 8.0} for p in parts}
    bd = {
        "components": [{"name": p, "repeat": ""} for p in parts],
        "refills": [refill],
        "cost": cost,
        "unattributed_cost": {"flops": 0.0, "weight_bytes_read": 0.0, "floor_ms": 0.0},
    }
    views = {"inputs": {f"observation.images.{k}": [3, 224, 224] for k in "abc"}, "inference_steps": 10}
    text = "\n".join(render_breakdown(run_results([_ok("pi0", bd, config=views)])))
    assert "vision encoder" in text and "2 x" in text and "100 %" in text and "unattributed" in text
    assert "published, measured on other hardware (NVIDIA RTX 4090" in text
    assert "image encoders: 14.00 ms published, 16.00 ms here" in text
    assert "10 action (flow) steps: 27.00 ms published, 28.00 ms here" in text
    other = "\n".join(render_breakdown(run_results([_ok("pi0", bd, config={**views, "inference_steps": 5})])))
    assert "published" not in other
    assert render_breakdown(run_results([_ok("act", {})])) == []


class BrokenAnatomy(SplitPolicy):
    def anatomy(self):
        raise RuntimeError("no such module\nsecond line")


def test_a_failed_breakdown_keeps_the_timed_figures_and_says_why():
    time = FakeTime()
    policy = BrokenAnatomy(time)
    lines: list[str] = []
    cfg = RunSettings(
        policies=["fake"], profile=PROFILES["so100"], refills=2, warmup=1, max_seconds=100.0, breakdown=True
    )
    (r,) = run_benchmark(
        cfg,
        "cpu",
        clock=time.clock(),
        environment=dict(ENVIRONMENT),
        build=lambda *args, **kwargs: policy,
        warn=lines.append,
    ).results
    assert r.status == "ok" and r.summary()["refill"]["count"] == 2 and r.breakdown == {}
    assert lines == ["fake: warning: --breakdown failed, the timed figures stand: RuntimeError: no such module"]


def test_a_results_file_keeps_only_the_breakdown_fields_it_knows():
    from policybench.schema import read_breakdown

    sent = {
        "components": [{"name": "encoder", "repeat": ""}],
        "refills": [{"total_ms": 2.0, "ms": {"encoder": 1.5}, "calls": {"encoder": 1}}],
        "payload": {"deep": [[[["anything"]]]]},
    }
    read = read_breakdown(sent, "results[0].breakdown")
    assert "payload" not in read
    assert read["refills"] == [{"total_ms": 2.0, "ms": {"encoder": 1.5}, "calls": {"encoder": 1}}]
