"""Where a variant that misses leaves fp32 eager: each --breakdown component's output compared,
call by call, and the first one beyond the tolerance named (measure/divergence.py)."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import pytest
import torch
from fakes import TINY_CHUNK as N
from fakes import TinyAct, run_on_fake_clock, unfolded

from policybench.anatomy.spec import Component, forward_of
from policybench.measure import variants as measure
from policybench.anatomy.summary import divergence_text
from policybench.measure.divergence import divergence, first_tensor, traced_chunk
from policybench.observations import VECTOR, InputSpec
from policybench.policies.lerobot_policies import FAMILIES, LeRobotPolicy
from policybench.errors import UsageError
from policybench.profiles import PROFILES
from policybench.report.markdown import render_markdown
from policybench.report.table import render_table
from policybench.results import OK, PolicyResult, RunResults
from policybench.samples import REFILL, Sample
from policybench.schema import read_equivalence
from policybench.settings import RunSettings
from policybench.variants import VARIANTS
from policybench.variants.equivalence import first_chunk


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 8)

    def forward(self, x):
        return OrderedDict(features=self.lin(x))  # as a backbone's feature dict


class Head(torch.nn.Module):
    """Small outputs taken from large ones: a linear layer around 100 less 100. In bfloat16 the
    layer's outputs are 0.5 apart near 100, more than the small outputs themselves."""

    def __init__(self, noisy: bool = False):
        super().__init__()
        self.lin = torch.nn.Linear(8, 2 * N)
        self.noisy = noisy
        with torch.no_grad():
            self.lin.weight.mul_(0.1)
            self.lin.bias.fill_(100.0)

    def forward(self, h):
        out = self.lin(h) - 100.0
        if self.noisy:  # noise drawn in the features' dtype, as LeRobot's DDPM scheduler draws it
            out = out + torch.randn(16, *out.shape, dtype=h.dtype)[-1].float()  # 16 draws and more: torch's
            # vectorised sampler, whose bfloat16 sample differs from float32's (fewer come out the same)
        return out


class TwoStageModel(torch.nn.Module):
    """ACT-shaped (a batch in, (chunk, (None, None)) out) in two components: the encoder, then the head."""

    def __init__(self, noisy: bool = False):
        super().__init__()
        self.encoder, self.head = Encoder(), Head(noisy)

    def forward(self, batch):
        h = self.encoder(torch.ones_like(batch["observation.state"]))["features"]
        return self.head(h).view(1, N, 2), (None, None)


class TwoStage(TinyAct):
    """TinyAct (LeRobot-shaped: a queue to pop, refilled by ``model``) around TwoStageModel."""

    def __init__(self, noisy: bool = False):
        super().__init__()
        torch.manual_seed(0)
        self.model = TwoStageModel(noisy)


COMPONENTS = (
    Component("encoder", lambda p: [forward_of(p.model.encoder)]),
    Component("head", lambda p: [forward_of(p.model.head)]),
)


def two_stage(noisy: bool = False) -> LeRobotPolicy:
    family = dataclasses.replace(FAMILIES["act"], components=COMPONENTS)
    return LeRobotPolicy(family, TwoStage(noisy), [InputSpec("observation.state", VECTOR, (2,))])


def test_the_first_output_beyond_the_tolerance_is_named_with_its_call():
    a, b = torch.ones(3), torch.full((2, 2), 2.0)
    reference = [("encoder", a), ("step", b), ("step", b), ("step", b)]
    variant = [("encoder", a * 1.01), ("step", b), ("step", b * 1.25), ("step", b * 1.5)]
    found = divergence(reference, variant, tolerance=0.02)
    assert found["first"] == {"component": "step", "call": 2, "calls": 3, "rel_error": 0.25}
    assert [(c["component"], c["calls_compared"]) for c in found["components"]] == [("encoder", 1), ("step", 3)]
    assert found["components"][1]["largest_rel_error"] == 0.5
    assert divergence_text(found) == "it leaves eager first in the step (call 2 of 3: relative difference 0.25)"


