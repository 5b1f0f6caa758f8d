"""Issue 30, item 6: a figure agrees with its table. The counts a figure draws (its legend's
numbers, its bars' heights) are the counts the realtime table and the breakdown block print, for
the realtime, rtc and breakdown figures; captions name a checkpoint and its inputs, not the
profile its run did not use."""

from __future__ import annotations

from dataclasses import replace
import re
from pathlib import Path

import pytest
import torch

from policybench.control.metrics import stored_ticks, summarize_ticks
from policybench.control.paced import run_async, run_sync
from policybench.control.virtual import ReplayPolicy, VirtualClock, VirtualWorker
from policybench.report.breakdown import breakdown_rows, split_results
from policybench.report.plot_breakdown import figure_breakdown
from policybench.report.plot_rtc import figure_rtc
from policybench.report.plots import figure_realtime, png_bytes
from policybench.report.realtime import render_realtime
from policybench.results import OK, RealtimeResult, RunResults, read_results

DATA = Path(__file__).resolve().parents[2] / "docs" / "results"
HZ, CHUNK = 10.0, 10


def sync_run(refill_s: float = 0.35, ticks: int = 100) -> RealtimeResult:
    """A live-like sync run on a virtual clock: every 10th tick a refill 3.5 periods long, so the
    ticks after it are late with work well inside the period (late, not missed)."""
    clock = VirtualClock()
    policy = ReplayPolicy(clock, CHUNK, [0.0005], [refill_s])
    run = run_sync(policy, {}, clock.clock(), clock.sleep_until, HZ, ticks)
    return RealtimeResult(
        "act", "sync", HZ, "measured", status=OK, summary=summarize_ticks(run, HZ), ticks=stored_ticks(run, HZ)
    )


def async_run(refill_s: float = 1.5, ticks: int = 100) -> RealtimeResult:
    clock = VirtualClock()
    worker = VirtualWorker(clock, CHUNK, [refill_s])
    run = run_async(
        worker, {}, clock.clock(), clock.sleep_until, HZ, ticks, torch.zeros(CHUNK, 1), 0.5, "weighted_average"
    )
    return RealtimeResult(
        "act",
        "async",
        HZ,
        "measured",
        threshold=0.5,
        status=OK,
        summary=summarize_ticks(run.ticks, HZ, run.chunk_latencies),
        ticks=stored_ticks(run.ticks, HZ),
    )


def legend_counts(ax) -> dict[str, int]:
    """{"on time": 82, ...}: each legend entry's words before its count, and the count."""
    out = {}
    for text in (t.get_text() for t in ax.get_legend().get_texts()):
        m = re.match(r"(.*?)(?::.*)? \((\d+)\)$", text.replace("\n", " "))
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def table_row(e: RealtimeResult) -> dict[str, str]:
    """The realtime table's cells of ``e``'s row, by header."""
    lines = render_realtime([e]).splitlines()
    return dict(zip(re.split(r"\s{2,}", lines[0]), re.split(r"\s{2,}", lines[2])))


def test_a_sync_figure_counts_late_ticks_as_the_table_does():
    """The issue's case: the figure said "on time (356)" of ticks the table called late."""
    e = sync_run()
    fig = figure_realtime(RunResults({}, {}, realtime=[e]))
    drawn = legend_counts(fig.axes[0])
    png_bytes(fig)
    row = table_row(e)
    late = int(re.search(r"\((\d+) late\)", row["Achieved"]).group(1))
    misses = int(row["Misses"].split()[0])
    assert late == e.summary["late_ticks"] > misses > 0  # late ticks that did not overrun their own period
    assert drawn == {"on time": len(e.ticks) - late, "late": late, "deadline miss": misses}


def test_an_async_figure_counts_starved_ticks_as_the_table_does():
    e = async_run()
    fig = figure_realtime(RunResults({}, {}, realtime=[e]))
    drawn = legend_counts(fig.axes[0])
    png_bytes(fig)
    starved = int(table_row(e)["Starved"].split()[0])
    assert starved > 0 and "late" not in drawn
    assert drawn == {"on time": len(e.ticks) - starved, "deadline miss": 0, "starved tick": starved}


def test_the_rtc_figure_counts_as_the_table_does():
    results = read_results(str(DATA / "rtc-smolvla-xeon.json"))
    (e,) = [x for x in results.realtime if x.mode == "rtc"]
    fig = figure_rtc(results)
    drawn = legend_counts(fig.axes[0])
    delays = [line for line in fig.axes[1].get_lines() if len(line.get_xdata())]
    png_bytes(fig)
    assert drawn["starved tick"] == int(table_row(e)["Starved"].split()[0]) == e.summary["starved_ticks"]
    assert [len(line.get_xdata()) for line in delays] == [len(e.inferences or [])] * 2


