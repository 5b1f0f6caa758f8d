"""The fleet figure: per policy, each machine's refill median (with its 95 % interval) on the
left, and the highest rate it holds in sync and async mode on the right; a bar whose figures are
not reliable (the machine busy with other work, too few refills: the table's warnings) hatched."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from policybench.machine_load import busy_reason
from policybench.report.fleet import NOT_COMPARABLE, THRESHOLD, Fleet, FleetRow, too_few_refills
from policybench.report.plots import check_panels, duration_axis, layout, new_figure, plain, png_bytes
from policybench.results import OK, PolicyResult

BAR_WIDTH = 0.8  # of one policy's slot, shared by its machines
UNRELIABLE = "hatched: machine busy with other work, or too few refills (see the table's notes)"


def _unreliable(r: PolicyResult) -> bool:
    return busy_reason(r.machine_load) is not None or too_few_refills(r)


def _measured(row: FleetRow) -> bool:
    return any(r is not None and r.status == OK and r.summary()["refill"]["count"] for r in row.results)


def figure_fleet(fleet: Fleet) -> Figure:
    rows = [row for row in fleet.rows if _measured(row)]
    check_panels(len(rows) * len(fleet.machines), "policy and machine bars")
    fig = new_figure((max(7, 1.2 * len(rows) * max(2, len(fleet.machines)) + 3), 4.4 + 0.15 * len(fleet.machines)))
    latency, rates = fig.subplots(1, 2)
    unreliable = False
    for k, machine in enumerate(fleet.machines):
        unreliable |= _machine_bars(latency, rates, rows, k, len(fleet.machines), plain(f"{k + 1}: {machine.name}"))
    names = [plain(row.label + ("\n(" + NOT_COMPARABLE + ")" if row.mismatch else "")) for row in rows]
    for ax, title in (
        (latency, "refill median, 95 % interval within one process"),
        (rates, "highest rate held: sync bar, async mark"),
    ):
        ax.set_xticks(range(len(rows)), names)
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(True, axis="y", which="both", alpha=0.3)
    latency.set_yscale("log")
    duration_axis(latency.yaxis, log=True)
    latency.set_ylabel("latency")
    rates.set_ylabel("Hz")
    handles, labels = (a + b for a, b in zip(latency.get_legend_handles_labels(), rates.get_legend_handles_labels()))
    if unreliable:
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="//"))
        labels.append(UNRELIABLE)
    fig.legend(handles, labels, loc="lower left", fontsize=7, ncol=1, frameon=False)  # a machine per line
    return layout(fig)


def _machine_bars(latency, rates, rows: list[FleetRow], k: int, machines: int, name: str) -> bool:
    """Machine ``k``'s bars beside the other machines' in each policy's slot: its refill median
    and interval, its highest rates; hatched where unreliable (whether any is)."""
    width = BAR_WIDTH / machines
    xs: list[float] = []
    medians: list[float] = []
    errors: list[list[float]] = [[], []]
    sync: list[float] = []
    asyn: list[float] = []
    hatched: list[bool] = []
    for j, row in enumerate(rows):
        r = row.results[k]
        s = r.summary()["refill"] if r is not None and r.status == OK else None
        if r is None or s is None or not s["count"]:
            continue
        interval = s.get("median_ci_ms") or [s["median_ms"], s["median_ms"]]
        xs.append(j + (k - (machines - 1) / 2) * width)
        medians.append(s["median_ms"])
        errors[0].append(s["median_ms"] - interval[0])
        errors[1].append(interval[1] - s["median_ms"])
        rate = row.rates[k]
        sync.append((rate.sync_hz or 0) if rate else 0)
        asyn.append((rate.async_hz or 0) if rate else 0)
        hatched.append(_unreliable(r))
    drawn = [
        latency.bar(xs, medians, width, yerr=errors, capsize=3, label=name),
        rates.bar(xs, sync, width, color=f"C{k}"),
    ]
    for bars in drawn:
        for patch, mark in zip(bars, hatched):
            patch.set_hatch("//" if mark else "")
    rates.scatter(
        xs, asyn, marker="_", s=200, color="black", zorder=3, label=f"async g={THRESHOLD:g}" if k == 0 else None
    )
    return any(hatched)


def render_fleet_png(fleet: Fleet) -> bytes:
    return png_bytes(figure_fleet(fleet))
