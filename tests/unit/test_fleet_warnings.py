"""Issue 30, item 4: the fleet view keeps what makes a column unreliable. Two files measured on
a machine 51 % and 89 % busy (tests/data/fleet_xeon.json and fleet_orin.json with a machine load
written in), one of them with too few refills, are shown with a busy row, a refills row and the
one-process note, in the table, the Markdown, the HTML and the figure's legend."""

import json
from pathlib import Path

import pytest

from policybench.report.fleet import FEW_REFILLS, build_fleet, fleet_cells, render_fleet_csv, render_fleet_table
from policybench.report.html import render_fleet_html
from policybench.report.markdown import render_fleet_markdown
from policybench.report.plot_fleet import figure_fleet
from policybench.report.plots import png_bytes
from policybench.results import read_results

DATA = Path(__file__).resolve().parents[1] / "data"
XEON, ORIN = DATA / "fleet_xeon.json", DATA / "fleet_orin.json"


def _copy(tmp_path: Path, source: Path, load: dict | None, refills: int | None = None) -> str:
    """``source`` with ``load`` as every result's machine_load, each policy cut to its first
    ``refills`` refill cycles (None: as measured)."""
    d = json.loads(source.read_text())
    for r in d["results"]:
        if load is not None:
            r["machine_load"] = load
        starts = [k for k, s in enumerate(r["samples"]) if s["phase"] == "refill"]
        if refills is not None and len(starts) > refills:
            r["samples"] = r["samples"][: starts[refills]]
    path = tmp_path / source.name
    path.write_text(json.dumps(d))
    return str(path)


def _more_refills(tmp_path: Path, source: Path, load: dict | None) -> str:
    """``source`` with its samples repeated until every policy has FEW_REFILLS refills or more."""
    d = json.loads(source.read_text())
    for r in d["results"]:
        r["samples"] = [dict(s, i=k) for k, s in enumerate(r["samples"] * FEW_REFILLS)]
        if load is not None:
            r["machine_load"] = load
    path = tmp_path / f"many_{source.name}"
    path.write_text(json.dumps(d))
    return str(path)


@pytest.fixture()
def busy_fleet(tmp_path):
    """Machine 1 51 % busy with enough refills; machine 2 89 % busy and one other GPU process,
    with its 3 refills (fewer than a median's interval needs)."""
    a = _more_refills(tmp_path, XEON, {"other_cpu": 0.51})
    b = _copy(tmp_path, ORIN, {"other_cpu": 0.89, "other_gpu_processes": 1})
    return build_fleet([(a, read_results(a)), (b, read_results(b))])


def _row(f, policy: str, metric: str) -> list[str]:
    return next(row[2:] for row in fleet_cells(f)[1] if row[0].startswith(policy) and row[1] == metric)


def test_a_busy_machine_is_a_row_of_the_table(busy_fleet):
    assert _row(busy_fleet, "ACT", "other work on the machine") == ["51 % CPU (busy)", "89 % CPU, 1 GPU process (busy)"]
    assert (
        "machine 2 (ACT, SmolVLA): the machine was 89 % busy with other work and 1 other process used the GPU "
        "while measured: its figures are not reliable; measure again on a quiet machine"
    ) in busy_fleet.notes


def test_too_few_refills_is_a_row_of_the_table(busy_fleet):
    assert _row(busy_fleet, "ACT", "refills measured") == [str(3 * FEW_REFILLS), "3 (too few)"]
    assert any(
        n.startswith("ACT on machine 2: 3 refills: too few for a 95 % interval of the median (6 needed)")
        and n.endswith("measure with --refills 10 or --refills auto")
        for n in busy_fleet.notes
    )


def test_a_run_cut_by_max_seconds_says_so(tmp_path):
    path = _more_refills(tmp_path, XEON, None)
    d = json.loads(Path(path).read_text())
    d["results"][0]["complete"] = False
    Path(path).write_text(json.dumps(d))
    f = build_fleet([(path, read_results(path)), (str(ORIN), read_results(str(ORIN)))])
    assert _row(f, "ACT", "refills measured") == [f"{3 * FEW_REFILLS} (cut by --max-seconds)", "3 (too few)"]
    assert any(
        n.startswith("ACT on machine 1: 18 refills: cut by --max-seconds") and "longer --max-seconds" in n
        for n in f.notes
    )


def test_quiet_machines_with_enough_refills_add_no_row(tmp_path):
    a = _more_refills(tmp_path, XEON, {"other_cpu": 0.03})
    b = _more_refills(tmp_path, ORIN, {"other_cpu": 0.05})
    f = build_fleet([(a, read_results(a)), (b, read_results(b))])
    metrics = {row[1] for row in fleet_cells(f)[1]}
    assert "other work on the machine" not in metrics and "refills measured" not in metrics
    assert not [n for n in f.notes if "busy" in n or "refills" in n]


def test_every_rendering_keeps_the_warnings(busy_fleet):
    """The table, the Markdown, the HTML and the CSV say busy, too few and what a ± promises."""
    for text in (
        render_fleet_table(busy_fleet),
        render_fleet_markdown(busy_fleet),
        render_fleet_html(busy_fleet, png=b"PNG"),
        render_fleet_csv(busy_fleet),
    ):
        assert "89 % CPU, 1 GPU process (busy)" in text and "3 (too few)" in text
    for text in (
        render_fleet_table(busy_fleet),
        render_fleet_markdown(busy_fleet),
        render_fleet_html(busy_fleet, png=b"PNG"),
    ):
        assert "busy with other work" in text and "a fresh process can land outside it" in text


def test_the_figure_marks_the_unreliable_bars(busy_fleet):
    fig = figure_fleet(busy_fleet)
    legend = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    png_bytes(fig)
    assert any("busy" in t and "too few refills" in t for t in legend)
    assert len(hatched) == 4  # both machines' ACT and SmolVLA: all of them busy
    assert "within one process" in fig.axes[0].get_title(loc="left")
