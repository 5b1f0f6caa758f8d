"""The fleet view (report/fleet.py) over two made-up machines' files: tests/data/fleet_xeon.json
(a CPU, lerobot 0.6.1) and fleet_orin.json (a CUDA device, lerobot 0.4.4, SmolVLA at
smolvla.num_steps=5, Diffusion failed). Their refills are chosen so that every highest rate is
exact: chunk 10, slowest refill 25 / 10 / 500 / 100 ms."""

from dataclasses import replace
import dataclasses
import json
from pathlib import Path

import pytest
from fakes import assert_one_error_line

import policybench.api as api
from policybench.cli import main
from policybench.report.fleet import (
    Rates,
    build_fleet,
    fleet_cells,
    highest_held,
    machine_name,
    render_fleet_csv,
    render_fleet_table,
)
from policybench.report.html import render_fleet_html
from policybench.report.markdown import render_fleet_markdown
from policybench.report.plot_fleet import render_fleet_png
from policybench.results import read_results

DATA = Path(__file__).resolve().parents[1] / "data"
XEON, ORIN = str(DATA / "fleet_xeon.json"), str(DATA / "fleet_orin.json")
XEON_NAME = "Intel Xeon Gold 6338 (cpu, avx512f, 4 threads), torch 2.11.0, lerobot 0.6.1"
ORIN_NAME = "NVIDIA Jetson AGX Orin (cuda, driver 540.4, CUDA 12.6), torch 2.10.0, lerobot 0.4.4"


@pytest.fixture(scope="module")
def fleet():
    return build_fleet([(XEON, read_results(XEON)), (ORIN, read_results(ORIN))])


def _row(cells, policy: str, metric: str) -> list[str]:
    return next(row[2:] for row in cells[1] if row[0].startswith(policy) and row[1] == metric)


def test_machines_are_named_by_their_files_facts(fleet):
    assert [m.name for m in fleet.machines] == [XEON_NAME, ORIN_NAME]


def test_each_policy_is_a_row_group_with_a_column_per_machine(fleet):
    cells = fleet_cells(fleet)
    assert cells[0] == ["Policy", "Metric", XEON_NAME, ORIN_NAME]
    assert _row(cells, "ACT", "refill median (ms)") == ["22.00", "9.00"]
    assert _row(cells, "ACT", "step median (ms)") == ["0.500 ± 0.000", "0.200 ± 0.000"]
    assert _row(cells, "ACT", "peak RSS (MB)") == ["812", "1,500"]
    assert _row(cells, "ACT", "CUDA peak alloc (MB)") == ["-", "300"]


def test_highest_rates_are_the_simulations(fleet):
    """sync: one period holds the slowest refill (1/25 ms = 40 Hz); async g=0.5 at chunk 10: five
    periods (control.budget.async_budget_ticks) hold it (5/25 ms = 200 Hz)."""
    cells = fleet_cells(fleet)
    assert _row(cells, "ACT", "highest rate sync (Hz)") == ["40", "100"]
    assert _row(cells, "ACT", "highest rate async g=0.5 (Hz)") == ["200", "500"]
    assert _row(cells, "SmolVLA", "highest rate sync (Hz)") == ["2", "10"]
    assert _row(cells, "SmolVLA", "highest rate async g=0.5 (Hz)") == ["10", "50"]


def test_a_rate_above_every_candidate_is_found_on_the_ladder():
    """Steps slower than the exact rate's period: sync holds only on a lower rate of the ladder;
    async pops queued actions (the chunk is computed off the loop), so its rate stays."""
    r = read_results(XEON).results[0]  # ACT: refills up to 25 ms, steps 0.5 ms
    slow_steps = dataclasses.replace(
        r, samples=[dataclasses.replace(s, latency_ms=30.0) if s.phase == "step" else s for s in r.samples]
    )
    assert highest_held(slow_steps) == Rates(30.0, 200.0)  # sync: 40 Hz misses (30 ms steps), 30 Hz holds


def test_rows_measured_with_different_settings_are_marked_and_said(fleet):
    labels = [row[0] for row in fleet_cells(fleet)[1]]
    assert "SmolVLA (not comparable)" in labels and "ACT" in labels
    assert (
        "SmolVLA: not comparable: measured with different settings: --set none on machine 1; "
        "smolvla.num_steps=5 on machine 2"
    ) in fleet.notes


def test_a_profile_difference_marks_every_row(tmp_path):
    data = json.loads(Path(XEON).read_text())
    data["run"]["profile"]["cameras"] *= 2
    two = tmp_path / "two_cameras.json"
    two.write_text(json.dumps(data))
    f = build_fleet([(XEON, read_results(XEON)), (str(two), read_results(str(two)))])
    assert all(row.mismatch and "cameras 1 on machine 1; 2 on machine 2" in row.mismatch for row in f.rows)


