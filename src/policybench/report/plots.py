"""PNG figures of a results file (matplotlib's Agg canvas without pyplot: no screen needed, and
matplotlib's backend, chosen process-wide, is left as it is).

Each ``figure_*`` function is pure (results in, Figure out); ``write_plots`` saves them.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import Formatter, LogFormatter, MaxNLocator

from policybench.control.metrics import is_late
from policybench.errors import UsageError
from policybench.report.details import not_a_win
from policybench.report.format import (
    checkpoint_inputs,
    duration_in,
    duration_text,
    duration_unit,
    identity_label,
    label,
    machine_line,
)
from policybench.results import OK, PolicyResult, RealtimeResult, RealtimeTick, RunResults
from policybench.samples import REFILL, STEP, latencies
from policybench.stats import samples_needed

STEP_COLOR, REFILL_COLOR, LATE_COLOR = "#1f77b4", "#d62728", "#ff7f0e"
DPI = 100
MAX_PANELS = 200  # panels of one stacked figure: 2.6 inches each, under Agg's 65,536 pixels at DPI
MAX_LAYOUTS = 4  # layout: rounds of wrapping the texts that run past the figure's edges
MIN_LINE_CHARS = 12  # layout: no line wrapped narrower than this


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure drawn on its own Agg canvas (pyplot's figure manager never sees it)."""
    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def layout(fig: Figure, rect: tuple[float, float, float, float] = (0, 0, 1, 1)) -> Figure:
    """``fig.tight_layout(rect)``, with every title, caption and legend entry that would run past
    the figure's edges wrapped onto more lines first, and the bottom of ``rect`` raised above a
    caption or a figure legend at the bottom (as they grow when wrapped)."""
    renderer = (
        FigureCanvasAgg(fig).get_renderer()
        if not isinstance(fig.canvas, FigureCanvasAgg)
        else fig.canvas.get_renderer()
    )
    for _ in range(MAX_LAYOUTS):
        rect = (rect[0], max(rect[1], _bottom_band(fig, renderer)), rect[2], rect[3])
        fig.tight_layout(rect=rect)
        fig.draw_without_rendering()  # legends and titles placed where the new layout puts them
        if not [t for t in _texts(fig) if _wrap_inside(t, renderer, fig.bbox.width)]:
            break
    return fig


def _texts(fig: Figure) -> list[Text]:
    """The texts that can run past a figure's edge: titles, captions, legend entries."""
    out: list[Text] = []
    for ax in fig.axes:
        out += [ax.title, getattr(ax, "_left_title"), getattr(ax, "_right_title")]  # noqa: B009 - matplotlib keeps 3 titles
        legend = ax.get_legend()
        if legend is not None:
            out += legend.get_texts()
    out += fig.texts
    for legend in fig.legends:
        out += legend.get_texts()
    return [t for t in out if t.get_text()]


def _wrap_inside(t: Text, renderer, width: float) -> bool:
    """Wrap ``t`` onto more lines where it runs past the left or right edge (``width`` pixels);
    whether it changed."""
    box = t.get_window_extent(renderer)
    overflow = max(0.0, box.x1 - width) + max(0.0, -box.x0)
    if overflow < 0.5 or box.width <= 0:
        return False
    text = t.get_text()
    longest = max(len(line) for line in text.split("\n"))
    chars = max(MIN_LINE_CHARS, int(longest * (box.width - overflow - 2 * DPI / 72) / box.width))
    wrapped = "\n".join(textwrap.fill(line, chars, break_on_hyphens=False) for line in text.split("\n"))
    if wrapped == text:
        return False
    t.set_text(wrapped)
    return True


def _bottom_band(fig: Figure, renderer) -> float:
    """The share of the figure's height that its caption and bottom legends take."""
    height = fig.bbox.height
    boxes = [t.get_window_extent(renderer) for t in fig.texts if t.get_text()]
    boxes += [legend.get_window_extent(renderer) for legend in fig.legends]
    tops = [box.y1 for box in boxes if box.y0 < height / 2]
    return min(0.5, max(tops) / height + 0.01) if tops else 0.0


