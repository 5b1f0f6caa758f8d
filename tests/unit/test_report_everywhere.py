"""Issue 23, parts 5 and 7: every report carries what the terminal table has (equivalence and
"not a win", pipeline stages with units, why a figure is "-"), reads live realtime files, and
the figures are read at a glance (durations with units, integer ticks, the period in view).

The wrong answers of the issue each have a test here that fails on the code before the fix:
``test_markdown_row_of_a_variant_off_fp32_says_not_a_win``, ``test_bars_say_not_a_win``,
``test_compare_of_results_saved_and_loaded_finds_no_difference``,
``test_header_of_a_checkpoint_run_names_the_checkpoint_not_the_profile``.
"""

from dataclasses import replace
import copy
import csv
import io
import json
from pathlib import Path

import pytest
from fakes import ok_result, rich_json, run_results, sweep_json

import policybench
from policybench.cli import main
from policybench.report.csv import render_summary_csv
from policybench.report.html import render_html
from policybench.report.markdown import render_markdown
from policybench.report.plots import figure_bars, figure_sweep, png_bytes
from policybench.report.format import machine_line
from policybench.report.table import render_table
from policybench.results import RunResults, write_results

DATA = Path(__file__).resolve().parents[1] / "data"


def variants() -> RunResults:
    """ACT eager at 68 ms and ACT+bf16 at 34 ms whose actions are 2.7e-2 off (tolerance 1e-2)."""
    eager = ok_result("act", chunk=2, cycles=2, refill_ms=68.0, step_ms=0.5, cold_ms=100.0)
    bf16 = ok_result("act", chunk=2, cycles=2, refill_ms=34.0, step_ms=0.5, cold_ms=100.0)
    eager = replace(eager, variant="eager")
    off = {"max_abs_diff": 0.03, "rel_error": 0.027, "tolerance": 0.01, "equivalent": False}
    return run_results([eager, replace(bf16, variant="bf16", equivalence=off)])


def test_markdown_row_of_a_variant_off_fp32_says_not_a_win():
    text = render_markdown(variants())
    row = next(line for line in text.splitlines() if line.startswith("| ACT+bf16 |"))
    assert "not a win: actions 2.7e-02 off fp32 eager (tolerance 0.01)" in row
    assert (
        "| Equivalent actions | - | NO (2.7x over 0.01): not a win |" in text
    )  # the table's row, as the table says it
    assert "| Refill speedup vs eager | 1.00 x | 2.00 x |" in text
    assert "Equivalent actions" in render_table(variants())


def test_html_and_csv_say_not_a_win():
    page = render_html(variants(), pngs={})
    assert "<td>ok, not a win: actions 2.7e-02 off fp32 eager (tolerance 0.01)</td>" in page
    assert "<td>NO (2.7x over 0.01): not a win</td>" in page
    rows = list(csv.DictReader(io.StringIO(render_summary_csv(variants()))))
    bf16 = [r for r in rows if r["policy"] == "act+bf16"]
    assert {(r["variant"], r["equivalent"], r["rel_error"], r["tolerance"]) for r in bf16} == {
        ("bf16", "no", "0.027", "0.01")
    }
    assert all(r["verdict"].startswith("not a win") for r in bf16)
    assert all(r["verdict"] == "" for r in rows if r["policy"] == "act")


def test_bars_say_not_a_win():
    fig = figure_bars(variants())
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    png_bytes(fig)
    assert ticks[0] == "ACT" and ticks[1].startswith("ACT+bf16\nnot a win")


