"""Accuracy in units a user reads (measure/accuracy.py, variants/equivalence.py): action
differences after the postprocessor, against the action range, the --tolerance setting and its
verdict, and what the reports say. Exact figures on hand-made chunks and a fake postprocessor."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from fakes import ENVIRONMENT, TinyAct, assert_one_error_line, run_on_fake_clock

from policybench.api import build_config
from policybench.cli import main
from policybench.errors import SettingsError, UsageError
from policybench.measure import accuracy
from policybench.measure import variants as measure
from policybench.observations import VECTOR, InputSpec
from policybench.policies.checkpoint import CheckpointPolicy
from policybench.policies.lerobot_policies import FAMILIES, LeRobotPolicy
from policybench.profiles import PROFILES
from policybench.report.markdown import render_markdown
from policybench.report.table import render_table
from policybench.results import OK, PolicyResult, RunResults
from policybench.samples import REFILL, Sample
from policybench.schema import read_equivalence
from policybench.settings import RunSettings
from policybench.variants import VARIANTS
from policybench.variants.equivalence import action_error

REF = torch.tensor([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]])  # 3 actions of 2 dimensions
OFF = REF + torch.tensor([[0.0, 1.0], [0.5, 0.0], [0.0, 4.0]])  # |Δ| 0, 1, 0.5, 0, 0, 4


def _adapter(kind=LeRobotPolicy) -> LeRobotPolicy:
    specs = [InputSpec("observation.state", VECTOR, (2,))]
    return (
        kind(FAMILIES["act"], TinyAct(), specs, [])
        if kind is CheckpointPolicy
        else kind(FAMILIES["act"], TinyAct(), specs)
    )


def test_action_error_against_the_dataset_range_of_each_dimension():
    e = action_error(REF, OFF, [2.0, 80.0])
    assert e["action_max_diff"] == 4.0 and e["action_median_diff"] == 0.25  # between 0 and 0.5
    assert e["range_share"] == 0.25  # dimension 0: 0.5 of 2; dimension 1: 4 of 80
    assert e["action_range"] == [2.0, 80.0] and e["range_from"] == "dataset statistics"


def test_action_error_without_statistics_uses_the_span_of_the_reference_chunk():
    e = action_error(REF, OFF)
    assert e["action_range"] == [30.0] and e["range_from"] == "reference chunk"
    assert e["range_share"] == pytest.approx(4.0 / 30.0)
    assert action_error(REF, OFF, [0.0, 80.0])["range_share"] == 0.05  # a dimension of range 0 is left out
    assert action_error(REF, REF, [0.0, 0.0])["range_share"] is None


def test_the_verdict_is_against_your_tolerance_when_given_else_the_variants_own():
    units = accuracy.ActionUnits(None, accuracy.OUTPUT, None, "random")
    own = measure.judge(REF, OFF, units, VARIANTS["bf16"], None)
    assert own["tolerance"] == 2e-2 and "tolerance_given" not in own and own["equivalent"] is False
    assert own["rel_error"] == pytest.approx(4.0 / 30.0)
    yours = measure.judge(REF, OFF, units, VARIANTS["bf16"], 0.2)
    assert yours["tolerance"] == 0.2 and yours["tolerance_given"] is True and yours["equivalent"] is True
    assert yours["weights"] == "random" and yours["units"] == "output" and yours["action_max_diff"] == 4.0
    assert measure.miss_text({**own}) == (
        "relative error 0.13, 6.7x the tolerance 0.02; largest action difference 4 (13 % of its range)"
    )


class FakePostprocessor:
    """A postprocessor that unnormalizes actions with min/max statistics: a * 10 + 100."""

    steps = [SimpleNamespace(stats={"action": {"min": torch.tensor([100.0, 90.0]), "max": [120.0, 190.0]}})]

    def __call__(self, action: torch.Tensor) -> torch.Tensor:
        return action * 10 + 100


def test_a_checkpoints_actions_are_compared_after_its_postprocessor(monkeypatch):
    monkeypatch.setattr(accuracy, "processors_for", lambda policy, source, device: (None, FakePostprocessor()))
    units = accuracy.action_units(_adapter(CheckpointPolicy), "/ckpt/act", "cpu", warn=pytest.fail)
    assert units.units == "action" and units.weights == "checkpoint" and units.action_range == [20.0, 100.0]
    e = units.compare(REF, OFF)
    assert e["action_max_diff"] == 40.0 and e["action_median_diff"] == 2.5  # in the unnormalized units
    assert e["range_share"] == pytest.approx(0.4)  # dimension 1: 40 of 100; dimension 0: 5 of 20
    assert e["units"] == "action" and e["weights"] == "checkpoint"


def test_a_postprocessor_that_does_not_load_leaves_the_output_units_with_a_warning(monkeypatch):
    def broken(policy, source, device):
        raise OSError("no policy_postprocessor.json")

    monkeypatch.setattr(accuracy, "processors_for", broken)
    said: list[str] = []
    units = accuracy.action_units(_adapter(CheckpointPolicy), "/ckpt/act", "cpu", warn=said.append)
    assert units.units == "output" and units.convert is None and units.weights == "checkpoint"
    assert said == [
        "act: action differences in the policy's output units: its postprocessor did not load "
        "(OSError: no policy_postprocessor.json)"
    ]


def test_a_random_weight_policy_compares_its_output_and_says_so():
    units = accuracy.action_units(_adapter(), None, "cpu", warn=pytest.fail)
    assert (units.convert, units.units, units.weights) == (None, "output", "random")


# ----------------------------------------------------------------------------- the setting


def test_tolerance_is_a_positive_setting_of_a_run_with_variants():
    cfg = build_config("act", variants="bf16", tolerance=0.05)
    assert cfg.tolerance == 0.05 and cfg.record()["tolerance"] == 0.05
    assert "tolerance" not in build_config("act", variants="bf16").record()
    with pytest.raises(SettingsError, match="must be positive, got -1"):
        RunSettings(policies=["act"], variants=["eager", "bf16"], tolerance=-1.0)
    with pytest.raises(SettingsError, match="judges variants' actions"):
        RunSettings(policies=["act"], tolerance=0.05)
    assert RunSettings.from_json(cfg.to_json()).tolerance == 0.05


def test_tolerance_on_the_command_line_names_its_flag(capsys):
    line = assert_one_error_line(capsys, main(["run", "--policies", "noop", "--variant", "bf16", "--tolerance", "0"]))
    assert "--tolerance must be positive, got 0" in line


def test_a_run_judges_each_variant_by_your_tolerance(monkeypatch):
    monkeypatch.setattr(measure, "device_peaks", lambda device, clock: {"peak_flops": 1e9, "peak_bytes_per_s": 1e9})
    monkeypatch.setattr(measure, "precision_peaks", lambda device, clock, precisions: {"bf16": 2e9})
    monkeypatch.setattr(measure, "cpu_vector_flags", lambda: ["avx512f", "avx512_bf16"])
    cfg = RunSettings(
        policies=["act"], profile=PROFILES["pusht"], refills=2, warmup=1, variants=["eager", "bf16"], tolerance=0.5
    )
    results, _ = run_on_fake_clock(cfg, _adapter)
    eager, bf16 = results.results
    assert bf16.status == OK and bf16.equivalence["tolerance"] == 0.5 and bf16.equivalence["tolerance_given"]
    assert bf16.equivalence["weights"] == "random" and bf16.equivalence["units"] == "output"
    assert eager.equivalence["action_max_diff"] == 0.0 and bf16.equivalence["action_max_diff"] > 0
    assert results.run["tolerance"] == 0.5


# ----------------------------------------------------------------------------- what the reports say


def _result(variant: str, rel: float, tol: float, given: bool, weights: str = "random") -> PolicyResult:
    eq = {
        "max_abs_diff": rel,
        "rel_error": rel,
        "tolerance": tol,
        "equivalent": rel <= tol,
        "action_max_diff": 0.031,
        "action_median_diff": 0.0042,
        "action_range": [2.5],
        "range_share": 0.0124,
        "range_from": "reference chunk",
        "units": "output",
        "weights": weights,
        **({"tolerance_given": True} if given else {}),
    }
    return PolicyResult("act", OK, samples=[Sample(0, REFILL, 10.0)], variant=variant, equivalence=eq)


def _cells(text: str, row: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(row))
    return [c.strip() for c in line[len(row) :].split("  ") if c.strip()]


def test_the_table_says_within_your_tolerance_or_by_how_much_it_misses():
    rs = RunResults(
        dict(ENVIRONMENT),
        {"profile": {"name": "so100"}},
        [
            _result("eager", 0.0, 0.05, True),
            _result("openvino-bf16", 0.03, 0.05, True),
            _result("bf16", 0.075, 0.05, True),
            _result("fp16", 0.03, 0.02, False),
        ],
    )
    text = render_table(rs)
    assert _cells(text, "Equivalent actions") == [
        "yes, within your 0.05",
        "yes, within your 0.05",
        "NO (1.5x over your 0.05): not a win",
        "NO (1.5x over 0.02): not a win",
    ]
    assert _cells(text, "Action |Δ| max / median") == ["0.031 / 0.0042"] * 4
    assert _cells(text, "Action |Δ| max / range") == ["1.2 %"] * 4
    note = (
        "ACT: action |Δ| against fp32 eager in the policy's output units (no dataset statistics to unnormalize "
        "with); the share is of the span of eager's chunk; these accuracy figures are of random weights: a "
        "trained checkpoint's (--policy-path) are what a deployment gets"
    )
    assert note in text
    assert note.replace("|", "\\|") in render_markdown(rs)  # a Markdown note escapes its bars


def test_a_checkpoints_figures_are_not_said_to_be_of_random_weights():
    r = _result("bf16", 0.01, 0.02, False, weights="checkpoint")
    r.equivalence.update(units="action", range_from="dataset statistics")
    text = render_table(RunResults(dict(ENVIRONMENT), {"profile": {"name": "so100"}}, [r]))
    assert "random weights" not in text
    assert (
        "ACT: action |Δ| against fp32 eager in action units, after the checkpoint's postprocessor; the share is "
        "of each dimension's range in the dataset statistics"
    ) in text


def test_an_old_files_equivalence_has_no_action_rows():
    r = _result("bf16", 0.01, 0.02, False)
    r = replace(r, equivalence={k: r.equivalence[k] for k in ("max_abs_diff", "rel_error", "tolerance", "equivalent")})
    text = render_table(RunResults(dict(ENVIRONMENT), {"profile": {"name": "so100"}}, [r]))
    assert "Action |Δ|" not in text and "random weights" not in text


def test_the_equivalence_of_a_file_is_checked():
    eq = _result("bf16", 0.01, 0.02, True).equivalence
    assert read_equivalence(eq, "act: equivalence") == eq
    with pytest.raises(UsageError, match="act: equivalence.units is 'degrees'; must be one of action, output"):
        read_equivalence({**eq, "units": "degrees"}, "act: equivalence")
    with pytest.raises(UsageError, match=r"act: equivalence.action_range\[0\] is 'wide'; must be a number"):
        read_equivalence({**eq, "action_range": ["wide"]}, "act: equivalence")
