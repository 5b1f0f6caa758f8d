"""The terminal table on hand-made results.

smolvla (baseline): 2 cycles of chunk 4, refill 4.0 ms, steps 1.0 ms, cold 8.0 ms.
act: every figure half of smolvla's -> every ratio 0.50 x. pi0: double -> 2.00 x, and incomplete.
diffusion: failed.

Snapshot: tests/data/small_results.json is a committed input, tests/data/small_results_table.txt
the expected rendering. Regenerate the text (and create the JSON when missing) with
    POLICYBENCH_UPDATE_SNAPSHOTS=1 python -m pytest tests/unit/test_table.py
"""

import dataclasses
import os
import re
from pathlib import Path

import pytest
from fakes import failed_result, ok_result, run_results

from policybench.report.format import format_ms
from policybench.report.table import render_table
from policybench.results import PolicyResult, read_results, write_results
from policybench.terminal import PIPE_WIDTH

DATA = Path(__file__).resolve().parents[1] / "data"
SNAPSHOT_JSON = DATA / "small_results.json"
SNAPSHOT_TEXT = DATA / "small_results_table.txt"
UPDATE = os.environ.get("POLICYBENCH_UPDATE_SNAPSHOTS") == "1"

TIME_ROWS = ["Mean Time", "Median Time", "Min Time", "Max Time", "p90 Time", "p99 Time", "Std Dev", "Cold Start"]
PHASE_ROWS = ["Step Mean (ms)", "Step Median (ms)", "Refill Mean (ms)", "Refill Median (ms)", "Refill p99 (ms)"]


def four_policies():
    return run_results(
        [
            ok_result("smolvla", chunk=4, cycles=2, refill_ms=4.0, step_ms=1.0, cold_ms=8.0),
            ok_result("act", chunk=4, cycles=2, refill_ms=2.0, step_ms=0.5, cold_ms=4.0),
            failed_result("diffusion", "OutOfMemoryError: CUDA out of memory\nTried to allocate 2.00 GiB"),
            ok_result("pi0", chunk=4, cycles=2, refill_ms=8.0, step_ms=2.0, cold_ms=16.0, complete=False),
        ]
    )


def cells(table: str, label: str) -> list[str]:
    """The cells of the row that starts with ``label`` (cells are separated by 2+ spaces)."""
    rows = [line for line in table.splitlines() if line.startswith(label + "  ") or line == label]
    assert len(rows) == 1, f"{label!r}: {rows}"
    return re.split(r"\s{2,}", rows[0])


@pytest.fixture(scope="module")
def table():
    return render_table(four_policies(), baseline="smolvla")


def test_headers(table):
    assert cells(table, "Metric") == [
        "Metric",
        "SmolVLA (ms)",
        "ACT (ms)",
        "Diffusion (ms)",
        "pi0 (ms)",
        "ACT/SmolVLA",
        "Diff/SmolVLA",
        "pi0/SmolVLA",
    ]


def test_values_of_the_baseline(table):
    # [4, 1, 1, 1] twice: mean 1.75, median 1, p90 and p99 4, std sqrt(13.5 / 7) = 1.389
    got = {label: cells(table, label)[1] for label in TIME_ROWS + PHASE_ROWS}
    # median intervals: 8 values -> (min, max) = (1, 4), so 1.00 ± 3.00; 6 steps of 1.0 -> ± 0.00;
    # 2 refills support none. 8 values support no p90 (needs 10), 8 and 2 no p99 (needs 100).
    assert got == {
        "Mean Time": "1.75",
        "Median Time": "1.00 ± 3.00",
        "Min Time": "1.00",
        "Max Time": "4.00",
        "p90 Time": "n/a (needs 10)",
        "p99 Time": "n/a (needs 100)",
        "Std Dev": "1.39",
        "Cold Start": "8.00",
        "Step Mean (ms)": "1.00",
        "Step Median (ms)": "1.00 ± 0.00",
        "Refill Mean (ms)": "4.00",
        "Refill Median (ms)": "4.00",
        "Refill p99 (ms)": "n/a (needs 100)",
    }


def test_sub_millisecond_values_keep_three_significant_digits(table):
    assert cells(table, "Mean Time")[2] == "0.875"
    assert cells(table, "Step Mean (ms)")[2] == "0.500"


UNSUPPORTED = ["p90 Time", "p99 Time", "Refill p99 (ms)"]  # 8 samples, 2 refills


@pytest.mark.parametrize("label", [row for row in TIME_ROWS + PHASE_ROWS if row not in UNSUPPORTED])
def test_ratio_columns(table, label):
    row = cells(table, label)
    assert row[-3:] == ["0.50 x", "-", "2.00 x"]  # act, failed diffusion, pi0


