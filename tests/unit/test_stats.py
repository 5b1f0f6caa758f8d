import math

import numpy as np
import pytest

from policybench.stats import percentile, summarize

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
    }


def test_summarize_single_value_has_zero_std():
    s = summarize([7.5])
    assert s["count"] == 1
    assert s["std_ms"] == 0.0
    assert s["mean_ms"] == s["median_ms"] == s["min_ms"] == s["max_ms"] == s["p90_ms"] == s["p99_ms"] == 7.5
