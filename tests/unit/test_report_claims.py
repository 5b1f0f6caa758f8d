"""Every renderer prints a median with its 95% interval ("547.12 ± 6.30") and a percentile only
where its sample count supports it ("n/a (needs 100)"): the same rule everywhere (stats)."""

import re

import pytest
from fakes import run_results

from policybench import diagnostics
from policybench.api import Results
from policybench.report.format import median_text, percentile_text
from policybench.report.html import render_html
from policybench.report.markdown import summary_rows
from policybench.report.sweep import render_sweep
from policybench.results import OK, PolicyResult
from policybench.samples import REFILL, STEP, Sample
from policybench.stats import samples_needed, summarize


def spread(policy: str, refills: list[float], steps_per_refill: int = 3, point: dict | None = None) -> PolicyResult:
    """One refill of each given latency, each followed by steps of 1.0 ms."""
    samples: list[Sample] = []
    for v in refills:
        samples.append(Sample(len(samples), REFILL, v))
        samples += [Sample(len(samples) + k, STEP, 1.0) for k in range(steps_per_refill)]
    return PolicyResult(policy, OK, samples=samples, point=point or {}, cold_start_ms=5.0)


@pytest.mark.parametrize(
    "values, text",
    [
        ([1.0, 2.0, 3.0, 4.0, 5.0], "3.00"),  # five: no interval
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "3.50 ± 2.50"),  # (1, 6): the larger side
        ([540.0, 541.0, 547.0, 547.5, 548.0, 553.0], "547.25 ± 7.25"),
        ([0.0120, 0.0123, 0.0125, 0.0125, 0.0126, 0.0128], "0.0125 ± 0.0005"),
        ([0.0125, 0.0125, 0.0125, 0.0125, 0.0125, 300.0], "0.0125 ± 299.99"),
        ([], "-"),
    ],
)
def test_median_text(values, text):
    assert median_text(summarize(values)) == text


@pytest.mark.parametrize(
    "n, q, text",
    [(9, 90, "n/a (needs 10)"), (10, 90, "8.10"), (99, 99, "n/a (needs 100)"), (100, 99, "98.01"), (0, 99, "-")],
)
def test_percentile_text(n, q, text):
    assert percentile_text(summarize([float(v) for v in range(n)]), q) == text


def test_the_sweep_table_prints_intervals_and_na():
    results = run_results(
        [
            spread("act", [10.0, 11.0, 12.0, 13.0, 14.0, 15.0], point={"cameras": "1"}),
            spread("act", [20.0, 21.0, 22.0], point={"cameras": "2"}),
        ]
    )
    lines = render_sweep(results, []).splitlines()
    assert re.split(r"\s{2,}", lines[3])[0:2] == ["ACT", "cameras=1"]
    assert "12.50 ± 2.50 ms" in lines[3] and "1.00 ± 0.00 ms" in lines[3] and lines[3].count("n/a (needs 100)") == 2
    assert "21.00 ms" in lines[4] and "±" not in lines[4].split("21.00 ms")[1]
    # the columns stay aligned: each row's Steps/Refills starts where its header does
    assert lines[1].index("Steps/Refills") == lines[3].index("18/6") == lines[4].index("9/3")


def test_markdown_and_html_print_the_same_cells():
    results = run_results([spread("act", [float(v) for v in range(1, 21)])])
    (row,) = summary_rows(results)
    # 20 refills 1..20: median 10.5, interval (6, 15) -> ± 4.50; 60 steps of 1.0
    assert row[3:7] == ["1.00 ± 0.00", "n/a (needs 100)", "10.50 ± 4.50", "n/a (needs 100)"]
    html = render_html(results, pngs={})
    assert "<td>10.50 ± 4.50</td>" in html and "<td>n/a (needs 100)</td>" in html


def test_the_library_phase_holds_the_interval():
    result = Results(run_results([spread("act", [float(v) for v in range(1, 21)])]))["act"]
    assert result.refill.median_ci_ms == [6.0, 15.0] and result.refill.median_ms == 10.5


def test_the_p99_warning_uses_the_same_count():
    assert diagnostics.MIN_REFILLS_FOR_P99 == samples_needed(99) == 100
