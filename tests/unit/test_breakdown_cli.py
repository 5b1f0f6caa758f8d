"""--breakdown from the command line and the library: the flag reaches the settings, the results
file, every report and the plots; a policy without a definition is one line, not an error."""

from __future__ import annotations

from dataclasses import replace
import json

from fakes import ok_result, run_results

from policybench.measure.breakdown import NO_DEFINITION
from policybench.cli import FLAGS, main
from policybench.report.html import render_html
from policybench.report.markdown import render_markdown
from policybench.report.pngs import render_pngs
from policybench.report.table import render_table
from policybench.settings import RunSettings

PARTS = ("backbone", "transformer encoder")
BREAKDOWN = {
    "components": [{"name": "backbone", "repeat": "per camera"}, {"name": "transformer encoder", "repeat": ""}],
    "refills": [
        {
            "total_ms": 8.0,
            "ms": {"backbone": 4.0, "transformer encoder": 3.0},
            "calls": {"backbone": 2, "transformer encoder": 1},
        }
    ],
    "cost": {p: {"flops": 1e9, "weight_bytes_read": 1e6, "floor_ms": 0.5} for p in PARTS},
    "unattributed_cost": {"flops": 0.0, "weight_bytes_read": 0.0, "floor_ms": 0.0},
}


def _results():
    r = replace(ok_result("act", 5, 2, 8.0, 1.0, 20.0), breakdown=BREAKDOWN)
    return run_results([r, ok_result("diffusion", 5, 2, 9.0, 1.0, 20.0)])


def test_run_breakdown_of_noop_is_one_line_and_the_whole_refill(tmp_path, capsys):
    path = tmp_path / "r.json"
    code = main(["run", "--policies", "noop", "--device", "cpu", "--refills", "2", "--breakdown", "--json", str(path)])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    assert err.count(NO_DEFINITION) == 1
    (r,) = json.loads(path.read_text())["results"]
    assert r["breakdown"]["note"] == NO_DEFINITION and len(r["breakdown"]["refills"]) == 5
    assert json.loads(path.read_text())["run"]["breakdown"] is True
    assert "Refill anatomy" in out and "whole refill" in out and "unattributed" in out


def test_without_the_flag_nothing_changes(tmp_path, capsys):
    path = tmp_path / "r.json"
    assert main(["run", "--policies", "noop", "--device", "cpu", "--refills", "2", "--json", str(path)]) == 0
    out, _ = capsys.readouterr()
    data = json.loads(path.read_text())
    assert "breakdown" not in data["results"][0] and "breakdown" not in data["run"] and "Refill anatomy" not in out


def test_sweep_takes_the_flag_at_each_point(tmp_path, capsys):
    path = tmp_path / "s.json"
    code = main(
        [
            "sweep",
            "--policies",
            "noop",
            "--device",
            "cpu",
            "--cameras",
            "1,2",
            "--refills",
            "1",
            "--warmup",
            "0",
            "--breakdown",
            "--json",
            str(path),
        ]
    )
    capsys.readouterr()
    assert code == 0
    assert [r["breakdown"]["note"] for r in json.loads(path.read_text())["results"]] == [NO_DEFINITION] * 2


def test_the_field_has_its_flag_and_defaults_off():
    assert FLAGS["breakdown"] == "--breakdown" and RunSettings().breakdown is False


def test_table_markdown_html_and_plots_show_the_block():
    results = _results()
    table = render_table(results)
    assert (
        "ACT: refill median 8.00 ms over 1 breakdown refills (timed refills: 8.00 ms); the components cover 88 %"
        in table
    )
    assert "2 (per camera)" in table and "8 x" in table and "unattributed" in table
    md = render_markdown(results)
    assert "| backbone | 2 (per camera) | 4.00 | 50.0 % | 1 | 0.001 | 0.500 | 8 x |" in md
    assert "| unattributed | - | 1.00 | 12.5 % |" in md
    assert "<td>transformer encoder</td>" in render_html(results, pngs={})
    pngs = render_pngs(results)
    assert pngs["breakdown"].startswith(b"\x89PNG") and "breakdown" not in render_pngs(
        run_results([ok_result("act", 5, 2, 8.0, 1.0, 20.0)])
    )


def test_the_figure_has_a_panel_per_policy_and_its_variants_side_by_side():
    from policybench.report.plot_breakdown import figure_breakdown

    results = _results()
    bf16 = replace(ok_result("act", 5, 2, 6.0, 1.0, 20.0), variant="bf16", breakdown=BREAKDOWN)
    results.results.append(bf16)
    (ax,) = figure_breakdown(results).axes
    # each name, then (issue 30) the breakdown refills its heading counts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ACT\n1 refill", "ACT+bf16\n1 refill"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["backbone", "transformer encoder", "unattributed"]
    assert len(ax.patches) == 6  # two components and the rest, for each bar