def test_stages_with_units_and_reasons_for_a_dash():
    mixed = json.loads((DATA / "mixed_results.json").read_text())
    results = RunResults.from_json(live(rich_json(mixed)))
    text = render_markdown(results)
    assert "| prepare refill median (ms) | 27.50 | - | - | - | - |" in text  # smolvla's refills 100..120 / 4
    assert (
        '- "-" for ACT: params: not recorded in the results file; cold start: not recorded in the results file; '
        "equivalence: eager fp32 is the reference"
    ) in text.splitlines()
    table = render_table(results)
    assert "prepare refill median (ms)" in table and '"-" for ACT' in table
    rows = list(csv.DictReader(io.StringIO(render_summary_csv(results))))
    stage = [r for r in rows if r["policy"] == "smolvla" and r["stage"] == "prepare" and r["phase"] == "refill"]
    assert [r["median_ms"] for r in stage] == ["27.5"]


SUMMARY = {
    "ticks": 2,
    "hz": 30.0,
    "achieved_hz": 30.0,
    "deadline_misses": 1,
    "deadline_miss_pct": 50.0,
    "worst_overrun_ms": 6.2,
    "longest_stall_ms": 40.0,
    "jitter_p50_ms": 0.5,
    "jitter_p99_ms": 6.6,
}
REMOTE = {
    "calls": 2,
    "round_trip_median_ms": 2.5,
    "round_trip_p99_ms": 3.0,
    "round_trip_min_ms": 2.0,
    "in_process_chunk_median_ms": 1.25,
    "overhead_median_ms": 1.25,
    "chunk_length": 2,
}


def live(d: dict) -> dict:
    """rich_json's realtime entries with every summary field a live run writes."""
    sync, asyn, remote = d["realtime"]
    sync["summary"] = dict(SUMMARY)
    asyn["summary"] = {
        **SUMMARY,
        "starved_ticks": 1,
        "starved_pct": 50.0,
        "chunks": 1,
        "inference_delay_ticks_median": 1,
        "inference_delay_ticks_max": 1,
    }
    remote["summary"] = dict(REMOTE)
    return d


def realtime_only(tmp_path, name: str = "live.json", scale: float = 1.0) -> str:
    """A file as live `policybench realtime --json` writes it: no results, a realtime section."""
    d = live(rich_json(json.loads((DATA / "mixed_results.json").read_text())))
    d["results"] = []
    for e in d["realtime"]:
        for t in e.get("ticks", []):
            t["end_ms"] = t["start_ms"] + (t["end_ms"] - t["start_ms"]) * scale
        e["chunk_latencies_ms"] = [ms * scale for ms in e.get("chunk_latencies_ms", [])]
    path = tmp_path / name
    path.write_text(json.dumps(d))
    return str(path)


