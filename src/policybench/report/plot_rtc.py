"""The Real-Time Chunking figure: per live rtc run, the queue the control loop popped from over
time (starved ticks marked, the engine's queue threshold drawn) and, on a second axis, each
chunk's inference delay d as the engine used it and as its latency took it. Pure: results in,
Figure out (matplotlib's Figure on an Agg canvas, as plots.py draws)."""

from __future__ import annotations

from matplotlib.figure import Figure

from policybench.report.format import label
from policybench.report.plots import check_panels, finish_stack, new_figure, plain
from policybench.results import RealtimeResult, RunResults

QUEUE_COLOR, STARVED_COLOR, USED_COLOR, TAKEN_COLOR = "#1f77b4", "#ff7f0e", "#d62728", "#2ca02c"


def rtc_runs(results: RunResults) -> list[RealtimeResult]:
    """The live rtc runs with ticks and chunks to draw."""
    return [e for e in results.realtime if e.mode == "rtc" and e.ok and e.ticks and e.inferences]


def figure_rtc(results: RunResults) -> Figure:
    """One panel per live rtc run: queue size per tick, and d used / d taken per merged chunk."""
    runs = rtc_runs(results)
    check_panels(len(runs), "live rtc runs")
    fig = new_figure((10, 2.8 * max(len(runs), 1) + 0.6))
    axes = fig.subplots(max(len(runs), 1), 1, squeeze=False)
    for ax, e in zip(axes[:, 0], runs):
        _panel(ax, e)
    return finish_stack(fig, axes, "seconds from the control loop's start", results)


def _panel(ax, e: RealtimeResult) -> None:
    ticks, inferences = e.ticks or [], e.inferences or []
    times = [t.scheduled_ms / 1000 for t in ticks]
    ax.step(
        times, [t.queue or 0 for t in ticks], where="post", color=QUEUE_COLOR, lw=1, label="queued actions at the tick"
    )
    starved = [t.scheduled_ms / 1000 for t in ticks if t.phase == "starved"]
    ax.scatter(
        starved, [0] * len(starved), s=14, c=STARVED_COLOR, marker="|", zorder=3, label=f"starved tick ({len(starved)})"
    )
    threshold = e.summary.get("queue_threshold")
    if isinstance(threshold, (int, float)):
        ax.axhline(threshold, color="black", ls="--", lw=0.8, label=f"queue threshold {threshold:g}")
    ax.set_ylabel("queued actions")
    ax.set_ylim(bottom=0)
    delay = ax.twinx()
    merged = [x.end_ms / 1000 for x in inferences]
    delay.plot(
        merged,
        [x.delay_used for x in inferences],
        "v",
        color=USED_COLOR,
        ms=5,
        label="d the engine used (largest latency ever)",
    )
    delay.plot(
        merged,
        [x.delay_taken for x in inferences],
        "^",
        color=TAKEN_COLOR,
        ms=5,
        label="d the chunk took (its latency)",
    )
    delay.set_ylabel("inference delay d (ticks)")
    delay.set_ylim(bottom=0)
    handles, names = ax.get_legend_handles_labels()
    more, more_names = delay.get_legend_handles_labels()
    ax.legend(handles + more, names + more_names, fontsize=7, loc="upper left", bbox_to_anchor=(1.08, 1.0))
    ax.set_title(plain(f"{label(e)}, rtc at {e.hz:g} Hz: queue and inference delay"), fontsize=9)