@pytest.mark.parametrize("label", UNSUPPORTED)
def test_a_percentile_the_count_does_not_support_is_na_and_has_no_ratio(table, label):
    needed = "10" if label.startswith("p90") else "100"
    assert cells(table, label)[1:] == [f"n/a (needs {needed})"] * 2 + ["failed", f"n/a (needs {needed})", "-", "-", "-"]


def test_a_percentile_with_enough_samples_is_a_number_with_its_ratio():
    # 25 cycles of chunk 4: 100 samples (p90 and p99 supported), 25 refills (p99 not)
    results = run_results([ok_result("smolvla", 4, 25, 4.0, 1.0, 8.0), ok_result("act", 4, 25, 2.0, 0.5, 4.0)])
    table = render_table(results, baseline="smolvla")
    assert cells(table, "p90 Time") == ["p90 Time", "4.00", "2.00", "0.50 x"]
    assert cells(table, "p99 Time") == ["p99 Time", "4.00", "2.00", "0.50 x"]
    assert cells(table, "Refill p99 (ms)") == ["Refill p99 (ms)", "n/a (needs 100)", "n/a (needs 100)", "-"]
    # 25 refills of 4.0: the interval is (4, 4); 100 values, 75 of them 1.0: the median's interval is all 1.0
    assert cells(table, "Refill Median (ms)")[1:3] == ["4.00 ± 0.00", "2.00 ± 0.00"]
    assert cells(table, "Median Time")[1:3] == ["1.00 ± 0.00", "0.500 ± 0.000"]


@pytest.mark.parametrize("label", TIME_ROWS + PHASE_ROWS)
def test_failed_policy_cells(table, label):
    assert cells(table, label)[3] == "failed"


def test_counts(table):
    assert cells(table, "Successful Runs") == ["Successful Runs", "8", "8", "0", "8"]
    assert cells(table, "Step/Refill Count") == ["Step/Refill Count", "6/2", "6/2", "-/-", "6/2"]


def test_notes(table):
    tail = table.rstrip("\n").split("\n")
    last_rule = max(i for i, line in enumerate(tail) if set(line) == {"="})
    assert tail[last_rule + 1 :] == [
        "Diffusion failed: OutOfMemoryError: CUDA out of memory",
        "pi0: stopped by --max-seconds before its full refill cycles (2 refills measured)",
        "±: the 95 % interval of the median within one process; a fresh process can land outside it "
        "(--processes 3 measures the spread between processes)",
        "ACT vs SmolVLA: step median 0.50x, refill median 0.50x",
        "pi0 vs SmolVLA: step median 2.00x, refill median 2.00x",
    ]


def test_machine_line(table):
    assert "device cpu (Test CPU), torch 2.0.0, lerobot 0.4.4, profile so100, threads 2" in table.splitlines()[2]


def test_no_baseline_no_ratio_columns():
    table = render_table(four_policies(), baseline=None)
    assert cells(table, "Metric") == ["Metric", "SmolVLA (ms)", "ACT (ms)", "Diffusion (ms)", "pi0 (ms)"]
    assert cells(table, "Mean Time") == ["Mean Time", "1.75", "0.875", "failed", "3.50"]
    assert " vs " not in table


def test_failed_baseline_gives_dash_ratios():
    results = four_policies()
    table = render_table(results, baseline="diffusion")
    assert cells(table, "Metric")[-3:] == ["SmolVLA/Diff", "ACT/Diff", "pi0/Diff"]
    assert cells(table, "Mean Time")[-3:] == ["-", "-", "-"]


def test_rows_align_with_headers(table):
    lines = [line for line in table.splitlines() if line.startswith(("Metric", "Mean Time", "Cold Start"))]
    starts = [[m.start() for m in re.finditer(r"(?<=  )\S", line)] for line in lines]
    assert starts[0] == starts[1] == starts[2]


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "-"),
        (0.0, "0.00"),
        (1.0, "1.00"),
        (12.345, "12.35"),
        (0.5, "0.500"),
        (0.0125, "0.0125"),
        (0.00162, "0.00162"),
        # a negative figure (an overhead a round trip saves) raised "Format specifier missing precision"
        (-1500.0, "-1500.00"),
        (-0.5, "-0.500"),
        (float("nan"), "nan"),
    ],
)
def test_format_ms(value, text):
    assert format_ms(value) == text


# --- snapshot ----------------------------------------------------------------------------------


def small_results():
    return run_results(
        [
            ok_result("smolvla", chunk=3, cycles=2, refill_ms=152.5, step_ms=0.0125, cold_ms=410.0),
            ok_result("act", chunk=3, cycles=2, refill_ms=30.5, step_ms=0.25, cold_ms=95.25),
            failed_result("diffusion", "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"),
        ]
    )