def plain(text: str) -> str:
    """Text from a results file as a figure shows it: a $ is a dollar sign, never the start of
    matplotlib's math mode (where an unknown command such as $\\foo$ fails the whole figure)."""
    return text.replace("$", r"\$")


def check_panels(count: int, what: str) -> None:
    if count > MAX_PANELS:
        raise UsageError(f"{count} {what} to plot, one panel each; a figure holds at most {MAX_PANELS}")


def ok_results(results: RunResults) -> list[PolicyResult]:
    return [r for r in results.results if r.status == OK and r.samples]


def caption(fig: Figure, results: RunResults) -> None:
    """The machine line under the figure, then a line per checkpoint with the inputs it was fed."""
    lines = [machine_line(results), *checkpoint_inputs(results)]
    fig.text(0.01, 0.005, plain("\n".join(lines)), fontsize=7, color="#555555", ha="left", va="bottom")


def _axis_view(formatter: Formatter) -> tuple[float, float]:
    """The view interval of the axis ``formatter`` labels (0..1 before it is placed on one)."""
    axis = formatter.axis
    if axis is None or not hasattr(axis, "get_view_interval"):
        return (0.0, 1.0)
    low, high = axis.get_view_interval()
    return (float(low), float(high))


class _DurationFormatter(LogFormatter):
    """Log-axis tick labels as durations ("0.1 ms", "1,000 ms"; "0.5 s", "20 s"), never powers of
    ten, all of an axis in one unit (format.duration_unit of its view); which ticks get a label is
    LogFormatter's choice (decades, and minor ticks on short ranges)."""

    def _num_to_string(self, x, vmin, vmax):
        return duration_in(x, duration_unit(_axis_view(self)))


class _LinearDurationFormatter(Formatter):
    """Linear-axis tick labels as durations, all of an axis in one unit ("0", "2.5 s", "5 s")."""

    def __call__(self, x, pos=None) -> str:
        if abs(x) < 1e-9:
            return "0"
        return ("-" if x < 0 else "") + duration_in(abs(x), duration_unit(_axis_view(self)))


def _signed_duration(value: float, pos=None) -> str:
    return "0" if abs(value) < 1e-9 else ("-" if value < 0 else "") + duration_text(abs(value))


def duration_axis(axis, log: bool) -> None:
    """Tick labels in ms or s with their unit, one unit per axis, on a log or a linear axis."""
    if log:
        axis.set_major_formatter(_DurationFormatter())
        axis.set_minor_formatter(_DurationFormatter())
    else:
        axis.set_major_formatter(_LinearDurationFormatter())


