"""Issue 30, item 8: tables wider than the terminal (100 columns where the output is no terminal)
fold into blocks of whole policies (variants, machines), the row names repeated in each; prose
notes below a table are not tables and are left as they are."""

from __future__ import annotations

from dataclasses import replace
import io
import re
from pathlib import Path

import pytest
from fakes import ok_result, run_results

from policybench.cli import main
from policybench.report.format import column_blocks
from policybench.report.realtime import render_realtime
from policybench.report.table import render_table
from policybench.results import RunResults, write_results
from policybench.terminal import PIPE_WIDTH, output_width

DATA = Path(__file__).resolve().parents[1] / "data"
VARIANTS = ["eager", "noeval", "bf16", "compile", "openvino"]


def variants() -> RunResults:
    """SmolVLA in five variants, the eager one the baseline: about 220 columns unfolded."""
    rs = []
    for k, v in enumerate(VARIANTS):
        r = ok_result("smolvla", chunk=4, cycles=6, refill_ms=2790.0 - 150 * k, step_ms=3.2 - 0.3 * k, cold_ms=9000.0)
        r = replace(r, variant=v)
        rs.append(r)
    results = run_results(rs)
    results.run["baseline"] = "smolvla"
    return results


def table_lines(text: str) -> list[str]:
    """The table's lines: up to its last rule of '='; the notes follow."""
    lines = text.splitlines()
    last = max(n for n, line in enumerate(lines) if line.startswith("=") and set(line) == {"="})
    return lines[: last + 1]


def test_blocks_keep_the_name_columns_and_whole_groups():
    widths = [20, 15, 15, 15, 10, 10]
    assert column_blocks(widths, None) == [[0, 1, 2, 3, 4, 5]]
    assert column_blocks(widths, 200) == [[0, 1, 2, 3, 4, 5]]
    assert column_blocks(widths, 60) == [[0, 1, 2], [0, 3, 4], [0, 5]]  # 20+17+17 = 54, +17 > 60; 20+17+12, +12 > 60
    assert column_blocks(widths, 60, groups=[[1, 4], [2, 5], [3]]) == [[0, 1, 4], [0, 2, 5], [0, 3]]
    assert column_blocks(widths, 10) == [[0, 1], [0, 2], [0, 3], [0, 4], [0, 5]]  # too narrow: one each


def test_the_variants_table_folds_at_100_columns():
    wide = render_table(variants(), baseline="smolvla")
    folded = render_table(variants(), baseline="smolvla", width=PIPE_WIDTH)
    assert max(len(line) for line in table_lines(wide)) > 200
    assert max(len(line) for line in table_lines(folded)) <= PIPE_WIDTH
    headers = [line for line in folded.splitlines() if line.startswith("Metric ")]
    assert len(headers) > 1
    named = [re.findall(r"SmolVLA(?:\+\w+)? \(ms\)", h) for h in headers]
    assert sorted(n for names in named for n in names) == sorted(
        ["SmolVLA (ms)"] + [f"SmolVLA+{v} (ms)" for v in VARIANTS[1:]]
    )  # each variant in one block, once
    for h in headers:  # a variant's ratio column stays beside it, headed by the baseline alone (issue 31:
        # "SmolVLA+onnxruntime-int8-static/SmolVLA" with its policy's column was wider than a pipe)
        for v in re.findall(r"SmolVLA\+(\w+) \(ms\)", h):
            assert re.search(rf"SmolVLA\+{v} \(ms\) +/SmolVLA", h), h
    assert sum(line.startswith("Refill Median (ms)") for line in folded.splitlines()) == len(headers)
    assert folded.splitlines()[1:3] == wide.splitlines()[1:3]  # title and machine line once, as before


def test_a_table_that_fits_is_as_it_was():
    small = run_results([ok_result("act", chunk=2, cycles=2, refill_ms=30.0, step_ms=0.5, cold_ms=50.0)])
    assert render_table(small, width=PIPE_WIDTH) == render_table(small)


def test_the_fleet_table_names_its_machines_above_and_fits():
    from policybench.report.fleet import build_fleet, render_fleet_table
    from policybench.results import read_results

    files = [(str(DATA / name), read_results(str(DATA / name))) for name in ("fleet_xeon.json", "fleet_orin.json")]
    f = build_fleet(files)
    text = render_fleet_table(f, width=PIPE_WIDTH)
    lines = table_lines(text)
    assert max(len(line) for line in table_lines(render_fleet_table(f))) > PIPE_WIDTH
    assert max(len(line) for line in lines) <= PIPE_WIDTH
    assert lines[2:4] == [f"machine {n + 1}: {m.name}" for n, m in enumerate(f.machines)]
    assert re.split(r"\s{2,}", lines[5]) == ["Policy", "Metric", "machine 1", "machine 2"]


def test_the_realtime_table_folds_with_its_names_repeated():
    from policybench.api import replay
    from policybench.results import read_results
    from policybench.settings import RealtimeSettings

    results = read_results(str(Path(__file__).resolve().parents[2] / "docs" / "results" / "make-bench-xeon.json"))
    entries = replay(results, RealtimeSettings(hz=(10.0, 30.0), thresholds=(0.5,)))
    wide, folded = render_realtime(entries), render_realtime(entries, width=PIPE_WIDTH)
    table = folded.split("\n\nAchieved:")[0].splitlines()
    assert max(len(line) for line in wide.split("\n\nAchieved:")[0].splitlines()) > PIPE_WIDTH
    assert max(len(line) for line in table) <= PIPE_WIDTH
    headers = [line for line in table if line.startswith("Policy ")]
    assert len(headers) == 2 and all(re.split(r"\s{2,}", h)[:3] == ["Policy", "Mode", "Hz"] for h in headers)
    assert sum(line.startswith("Diffusion  async g=0.5  30") for line in table) == 2


def test_cli_tables_in_a_pipe_take_100_columns(tmp_path, capsys):
    path = tmp_path / "variants.json"
    write_results(variants(), str(path))
    assert main(["report", str(path), "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in table_lines(out)) <= PIPE_WIDTH
    assert main(["report", str(path), "--format", "table", "-o", str(tmp_path / "table.txt")]) == 0
    assert max(len(line) for line in table_lines((tmp_path / "table.txt").read_text())) <= PIPE_WIDTH


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gives_its_own_width(monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback: shutil.os.terminal_size((80, 24)))
    assert output_width(Tty()) == 80
    assert output_width(io.StringIO()) == PIPE_WIDTH


@pytest.mark.parametrize("width", [80, 120])
def test_the_variants_table_fits_the_width_it_is_given(width):
    folded = render_table(variants(), baseline="smolvla", width=width)
    assert max(len(line) for line in table_lines(folded)) <= width


def test_a_width_narrower_than_one_variant_gives_a_block_per_variant():
    folded = render_table(variants(), baseline="smolvla", width=40)
    assert sum(line.startswith("Metric ") for line in folded.splitlines()) == len(VARIANTS)
