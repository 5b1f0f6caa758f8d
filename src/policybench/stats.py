"""Pure statistics over sequences of latencies (milliseconds in, milliseconds out)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between order statistics
    (numpy's default method), so p50 equals the median."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, mean, median, min, max, p90, p99 and sample standard deviation, all in ms.
    With no values every statistic is None and count is 0."""
    n = len(values)
    if n == 0:
        return {"count": 0, **{k: None for k in ("mean_ms", "median_ms", "min_ms", "max_ms", "p90_ms", "p99_ms", "std_ms")}}
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return {
        "count": n,
        "mean_ms": mean,
        "median_ms": percentile(values, 50),
        "min_ms": min(values),
        "max_ms": max(values),
        "p90_ms": percentile(values, 90),
        "p99_ms": percentile(values, 99),
        "std_ms": math.sqrt(var),
    }
