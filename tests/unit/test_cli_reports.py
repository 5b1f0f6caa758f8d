"""plot, report and compare through cli.main: a user's mistake is exit 2 and one line on stderr;
the good paths write what they say and print the paths they wrote."""

import json
import shutil
from pathlib import Path

import pytest
from fakes import assert_one_error_line

from policybench.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
SMALL = str(DATA / "small_results.json")


@pytest.fixture
def files(tmp_path):
    """{name: path} of bad inputs, and a regular file to put an output folder under."""
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"schema_version": 1, "results": [')
    other = tmp_path / "v3.json"  # a schema this policybench does not read (it reads 1 and 2)
    other.write_text(json.dumps({**json.loads(Path(SMALL).read_text()), "schema_version": 3}))
    not_results = tmp_path / "list.json"
    not_results.write_text("[1, 2]")
    regular = tmp_path / "file.txt"
    regular.write_text("x")
    return {
        "tmp": str(tmp_path),
        "missing": str(tmp_path / "nope.json"),
        "corrupt": str(corrupt),
        "v3": str(other),
        "list": str(not_results),
        "file": str(regular),
        "small": SMALL,
    }


# argv with {name} standing for files[name]; the text the error line must hold
BAD_INPUT = {
    "plot missing file": (["plot", "{missing}", "-o", "{tmp}/p"], "nope.json: no such file"),
    "plot corrupt json": (["plot", "{corrupt}", "-o", "{tmp}/p"], "corrupt.json: not a JSON results file"),
    "plot other schema": (["plot", "{v3}", "-o", "{tmp}/p"], "schema_version 3; this policybench reads 1 and 2"),
    "plot not results": (["plot", "{list}", "-o", "{tmp}/p"], "list.json: not a policybench results file"),
    "plot folder under a file": (["plot", "{small}", "-o", "{file}/sub"], "cannot create the folder"),
    "plot folder is a file": (["plot", "{small}", "-o", "{file}"], "cannot create the folder"),
    "report missing file": (["report", "{missing}"], "nope.json: no such file"),
    "report corrupt json": (["report", "{corrupt}"], "corrupt.json: not a JSON results file"),
    "report other schema": (["report", "{v3}"], "schema_version 3; this policybench reads 1 and 2"),
    "report output under a file": (["report", "{small}", "-o", "{file}/sub/out.md"], "-o {file}/sub/out.md"),
    "report csv under a file": (
        ["report", "{small}", "--format", "csv", "-o", "{file}/sub/out.csv"],
        "-o {file}/sub/out.csv",
    ),
    "report output is a folder": (["report", "{small}", "-o", "{tmp}"], "is a folder"),
    "report format xml": (["report", "{small}", "--format", "xml"], "invalid choice: 'xml'"),
    "compare missing base": (["compare", "{missing}", "{small}"], "nope.json: no such file"),
    "compare missing new": (["compare", "{small}", "{missing}"], "nope.json: no such file"),
    "compare corrupt json": (["compare", "{small}", "{corrupt}"], "corrupt.json: not a JSON results file"),
    "compare other schema": (["compare", "{v3}", "{small}"], "schema_version 3; this policybench reads 1 and 2"),
    "compare bad min-change": (
        ["compare", "{small}", "{small}", "--min-change", "abc"],
        "--min-change must be a percentage",
    ),
    "compare negative min-change": (
        ["compare", "{small}", "{small}", "--min-change=-5%"],
        "--min-change must be between",
    ),
}


def fill(argv: list[str], files: dict[str, str]) -> list[str]:
    return [a.format(**files) for a in argv]


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input(case, files, capsys):
    argv, expected = BAD_INPUT[case]
    assert_one_error_line(capsys, main(fill(argv, files)), expected.format(**files))


def test_failed_output_writes_nothing(files, capsys):
    main(fill(["report", "{small}", "--format", "csv", "-o", "{file}/sub/out.csv"], files))
    main(fill(["plot", "{missing}", "-o", "{tmp}/p"], files))
    capsys.readouterr()
    assert sorted(p.name for p in Path(files["tmp"]).iterdir()) == ["corrupt.json", "file.txt", "list.json", "v3.json"]


def test_plot_with_nothing_to_plot(tmp_path, capsys):
    data = json.loads(Path(SMALL).read_text())
    data["results"] = [r for r in data["results"] if r["status"] != "ok"]
    path = tmp_path / "failed.json"
    path.write_text(json.dumps(data))
    assert_one_error_line(
        capsys, main(["plot", str(path), "-o", str(tmp_path / "p")]), "no policy with samples to plot"
    )
    assert not (tmp_path / "p").exists()  # nothing is created when there is nothing to plot


# --- bugs: a user's mistake that still ends in a traceback or a vague line ----------------------


def test_results_path_is_a_folder(tmp_path, capsys):
    assert_one_error_line(capsys, main(["report", str(tmp_path)]), str(tmp_path))


def test_results_entry_without_policy(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"schema_version": 1, "results": [{"status": "ok"}]}))
    assert_one_error_line(capsys, main(["report", str(path)]), "bad.json")


def test_schema_error_names_the_file(files, capsys):
    assert_one_error_line(capsys, main(fill(["compare", "{small}", "{v3}"], files)), "v3.json")


