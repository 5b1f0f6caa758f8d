"""policybench sweep on hand-made measurements: axes, grid, exact fits, the rate verdict, bad input."""

from __future__ import annotations

import pytest
from fakes import ok_result, run_results

from policybench.cli import FLAGS
from policybench.errors import SettingsError, UsageError
from policybench.settings import RunSettings, parse_override
from policybench.profiles import PROFILES
from policybench.scaling.axes import Axis, grid, parse_axes, point_config
from policybench.scaling.fit import fit_line, fits
from policybench.orchestrate.sweep import run_sweep
from policybench.scaling.verdict import holding


def test_axes_from_flags_and_set_lists():
    axes, fixed = parse_axes("1,2,3", None, None, ["diffusion.num_inference_steps=5,10", "act.chunk_size=20"])
    assert [(a.name, a.values) for a in axes] == [("cameras", (1, 2, 3)), ("diffusion.num_inference_steps", (5, 10))]
    assert fixed == [parse_override("act.chunk_size=20")]
    assert len(grid(axes)) == 6 and grid(axes)[1] == {"cameras": 1, "diffusion.num_inference_steps": 10}


@pytest.mark.parametrize(
    "args, message",
    [
        (("2", None, None, []), "the cameras axis has one value (2): that is a plain `policybench run`"),
        ((None, None, None, ["act.chunk_size=10"]), "a sweep needs an axis"),
        (("1,2", "96x96,224x224", "1,2", []), "a sweep takes one or two axes, got 3"),
        (("1,1", None, None, []), "the cameras axis names a value twice"),
    ],
)
def test_bad_axes_are_one_line(args, message):
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace("`", ".")):
        parse_axes(*args)


def test_a_bad_axis_value_names_the_keyword_and_the_flag():
    with pytest.raises(SettingsError, match="^cameras takes a comma-separated list of integers, got '1,x'$") as caught:
        parse_axes("1,x", None, None, [])
    assert caught.value.said_with(FLAGS) == "--cameras takes a comma-separated list of integers, got '1,x'"


def test_fit_is_exact_on_a_line_and_says_when_it_is_poor():
    a, b, se, r2 = fit_line([5, 10, 25, 50, 100], [12 + 39 * x for x in (5, 10, 25, 50, 100)])
    assert (
        a == pytest.approx(12)
        and b == pytest.approx(39)
        and se == pytest.approx(0, abs=1e-9)
        and r2 == pytest.approx(1)
    )
    _, _, _, r2 = fit_line([1, 2, 3, 4], [1, 10, 1, 10])
    assert r2 < 0.95


def _sweep_results(refill_by_cameras: dict[int, float]):
    cfg = RunSettings(policies=["act"], profile=PROFILES["so100"], refills=2, warmup=1)
    axes, _ = parse_axes(",".join(map(str, refill_by_cameras)), None, None, [])

    def measure(point_cfg, device):
        refill = refill_by_cameras[len(point_cfg.profile.cameras)]
        return run_results([ok_result("act", chunk=10, cycles=3, refill_ms=refill, step_ms=1.0, cold_ms=refill)])

    return run_sweep(cfg, axes, "cpu", log=lambda s: None, warn=lambda s: None, measure=measure), axes


def test_a_point_a_policy_cannot_take_fails_in_the_words_asked_for():
    cfg = RunSettings(policies=["act"], profile=PROFILES["so100"], refills=2, warmup=1)
    axes, _ = parse_axes(None, None, None, ["act.chunk_size=100,100000"])
    warned = []

    def measure(point_cfg, device):
        return run_results([ok_result("act", chunk=10, cycles=3, refill_ms=40.0, step_ms=1.0, cold_ms=40.0)])

    def said(exc):
        return exc.said_with(FLAGS) if isinstance(exc, SettingsError) else str(exc)

    library = run_sweep(cfg, axes, "cpu", log=lambda s: None, warn=lambda s: None, measure=measure)
    assert library.results[1].error.startswith("overrides act.chunk_size=100000: at most 10,000")
    cli = run_sweep(cfg, axes, "cpu", log=lambda s: None, warn=warned.append, measure=measure, said=said)
    assert cli.results[1].error.startswith("--set act.chunk_size=100000: at most 10,000")
    assert cli.results[0].status == "ok" and warned == [f"chunk_size=100000: FAILED: {cli.results[1].error}"]


