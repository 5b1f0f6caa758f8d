"""Schema 2 (a result's identity in fields: policy, variant, point) and the upgrade of schema-1
files on reading: every file policybench ever wrote stays readable, and reads, reports and
compares as it did."""

from __future__ import annotations

from dataclasses import replace
import copy
import json
import re
from pathlib import Path

import pytest
from fakes import ok_result, run_results, sweep_json

from policybench.cli import main
from policybench.errors import UsageError
from policybench.report.html import render_html
from policybench.report.markdown import render_markdown
from policybench.report.table import render_table
from policybench.results import PolicyResult, RunResults, read_results, write_results
from policybench.scaling.axes import parse_axes
from policybench.orchestrate.sweep import run_sweep

DATA = Path(__file__).resolve().parents[1] / "data"
SCHEMA_1 = sorted(p for p in DATA.glob("*.json") if json.loads(p.read_text())["schema_version"] == 1)


def test_the_committed_files_hold_both_schemas():
    versions = {p.name: json.loads(p.read_text())["schema_version"] for p in DATA.glob("*.json")}
    assert {"mixed_results.json", "small_results.json"} <= {name for name, v in versions.items() if v == 1}
    assert versions["small_results_v2.json"] == 2


@pytest.mark.parametrize("path", SCHEMA_1, ids=lambda p: p.name)
def test_every_schema_1_file_reads_and_is_written_back_as_schema_2(path, tmp_path):
    old = read_results(str(path))
    stored = json.loads(path.read_text())["results"]
    assert [r.name for r in old.results] == [r["policy"] for r in stored]
    out = tmp_path / "v2.json"
    write_results(old, str(out))
    written = json.loads(out.read_text())
    assert written["schema_version"] == 2
    assert all({"policy", "variant", "point"} <= set(r) for r in written["results"])
    assert all("sweep_point" not in r["config"] and "sweep_policy" not in r["config"] for r in written["results"])
    new = read_results(str(out))
    assert [r.to_json() for r in new.results] == [r.to_json() for r in old.results]
    assert render_table(new) == render_table(old)


def test_the_schema_2_file_reads_as_the_schema_1_file_it_was_written_from():
    v1, v2 = read_results(str(DATA / "small_results.json")), read_results(str(DATA / "small_results_v2.json"))
    assert [r.to_json() for r in v2.results] == [r.to_json() for r in v1.results]


@pytest.mark.parametrize("command", [["report"], ["report", "--format", "md"], ["report", "--format", "csv"]])
def test_report_of_a_schema_1_file_is_as_of_its_schema_2_copy(command, capsys):
    outputs = []
    for name in ("small_results.json", "small_results_v2.json"):
        assert main([*command, str(DATA / name)]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]


def test_compare_of_a_schema_1_file_with_its_schema_2_copy_is_no_change(capsys):
    small, v2 = str(DATA / "small_results.json"), str(DATA / "small_results_v2.json")
    assert main(["compare", small, small]) == 0
    same = capsys.readouterr().out
    assert main(["compare", small, v2]) == 0
    assert capsys.readouterr().out == same


def _schema_1_variant_sweep() -> dict:
    """A schema-1 sweep with a bf16 variant, named as the schema-1 writer wrote it: "act+bf16[cameras=1]"
    with config.sweep_policy "act+bf16" (the name before the point)."""
    d = sweep_json(json.loads((DATA / "small_results.json").read_text()))
    d["run"]["sweep"]["axes"] = d["run"]["sweep"]["axes"][:1]
    d["results"] = [r for r in d["results"] if r["config"]["sweep_point"]["image_size"] == "224x224"]
    for r in d["results"]:
        del r["config"]["sweep_point"]["image_size"]
        r["policy"] = f"act[cameras={r['config']['sweep_point']['cameras']}]"
        r["variant"] = "eager"
    for r in copy.deepcopy(d["results"]):
        cameras = r["config"]["sweep_point"]["cameras"]
        r.update(policy=f"act+bf16[cameras={cameras}]", variant="bf16")
        r["config"]["sweep_policy"] = "act+bf16"
        for s in r["samples"]:
            s["latency_ms"] /= 2
        d["results"].append(r)
    return d


def test_a_schema_1_variant_sweep_is_upgraded_to_its_fields(tmp_path):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(_schema_1_variant_sweep()))
    results = read_results(str(path)).results
    assert [(r.policy, r.variant, r.point) for r in results] == [
        ("act", "eager", {"cameras": "1"}),
        ("act", "eager", {"cameras": "2"}),
        ("act", "bf16", {"cameras": "1"}),
        ("act", "bf16", {"cameras": "2"}),
    ]
    assert [r.name for r in results] == [
        "act[cameras=1]",
        "act[cameras=2]",
        "act+bf16[cameras=1]",
        "act+bf16[cameras=2]",
    ]
    assert all("sweep_point" not in r.config and "sweep_policy" not in r.config for r in results)