# --- good paths -------------------------------------------------------------------------------


def test_report_md_to_stdout_is_the_committed_markdown(capsys):
    assert main(["report", SMALL, "--format", "md"]) == 0
    out, err = capsys.readouterr()
    assert out == (DATA / "small_results.md").read_text()
    assert err == ""


def test_report_table_is_the_table_run_printed(capsys):
    """small_results_table.txt is the run table of small_results.json (SmolVLA, the default baseline)."""
    assert main(["report", SMALL, "--format", "table"]) == 0
    out, err = capsys.readouterr()
    assert out == (DATA / "small_results_table.txt").read_text()
    assert err == ""


def test_report_table_of_a_realtime_only_file_is_refused(tmp_path, capsys):
    live = tmp_path / "live.json"
    data = json.loads((DATA / "small_results.json").read_text())
    data["results"] = []
    data["realtime"] = [{"policy": "noop", "mode": "sync", "hz": 30, "source": "measured", "summary": {}}]
    live.write_text(json.dumps(data))
    assert_one_error_line(capsys, main(["report", str(live), "--format", "table"]), "--format md")


def test_report_md_to_a_file(tmp_path, capsys):
    out_path = tmp_path / "out.md"
    assert main(["report", SMALL, "-o", str(out_path)]) == 0
    assert capsys.readouterr().out == f"{out_path}\n"
    assert out_path.read_text() == (DATA / "small_results.md").read_text()


def test_report_csv_writes_summary_and_samples(tmp_path, capsys):
    out_path = tmp_path / "out.csv"
    assert main(["report", SMALL, "--format", "csv", "-o", str(out_path)]) == 0
    samples = tmp_path / "out.samples.csv"
    assert capsys.readouterr().out.splitlines() == [str(out_path), str(samples)]
    assert out_path.read_text() == (DATA / "small_results.summary.csv").read_text()
    assert samples.read_text() == (DATA / "small_results.samples.csv").read_text()


def test_report_csv_to_stdout_is_the_summary(capsys):
    assert main(["report", SMALL, "--format", "csv"]) == 0
    assert capsys.readouterr().out == (DATA / "small_results.summary.csv").read_text()


def test_report_html_to_a_file(tmp_path, capsys):
    out_path = tmp_path / "r.html"
    assert main(["report", SMALL, "--format", "html", "-o", str(out_path)]) == 0
    assert capsys.readouterr().out == f"{out_path}\n"
    page = out_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('src="data:image/png;base64,') == 3
    assert "use --refills 100 for a meaningful p99" in page  # the warnings are included


def test_plot_prints_the_three_paths(tmp_path, capsys):
    folder = tmp_path / "new" / "plots"  # created, with its parents
    assert main(["plot", SMALL, "-o", str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [str(folder / f"{name}.png") for name in ("timeline", "cdf", "bars")]
    assert all(Path(p).read_bytes().startswith(b"\x89PNG") for p in out)


def test_the_results_file_is_only_read(tmp_path, capsys):
    copy = tmp_path / "r.json"
    shutil.copy(SMALL, copy)
    before = copy.read_bytes()
    main(["report", str(copy), "--format", "csv", "-o", str(tmp_path / "s.csv")])
    main(["compare", str(copy), str(copy)])
    assert copy.read_bytes() == before


# (what is changed in the second sample of SMALL's first result, the text the error line must hold)
HOSTILE = {
    "huge latency": ({"latency_ms": 1e308}, "smolvla: samples[1].latency_ms is 1e+308; a latency must be"),
    "NaN latency": ({"latency_ms": float("nan")}, "smolvla: samples[1].latency_ms is nan"),
    "infinite latency": ({"latency_ms": float("inf")}, "smolvla: samples[1].latency_ms is inf"),
    "negative latency": ({"latency_ms": -1.0}, "smolvla: samples[1].latency_ms is -1.0"),
    "latency as text": ({"latency_ms": "12"}, "smolvla: samples[1].latency_ms is '12'"),
    "unknown phase": ({"phase": "warp"}, "smolvla: samples[1].phase is 'warp'; known phases: step, refill"),
}
COMMANDS = {
    "report md": ["report", "{hostile}"],
    "report csv": ["report", "{hostile}", "--format", "csv"],
    "report html": ["report", "{hostile}", "--format", "html"],
    "plot": ["plot", "{hostile}", "-o", "{tmp}/p"],
    "compare": ["compare", "{small}", "{hostile}"],
    "simulate": ["realtime", "--simulate", "{hostile}", "--ticks", "10"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_results_file_is_one_line(case, command, files, capsys):
    change, expected = HOSTILE[case]
    data = json.loads(Path(SMALL).read_text())
    data["results"][0]["samples"][1].update(change)
    hostile = Path(files["tmp"]) / "hostile.json"
    hostile.write_text(json.dumps(data))  # NaN and Infinity as Python's json writes them
    line = assert_one_error_line(capsys, main(fill(COMMANDS[command], {**files, "hostile": str(hostile)})), expected)
    assert line.startswith(f"policybench: error: {hostile}: ")
    assert not (Path(files["tmp"]) / "p").exists()