def test_a_sweep_names_its_points_and_fits_ms_per_camera():
    results, axes = _sweep_results({1: 40.0, 2: 180.0, 3: 320.0})
    assert [r.name for r in results.results] == ["act[cameras=1]", "act[cameras=2]", "act[cameras=3]"]
    assert [(r.policy, r.point) for r in results.results] == [("act", {"cameras": str(n)}) for n in (1, 2, 3)]
    assert results.run["sweep"]["axes"] == [{"name": "cameras", "values": ["1", "2", "3"]}]
    (fit,) = fits(results, axes)
    assert fit.slope_ms == pytest.approx(140) and fit.intercept_ms == pytest.approx(-100) and not fit.poor
    assert fit.describe().startswith("act: refill -100 ms + 140 ± 0 ms per camera")


def test_the_largest_value_holding_the_rate_and_its_headroom():
    results, axes = _sweep_results({1: 20.0, 2: 30.0, 3: 40.0})
    (row,) = holding(results, axes[0], axes, hz=30)  # period 33.3 ms: 3 cameras' 40 ms refill misses it
    assert row["sync"][0] == 2 and row["sync"][1] == pytest.approx(1000 / 30 - 30)
    assert row["async"][0] == 3  # a chunk of 10 at threshold 0.5 leaves 5 ticks (167 ms) for 40 ms


def test_a_set_axis_for_a_policy_not_in_the_run_is_refused():
    cfg = RunSettings(policies=["act"], profile=PROFILES["so100"])
    with pytest.raises(
        SettingsError,
        match=r"^overrides diffusion\.num_inference_steps=\.\.\.: 'diffusion' is not "
        r"among policies \(act\)$",
    ) as caught:
        point_config(cfg, {"diffusion.num_inference_steps": 5})
    assert caught.value.said_with(FLAGS) == (
        "--set diffusion.num_inference_steps=...: 'diffusion' is not among --policies (act)"
    )


def test_image_size_slope_is_per_megapixel():
    axis = Axis("image_size", ((240, 320), (480, 640)))
    assert axis.x((480, 640)) == pytest.approx(0.3072) and axis.show((480, 640)) == "480x640"


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["sweep", "--policies", "noop", "--cameras", "2"],
            "the cameras axis has one value (2): that is a plain `policybench run`",
        ),
        (["sweep", "--policies", "noop", "--set", "act.chunk_size=5,10"], "'act' is not among --policies (noop)"),
        (["sweep", "--policies", "noop", "--cameras", "1,2", "--hz", "0"], "--hz must be a positive rate, got 0.0"),
        (["sweep", "--policies", "noop", "--set", "noop.chunk_sizee=5,10"], "unknown field 'chunk_sizee' for noop"),
        (
            ["sweep", "--policy-path", "ckpt", "--cameras", "1,2"],
            "a --policy-path checkpoint's inputs are fixed by its config",
        ),
    ],
)
def test_sweep_bad_input_is_one_line(capsys, argv, message):
    from fakes import assert_one_error_line

    from policybench.cli import main

    assert main(argv) == 2
    assert_one_error_line(capsys, 2, message)


def test_a_value_a_policy_cannot_take_fails_that_point_only(tmp_path):
    import json

    from policybench.cli import main

    out = tmp_path / "s.json"
    code = main(
        [
            "sweep",
            "--policies",
            "noop",
            "--set",
            "noop.chunk_size=4,0",
            "--refills",
            "1",
            "--warmup",
            "0",
            "--json",
            str(out),
        ]
    )
    assert code == 1
    results = json.loads(out.read_text())["results"]
    assert [(r["policy"], r["point"], r["status"]) for r in results] == [
        ("noop", {"noop.chunk_size": "4"}, "ok"),
        ("noop", {"noop.chunk_size": "0"}, "failed"),
    ]
    assert results[1]["error"] == "noop.chunk_size must be a positive integer, got 0"


def test_a_single_value_beside_an_axis_is_held_fixed(tmp_path):
    import json

    from policybench.cli import main

    out = tmp_path / "s.json"
    assert (
        main(
            [
                "sweep",
                "--policies",
                "noop",
                "--threads",
                "1",
                "--cameras",
                "1",
                "--set",
                "noop.chunk_size=4,8",
                "--refills",
                "1",
                "--warmup",
                "0",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert [a["name"] for a in data["run"]["sweep"]["axes"]] == ["noop.chunk_size"]
    assert data["run"]["threads"] == 1 and len(data["run"]["profile"]["cameras"]) == 1
    assert [(r["policy"], r["point"]) for r in data["results"]] == [
        ("noop", {"noop.chunk_size": "4"}),
        ("noop", {"noop.chunk_size": "8"}),
    ]