def test_failed_and_missing_results_say_so(fleet):
    assert _row(fleet_cells(fleet), "Diffusion", "status") == ["not measured", "failed"]
    assert "Diffusion on machine 2: failed: OutOfMemoryError: CUDA out of memory" in fleet.notes


def test_same_machine_twice_is_told_apart_by_file_then_place(tmp_path):
    copy = tmp_path / "fleet_xeon.json"
    copy.write_text(Path(XEON).read_text())
    other = tmp_path / "b.json"
    other.write_text(Path(XEON).read_text())
    f = build_fleet(
        [(XEON, read_results(XEON)), (str(copy), read_results(str(copy))), (str(other), read_results(str(other)))]
    )
    assert [m.name for m in f.machines] == [
        f"{XEON_NAME} [fleet_xeon.json] #1",
        f"{XEON_NAME} [fleet_xeon.json] #2",
        f"{XEON_NAME} [b.json]",
    ]


def test_labels_name_machines_in_order_and_the_facts_are_noted():
    f = build_fleet([(XEON, read_results(XEON)), (ORIN, read_results(ORIN))], ["workstation"])
    assert [m.name for m in f.machines] == ["workstation", ORIN_NAME]
    assert f"workstation: {XEON_NAME}" in f.notes


def test_a_fleet_file_is_a_column_per_node():
    data = read_results(XEON)
    data.results = [
        replace(r, machine={"node": node, **data.environment, "threads": 1 if node == "node-b" else 4})
        for r, node in zip(data.results, ("node-a", "node-b"))
    ]
    f = build_fleet([("fleet.json", data)])
    assert [m.name for m in f.machines] == ["node-a", "node-b"]
    assert f.machines[1].environment["threads"] == 1
    assert f"node-b: {XEON_NAME.replace('4 threads', '1 thread')}" in f.notes


def test_machine_name_of_an_unknown_environment():
    assert machine_name({}) == "? (?), torch None, lerobot None"


def test_renderings_hold_the_same_cells(fleet):
    table, md, csv = render_fleet_table(fleet), render_fleet_markdown(fleet), render_fleet_csv(fleet)
    for text in (table, md, csv):
        assert XEON_NAME in text and "200" in text and "SmolVLA (not comparable)" in text
    assert md.splitlines()[2].startswith("| Policy | Metric |")
    assert csv.splitlines()[1] == "ACT,refill median (ms),22.00,9.00"
    assert "- Diffusion on machine 2: failed" in table


def test_html_embeds_the_fleet_figure(fleet):
    page = render_fleet_html(fleet, png=b"PNG")
    assert "<td>SmolVLA (not comparable)</td>" in page and 'src="data:image/png;base64,UE5H"' in page


def test_fleet_figure_is_a_png(fleet):
    assert render_fleet_png(fleet).startswith(b"\x89PNG")


def test_library_fleet_takes_paths_and_results():
    f = api.fleet([XEON, api.load(ORIN)], labels=["a", "b"])
    assert [m.name for m in f.machines] == ["a", "b"] and str(f) == render_fleet_table(f)
    with pytest.raises(ValueError, match="labels names 3 machines for 2 results files"):
        api.fleet([XEON, ORIN], labels=["a", "b", "c"])


def test_cli_report_of_two_files_is_the_fleet_table(capsys):
    assert main(["report", XEON, ORIN, "--format", "table", "--label", "ws", "--label", "robot"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("=") and "FLEET: 2 machines" in out and "ws" in out and "robot" in out


def test_cli_report_fleet_to_files(tmp_path, capsys):
    for fmt in ("md", "csv", "html"):
        out = tmp_path / f"fleet.{fmt}"
        assert main(["report", XEON, ORIN, "--format", fmt, "-o", str(out)]) == 0
        assert XEON_NAME in out.read_text()
    assert capsys.readouterr().out.count("fleet.") == 3


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["report", XEON, "{list}"], "list.json: not a policybench results file"),
        (["report", XEON, "{missing}"], "nope.json: no such file"),
        (
            ["report", XEON, ORIN, "--label", "a", "--label", "b", "--label", "c"],
            "--label names 3 machines for 2 results",
        ),
        (["report", XEON, ORIN, "-o", XEON], "fleet_xeon.json"),
    ],
)
def test_cli_report_fleet_bad_input_is_one_line(tmp_path, capsys, argv, expected):
    (tmp_path / "list.json").write_text("[1, 2]")
    names = {"list": str(tmp_path / "list.json"), "missing": str(tmp_path / "nope.json")}
    assert_one_error_line(capsys, main([a.format(**names) for a in argv]), expected)


def test_a_rate_at_the_most_a_loop_may_ask_is_a_bound():
    from policybench.report.fleet import _rate_text
    from policybench.settings import MAX_HZ

    assert _rate_text(MAX_HZ) == f">= {MAX_HZ:g}" and _rate_text(30.0) == "30" and _rate_text(None) == "none"
