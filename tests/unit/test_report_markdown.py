"""Markdown report of committed result files, compared with committed expected text.

Inputs: tests/data/small_results.json (also used by test_table.py) and tests/data/mixed_results.json,
built by ``mixed_results()`` below: latencies that differ within a phase (so medians and p99s
interpolate), a policy cut short by --max-seconds, one without params or cold start, and a failed
one whose error holds Markdown and HTML special characters.

Regenerate the expected files (and create mixed_results.json when missing) with
    POLICYBENCH_UPDATE_SNAPSHOTS=1 python -m pytest tests/unit/test_report_markdown.py
"""

import os
from pathlib import Path

import pytest
from fakes import failed_result, ok_result, run_results

from policybench.diagnostics import diagnose
from policybench.report.markdown import COLUMNS, render_markdown
from policybench.results import OK, PolicyResult, read_results, write_results
from policybench.samples import REFILL, STEP, Sample

DATA = Path(__file__).resolve().parents[1] / "data"
UPDATE = os.environ.get("POLICYBENCH_UPDATE_SNAPSHOTS") == "1"
INPUTS = ["small_results", "mixed_results"]

MIXED_ERROR = "RuntimeError: bad <b>shape</b> | 3 != 4\nthe second line is not shown"


def phased(*pairs: tuple[str, float]) -> list[Sample]:
    return [Sample(i, phase, ms) for i, (phase, ms) in enumerate(pairs)]


def mixed_results():
    R, S = REFILL, STEP
    smolvla = PolicyResult(
        "smolvla",
        OK,
        config={"chunk_size": 4, "n_action_steps": 4, "inference_steps": None},
        params=450_000_000,
        samples=phased(
            (R, 100.0),
            (S, 0.5),
            (S, 0.25),
            (S, 0.75),
            (R, 120.0),
            (S, 0.5),
            (S, 1.0),
            (S, 0.25),
            (R, 110.0),
            (S, 0.5),
            (S, 0.75),
            (S, 0.5),
        ),
        cold_start_ms=400.0,
        build_seconds=2.0,
        complete=True,
    )
    act = PolicyResult(
        "act",
        OK,
        config={"chunk_size": 2, "n_action_steps": 2, "inference_steps": None},
        params=None,
        samples=phased((R, 30.5), (S, 0.125), (R, 31.5), (S, 0.375)),
        cold_start_ms=None,
        build_seconds=0.5,
        complete=True,
    )
    pi0 = PolicyResult(  # stopped by --max-seconds in the middle of its second cycle
        "pi0",
        OK,
        config={"chunk_size": 3, "n_action_steps": 3, "inference_steps": 10},
        params=3_000_000_000,
        samples=phased((R, 200.0), (S, 2.0), (S, 4.0), (R, 300.0), (S, 3.0)),
        cold_start_ms=3000.0,
        build_seconds=9.0,
        complete=False,
    )
    return run_results([smolvla, act, pi0, failed_result("diffusion", MIXED_ERROR)])


def load(name: str):
    return read_results(str(DATA / f"{name}.json"))


def rendered(name: str) -> str:
    """What ``policybench report --format md`` prints: the table, failures, then the warnings."""
    results = load(name)
    return render_markdown(results, diagnose(results))


def test_mixed_input_is_what_the_builder_makes():
    if UPDATE and not (DATA / "mixed_results.json").exists():  # the input is committed once
        write_results(mixed_results(), str(DATA / "mixed_results.json"))
    assert load("mixed_results").to_json() == mixed_results().to_json()


@pytest.mark.parametrize("name", INPUTS)
def test_markdown_snapshot(name):
    expected = DATA / f"{name}.md"
    if UPDATE:
        expected.write_text(rendered(name))
    assert rendered(name) == expected.read_text(), "rerun with POLICYBENCH_UPDATE_SNAPSHOTS=1 if the change is intended"


def table_rows(markdown: str, table: int = 0) -> list[list[str]]:
    """The cells of the ``table``-th table (0: the summary, 1: the details below it)."""
    tables = [block.splitlines() for block in markdown.split("\n\n") if block.startswith("|")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in tables[table]]


@pytest.mark.parametrize("name", INPUTS)
def test_one_row_per_policy_after_header_and_rule(name):
    results = load(name)
    rows = table_rows(render_markdown(results))
    assert rows[0] == COLUMNS
    assert set(rows[1][0].split("|")) == {"---", "---:"} and len(rows[1][0].split("|")) == len(COLUMNS)
    assert len(rows) == 2 + len(results.results)
    assert all(len(row) == len(COLUMNS) for row in rows[2:])


def test_mixed_rows_by_hand():
    # smolvla steps sorted 0.25 0.25 0.5 0.5 0.5 0.5 0.75 0.75 1.0: median 0.5, p99 0.75 + 0.92 * 0.25 = 0.98
    # smolvla refills 100 110 120: median 110, p99 110 + 0.98 * 10 = 119.8
    # act steps 0.125 0.375: median 0.25, p99 0.125 + 0.99 * 0.25 = 0.3725 (0.372 in binary); refills 30.5 31.5
    # pi0 steps 2 3 4: median 3, p99 3.98; refills 200 300: median 250, p99 299
    # (the p99s are in the CSV: no count here reaches the 100 a p99 needs, so the table says n/a)
    # smolvla's 9 steps: the median's 95% interval is the 2nd and 8th, 0.25 and 0.75 (coverage
    # 1 - 2 * 10 / 512 = 0.961), so 0.500 ± 0.250; below 6 samples there is no interval
    rows = table_rows(render_markdown(load("mixed_results")))[2:]
    na = "n/a (needs 100)"
    assert rows == [
        ["SmolVLA", "ok", "450.0", "0.500 ± 0.250", na, "110.00", na, "120.00", "400.00", "9/3"],
        ["ACT", "ok", "-", "0.250", na, "31.00", na, "31.50", "-", "2/2"],
        ["pi0", "ok (cut by --max-seconds)", "3000.0", "3.00", na, "250.00", na, "300.00", "3000.00", "3/2"],
        ["Diffusion", "failed", "-", "-", "-", "-", "-", "-", "-", "-"],
    ]


def test_failure_first_line_is_listed_and_pipes_are_escaped():
    text = render_markdown(load("mixed_results"))
    assert "- Diffusion failed: RuntimeError: bad <b>shape</b> \\| 3 != 4" in text.splitlines()
    assert "second line" not in text


def test_notes_become_bullets_after_the_failures():
    text = render_markdown(run_results([failed_result("act", "boom")]), notes=["use --refills 100", "a | b"])
    assert text.splitlines()[-3:] == ["- ACT failed: boom", "- use --refills 100", "- a \\| b"]


def test_no_failures_no_notes_no_bullets():
    text = render_markdown(run_results([ok_result("act", chunk=2, cycles=1, refill_ms=2.0, step_ms=1.0, cold_ms=3.0)]))
    assert len(table_rows(text)) == 3
    assert not [line for line in text.splitlines() if line.startswith("- ")]


def test_machine_line_is_bold_first_line():
    assert rendered("small_results").splitlines()[0] == (
        "**device cpu (Test CPU), torch 2.0.0, lerobot 0.4.4, profile so100, threads 2**"
    )
