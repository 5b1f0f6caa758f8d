"""--variant auto (report/choice.py, variants/table.py): every variant measured, then one line per
policy naming the fastest within the tolerance, its speedup's interval, accuracy, floor and
exported files. Hand-made results with exact medians and intervals."""

from __future__ import annotations

from dataclasses import replace
import pytest
from fakes import ENVIRONMENT

from policybench.api import build_config
from policybench.cli import main
from policybench.errors import UsageError
from policybench.report.choice import choices, render_choice
from policybench.results import OK, SKIPPED, PolicyResult, RunResults
from policybench.samples import REFILL, STEP, Sample
from policybench.variants import ORDER, parse_variants

EAGER = [396.0, 398.0, 400.0, 400.0, 402.0, 404.0]  # median 400, 95 % interval (396, 404)


def _measured(variant: str, refills: list[float], rel: float = 0.0, tol: float = 1e-4, **extra) -> PolicyResult:
    samples = []
    for v in refills:
        samples += [Sample(len(samples), REFILL, v), Sample(len(samples) + 1, STEP, 0.5)]
    eq = {"max_abs_diff": rel, "rel_error": rel, "tolerance": tol, "equivalent": rel <= tol}
    return PolicyResult("act", OK, samples=samples, variant=variant, equivalence=eq, **extra)


def _file(*results: PolicyResult) -> RunResults:
    return RunResults(dict(ENVIRONMENT), {"profile": {"name": "so100"}, "auto_variant": True}, list(results))


def _bf16_runtime(saved: list[str] | None) -> PolicyResult:
    r = _measured(
        "openvino-bf16",
        [58.0, 59.0, 60.0, 60.0, 61.0, 62.0],
        rel=0.03,
        tol=0.05,
        export={"exported": "the whole refill", **({"saved": saved} if saved else {})},
        roofline={"floor_ms": 50.0, "x_of_floor": 1.2, "precision": "bf16"},
    )
    r.equivalence.update(
        tolerance_given=True,
        action_max_diff=0.031,
        action_median_diff=0.004,
        range_share=0.0124,
        units="action",
        weights="checkpoint",
    )
    return r


def test_auto_is_every_variant_and_alone():
    assert parse_variants("auto") == ORDER
    with pytest.raises(UsageError, match="--variant auto measures every variant that applies here: give it alone"):
        parse_variants("auto,bf16")
    cfg = build_config("act", variants="auto")
    assert cfg.auto_variant and cfg.variants == ORDER and cfg.record()["auto_variant"] is True
    assert not build_config("act", variants="all").auto_variant


def test_the_fastest_within_the_tolerance_with_its_interval_accuracy_floor_and_files():
    rs = _file(
        _measured("eager", EAGER),
        _measured("openvino", [240.0] * 6),
        _bf16_runtime(["out/act+openvino-bf16.onnx", "out/act+openvino-bf16.json"]),
        _measured("bf16", [30.0] * 6, rel=0.2, tol=0.05),  # faster, but far off
        PolicyResult("act", SKIPPED, variant="cudagraph", error="CUDA graphs need a CUDA device"),
    )
    assert render_choice(rs) == (
        "Use ACT+openvino-bf16: refill 6.67x faster than eager (95 % interval 6.45-6.9x), actions within your "
        "tolerance 0.05 (relative error 0.03; largest |Δaction| 0.031 action units, 1.2 % of the range), 1.2x its "
        "bf16 floor; model out/act+openvino-bf16.onnx, manifest out/act+openvino-bf16.json (bf16 is 13.3x faster "
        "but its relative error 0.2 is over the tolerance 0.05)\n"
    )


def test_a_runtime_variant_without_export_says_how_to_get_its_model():
    line = render_choice(_file(_measured("eager", EAGER), _bf16_runtime(None)))
    assert line.endswith("1.2x its bf16 floor; add --export DIR to save its model and manifest\n")


def test_without_a_faster_variant_within_the_tolerance_eager_stays():
    rs = _file(
        _measured("eager", EAGER), _measured("noeval", [401.0] * 6), _measured("bf16", [300.0] * 6, rel=0.1, tol=0.02)
    )
    assert render_choice(rs) == (
        "Use ACT as LeRobot runs it (eager fp32): no variant within the tolerance is faster "
        "(bf16 is 1.33x faster but its relative error 0.1 is over the tolerance 0.02)\n"
    )


def test_too_few_refills_for_an_interval_are_said():
    rs = _file(_measured("eager", [400.0, 400.0]), _measured("compile", [200.0, 200.0]))
    assert render_choice(rs) == (
        "Use ACT+compile: refill 2x faster than eager (no interval: too few refills), "
        "actions within the tolerance 0.0001 (relative error 0)\n"
    )


def test_one_line_per_sweep_point_and_none_without_eager():
    a = [_measured("eager", EAGER), _measured("noeval", [200.0] * 6)]
    b = [_measured("eager", EAGER), _measured("noeval", [500.0] * 6)]
    b = [replace(r, point={"cameras": "2"}) for r in b]
    assert [c.best.variant if c.best else None for c in choices(_file(*a, *b))] == ["noeval", None]
    assert render_choice(_file(_measured("noeval", [200.0] * 6))) == ""


def test_run_auto_ends_with_the_choice(capsys):
    code = main(
        ["run", "--policies", "noop", "--variant", "auto", "--refills", "2", "--warmup", "0", "--quiet", "--in-process"]
    )
    assert code == 0
    out = capsys.readouterr().out.rstrip("\n").splitlines()
    assert out[-1] == "Use noop as LeRobot runs it (eager fp32): no variant within the tolerance is faster"