@pytest.mark.parametrize("fmt", ["md", "html", "csv"])
def test_report_reads_a_live_realtime_file(tmp_path, capsys, fmt):
    assert main(["report", realtime_only(tmp_path), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "no results to report" not in out
    assert "Policy" in out and "Achieved" in out and "sync" in out and "async g=0.5" in out
    if fmt == "md":
        assert "```text\nPolicy" in out and "through LeRobot's PolicyServer" in out


def test_compare_two_live_realtime_files(tmp_path, capsys):
    code = main(["compare", realtime_only(tmp_path, "a.json"), realtime_only(tmp_path, "b.json", scale=2.0)])
    out = capsys.readouterr().out
    assert "ACT (realtime sync at 30 Hz)" in out and "ACT (realtime async g=0.5 at 30 Hz)" in out
    assert code in (0, 1)


def test_compare_a_run_file_with_a_live_realtime_file_says_why_not_in_one_line(tmp_path, capsys):
    code = main(["compare", str(DATA / "small_results.json"), realtime_only(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "holds benchmark results" in err[0] and "live realtime runs" in err[0]


def test_compare_of_results_saved_and_loaded_finds_no_difference(tmp_path):
    results = run_results([ok_result("act", chunk=2, cycles=3, refill_ms=30.0, step_ms=0.5, cold_ms=50.0)])
    results.run["profile"] = {"name": "pusht", "cameras": ("top",), "image_size": (96, 96)}
    results.run["overrides"] = []
    write_results(results, str(tmp_path / "saved.json"))
    comparison = policybench.compare(policybench.api.Results(results), policybench.load(str(tmp_path / "saved.json")))
    assert comparison.environment_differences == []
    assert "warning" not in str(comparison)


def checkpoint(name: str, source: str | None):
    return replace(ok_result(name, chunk=2, cycles=1, refill_ms=3.0, step_ms=1.0, cold_ms=3.0), source=source)


def test_header_of_a_checkpoint_run_names_the_checkpoint_not_the_profile():
    only = run_results([checkpoint("outputs/train/act", "outputs/train/act")])
    assert "profile so100" not in machine_line(only) and ", inputs from the checkpoint, " in machine_line(only)
    mixed = run_results([checkpoint("act", None), checkpoint("outputs/train/act", "outputs/train/act")])
    assert "profile so100 (train/act: inputs from the checkpoint)" in machine_line(mixed)
    assert "profile so100," in machine_line(run_results([checkpoint("act", None)]))


@pytest.mark.parametrize(
    "ms, text",
    [
        (0.0207, "0.0207 ms"),
        (36.35, "36.4 ms"),
        (1200.0, "1,200 ms"),
        (16_900.0, "16.9 s"),
        (436_500.0, "436 s"),
        (1e-5, "0.00001 ms"),
    ],
)
def test_duration_text_never_scientific(ms, text):
    from policybench.report.format import duration_text

    assert duration_text(ms) == text


def tick_texts(axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels(which="both") if t.get_text()]


def test_bar_ticks_are_durations_with_units():
    results = run_results([ok_result("smolvla", chunk=2, cycles=2, refill_ms=16_900.0, step_ms=0.05, cold_ms=9.0)])
    fig = figure_bars(results)
    fig.canvas.draw()
    texts = tick_texts(fig.axes[0].yaxis) + [t.get_text() for t in fig.axes[0].texts]
    png_bytes(fig)
    # 2 refills: the whisker is their maximum, named; the axis in one unit (issue 30: no "10 s" beside "1,000 ms")
    assert "16.9 s\n(max)" in texts and "10,000 ms" in texts
    assert not [t for t in texts if "e+" in t or "e-" in t or "$" in t or "10^" in t]


def test_sweep_cameras_ticks_are_integers_and_the_period_shows_on_a_log_axis():
    d = sweep_json(json.loads((DATA / "small_results.json").read_text()))
    d["run"]["sweep"]["axes"] = d["run"]["sweep"]["axes"][:1]
    d["results"] = [r for r in d["results"] if r["config"]["sweep_point"]["image_size"] == "224x224"]
    for r in d["results"]:
        del r["config"]["sweep_point"]["image_size"]
        r["policy"] = r["policy"].split(",")[0] + "]"
        if r["config"]["sweep_point"]["cameras"] == "2":
            for s in r["samples"]:
                s["latency_ms"] *= 200  # refills 30 ms and 12 s: three decades apart
    fig = figure_sweep(RunResults.from_json(copy.deepcopy(d)), hz=30.0)
    ax = fig.axes[0]
    fig.canvas.draw()
    xs = [float(t.get_text()) for t in ax.get_xticklabels() if t.get_text()]
    low, high = ax.get_ylim()
    png_bytes(fig)
    assert xs and all(x.is_integer() for x in xs)
    assert ax.get_yscale() == "log" and low < 1000 / 30 < high
    assert not [t for t in tick_texts(ax.yaxis) if "e+" in t or "$" in t]


def test_a_partial_realtime_summary_is_reported_with_dashes(tmp_path, capsys):
    d = live(rich_json(json.loads((DATA / "mixed_results.json").read_text())))
    d["results"], d["realtime"][0]["summary"] = [], {"ticks": 2}  # the reader takes any numbers there
    (tmp_path / "partial.json").write_text(json.dumps(d))
    for fmt in ("md", "csv", "html"):
        assert main(["report", str(tmp_path / "partial.json"), "--format", fmt]) == 0
    assert "ACT" in capsys.readouterr().out
