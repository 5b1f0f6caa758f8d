import math

import numpy as np
import pytest

from policybench.stats import (
    interval_over_processes,
    median_interval,
    min_samples_for_interval,
    percentile,
    samples_needed,
    summarize,
    t_quantile,
)

LISTS = [
    [1.0, 2.0, 3.0, 4.0],
    [5.0],
    [3.5, 1.25, 9.0, 0.5, 7.75, 2.0, 2.0],
    [float(v) for v in range(1, 101)],
    [0.013, 12.5, 0.7, 3.3, 250.0, 0.02, 41.0, 6.0, 6.0, 1.1, 0.9],
]


@pytest.mark.parametrize(
    "q, expected",
    [(0, 1.0), (25, 1.75), (50, 2.5), (90, 3.7), (99, 3.97), (100, 4.0)],
)
def test_percentile_by_hand(q, expected):
    # (n - 1) * q / 100 is the position between order statistics; [4, 1, 3, 2] is unsorted on purpose
    assert percentile([4.0, 1.0, 3.0, 2.0], q) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("values", LISTS)
@pytest.mark.parametrize("q", [0, 10, 25, 50, 75, 90, 99, 100])
def test_percentile_matches_numpy_linear(values, q):
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q, method="linear")), rel=1e-9, abs=1e-12)


def test_percentile_of_nothing_raises():
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summarize_by_hand():
    s = summarize([4.0, 1.0, 3.0, 2.0])
    assert s["count"] == 4
    assert s["mean_ms"] == 2.5
    assert s["median_ms"] == 2.5
    assert s["min_ms"] == 1.0 and s["max_ms"] == 4.0
    assert s["p90_ms"] == pytest.approx(3.7, abs=1e-12)
    assert s["p99_ms"] == pytest.approx(3.97, abs=1e-12)
    # sample standard deviation (n - 1): squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, / 3
    assert s["std_ms"] == pytest.approx(math.sqrt(5 / 3), abs=1e-12)


@pytest.mark.parametrize("values", LISTS[2:])
def test_summarize_matches_numpy(values):
    s = summarize(values)
    assert s["count"] == len(values)
    assert s["mean_ms"] == pytest.approx(float(np.mean(values)), rel=1e-9)
    assert s["median_ms"] == pytest.approx(float(np.median(values)), rel=1e-9)
    assert s["min_ms"] == min(values) and s["max_ms"] == max(values)
    assert s["p90_ms"] == pytest.approx(float(np.percentile(values, 90)), rel=1e-9)
    assert s["p99_ms"] == pytest.approx(float(np.percentile(values, 99)), rel=1e-9)
    assert s["std_ms"] == pytest.approx(float(np.std(values, ddof=1)), rel=1e-9)


