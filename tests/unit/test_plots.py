"""PNG figures: written where asked, decodable, and as large as plots.py declares (figsize x DPI).

Rendering costs about a second per figure, so each results file is rendered once per module.
"""

import io
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest
from fakes import failed_result, ok_result, run_results
from PIL import Image

from policybench.report.plots import DPI, figure_bars, png_bytes
from policybench.report.pngs import render_pngs, write_plots
from policybench.results import OK, PolicyResult, read_results
from policybench.samples import REFILL, Sample

DATA = Path(__file__).resolve().parents[1] / "data"
NAMES = ["timeline", "cdf", "bars"]


def expected_size(name: str, n: int) -> tuple[int, int]:
    """(width, height) in pixels for ``n`` policies with samples, from the figsize in plots.py."""
    inches = {
        "timeline": (10, 2.6 * n + 0.6),
        "cdf": (11, 4.2),
        "bars": (max(6, 1.8 * n + 2), 4.5),
    }[name]
    return round(inches[0] * DPI), round(inches[1] * DPI)


def image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()  # decodes every pixel: a truncated file fails here
    return img


@pytest.fixture(scope="module")
def small_written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plots")
    paths = write_plots(read_results(str(DATA / "small_results.json")), str(folder))
    return folder, paths


@pytest.fixture(scope="module")
def mixed_pngs():
    return render_pngs(read_results(str(DATA / "mixed_results.json")))


def test_write_plots_writes_three_pngs(small_written):
    folder, paths = small_written
    assert paths == [folder / f"{name}.png" for name in NAMES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{name}.png" for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_written_png_decodes_with_the_declared_size(small_written, name):
    folder, _ = small_written
    data = (folder / f"{name}.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    img = image(data)
    assert img.format == "PNG"
    assert img.size == expected_size(name, n=2)  # smolvla and act; diffusion failed


@pytest.mark.parametrize("name", NAMES)
def test_failed_policies_get_no_panel(mixed_pngs, name):
    # four policies, one failed: three panels on the timeline, three groups of bars
    assert image(mixed_pngs[name]).size == expected_size(name, n=3)


def test_matplotlib_reads_the_png(small_written):
    folder, _ = small_written
    pixels = matplotlib.image.imread(str(folder / "bars.png"))
    assert pixels.shape[:2] == expected_size("bars", 2)[::-1]
    assert pixels.std() > 0  # not a blank canvas


@pytest.mark.parametrize("n, width", [(1, 600), (4, 920)])
def test_bars_width_grows_with_policies_from_a_minimum(n, width):
    results = run_results(
        [ok_result(f"p{k}", chunk=2, cycles=1, refill_ms=2.0 + k, step_ms=0.5, cold_ms=5.0) for k in range(n)]
    )
    assert expected_size("bars", n)[0] == width
    assert image(png_bytes(figure_bars(results))).size == (width, 450)


def test_figures_are_closed_after_rendering(mixed_pngs):
    assert plt.get_fignums() == []


def test_no_ok_policy_no_plots(tmp_path):
    results = run_results(
        [
            failed_result("act", "boom"),
            PolicyResult("smolvla", OK, samples=[]),  # ok but nothing measured
        ]
    )
    assert render_pngs(results) == {}
    assert write_plots(results, str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == []


def test_a_policy_with_only_refills_is_plotted():
    # ACT with temporal ensembling computes a chunk on every call: no step samples at all
    samples = [Sample(i, REFILL, 10.0 + i) for i in range(6)]
    pngs = render_pngs(run_results([PolicyResult("act", OK, samples=samples, cold_start_ms=30.0)]))
    assert sorted(pngs) == sorted(NAMES)
    assert all(image(data).size == expected_size(name, 1) for name, data in pngs.items())


def test_png_size_does_not_depend_on_the_users_matplotlibrc():
    results = read_results(str(DATA / "small_results.json"))
    with matplotlib.rc_context({"savefig.dpi": 50}):
        data = png_bytes(figure_bars(results))
    assert image(data).size == expected_size("bars", 2)


def test_bars_draw_the_control_period_of_a_run_with_hz():
    results = run_results([ok_result("act", 4, 2, 10.0, 1.0, 12.0)])
    assert not any(line.get_label().startswith("period") for line in figure_bars(results).axes[0].get_lines())
    results.run["hz"] = 30.0
    ax = figure_bars(results).axes[0]
    (period,) = [line for line in ax.get_lines() if line.get_label().startswith("period")]
    assert period.get_label() == "period 33.3 ms (30 Hz)" and period.get_ydata()[0] == pytest.approx(1000 / 30)
    plt.close("all")


def test_run_hz_is_validated_as_the_library_takes_it():
    from policybench.api import build_config
    from policybench.errors import UsageError

    with pytest.raises(UsageError, match="^hz must be a rate from above 0 to 10000, got 0"):
        build_config(["noop"], hz=0)
    assert build_config(["noop"], hz=30).hz == 30


@pytest.mark.parametrize(("count", "name"), [(6, "max"), (9, "max"), (10, "p90"), (99, "p90"), (100, "p99")])
def test_a_whisker_reaches_only_the_percentile_its_count_supports(count, name):
    from policybench.report.plots import _whisker
    from policybench.stats import summarize

    summary = summarize([float(k) for k in range(1, count + 1)])
    value, shown = _whisker(summary)
    assert shown == name
    assert value == {"max": summary["max_ms"], "p90": summary["p90_ms"], "p99": summary["p99_ms"]}[name]
