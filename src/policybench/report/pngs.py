"""Every figure of a results file as PNG bytes by name, and the PNGs written to a folder: the
latency figures (plots.py), the refill anatomy (plot_breakdown.py) and live RTC runs (plot_rtc.py)."""

from __future__ import annotations

from pathlib import Path

from policybench.outputs import write_atomic
from policybench.report.plot_breakdown import figure_breakdown, has_breakdown
from policybench.report.plot_rtc import figure_rtc, rtc_runs
from policybench.report.plots import FIGURES, figure_realtime, figure_sweep, ok_results, paced_runs, png_bytes
from policybench.results import RunResults


def render_pngs(results: RunResults) -> dict[str, bytes]:
    """Every figure as PNG bytes, by name: the latency figures when a policy has samples, the
    realtime figure when the file holds live paced runs, the refill anatomy with --breakdown
    (plot_breakdown.py), the queue and delay of live RTC runs (plot_rtc.py); empty when there is
    nothing to plot."""
    out = {name: png_bytes(make(results)) for name, make in FIGURES.items()} if ok_results(results) else {}
    if paced_runs(results):
        out["realtime"] = png_bytes(figure_realtime(results))
    sweep = results.run.get("sweep")
    if isinstance(sweep, dict) and sweep and ok_results(results):
        out["sweep"] = png_bytes(figure_sweep(results, sweep.get("hz")))
    if has_breakdown(results):
        out["breakdown"] = png_bytes(figure_breakdown(results))
    if rtc_runs(results):
        out["rtc"] = png_bytes(figure_rtc(results))
    return out


def write_pngs(pngs: dict[str, bytes], folder: str) -> list[Path]:
    paths = []
    for name, data in pngs.items():
        path = Path(folder) / f"{name}.png"
        write_atomic(path, data)
        paths.append(path)
    return paths


def write_plots(results: RunResults, folder: str) -> list[Path]:
    return write_pngs(render_pngs(results), folder)
