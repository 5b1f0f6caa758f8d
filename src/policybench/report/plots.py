"""PNG figures of a results file (matplotlib, Agg backend: no screen needed).

Each ``figure_*`` function is pure (results in, Figure out); ``write_plots`` saves them.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from policybench.errors import UsageError  # noqa: E402
from policybench.report.table import label, machine_line  # noqa: E402
from policybench.results import OK, PolicyResult, RunResults  # noqa: E402
from policybench.samples import REFILL, STEP, latencies  # noqa: E402

STEP_COLOR, REFILL_COLOR = "#1f77b4", "#d62728"
DPI = 100
MAX_PANELS = 200  # panels of one stacked figure: 2.6 inches each, under Agg's 65,536 pixels at DPI


def _plain(text: str) -> str:
    """Text from a results file as a figure shows it: a $ is a dollar sign, never the start of
    matplotlib's math mode (where an unknown command such as $\\foo$ fails the whole figure)."""
    return text.replace("$", r"\$")


def _check_panels(count: int, what: str) -> None:
    if count > MAX_PANELS:
        raise UsageError(f"{count} {what} to plot, one panel each; a figure holds at most {MAX_PANELS}")


def _ok(results: RunResults) -> list[PolicyResult]:
    return [r for r in results.results if r.status == OK and r.samples]


def _caption(fig: Figure, results: RunResults) -> None:
    fig.text(0.01, 0.005, _plain(machine_line(results)), fontsize=7, color="#555555", ha="left", va="bottom")


def _log_panel(ax, title: str, ylabel: str) -> None:
    """One panel of a stacked figure: log y, title on the left, grid, legend."""
    ax.set_title(_plain(title), fontsize=10, loc="left")
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)


def _finish_stack(fig: Figure, axes, xlabel: str, results: RunResults) -> Figure:
    axes[-1, 0].set_xlabel(xlabel)
    _caption(fig, results)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def figure_timeline(results: RunResults) -> Figure:
    """Latency of every measured call over its index, one panel per policy, log y; refills marked."""
    rs = _ok(results)
    _check_panels(len(rs), "policies with samples")
    fig, axes = plt.subplots(len(rs), 1, figsize=(10, 2.6 * len(rs) + 0.6), squeeze=False, dpi=DPI)
    for ax, r in zip(axes[:, 0], rs):
        for phase, color, marker, size in ((STEP, STEP_COLOR, ".", 6), (REFILL, REFILL_COLOR, "v", 40)):
            pts = [s for s in r.samples if s.phase == phase]
            ax.scatter([s.i for s in pts], [s.latency_ms for s in pts], s=size, c=color, marker=marker,
                       label=f"{phase} ({len(pts)})", zorder=3 if phase == REFILL else 2)
        ax.plot([s.i for s in r.samples], [s.latency_ms for s in r.samples], color="#999999", lw=0.5, zorder=1)
        _log_panel(ax, f"{label(r.policy)}: latency per call", "latency (ms)")
    return _finish_stack(fig, axes, "call index (measured phase)", results)