def test_table_snapshot():
    if UPDATE:
        DATA.mkdir(exist_ok=True)
        if not SNAPSHOT_JSON.exists():  # the input is committed once; only the rendering is regenerated
            write_results(small_results(), str(SNAPSHOT_JSON))
        SNAPSHOT_TEXT.write_text(render_table(read_results(str(SNAPSHOT_JSON)), "smolvla", width=PIPE_WIDTH))
    # as a pipe shows it (notes folded at 100 columns), which is what `report --format table` prints there
    rendered = render_table(read_results(str(SNAPSHOT_JSON)), baseline="smolvla", width=PIPE_WIDTH)
    assert rendered == SNAPSHOT_TEXT.read_text(), "rerun with POLICYBENCH_UPDATE_SNAPSHOTS=1 if the change is intended"


def test_ratio_headers_name_a_variant_by_its_policys_label():
    from policybench.report.format import short

    def result(policy: str, variant: str | None = None) -> PolicyResult:
        return PolicyResult(policy, "ok", variant=variant)

    assert short(result("smolvla", "compile")) == "SmolVLA+compile"
    assert short(result("diffusion", "openvino")) == "Diff+openvino"
    assert short(result("diffusion")) == "Diff" and short(result("/ckpt/a+b/model")) == "/ckpt/a+b/model"


def test_notes_fold_to_the_width_of_a_pipe():
    """In a pipe (100 columns) every line of the table fits, its notes folded at spaces with an
    indented continuation; without a width the notes stay one line each."""
    results = four_policies()
    folded = render_table(results, "smolvla", width=100).splitlines()
    assert all(len(line) <= 100 for line in folded), [line for line in folded if len(line) > 100]
    whole = render_table(results, "smolvla").splitlines()
    last_rule = max(i for i, line in enumerate(whole) if line.startswith("="))
    long_notes = [line for line in whole[last_rule + 1 :] if len(line) > 100]  # the notes under the table
    assert long_notes  # the ± note is longer than a pipe's width: the test folds something
    joined = " ".join(line.strip() for line in folded)
    for note in long_notes:
        assert note in joined  # folded, nothing lost
        first = note[:100].rsplit(" ", 1)[0]
        after = folded[folded.index(first) + 1]
        assert after.startswith("  ") and not after.startswith("   ")


def test_a_run_cut_before_its_first_step_does_not_say_the_policy_has_no_queue():
    """pi0-FAST's one 160 s refill outran --max-seconds: no step was timed, though it queues 50 actions."""
    from policybench.report.details import missing_reasons
    from policybench.samples import REFILL, Sample

    cut = PolicyResult("pi0_fast", "ok", config={"n_action_steps": 50}, samples=[Sample(0, REFILL, 160764.0)])
    cut = dataclasses.replace(cut, complete=False, params=3450, cold_start_ms=168317.0)
    assert missing_reasons(cut, [cut]) == [
        "step: none measured before --max-seconds stopped it (it queues 50 actions a refill)"
    ]
    every_call = dataclasses.replace(cut, config={"n_action_steps": 1}, complete=True)  # no queue: each call refills
    assert missing_reasons(every_call, [every_call]) == [
        "step: every call computed a chunk (no action queue, or temporal ensembling)"
    ]


def test_a_table_of_long_variant_names_folds_to_a_pipe_with_each_ratio_beside_its_policy():
    """SmolVLA's `--variant auto` table was 103 columns in a pipe: one policy column with its ratio
    column ("SmolVLA+onnxruntime-int8-static/SmolVLA") was wider than any block. Folded, a ratio
    column stands beside its policy's and is headed by the baseline alone."""
    base = ok_result("smolvla", chunk=3, cycles=2, refill_ms=2810.7, step_ms=2.4, cold_ms=2699.9)
    names = ["onnxruntime-int8-static", "openvino-int8-static", "bf16-weights"]
    variants = [dataclasses.replace(base, variant=v) for v in names]
    results = run_results([base, *variants])
    results = dataclasses.replace(results, environment={**results.environment, "device_name": "Intel Xeon " * 12})
    folded = render_table(results, "smolvla", width=100).splitlines()
    assert all(len(line) <= 100 for line in folded), [line for line in folded if len(line) > 100]
    headers = [line.split() for line in folded if line.startswith("Metric")]
    assert ["Metric", "SmolVLA", "(ms)", "SmolVLA+onnxruntime-int8-static", "(ms)", "/SmolVLA"] in headers
    whole = render_table(results, "smolvla")  # unfolded, the ratio columns come last: named in full
    assert "SmolVLA+onnxruntime-int8-static/SmolVLA" in whole