def test_summarize_empty_is_count_zero_and_none():
    s = summarize([])
    assert s == {
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


def test_summarize_single_value_has_zero_std():
    s = summarize([7.5])
    assert s["count"] == 1
    assert s["std_ms"] == 0.0
    assert s["mean_ms"] == s["median_ms"] == s["min_ms"] == s["max_ms"] == s["p90_ms"] == s["p99_ms"] == 7.5


# ----------------------------------------------------------------------------- median_interval


def test_five_samples_support_no_interval_six_give_min_and_max():
    # (min, max) covers the median with probability 1 - 2 / 2^n: 0.9375 for 5, 0.96875 for 6
    assert median_interval([5.0, 1.0, 4.0, 2.0, 3.0]) is None
    assert median_interval([6.0, 1.0, 5.0, 2.0, 4.0, 3.0]) == (1.0, 6.0)
    assert median_interval([]) is None and median_interval([1.0]) is None
    assert min_samples_for_interval() == 6 and min_samples_for_interval(0.99) == 8


def test_twenty_samples_give_the_6th_and_15th():
    # P(B <= 5) = 0.0207 for B ~ Binomial(20, 1/2): coverage 0.9586 >= 0.95; the 7th and 14th
    # would cover only 1 - 2 * P(B <= 6) = 0.885
    values = [float(v) for v in range(20, 0, -1)]  # 20 .. 1, unsorted on purpose
    assert median_interval(values) == (6.0, 15.0)
    assert median_interval(values, confidence=0.8) == (7.0, 14.0)


@pytest.mark.parametrize("n", range(2, 80))
def test_the_narrowest_order_statistics_with_exact_coverage(n):
    best = None
    for k in range(1, n // 2 + 1):
        if sum(math.comb(n, i) for i in range(k, n - k + 1)) / 2**n >= 0.95:
            best = k
    expected = None if best is None else (float(best), float(n - best + 1))
    assert median_interval([float(v) for v in range(1, n + 1)]) == expected


def test_a_million_samples_give_a_narrow_interval():
    values = np.random.default_rng(0).random(1_000_000).tolist()
    low, high = median_interval(values)
    assert low < float(np.median(values)) < high and high - low < 0.003


@pytest.mark.parametrize("n", [6, 10, 20, 50])
def test_the_interval_covers_the_true_median_at_its_nominal_rate(n):
    """2,000 seeded samples of n from a skewed distribution (lognormal, true median 1): the 95 %
    interval covers 1 in the share its exact binomial coverage says, and never less than ~95 %."""
    rng = np.random.default_rng(19)
    runs = 2000
    draws = rng.lognormal(0.0, 1.0, size=(runs, n))
    covered = 0
    for row in draws:
        low, high = median_interval(row.tolist())
        covered += low <= 1.0 <= high
    k = next(k for k in range(n // 2, 0, -1) if sum(math.comb(n, i) for i in range(k, n - k + 1)) / 2**n >= 0.95)
    nominal = sum(math.comb(n, i) for i in range(k, n - k + 1)) / 2**n
    sd = math.sqrt(nominal * (1 - nominal) / runs)
    assert abs(covered / runs - nominal) < 3.5 * sd
    assert covered / runs >= 0.94


def test_summary_holds_the_median_interval():
    assert summarize([float(v) for v in range(1, 21)])["median_ci_ms"] == [6.0, 15.0]
    assert summarize([1.0, 2.0, 3.0])["median_ci_ms"] is None


# ----------------------------------------------------------------------------- percentiles' counts


@pytest.mark.parametrize("q, n", [(50, 2), (90, 10), (95, 20), (99, 100), (99.9, 1000), (0, 1)])
def test_samples_a_percentile_needs(q, n):
    assert samples_needed(q) == n


@pytest.mark.parametrize("q", [100, -1, 101])
def test_samples_needed_refuses_what_no_count_supports(q):
    with pytest.raises(ValueError):
        samples_needed(q)


# ----------------------------------------------------------------------------- several processes


@pytest.mark.parametrize(
    "p, df, expected",
    [
        (0.975, 1, 12.706204736174694),
        (0.975, 2, 4.302652729749462),
        (0.975, 4, 2.7764451051977934),
        (0.975, 10, 2.228138851986274),
        (0.975, 30, 2.0422724563012378),
        (0.95, 5, 2.0150483733330233),
    ],
)
def test_t_quantile_matches_the_tables(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-10)


def test_interval_over_processes_by_hand():
    # mean 12, sd 2, t(0.975, 2) = 4.3027: 12 -+ 4.3027 * 2 / sqrt(3)
    half = 4.302652729749462 * 2 / math.sqrt(3)
    assert interval_over_processes([10.0, 14.0, 12.0]) == pytest.approx((12 - half, 12 + half), rel=1e-10)
    assert interval_over_processes([5.0, 5.0]) == (5.0, 5.0)
    assert interval_over_processes([5.0]) is None and interval_over_processes([]) is None


def test_interval_over_processes_covers_the_true_mean_at_95_percent():
    rng = np.random.default_rng(19)
    draws = rng.normal(100.0, 10.0, size=(2000, 3))
    covered = sum(low <= 100.0 <= high for low, high in (interval_over_processes(row.tolist()) for row in draws))
    assert abs(covered / 2000 - 0.95) < 3.5 * math.sqrt(0.95 * 0.05 / 2000)
