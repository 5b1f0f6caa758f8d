"""The fleet figure: per policy, each machine's refill median (with its 95 % interval) on the
left, and the highest rate it holds in sync and async mode on the right."""

from __future__ import annotations

from matplotlib.figure import Figure

from policybench.report.fleet import NOT_COMPARABLE, THRESHOLD, Fleet, FleetRow
from policybench.report.plots import check_panels, duration_axis, new_figure, plain, png_bytes
from policybench.results import OK

BAR_WIDTH = 0.8  # of one policy's slot, shared by its machines


def _measured(row: FleetRow) -> bool:
    return any(r is not None and r.status == OK and r.summary()["refill"]["count"] for r in row.results)


def figure_fleet(fleet: Fleet) -> Figure:
    rows = [row for row in fleet.rows if _measured(row)]
    check_panels(len(rows) * len(fleet.machines), "policy and machine bars")
    fig = new_figure((max(7, 1.2 * len(rows) * max(2, len(fleet.machines)) + 3), 4.8))
    latency, rates = fig.subplots(1, 2)
    width = BAR_WIDTH / len(fleet.machines)
    for k, machine in enumerate(fleet.machines):
        xs: list[float] = []
        medians: list[float] = []
        errors: list[list[float]] = [[], []]
        sync: list[float] = []
        asyn: list[float] = []
        for j, row in enumerate(rows):
            r = row.results[k]
            s = r.summary()["refill"] if r is not None and r.status == OK else None
            if s is None or not s["count"]:
                continue
            x = j + (k - (len(fleet.machines) - 1) / 2) * width
            interval = s.get("median_ci_ms") or [s["median_ms"], s["median_ms"]]
            xs.append(x)
            medians.append(s["median_ms"])
            errors[0].append(s["median_ms"] - interval[0])
            errors[1].append(interval[1] - s["median_ms"])
            rate = row.rates[k]
            sync.append((rate.sync_hz or 0) if rate else 0)
            asyn.append((rate.async_hz or 0) if rate else 0)
        name = plain(f"{k + 1}: {machine.name}")
        latency.bar(xs, medians, width, yerr=errors, capsize=3, label=name)
        rates.bar(xs, sync, width, color=f"C{k}", label=name)
        rates.scatter(xs, asyn, marker="_", s=200, color="black", zorder=3,
                      label=f"async g={THRESHOLD:g}" if k == 0 else None)
    names = [plain(row.label + ("\n(" + NOT_COMPARABLE + ")" if row.mismatch else "")) for row in rows]
    for ax, title in ((latency, "refill median, 95 % interval"), (rates, "highest rate held: sync bar, async mark")):
        ax.set_xticks(range(len(rows)), names)
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(True, axis="y", which="both", alpha=0.3)
    latency.set_yscale("log")
    duration_axis(latency.yaxis, log=True)
    latency.set_ylabel("latency")
    rates.set_ylabel("Hz")
    fig.legend(*latency.get_legend_handles_labels(), loc="lower center", fontsize=7, ncol=min(3, len(fleet.machines)))
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def render_fleet_png(fleet: Fleet) -> bytes:
    return png_bytes(figure_fleet(fleet))
