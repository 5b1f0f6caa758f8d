"""The refill anatomy figure (--breakdown): one panel per policy, one stacked bar per variant (or
sweep point) side by side, each component a segment of its median time per refill and the
unattributed rest the top one: which component a variant actually sped up. Pure: results in,
Figure out (matplotlib's Figure on an Agg canvas, as plots.py draws)."""

from __future__ import annotations

from matplotlib.figure import Figure

from policybench.anatomy.summary import REST, Split
from policybench.report.breakdown import split_results
from policybench.report.format import label, policy_name
from policybench.report.plots import caption, check_panels, duration_axis, layout, legend_outside, new_figure, plain
from policybench.results import PolicyResult, RunResults

REST_COLOR = "#bbbbbb"


def _by_policy(results: RunResults) -> dict[str, list[tuple[PolicyResult, Split]]]:
    groups: dict[str, list[tuple[PolicyResult, Split]]] = {}
    for r, s in split_results(results):
        groups.setdefault(r.policy, []).append((r, s))
    return groups


def figure_breakdown(results: RunResults) -> Figure:
    """Stacked bars of each policy's components, its variants side by side, linear y in ms/s."""
    groups = _by_policy(results)
    check_panels(len(groups), "policies with a breakdown")
    widest = max((len(g) for g in groups.values()), default=1)
    fig = new_figure((max(7.0, 2.0 + 1.3 * widest), 0.6 + 3.2 * max(len(groups), 1)))
    axes = fig.subplots(max(len(groups), 1), 1, squeeze=False)
    for ax, (policy, bars) in zip(axes[:, 0], groups.items()):
        _panel(ax, policy, bars)
    caption(fig, results)
    return layout(fig)


def _panel(ax, policy: str, bars: list[tuple[PolicyResult, Split]]) -> None:
    names = list(dict.fromkeys(p.name for _, s in bars for p in s.parts if p.name != REST))
    colors = {n: f"C{k % 10}" for k, n in enumerate(names)} | {REST: REST_COLOR}
    shown: set[str] = set()
    for x, (_, s) in enumerate(bars):
        bottom = 0.0
        for part in s.parts:
            height = max(part.median_ms, 0.0)
            ax.bar(
                x,
                height,
                bottom=bottom,
                color=colors[part.name],
                width=0.6,
                label=plain(part.name) if part.name not in shown else None,
            )
            shown.add(part.name)
            bottom += height
    ax.set_xticks(
        range(len(bars)),
        [plain(f"{label(r)}\n{s.refills} refill{'s' if s.refills != 1 else ''}") for r, s in bars],
        fontsize=8,
    )
    ax.set_xlim(-0.75, max(len(bars), 3) - 0.25)  # a lone bar no wider than one of three
    ax.set_title(plain(f"{policy_name(policy)}: refill by component (median per refill)"), fontsize=10, loc="left")
    ax.set_ylabel("time per refill")
    duration_axis(ax.yaxis, log=False)
    ax.grid(True, axis="y", alpha=0.3)
    legend_outside(ax)


def has_breakdown(results: RunResults) -> bool:
    """Whether a measured result of ``results`` has a breakdown to draw."""
    return bool(split_results(results))