def figure_cdf(results: RunResults) -> Figure:
    """Cumulative distribution of step and refill latencies, one panel per phase, log x."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=DPI)
    for ax, phase in zip(axes, (STEP, REFILL)):
        for r in _ok(results):
            values = sorted(latencies(r.samples, phase))
            if not values:
                continue
            ys = [(k + 1) / len(values) for k in range(len(values))]
            ax.step(values, ys, where="post", label=_plain(f"{label(r.policy)} (n={len(values)})"))
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"{phase} latency (ms)")
        ax.set_ylabel("fraction of calls ≤ latency")
        ax.set_title(f"{phase} latency CDF", fontsize=10, loc="left")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    _caption(fig, results)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def figure_bars(results: RunResults) -> Figure:
    """Step median vs refill median per policy, whiskers up to p99, log y."""
    rs = _ok(results)
    _check_panels(len(rs), "policies with samples")
    fig, ax = plt.subplots(figsize=(max(6, 1.8 * len(rs) + 2), 4.5), dpi=DPI)
    width = 0.38
    for k, (phase, color) in enumerate(((STEP, STEP_COLOR), (REFILL, REFILL_COLOR))):
        xs, medians, whiskers = [], [], []
        for j, r in enumerate(rs):
            s = r.summary()[phase]
            if not s["count"]:
                continue
            xs.append(j + (k - 0.5) * width)
            medians.append(s["median_ms"])
            whiskers.append(s["p99_ms"] - s["median_ms"])
        ax.bar(xs, medians, width, color=color, label=f"{phase} median")
        ax.errorbar(xs, medians, yerr=[[0] * len(xs), whiskers], fmt="none", ecolor="black", capsize=4,
                    label="p99" if k else None)
        for x, m in zip(xs, medians):
            ax.annotate(f"{m:.3g}", (x, m), ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(rs)), [_plain(label(r.policy)) for r in rs])
    ax.set_yscale("log")
    ax.set_ylabel("latency (ms)")
    ax.set_title("step vs refill: median, whisker to p99", fontsize=10, loc="left")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    _caption(fig, results)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def _paced(results: RunResults) -> list[dict]:
    return [e for e in results.realtime if e.get("status", "ok") == "ok" and e.get("ticks")]


def figure_realtime(results: RunResults) -> Figure:
    """Per paced run: each tick's work time against the period; misses, starved ticks and the
    longest stall marked."""
    runs = _paced(results)
    _check_panels(len(runs), "paced realtime runs")
    fig, axes = plt.subplots(len(runs), 1, figsize=(10, 2.6 * len(runs) + 0.6), squeeze=False, dpi=DPI)
    for ax, e in zip(axes[:, 0], runs):
        period_ms = 1000.0 / float(e["hz"])
        ticks = e["ticks"]
        ks = [t["k"] for t in ticks]
        work = [max(t["end_ms"] - t["start_ms"], 1e-4) for t in ticks]
        ax.plot(ks, work, color="#999999", lw=0.6, zorder=1)
        ok = [(t["k"], w) for t, w in zip(ticks, work) if not t.get("missed") and t["phase"] != "starved"]
        missed = [(t["k"], w) for t, w in zip(ticks, work) if t.get("missed")]
        starved = [t["k"] for t in ticks if t["phase"] == "starved"]
        ax.scatter([k for k, _ in ok], [w for _, w in ok], s=6, c=STEP_COLOR, label=f"on time ({len(ok)})", zorder=2)
        ax.scatter([k for k, _ in missed], [w for _, w in missed], s=40, c=REFILL_COLOR, marker="x",
                   label=f"deadline miss ({len(missed)})", zorder=3)
        for k in starved:
            ax.axvspan(k - 0.5, k + 0.5, color="#ff7f0e", alpha=0.3, lw=0)
        if starved:
            ax.axvspan(0, 0, color="#ff7f0e", alpha=0.3, label=f"starved tick ({len(starved)})")
        ax.axhline(period_ms, color="black", ls="--", lw=1, label=f"period {period_ms:.3g} ms")
        stall = (e.get("summary") or {}).get("longest_stall_ms")
        title = f"{label(str(e['policy']))}, {e['mode']}"
        if e.get("threshold") is not None:
            title += f" (threshold {e['threshold']:g})"
        title += f" at {float(e['hz']):g} Hz: work per tick"
        if stall is not None:
            title += f"; longest stall {stall:.3g} ms"
        _log_panel(ax, title, "work per tick (ms)")
    return _finish_stack(fig, axes, "control tick", results)


FIGURES = {"timeline": figure_timeline, "cdf": figure_cdf, "bars": figure_bars}


def figure_sweep(results: RunResults, hz: float | None = None) -> Figure:
    """A sweep: refill median (p99 as whisker) against each axis value, the fitted line, and the
    control period as a horizontal line; one panel per policy and axis."""
    from policybench.sweep import Axis, fits

    axes_spec = [Axis(a["name"], tuple(_axis_value(a["name"], v) for v in a["values"]))
                 for a in results.run.get("sweep", {}).get("axes", [])]
    from policybench.sweep import series

    panels = [(axis, s) for axis in axes_spec for s in series(results, axis, axes_spec)]
    _check_panels(len(panels), "sweep series")
    fig, axs = plt.subplots(max(len(panels), 1), 1, figsize=(8, 2.6 * max(len(panels), 1)), dpi=DPI, squeeze=False)
    lines = {(f.policy, f.axis): f for f in fits(results, axes_spec)}
    for ax, (axis, s) in zip(axs[:, 0], panels):
        xs, ys = [p[0] for p in s.points], [p[1] for p in s.points]
        ax.plot(xs, ys, "o", color=REFILL_COLOR, label="refill median")
        fit = lines.get((s.name, axis.name))
        if fit is not None:
            grid = [min(xs), max(xs)]
            ax.plot(grid, [fit.intercept_ms + fit.slope_ms * x for x in grid], "-", color="#555555",
                    label=_plain(f"{fit.intercept_ms:.3g} {'+' if fit.slope_ms >= 0 else '-'} "
                                 f"{abs(fit.slope_ms):.3g} ms per {fit.unit}"))
        if hz:
            ax.axhline(1000 / hz, color=STEP_COLOR, linestyle="--", label=f"{hz:g} Hz period")
        ax.set_title(_plain(f"{label(s.policy)}{' at ' + s.group if s.group else ''}: refill against {axis.name}"),
                     fontsize=10, loc="left")
        ax.set_xlabel("megapixels per camera" if axis.name == "image_size" else _plain(axis.name))
        ax.set_ylabel("ms")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    _caption(fig, results)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _axis_value(name: str, shown: str):
    if name == "image_size":
        h, w = shown.split("x")
        return int(h), int(w)
    try:
        return int(shown)
    except ValueError:
        return float(shown) if shown.replace(".", "", 1).isdigit() else shown


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # Fixed size whatever the user's matplotlibrc says (savefig.dpi, savefig.bbox).
    with plt.rc_context({"savefig.bbox": "standard"}):
        fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def render_pngs(results: RunResults) -> dict[str, bytes]:
    """Every figure as PNG bytes, by name: the latency figures when a policy has samples, the
    realtime figure when the file holds live paced runs; empty when there is nothing to plot."""
    out = {name: png_bytes(make(results)) for name, make in FIGURES.items()} if _ok(results) else {}
    if _paced(results):
        out["realtime"] = png_bytes(figure_realtime(results))
    if results.run.get("sweep") and _ok(results):
        out["sweep"] = png_bytes(figure_sweep(results, results.run["sweep"].get("hz")))
    return out


def write_pngs(pngs: dict[str, bytes], folder: str) -> list[Path]:
    from policybench.outputs import write_atomic

    paths = []
    for name, data in pngs.items():
        path = Path(folder) / f"{name}.png"
        write_atomic(path, data)
        paths.append(path)
    return paths


def write_plots(results: RunResults, folder: str) -> list[Path]:
    return write_pngs(render_pngs(results), folder)
