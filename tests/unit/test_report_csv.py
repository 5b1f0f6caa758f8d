"""CSV summaries and raw samples of committed result files, compared with committed expected text.

Inputs: tests/data/small_results.json and tests/data/mixed_results.json (built in test_report_markdown.py).
Regenerate the expected *.summary.csv and *.samples.csv with
    POLICYBENCH_UPDATE_SNAPSHOTS=1 python -m pytest tests/unit/test_report_csv.py
"""

import csv
import io
import os
from pathlib import Path

import pytest

from policybench.report.csv import STAT_KEYS, SUMMARY_HEADER, render_samples_csv, render_summary_csv
from policybench.results import OK, read_results
from policybench.samples import REFILL, STEP, Sample

DATA = Path(__file__).resolve().parents[1] / "data"
UPDATE = os.environ.get("POLICYBENCH_UPDATE_SNAPSHOTS") == "1"
INPUTS = ["small_results", "mixed_results"]
RENDERERS = {"summary": render_summary_csv, "samples": render_samples_csv}
NEW_COLUMNS = [
    "stage",
    "variant",
    "equivalent",
    "rel_error",
    "tolerance",
    "verdict",
    "missing",
    "median_ci_low_ms",
    "median_ci_high_ms",
    "p90_needs",
    "p99_needs",
]


def test_header_keeps_the_old_columns_first():
    assert SUMMARY_HEADER == ["policy", "status", "phase", *STAT_KEYS, "cold_start_ms", "params", *NEW_COLUMNS]


def load(name: str):
    return read_results(str(DATA / f"{name}.json"))


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("kind", list(RENDERERS))
@pytest.mark.parametrize("name", INPUTS)
def test_csv_snapshot(name, kind):
    expected = DATA / f"{name}.{kind}.csv"
    text = RENDERERS[kind](load(name))
    if UPDATE:
        expected.write_text(text)
    assert text == expected.read_text(), "rerun with POLICYBENCH_UPDATE_SNAPSHOTS=1 if the change is intended"


@pytest.mark.parametrize("name", INPUTS)
def test_samples_rows_are_the_samples_plus_a_header(name):
    results = load(name)
    rows = parse(render_samples_csv(results))
    assert rows[0] == ["policy", "i", "phase", "latency_ms"]
    assert len(rows) == sum(len(r.samples) for r in results.results) + 1


@pytest.mark.parametrize("name", INPUTS)
def test_samples_parse_back_to_the_exact_floats(name):
    results = load(name)
    expected = [(r.policy, s.i, s.phase, s.latency_ms) for r in results.results for s in r.samples]
    got = [(p, int(i), phase, float(ms)) for p, i, phase, ms in parse(render_samples_csv(results))[1:]]
    assert got == expected


def test_floats_that_print_badly_survive():
    # 0.1 + 0.2 and a 17-digit value would lose their last bits through "%g" or "%.6f"
    results = load("small_results")
    results.results[0].samples[:2] = [Sample(0, REFILL, 12.345678901234567), Sample(1, STEP, 0.1 + 0.2)]
    values = [float(row[3]) for row in parse(render_samples_csv(results))[1:3]]
    assert values == [12.345678901234567, 0.1 + 0.2]


@pytest.mark.parametrize("name", INPUTS)
def test_summary_parses_back_to_the_exact_statistics(name):
    results = load(name)
    rows = parse(render_summary_csv(results))
    assert rows[0] == SUMMARY_HEADER
    assert len(rows) == 1 + 3 * len(results.results)
    body = iter(rows[1:])
    for r in results.results:
        summary = r.summary()
        for phase in ("all", "step", "refill"):
            row = dict(zip(SUMMARY_HEADER, next(body)))
            assert (row["policy"], row["status"], row["phase"]) == (r.policy, r.status, phase)
            assert int(row["count"]) == summary[phase]["count"]
            for key in STAT_KEYS[1:]:
                value = summary[phase][key]
                assert (float(row[key]) if row[key] else None) == value, (r.policy, phase, key)
            assert (float(row["cold_start_ms"]) if row["cold_start_ms"] else None) == r.cold_start_ms
            assert (int(row["params"]) if row["params"] else None) == r.params


def test_failed_policy_has_empty_statistics():
    rows = [row for row in parse(render_summary_csv(load("mixed_results"))) if row[0] == "diffusion"]
    assert [row[:4] for row in rows] == [["diffusion", "failed", p, "0"] for p in ("all", "step", "refill")]
    assert all(cell == "" for row in rows for cell in row[4:])


def test_mixed_summary_by_hand():
    # pi0 (cut short): refills 200 300 -> median 250, p99 299; steps 2 4 3 -> median 3, mean 3
    rows = {
        (row[0], row[2]): dict(zip(SUMMARY_HEADER, row)) for row in parse(render_summary_csv(load("mixed_results")))[1:]
    }
    pi0_refill, pi0_step = rows[("pi0", "refill")], rows[("pi0", "step")]
    assert (pi0_refill["count"], pi0_refill["median_ms"], pi0_refill["p99_ms"], pi0_refill["max_ms"]) == (
        "2",
        "250.0",
        "299.0",
        "300.0",
    )
    assert (pi0_step["count"], pi0_step["median_ms"], pi0_step["mean_ms"], pi0_step["std_ms"]) == (
        "3",
        "3.0",
        "3.0",
        "1.0",
    )
    assert rows[("act", "all")]["cold_start_ms"] == "" and rows[("act", "all")]["params"] == ""
    assert all(row["status"] == OK for key, row in rows.items() if key[0] != "diffusion")


def test_the_median_interval_and_the_counts_percentiles_need():
    # smolvla's 9 steps: the 2nd and 8th of 0.25 0.25 0.5 0.5 0.5 0.5 0.75 0.75 1.0; 3 refills: none
    rows = {
        (row[0], row[2]): dict(zip(SUMMARY_HEADER, row)) for row in parse(render_summary_csv(load("mixed_results")))[1:]
    }
    step, refill = rows[("smolvla", "step")], rows[("smolvla", "refill")]
    assert [step[k] for k in ("median_ci_low_ms", "median_ci_high_ms", "p90_needs", "p99_needs")] == [
        "0.25",
        "0.75",
        "10",
        "100",
    ]
    assert [refill[k] for k in ("median_ci_low_ms", "median_ci_high_ms", "p99_ms", "p99_needs")] == [
        "",
        "",
        "119.8",
        "100",
    ]


def test_samples_csv_has_a_column_per_pipeline_stage():
    import csv as csvlib
    import io

    from policybench.report.csv import render_samples_csv
    from policybench.results import OK, PolicyResult, RunResults
    from policybench.samples import REFILL, Sample

    s = Sample(0, REFILL, 3.0, {"prepare": 0.5, "select_action": 2.5})
    rows = list(
        csvlib.reader(io.StringIO(render_samples_csv(RunResults({}, {}, [PolicyResult("act", OK, samples=[s])]))))
    )
    assert rows == [
        ["policy", "i", "phase", "latency_ms", "prepare_ms", "select_action_ms"],
        ["act", "0", "refill", "3.0", "0.5", "2.5"],
    ]
