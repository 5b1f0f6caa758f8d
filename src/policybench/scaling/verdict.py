"""Does a sweep hold a control rate: per policy, the largest value on an axis that does."""

from __future__ import annotations

from policybench.results import RunResults
from policybench.scaling.axes import Axis
from policybench.scaling.fit import series


def holding(
    results: RunResults, axis: Axis, axes: list[Axis], hz: float, threshold: float = 0.5
) -> list[dict[str, object]]:
    """Per policy (and value of the other axis), the largest value on ``axis`` that holds ``hz``
    in sync mode (no missed deadline) and in async mode (no starved tick), each point replayed
    through the realtime simulator on its own samples; with the headroom its worst refill leaves
    (sync: the period; async: the ticks a chunk may take at ``threshold``)."""
    from policybench.control.simulate import costs_from_result, simulate_async, simulate_sync

    period_ms = 1000.0 / hz
    ticks = max(int(round(10 * hz)), 2)
    rows = []
    for s in series(results, axis, axes):
        row: dict[str, object] = {
            "policy": s.policy,
            "variant": s.variant,
            "group": s.group,
            "sync": None,
            "async": None,
        }
        for _, _, value, r in s.points:  # in axis order: the last that holds is the largest
            costs = costs_from_result(r)
            worst = max(costs.refill) * 1000
            if simulate_sync(costs, hz, ticks)["deadline_misses"] == 0:
                row["sync"] = (value, period_ms - worst)
            if simulate_async(costs, hz, ticks, threshold, "weighted_average")["starved_ticks"] == 0:
                row["async"] = (value, period_ms * costs.chunk * threshold - worst)
        rows.append(row)
    return rows