def test_a_sweep_with_variants_shows_its_speedups(tmp_path):
    """The bf16 variant at each point is held against the eager run at the same point."""
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(_schema_1_variant_sweep()))
    results = read_results(str(path))
    (speedup,) = [line for line in render_table(results).splitlines() if line.startswith("Refill speedup vs eager")]
    assert speedup.split()[4:] == ["1.00", "x", "1.00", "x", "2.00", "x", "2.00", "x"]
    assert "<td>2.00 x</td>" in render_html(results, pngs={})


def test_a_sweep_measured_with_variants_shows_its_speedups():
    from policybench.settings import RunSettings
    from policybench.profiles import PROFILES

    cfg = RunSettings(policies=["act"], profile=PROFILES["so100"], refills=2, warmup=1)
    axes, _ = parse_axes("1,2", None, None, [])

    def measure(point_cfg, device) -> RunResults:
        cameras = len(point_cfg.profile.cameras)
        eager = ok_result("act", chunk=10, cycles=3, refill_ms=40.0 * cameras, step_ms=1.0, cold_ms=40.0)
        bf16 = ok_result("act", chunk=10, cycles=3, refill_ms=10.0 * cameras, step_ms=1.0, cold_ms=40.0)
        return run_results([replace(eager, variant="eager"), replace(bf16, variant="bf16")])

    results = run_sweep(cfg, axes, "cpu", log=lambda s: None, warn=lambda s: None, measure=measure)
    assert [r.name for r in results.results] == [
        "act[cameras=1]",
        "act+bf16[cameras=1]",
        "act[cameras=2]",
        "act+bf16[cameras=2]",
    ]
    (speedup,) = [line for line in render_table(results).splitlines() if line.startswith("Refill speedup vs eager")]
    assert speedup.split()[4:] == ["1.00", "x", "4.00", "x", "1.00", "x", "4.00", "x"]


def test_a_schema_1_point_without_its_policy_is_refused(tmp_path):
    d = _schema_1_variant_sweep()
    del d["results"][0]["config"]["sweep_policy"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(UsageError, match=r"act\[cameras=1\]: config.sweep_policy is missing"):
        read_results(str(path))


def test_a_schema_2_point_off_its_axis_is_named_as_schema_2_has_it(tmp_path):
    results = read_results(str(DATA / "small_results.json"))
    results.run["sweep"] = {"axes": [{"name": "cameras", "values": ["1", "2"]}]}
    results.results[1] = replace(results.results[1], point={"cameras": "3"})
    path = tmp_path / "r.json"
    write_results(results, str(path))
    with pytest.raises(UsageError, match=r"act\[cameras=3\]: point.cameras is '3'; the sweep's cameras values"):
        read_results(str(path))


def test_a_result_is_named_by_its_fields():
    r = PolicyResult("diffusion", "ok", variant="bf16", point={"diffusion.num_inference_steps": "10", "cameras": "2"})
    assert r.name == "diffusion+bf16[num_inference_steps=10,cameras=2]"
    assert PolicyResult("act", "ok", variant="eager").name == "act"


def test_a_schema_1_realtime_entry_takes_the_identity_of_the_result_it_names(tmp_path):
    """Schema 1 wrote a simulated variant's realtime entry as "act+bf16[cameras=2]", the result's
    name: read, it is that result's policy, variant and point; a plain name stays as it is."""
    d = _schema_1_variant_sweep()
    entry = {
        "policy": "act+bf16[cameras=2]",
        "mode": "sync",
        "hz": 30,
        "source": "simulated",
        "threshold": None,
        "aggregate": None,
        "summary": {"missed_ticks": 0},
    }
    d["realtime"] = [entry, dict(entry, policy="noop")]
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(d))
    variant, plain = read_results(str(path)).realtime
    assert (variant.policy, variant.variant, variant.point) == ("act", "bf16", {"cameras": "2"})
    assert variant.name == "act+bf16[cameras=2]"
    assert (plain.policy, plain.variant, plain.point) == ("noop", None, {})


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ({f"a{i}": "1" for i in range(9)}, "point has 9 axes; a sweep point has at most 8"),
        ({"cameras": "1" * 101}, "point.cameras is '111"),
    ],
)
def test_a_sweep_point_is_a_few_short_values(tmp_path, point, message):
    """A crafted point cannot turn a table row into megabytes (100,000 axes) or a page-wide name."""
    d = json.loads((DATA / "small_results_v2.json").read_text())
    d["results"][0]["point"] = point
    path = tmp_path / "r.json"
    path.write_text(json.dumps(d))
    with pytest.raises(UsageError, match=re.escape(message)):
        read_results(str(path))


def test_a_line_break_in_a_name_read_from_a_file_keeps_each_table_row_one_line(tmp_path):
    d = json.loads((DATA / "small_results_v2.json").read_text())
    d["results"][0]["policy"] = "smol\nvla"
    d["results"][0]["point"] = {"cameras": "1\n2"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(d))
    results = read_results(str(path))
    rows = [line for line in render_markdown(results).splitlines() if "smol" in line]
    assert len(rows) == 2 and all("| smol\\nvla[cameras=1\\n2] |" in row for row in rows)
    header = next(line for line in render_table(results).splitlines() if line.startswith("Metric"))
    assert "smol\\nvla[cameras=1\\n2] (ms)" in header