def test_the_breakdown_figure_draws_the_blocks_figures():
    """Each stacked segment is a component's median as the block prints it (to its 2 decimals),
    and each bar names the breakdown refills its heading counts."""
    results = read_results(str(DATA / "breakdown-xeon.json"))
    fig = figure_breakdown(results)
    png_bytes(fig)
    for ax, (_, s) in zip(fig.axes, split_results(results)):
        printed = {row[0]: float(row[2]) for row in breakdown_rows(s)[:-1]}
        drawn = [p.get_height() for p in ax.patches]
        assert [f"{h:.2f}" for h in drawn] == [f"{v:.2f}" for v in printed.values()]
        assert ax.get_xticklabels()[0].get_text().endswith(f"\n{s.refills} refill" + "s" * (s.refills != 1))


def test_a_realtime_caption_names_the_checkpoint_and_its_inputs():
    e = sync_run()
    e.policy = "/home/nu/outputs/my_act_checkpoint"
    inputs = {e.policy: {"observation.images.front": [3, 480, 640], "observation.state": [6]}}
    results = RunResults({"device": "cpu"}, {"profile": {"name": "so100"}, "inputs": inputs}, realtime=[e])
    fig = figure_realtime(results)
    caption = "\n".join(t.get_text() for t in fig.texts)
    png_bytes(fig)
    assert "profile so100" not in caption
    assert "outputs/my_act_checkpoint: images.front 3x480x640, state 6" in caption.replace("\n", " ")


def test_a_run_caption_names_the_checkpoint_and_its_inputs():
    from fakes import ok_result, run_results

    from policybench.report.plots import figure_bars

    r = ok_result("/data/ckpt/train/act", chunk=2, cycles=2, refill_ms=30.0, step_ms=0.5, cold_ms=50.0)
    r = replace(
        r, source=r.policy, config={"inputs": {"observation.images.top": [3, 96, 96], "observation.state": [14]}}
    )
    fig = figure_bars(run_results([r]))
    caption = " ".join(t.get_text().replace("\n", " ") for t in fig.texts)
    png_bytes(fig)
    assert "inputs from the checkpoint" in caption and "train/act: images.top 3x96x96, state 14" in caption


@pytest.mark.parametrize("name", ["bars", "cdf", "timeline", "breakdown"])
def test_titles_captions_and_legends_fit_inside_the_figure(name):
    """A long checkpoint name and machine line: nothing runs past the figure's edges."""
    from policybench.report.plots import _texts, figure_bars, figure_cdf, figure_timeline

    results = read_results(str(DATA / "breakdown-xeon.json"))
    results.results = results.results[:1]
    long_name = "/data/" + "a_very_long_checkpoint_folder_name_" * 3 + "/pretrained_model"
    results.results[0] = replace(results.results[0], policy=long_name)
    results.environment["device_name"] = "Intel(R) Xeon(R) Platinum 8480+ with a long marketing name" * 2
    make = {"bars": figure_bars, "cdf": figure_cdf, "timeline": figure_timeline, "breakdown": figure_breakdown}[name]
    fig = make(results)
    png_bytes(fig)
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    outside = [
        (t.get_text(), round(b.x0), round(b.x1))
        for t in _texts(fig)
        if (b := t.get_window_extent(renderer)).x1 > width + 0.5 or b.x0 < -0.5
    ]
    assert not outside


def test_one_duration_unit_per_axis():
    """breakdown.png's linear axis read "5,000 ms" beside "10 s"; a log axis "1,000 ms" beside "10 s"."""
    from policybench.report.plots import duration_axis, new_figure

    fig = new_figure((6, 4))
    linear, log = fig.subplots(1, 2)
    linear.bar([0], [12_500])
    log.bar([0, 1], [0.5, 12_500])
    log.set_yscale("log")
    duration_axis(linear.yaxis, log=False)
    duration_axis(log.yaxis, log=True)
    fig.canvas.draw()
    for ax in (linear, log):
        texts = [t.get_text() for t in ax.yaxis.get_ticklabels(which="both") if t.get_text() not in ("", "0")]
        assert texts and len({t.split()[-1] for t in texts}) == 1, texts
    assert "10 s" in [t.get_text() for t in linear.yaxis.get_ticklabels()]


def test_a_live_realtime_file_records_the_inputs_fed(tmp_path, capsys):
    from policybench.cli import main

    path = tmp_path / "realtime.json"
    assert (
        main(["realtime", "--policies", "noop", "--hz", "200", "--ticks", "30", "--mode", "sync", "--json", str(path)])
        == 0
    )
    inputs = read_results(str(path)).run["inputs"]
    assert list(inputs) == ["noop"] and inputs["noop"]["observation.state"] == [6]
    assert all(isinstance(shape, list) for shape in inputs["noop"].values())