def test_within_the_tolerance_everywhere_says_the_difference_is_between_the_components():
    a = torch.ones(3)
    found = divergence([("encoder", a)], [("encoder", a * 1.001)], tolerance=0.02)
    assert found["first"] is None
    assert "every component's output stays within 0.02 of eager's" in divergence_text(found)


def test_a_call_the_variant_does_not_make_or_of_another_shape_is_not_compared():
    a = torch.ones(3)
    found = divergence([("vision", a), ("head", a)], [("head", torch.ones(4))], tolerance=0.02)
    assert found["first"] is None and found["components"] == [] and found["not_compared"] == ["vision", "head"]
    assert divergence_text(found) == (
        "none of its components ran where they could be compared with eager's (inside an exported model)"
    )


def test_a_components_tensor_is_found_in_what_it_returns():
    t = torch.ones(2)
    assert first_tensor(OrderedDict(prev_sample=t, pred=torch.zeros(2))) is t  # a scheduler's output
    assert first_tensor((None, [t])) is t
    assert first_tensor({"x": 1}) is None


def test_a_traced_refill_gives_the_same_chunk_and_each_components_output_in_order():
    policy = two_stage()
    obs = {"observation.state": torch.zeros(1, 2)}
    chunk, outputs = traced_chunk(policy, obs, seed=0, device="cpu")
    assert torch.equal(chunk, first_chunk(policy, obs, 0, "cpu"))
    assert [(name, tuple(t.shape)) for name, t in outputs] == [("encoder", (1, 8)), ("head", (1, 2 * N))]
    assert "forward" not in vars(policy.policy.model.encoder)  # the wrappers are gone


def test_a_policy_without_components_gives_its_chunk_alone():
    policy = dataclasses.replace(FAMILIES["act"], components=())
    adapter = LeRobotPolicy(policy, TwoStage(), [InputSpec("observation.state", VECTOR, (2,))])
    chunk, outputs = traced_chunk(adapter, {"observation.state": torch.zeros(1, 2)}, seed=0, device="cpu")
    assert outputs is None and chunk.shape == (N, 2)


def test_a_variant_that_misses_is_told_where_it_leaves_eager(monkeypatch):
    """bf16 autocast rounds the encoder's features by under 1 % (within 0.02); the head, which
    takes small outputs from large ones, turns rounding into an error far beyond it."""
    monkeypatch.setattr(measure, "device_peaks", lambda device, clock: {"peak_flops": 1e9, "peak_bytes_per_s": 1e9})
    monkeypatch.setattr(measure, "precision_peaks", lambda device, clock, precisions: {"bf16": 2e9})
    monkeypatch.setattr(measure, "cpu_vector_flags", lambda: ["avx512f", "avx512_bf16"])
    cfg = RunSettings(policies=["act"], profile=PROFILES["pusht"], refills=2, warmup=1, variants=["eager", "bf16"])
    results, warnings = run_on_fake_clock(cfg, two_stage)
    eager, bf16 = results.results
    assert "divergence" not in eager.equivalence
    assert not bf16.equivalence["equivalent"]
    found = bf16.equivalence["divergence"]
    assert found["first"]["component"] == "head" and found["first"]["rel_error"] > 0.02
    assert [c["component"] for c in found["components"]] == ["encoder", "head"]
    assert found["components"][0]["largest_rel_error"] < 0.02  # the encoder's features stay close
    (line,) = [w for w in warnings if "not a win" in w]
    assert line.endswith(
        f"it leaves eager first in the head (its output: relative difference {found['first']['rel_error']:.2g})"
    )


FOUND = {
    "first": {"component": "scheduler step", "call": 1, "calls": 10, "rel_error": 0.31},
    "components": [
        {"component": "observation encoder", "calls_compared": 1, "largest_rel_error": 0.004},
        {"component": "scheduler step", "calls_compared": 10, "largest_rel_error": 2.0},
    ],
    "not_compared": ["UNet"],
    "tolerance": 0.02,
}