def legend_outside(ax) -> None:
    """The legend right of the panel, where it hides no point and no whisker."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, borderaxespad=0)


def _log_panel(ax, title: str, ylabel: str) -> None:
    """One panel of a stacked figure: log y in ms/s, title on the left, grid, legend beside."""
    ax.set_title(plain(title), fontsize=10, loc="left")
    ax.set_yscale("log")
    duration_axis(ax.yaxis, log=True)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    legend_outside(ax)


def finish_stack(fig: Figure, axes, xlabel: str, results: RunResults) -> Figure:
    axes[-1, 0].set_xlabel(xlabel)
    caption(fig, results)
    return layout(fig)


def figure_timeline(results: RunResults) -> Figure:
    """Latency of every measured call over its index, one panel per policy, log y; refills marked."""
    rs = ok_results(results)
    check_panels(len(rs), "policies with samples")
    fig = new_figure((10, 2.6 * len(rs) + 0.6))
    axes = fig.subplots(len(rs), 1, squeeze=False)
    for ax, r in zip(axes[:, 0], rs):
        for phase, color, marker, size in ((STEP, STEP_COLOR, ".", 6), (REFILL, REFILL_COLOR, "v", 40)):
            pts = [s for s in r.samples if s.phase == phase]
            ax.scatter(
                [s.i for s in pts],
                [s.latency_ms for s in pts],
                s=size,
                c=color,
                marker=marker,
                label=f"{phase} ({len(pts)})",
                zorder=3 if phase == REFILL else 2,
            )
        ax.plot([s.i for s in r.samples], [s.latency_ms for s in r.samples], color="#999999", lw=0.5, zorder=1)
        _log_panel(ax, f"{label(r)}: latency per call", "latency")
    return finish_stack(fig, axes, "call index (measured phase)", results)


def figure_cdf(results: RunResults) -> Figure:
    """Cumulative distribution of step and refill latencies, one panel per phase, log x."""
    fig = new_figure((11, 4.2))
    axes = fig.subplots(1, 2)
    for ax, phase in zip(axes, (STEP, REFILL)):
        for r in ok_results(results):
            values = sorted(latencies(r.samples, phase))
            if not values:
                continue
            ys = [(k + 1) / len(values) for k in range(len(values))]
            ax.step(values, ys, where="post", label=plain(f"{label(r)} (n={len(values)})"))
        ax.set_xscale("log")
        duration_axis(ax.xaxis, log=True)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"{phase} latency")
        ax.set_ylabel("fraction of calls ≤ latency")
        ax.set_title(f"{phase} latency CDF", fontsize=10, loc="left")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    caption(fig, results)
    return layout(fig)


def figure_bars(results: RunResults) -> Figure:
    """Step median vs refill median per policy, whiskers up to p99 (p90, the maximum, where the
    count supports no p99: ``_whisker``), log y; each median written
    above its whisker; a variant whose actions fail the equivalence check is hatched and says
    "not a win" under its name, as the table does; the control period when the run had --hz."""
    rs = ok_results(results)
    check_panels(len(rs), "policies with samples")
    fig = new_figure((max(6, 1.8 * len(rs) + 2), 4.5))
    ax = fig.subplots()
    width, tops = 0.38, []
    for k, (phase, color) in enumerate(((STEP, STEP_COLOR), (REFILL, REFILL_COLOR))):
        bars = [(j + (k - 0.5) * width, r.summary()[phase], r) for j, r in enumerate(rs) if r.summary()[phase]["count"]]
        xs, medians = [x for x, _, _ in bars], [s["median_ms"] for _, s, _ in bars]
        whiskers = [_whisker(s) for _, s, _ in bars]
        p99s = [w for w, _ in whiskers]
        drawn = ax.bar(xs, medians, width, color=color, label=f"{phase} median")
        for patch, (_, _, r) in zip(drawn, bars):
            if not_a_win(r):
                patch.set_hatch("//")
                patch.set_alpha(0.5)
        ax.errorbar(
            xs,
            medians,
            yerr=[[0] * len(xs), [p - m for p, m in zip(p99s, medians)]],
            fmt="none",
            ecolor="black",
            capsize=4,
            label="p99 (p90, max with fewer samples)" if k else None,
        )
        for x, m, (p, name) in zip(xs, medians, whiskers):
            text = duration_text(m) if name == "p99" else f"{duration_text(m)}\n({name})"
            ax.annotate(text, (x, p), ha="center", va="bottom", fontsize=7, xytext=(0, 3), textcoords="offset points")
        tops += p99s
    ax.set_xticks(range(len(rs)), [plain(_bar_label(r)) for r in rs])
    for tick, r in zip(ax.get_xticklabels(), rs):
        tick.set_color(REFILL_COLOR if not_a_win(r) else "black")
    ax.set_yscale("log")
    hz = results.run.get("hz")
    if isinstance(hz, (int, float)) and hz:  # run --hz: the control period, the sync budget each refill is held against
        ax.axhline(1000 / hz, color="black", ls="--", lw=1, label=f"period {duration_text(1000 / hz)} ({hz:g} Hz)")
        tops.append(1000 / hz)
    if tops:
        ax.set_ylim(top=max(tops) * 3)  # room for the labels above the highest whisker
    duration_axis(ax.yaxis, log=True)
    ax.set_ylabel("latency")
    ax.set_title("step vs refill: median, whisker to p99 (p90 or max where too few samples)", fontsize=10, loc="left")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    legend_outside(ax)
    caption(fig, results)
    return layout(fig)


def _bar_label(r: PolicyResult) -> str:
    """The policy's name; a variant adds whether its actions match fp32 eager's."""
    name = label(r)
    if not_a_win(r):
        return f"{name}\nnot a win: actions\n{r.equivalence['rel_error']:.2g} off (tol. {r.equivalence['tolerance']:g})"
    if r.equivalence.get("equivalent"):
        return f"{name}\nequivalent"
    return name


def paced_runs(results: RunResults) -> list[RealtimeResult]:
    return [e for e in results.realtime if e.ok and e.ticks]


def figure_realtime(results: RunResults) -> Figure:
    """Per paced run: each tick's work time against the period; late ticks (sync), misses, starved
    ticks and the longest stall marked, counted as the realtime table counts them."""
    runs = paced_runs(results)
    check_panels(len(runs), "paced realtime runs")
    fig = new_figure((10, 2.6 * len(runs) + 0.6))
    axes = fig.subplots(len(runs), 1, squeeze=False)
    for ax, e in zip(axes[:, 0], runs):
        _realtime_panel(ax, e)
    return finish_stack(fig, axes, "control tick", results)


def tick_kinds(e: RealtimeResult) -> dict[str, list[RealtimeTick]]:
    """A paced run's ticks as its figure draws them: "on time"; "late" (sync: the action ready
    after the tick's deadline, as control.metrics counts the table's late ticks); "missed" (the
    tick's own work overran the period: the table's misses, late too in sync); "starved" (async:
    no action queued)."""
    ticks, hz = e.ticks or [], e.hz
    late = [t for t in ticks if e.mode == "sync" and is_late(t.scheduled_ms / 1000, t.end_ms / 1000, hz)]
    missed = [t for t in ticks if t.missed]
    starved = [t for t in ticks if t.phase == "starved"]
    off = {id(t) for t in late + missed + starved}
    return {"on time": [t for t in ticks if id(t) not in off], "late": late, "missed": missed, "starved": starved}


def _realtime_panel(ax, e: RealtimeResult) -> None:
    period_ms = 1000.0 / e.hz
    ticks = e.ticks or []
    kinds = tick_kinds(e)

    def work(ts: list[RealtimeTick]) -> list[float]:
        return [max(t.work_ms, 1e-4) for t in ts]

    ax.plot([t.k for t in ticks], work(ticks), color="#999999", lw=0.6, zorder=1)
    ax.scatter(
        [t.k for t in kinds["on time"]],
        work(kinds["on time"]),
        s=6,
        c=STEP_COLOR,
        label=f"on time ({len(kinds['on time'])})",
        zorder=2,
    )
    if e.mode == "sync":
        ax.scatter(
            [t.k for t in kinds["late"]],
            work(kinds["late"]),
            s=10,
            c=LATE_COLOR,
            label=f"late: ready after its deadline ({len(kinds['late'])})",
            zorder=2,
        )
    ax.scatter(
        [t.k for t in kinds["missed"]],
        work(kinds["missed"]),
        s=40,
        c=REFILL_COLOR,
        marker="x",
        label=f"deadline miss: work over the period ({len(kinds['missed'])})",
        zorder=3,
    )
    for t in kinds["starved"]:
        ax.axvspan(t.k - 0.5, t.k + 0.5, color=LATE_COLOR, alpha=0.3, lw=0)
    if kinds["starved"]:
        ax.axvspan(0, 0, color=LATE_COLOR, alpha=0.3, label=f"starved tick ({len(kinds['starved'])})")
    ax.axhline(period_ms, color="black", ls="--", lw=1, label=f"period {duration_text(period_ms)}")
    stall = e.summary.get("longest_stall_ms")
    title = f"{label(e)}, {e.mode}"
    if e.threshold is not None:
        title += f" (threshold {e.threshold:g})"
    title += f" at {e.hz:g} Hz: work per tick"
    if stall is not None:
        title += f"; longest stall {duration_text(stall)}"
    _log_panel(ax, title, "work per tick")


def _whisker(summary) -> tuple[float, str]:
    """The highest of p99, p90 and the maximum that the phase's count supports as a claim
    (stats.samples_needed), and its name: a "p99" of 6 samples is their maximum."""
    for q in (99, 90):
        if summary["count"] >= samples_needed(q):
            return summary[f"p{q}_ms"], f"p{q}"
    return summary["max_ms"], "max"


FIGURES = {"timeline": figure_timeline, "cdf": figure_cdf, "bars": figure_bars}


def figure_sweep(results: RunResults, hz: float | None = None) -> Figure:
    """A sweep: refill median against each axis value, the fitted line, and the
    control period as a horizontal line; one panel per policy and axis."""
    from policybench.scaling.axes import recorded_axes
    from policybench.scaling.fit import fits, series

    axes_spec = recorded_axes(results.run)
    panels = [(axis, s) for axis in axes_spec for s in series(results, axis, axes_spec)]
    check_panels(len(panels), "sweep series")
    fig = new_figure((8, 2.6 * max(len(panels), 1)))
    axs = fig.subplots(max(len(panels), 1), 1, squeeze=False)
    lines = {(f.policy, f.axis): f for f in fits(results, axes_spec)}
    for ax, (axis, s) in zip(axs[:, 0], panels):
        _sweep_panel(ax, axis, s, lines.get((s.name, axis.name)), hz)
    caption(fig, results)
    return layout(fig)


def _sweep_panel(ax, axis, s, fit, hz: float | None) -> None:
    """One policy along one axis: the points, the fitted line, the period; log y when the
    values (and the period) span more than a decade and a half, so that all of them show."""
    xs, ys = [p[0] for p in s.points], [p[1] for p in s.points]
    ax.plot(xs, ys, "o", color=REFILL_COLOR, label="refill median")
    period = 1000 / hz if hz else None
    shown = [y for y in ys + ([period] if period else []) if y and y > 0]
    log = bool(shown) and max(shown) / min(shown) > 30
    if fit is not None:
        grid = [min(xs) + (max(xs) - min(xs)) * k / 50 for k in range(51)]
        line = [(x, fit.intercept_ms + fit.slope_ms * x) for x in grid]
        line = [(x, y) for x, y in line if not log or y >= min(shown) / 2]  # log: the part near the points
        sign = "+" if fit.slope_ms >= 0 else "-"
        ax.plot(
            [x for x, _ in line],
            [y for _, y in line],
            "-",
            color="#555555",
            label=plain(
                f"{_signed_duration(fit.intercept_ms)} {sign} {duration_text(abs(fit.slope_ms))} per {fit.unit}"
            ),
        )
    if period:
        ax.axhline(period, color=STEP_COLOR, linestyle="--", label=f"{hz:g} Hz period ({duration_text(period)})")
    if log:
        ax.set_yscale("log")
    duration_axis(ax.yaxis, log)
    if all(float(x).is_integer() for x in xs):  # cameras, threads, steps: no 1.25
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(
        plain(
            f"{identity_label(s.policy, s.variant)}{' at ' + s.group if s.group else ''}: refill against {axis.name}"
        ),
        fontsize=10,
        loc="left",
    )
    ax.set_xlabel("megapixels per camera" if axis.name == "image_size" else plain(axis.name))
    ax.set_ylabel("refill latency")
    ax.grid(True, which="both", alpha=0.3)
    legend_outside(ax)


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # Fixed size whatever the user's matplotlibrc says (savefig.dpi, savefig.bbox).
    with matplotlib.rc_context({"savefig.bbox": "standard"}):
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
