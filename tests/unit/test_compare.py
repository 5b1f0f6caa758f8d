"""compare: results built from fixed latencies (seeded lognormal), scaled by a known factor.

Scaling every latency by k scales every median by k, so the ratio is known in advance; the
medians' intervals are order statistics (stats.median_interval), so the verdict is the same on
every run and agrees with the table's "median ± half-width".
"""

from dataclasses import replace

import numpy as np
import pytest
from fakes import failed_result, ok_result, run_results

from policybench.cli import main
from policybench.regression import (
    FASTER,
    SLOWER,
    UNCHANGED,
    ratio_interval,
    TOO_FEW,
    Change,
    compare_results,
    environment_differences,
    newly_failed,
    parse_threshold,
    unmatched_policies,
)
from policybench.errors import UsageError
from policybench.report.compare import describe_change, render_compare
from policybench.results import OK, PolicyResult, write_results
from policybench.samples import REFILL, STEP, Sample

STEPS, REFILLS = 200, 20


def latencies(seed: int, sigma: float) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    steps = rng.lognormal(np.log(0.5), sigma, STEPS).tolist()
    refills = rng.lognormal(np.log(50.0), sigma, REFILLS).tolist()
    return steps, refills


def policy(name: str, steps: list[float], refills: list[float], factor: float = 1.0) -> PolicyResult:
    """20 cycles of one refill then 10 steps, every latency times ``factor``."""
    samples, it = [], iter(steps)
    for refill in refills:
        samples.append(Sample(len(samples), REFILL, refill * factor))
        for _ in range(STEPS // REFILLS):
            samples.append(Sample(len(samples), STEP, next(it) * factor))
    return PolicyResult(name, OK, samples=samples, cold_start_ms=100.0 * factor, complete=True)


def results(factor: float = 1.0, sigma: float = 0.2):
    return run_results([policy("act", *latencies(1, sigma), factor), policy("smolvla", *latencies(2, sigma), factor)])


def write_pair(tmp_path, base, new):
    a, b = tmp_path / "base.json", tmp_path / "new.json"
    write_results(base, str(a))
    write_results(new, str(b))
    return str(a), str(b)


def test_identical_files_no_change(tmp_path, capsys):
    changes = compare_results(results(), results())
    assert [(c.policy, c.phase) for c in changes] == [
        ("act", STEP),
        ("act", REFILL),
        ("smolvla", STEP),
        ("smolvla", REFILL),
    ]
    assert all(c.ratio == 1.0 and c.verdict == UNCHANGED for c in changes)
    assert all(c.ci_low <= 1.0 <= c.ci_high for c in changes)
    code = main(["compare", *write_pair(tmp_path, results(), results())])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[-1] == "verdict: 0 slower, 0 faster, 4 unchanged"
    assert out.count("1.00 ± ") == 4 and "warning" not in out


@pytest.mark.parametrize(
    "factor, verdict, code, line",
    [
        (1.5, SLOWER, 1, "verdict: 4 slower, 0 faster, 0 unchanged"),
        (0.7, FASTER, 0, "verdict: 0 slower, 4 faster, 0 unchanged"),
    ],
)
def test_every_latency_scaled(tmp_path, capsys, factor, verdict, code, line):
    changes = compare_results(results(), results(factor))
    assert len(changes) == 4
    for c in changes:
        assert c.ratio == pytest.approx(factor, rel=1e-12)
        assert c.new_median_ms == pytest.approx(c.base_median_ms * factor, rel=1e-12)
        assert c.verdict == verdict
        assert c.ci_low <= c.ratio <= c.ci_high
    assert main(["compare", *write_pair(tmp_path, results(), results(factor))]) == code
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == line
    assert out.count(f"{factor:.2f} ± ") == 4 and out.count(f"× {verdict}") == 4


def test_a_small_significant_change_under_the_threshold_is_no_change(tmp_path, capsys):
    base, new = results(sigma=0.01), results(1.03, sigma=0.01)
    changes = compare_results(base, new, threshold=0.05)
    assert all(c.ci_low > 1 for c in changes)  # significant: the whole interval is above 1
    assert all(c.ratio == pytest.approx(1.03, rel=1e-12) and c.verdict == UNCHANGED for c in changes)
    assert all(c.verdict == SLOWER for c in compare_results(base, new, threshold=0.01))
    a, b = write_pair(tmp_path, base, new)
    assert main(["compare", a, b, "--min-change", "5%"]) == 0
    assert main(["compare", a, b, "--min-change", "1%"]) == 1


def refills(*values: float) -> PolicyResult:
    return PolicyResult("act", OK, samples=[Sample(i, REFILL, v) for i, v in enumerate(values)])


def test_a_large_change_inside_the_noise_is_no_change():
    # six samples each (the interval is (min, max)): 1 .. 100 and 1.5 .. 150, medians 10 and 15
    base = run_results([refills(1.0, 5.0, 9.0, 11.0, 50.0, 100.0)])
    new = run_results([refills(1.5, 7.5, 13.5, 16.5, 75.0, 150.0)])
    (c,) = compare_results(base, new)
    assert (c.base_median_ms, c.new_median_ms) == (10.0, 15.0)
    # ratios either interval allows: min(1.5 / 10, 15 / 100), max(150 / 10, 15 / 1)
    assert (c.ci_low, c.ci_high) == pytest.approx((0.15, 15.0)) and c.verdict == UNCHANGED


def test_too_few_samples_for_an_interval_is_said_not_called(tmp_path, capsys):
    # five samples have no 95% interval of their median: a 50% slowdown is not called either way
    base, new = run_results([refills(10.0, 10.0, 10.0, 10.0, 10.0)]), run_results([refills(*[15.0] * 6)])
    (c,) = compare_results(base, new)
    assert c.ratio == 1.5 and c.verdict == TOO_FEW and (c.base_count, c.new_count) == (5, 6)
    assert describe_change(c) == (
        "refill 1.50 × not called: too few samples (5 and 6; a median's 95% interval needs 6)"
    )
    assert main(["compare", *write_pair(tmp_path, base, new)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "verdict: 0 slower, 0 faster, 0 unchanged, 1 not called (too few samples)"


def test_slower_needs_each_median_outside_the_others_interval():
    # base 6 values: median 10.5, interval (10, 11); new medians just above 11 * 1.05
    base = {"count": 6, "median_ms": 10.5, "median_ci_ms": [10.0, 11.0]}
    inside = {"count": 6, "median_ms": 12.0, "median_ci_ms": [10.4, 13.0]}  # base median 10.5 in new's interval
    outside = {"count": 6, "median_ms": 12.0, "median_ci_ms": [11.5, 13.0]}
    assert ratio_interval(base, inside) == pytest.approx((10.4 / 10.5, 13.0 / 10.5))
    assert ratio_interval(base, outside) == pytest.approx((12.0 / 11.0, 13.0 / 10.5))  # both above 1
    assert ratio_interval(base, {**outside, "median_ci_ms": None}) is None
    # a base interval that reaches 0 allows any ratio above
    assert ratio_interval({**base, "median_ci_ms": [0.0, 11.0]}, outside)[1] == float("inf")


def test_describe_change():
    c = Change("act", REFILL, 10.0, 18.0, ratio=1.8, ci_low=1.75, ci_high=1.83, verdict=SLOWER)
    assert describe_change(c) == "refill 1.80 ± 0.05 × slower"
    # the half-width is the larger side of an asymmetric interval
    assert describe_change(replace(c, ci_low=1.79, ci_high=1.9)) == "refill 1.80 ± 0.10 × slower"
    assert describe_change(Change("act", STEP, 2.0, 1.4, 0.7, 0.66, 0.71, FASTER)) == "step 0.70 ± 0.04 × faster"


def test_compare_and_the_table_agree_on_every_median_and_interval():
    """What compare calls rests on the same medians and intervals the table prints."""
    from policybench.report.format import median_text

    base, new = results(sigma=0.01), results(1.03, sigma=0.01)
    for c in compare_results(base, new, threshold=0.01):
        b = next(r for r in base.results if r.policy == c.policy).summary()[c.phase]
        n = next(r for r in new.results if r.policy == c.policy).summary()[c.phase]
        assert (c.base_median_ms, c.new_median_ms) == (b["median_ms"], n["median_ms"])
        # slower: each median lies outside the other's printed interval
        assert c.verdict == SLOWER and n["median_ms"] > b["median_ci_ms"][1] and b["median_ms"] < n["median_ci_ms"][0]
        assert (c.ci_low, c.ci_high) == ratio_interval(b, n)
        assert " ± " in median_text(b) and " ± " in median_text(n)


def test_failed_or_missing_policies_are_not_compared_but_named():
    base = results()
    new = run_results([base.results[0], failed_result("smolvla", "boom")])
    changes = compare_results(base, new)
    assert {c.policy for c in changes} == {"act"}
    # smolvla was measured in the base run and failed in the new one: a regression, said once
    assert [r.name for r in newly_failed(base, new)] == ["smolvla"] and unmatched_policies(base, new) == []
    text = render_compare(changes, [], unmatched_policies(base, new), 0.05, newly_failed(base, new))
    assert "regression: SmolVLA was measured in the base run and failed in the new one" in text
    assert "only one of the files" not in text
    only_new = run_results([base.results[0], base.results[1], ok_result("pi0", 4, 2, 1.0, 0.5, 2.0)])
    assert unmatched_policies(base, only_new) == ["pi0"]


def test_nothing_to_compare():
    text = render_compare([], [], [], 0.05)
    assert "nothing to compare: no policy has samples in both files" in text
    assert text.splitlines()[-1] == "verdict: 0 slower, 0 faster, 0 unchanged"


def test_environment_differences_and_the_warning_line(tmp_path, capsys):
    base, new = results(), results()
    new.environment["torch"] = "2.1.0"
    new.run["profile"] = {"name": "aloha"}
    diffs = environment_differences(base, new)
    assert diffs == ["torch 2.0.0 -> 2.1.0", "profile so100 -> aloha"]
    text = render_compare(compare_results(base, new), diffs, [], 0.05)
    lines = text.splitlines()
    assert lines[0] == "warning: the two runs differ in: torch 2.0.0 -> 2.1.0; profile so100 -> aloha"
    assert lines[1].startswith("policy  ") and "threshold 5%" in lines[1]
    main(["compare", *write_pair(tmp_path, base, new)])
    assert capsys.readouterr().out.splitlines()[0] == lines[0]


def test_same_profile_name_with_other_settings():
    base, new = results(), results()
    new.run["profile"] = {"name": "so100", "cameras": 3}
    assert environment_differences(base, new) == ["profile so100 settings differ"]
    assert environment_differences(base, results()) == []


@pytest.mark.parametrize("text, value", [("5%", 0.05), ("0.1", 0.1), (" 10% ", 0.1), ("0", 0.0)])
def test_parse_threshold(text, value):
    assert parse_threshold(text) == value


@pytest.mark.parametrize("text", ["abc", "-5%", "%", "", "nan", "inf", "2000%"])
def test_parse_threshold_rejects(text):
    with pytest.raises(UsageError, match="--min-change"):
        parse_threshold(text)


def test_a_policy_that_newly_fails_is_a_regression_for_ci(tmp_path, capsys):
    base = results()
    new = run_results([base.results[0], failed_result("smolvla", "CUDA out of memory")])
    a, b = write_pair(tmp_path, base, new)
    assert main(["compare", a, b]) == 1
    out = capsys.readouterr().out
    assert "regression: SmolVLA was measured in the base run and failed in the new one" in out
    # The other way round (fixed in the new run) is no regression.
    assert main(["compare", b, a]) == 0