def _missed(found: dict) -> PolicyResult:
    eq = {"max_abs_diff": 2.0, "rel_error": 2.0, "tolerance": 0.02, "equivalent": False, "divergence": found}
    return PolicyResult("diffusion", OK, samples=[Sample(0, REFILL, 10.0)], variant="bf16", equivalence=eq)


def test_a_files_divergence_is_read_and_each_field_checked():
    eq = _missed(FOUND).equivalence
    assert read_equivalence(eq, "diffusion: equivalence") == eq
    bad = {**FOUND, "first": {**FOUND["first"], "call": -1}}
    with pytest.raises(UsageError, match=r"diffusion: equivalence.divergence.first.call is -1"):
        read_equivalence({**eq, "divergence": bad}, "diffusion: equivalence")
    bad = {**FOUND, "components": [{"component": "x" * 100_000, "calls_compared": 1, "largest_rel_error": 0.1}]}
    with pytest.raises(UsageError, match=r"divergence.components\[0\].component is .*at most"):
        read_equivalence({**eq, "divergence": bad}, "diffusion: equivalence")


def test_the_table_and_markdown_say_where_a_variant_leaves_eager():
    line = "Diffusion+bf16: it leaves eager first in the scheduler step (call 1 of 10: relative difference 0.31)"
    results = RunResults(environment={}, run={}, results=[_missed(FOUND)])
    assert line in unfolded(render_table(results))
    assert line in render_markdown(results)
    named = {**FOUND, "first": {**FOUND["first"], "component": "step\n\x1b[2Jinjected"}}  # from a file sent by others
    text = render_table(RunResults(environment={}, run={}, results=[_missed(named)]))
    (row,) = [r for r in unfolded(text).splitlines() if r.startswith("Diffusion+bf16: it leaves")]
    assert row.endswith("in the step\\n\x1b[2Jinjected (call 1 of 10: relative difference 0.31)")  # one row
    # (the escape sequence is made harmless where text meets the terminal: cli._print, terminal_safe)


def test_a_tolerance_given_as_a_whole_number_is_judged_and_traced_as_any_other(monkeypatch):
    """policybench.run(tolerance=1) from a notebook: with noise drawn in bfloat16 (another sample
    than float32's from the same seed, as Diffusion's scheduler under autocast), the head's error
    is beyond 1 too, and the verdict and where it leaves eager are said all the same."""
    monkeypatch.setattr(measure, "device_peaks", lambda device, clock: {"peak_flops": 1e9, "peak_bytes_per_s": 1e9})
    monkeypatch.setattr(measure, "precision_peaks", lambda device, clock, precisions: {"bf16": 2e9})
    monkeypatch.setattr(measure, "cpu_vector_flags", lambda: ["avx512f", "avx512_bf16"])
    cfg = RunSettings(
        policies=["act"], profile=PROFILES["pusht"], refills=2, warmup=1, variants=["eager", "bf16"], tolerance=1
    )
    results, warnings = run_on_fake_clock(cfg, lambda: two_stage(noisy=True))
    bf16 = results.results[1]
    assert bf16.status == OK, bf16.error
    assert not bf16.equivalence["equivalent"], bf16.equivalence
    assert bf16.equivalence["divergence"]["first"]["component"] == "head"
    assert any("your tolerance 1" in w and "leaves eager first in the head" in w for w in warnings)


def test_a_runtime_that_runs_the_whole_refill_is_not_traced_but_one_that_runs_a_part_is():
    """A runtime running the whole refill as one graph calls none of the components: a traced refill
    of it would cost one more refill (with an export's, minutes) to find nothing."""
    specs = [InputSpec("observation.state", VECTOR, (2,))]
    whole, part = (LeRobotPolicy(FAMILIES[name], TinyAct(), specs) for name in ("smolvla", "pi0"))
    assert all(FAMILIES[name].export.whole for name in ("act", "diffusion", "smolvla"))
    assert not measure.traceable(VARIANTS["openvino-bf16"], whole)
    assert measure.traceable(VARIANTS["openvino-bf16"], part)
    assert measure.traceable(VARIANTS["bf16"], whole) and not measure.traceable(VARIANTS["eager"], whole)
    assert not measure.traceable(VARIANTS["compile"], part)
