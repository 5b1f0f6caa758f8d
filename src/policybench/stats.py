"""Pure statistics over sequences of latencies (milliseconds in, milliseconds out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


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


# A phase's statistics as the results file holds them (milliseconds): count, mean_ms, median_ms,
# min_ms, max_ms, p90_ms, p99_ms, std_ms, median_ci_ms. The typed, public face of the same is
# api.Phase; this is the JSON it is read from.
Summary = dict[str, Any]


def summarize(values: Sequence[float]) -> Summary:
    """count, mean, median, min, max, p90, p99 and sample standard deviation, all in ms, and the
    median's 95 % interval (``median_ci_ms``: [low, high], None below 6 values: median_interval).
    With no values every statistic is None and count is 0."""
    n = len(values)
    if n == 0:
        return {
            "count": 0,
            "mean_ms": None,
            "median_ms": None,
            "min_ms": None,
            "max_ms": None,
            "p90_ms": None,
            "p99_ms": None,
            "std_ms": None,
            "median_ci_ms": None,
        }
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
        "median_ci_ms": list(interval) if (interval := median_interval(values)) else None,
    }


def samples_needed(q: float) -> int:
    """The samples a q-th percentile (0 <= q < 100) needs to be a claim of its own: at least one
    sample must lie above it, so n >= 100 / (100 - q): p90 needs 10, p99 needs 100. With fewer,
    the "percentile" is the maximum (or an interpolation towards it) under another name. This is
    the one rule every report uses."""
    if not 0 <= q < 100:
        raise ValueError(f"a percentile between 0 and 100 (100 excluded), got {q}")
    return max(1, math.ceil(100 / (100 - q) - 1e-9))


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """The distribution-free confidence interval of the median: the k-th and (n-k+1)-th order
    statistics, with k the largest for which the exact binomial coverage P(k <= B <= n-k),
    B ~ Binomial(n, 1/2), is at least ``confidence``. None when even (min, max) covers less
    (at 95 %, n < 6).

    Not a bootstrap: with a handful of samples (3 refills) a bootstrap interval is an artefact
    of the few values it resamples, its coverage unknown and below nominal, and it depends on a
    seed; this one is exact for any continuous distribution, deterministic, and says so when
    the samples cannot support an interval."""
    n = len(values)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence between 0 and 1, got {confidence}")
    if n < 2:
        return None
    k = n // 2  # start at the centre and widen one order statistic on each side at a time
    pmf = math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2))
    upper = pmf * (n - k) / (k + 1)  # P(B = k + 1)
    mass = pmf + (upper if n - k > k else 0.0)  # P(k <= B <= n - k)
    while mass < confidence - 1e-12 and k > 1:
        pmf *= k / (n - k + 1)  # P(B = k - 1)
        k -= 1
        mass += 2 * pmf
    if mass < confidence - 1e-12:
        return None
    ordered = sorted(values)
    return ordered[k - 1], ordered[n - k]


def min_samples_for_interval(confidence: float = 0.95) -> int:
    """The fewest samples median_interval gives an interval for: (min, max) covers the median
    with probability 1 - 2^(1-n), so n >= 1 + log2(1 / (1 - confidence)): 6 at 95 %."""
    return next(n for n in range(2, 10_000) if 1 - 2.0 ** (1 - n) >= confidence - 1e-12)


def interval_over_processes(medians: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """The Student-t confidence interval of the mean of several processes' medians (each process
    one independent measurement), or None with fewer than 2 processes."""
    n = len(medians)
    if n < 2:
        return None
    mean = math.fsum(medians) / n
    sd = math.sqrt(math.fsum((m - mean) ** 2 for m in medians) / (n - 1))
    half = t_quantile((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def t_quantile(p: float, df: int) -> float:
    """The p-quantile (0.5 <= p < 1) of Student's t with ``df`` degrees of freedom, by bisection
    on its distribution function (no scipy: LeRobot 0.4.4's environment has none)."""
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def _t_cdf(t: float, df: int) -> float:
    """P(T <= t) for t >= 0: 1 - I_x(df/2, 1/2) / 2 with x = df / (df + t^2)."""
    return 1 - _incomplete_beta(df / (df + t * t), df / 2, 0.5) / 2


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (continued fraction, modified Lentz)."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):
        return 1 - _incomplete_beta(1 - x, b, a)
    tiny, f, c, d = 1e-300, 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2:
            num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1 + num * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + num / c
        c = c if abs(c) > tiny else tiny
        f *= c * d
        if abs(1 - c * d) < 1e-15:
            break
    return front * (f - 1) / a
