"""Nothing a user has is lost: an earlier results file survives a run that measured nothing,
outputs never land on the command's input or through a link, one writer per file, modes kept;
and no size asked for exhausts memory before it is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import ok_result, run_results, unfolded
from test_cli_stop import stop_at

from policybench.cli import FLAGS, main, terminal_safe
from policybench.errors import SettingsError
from policybench.outputs import check_folder, check_writable, write_atomic
from policybench.resultsfile import ResultsFile
from policybench.results import write_results

DATA = Path(__file__).resolve().parents[1] / "data"


def one_error_line(capsys, code: int) -> str:
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("policybench: error: ")
    return err[0]


def test_an_interruption_before_anything_was_measured_keeps_the_earlier_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "keep.json"
    write_results(run_results([ok_result("act", 4, 2, 10.0, 1.0, 12.0)]), str(path))
    before = path.read_bytes()
    stop_at(monkeypatch, "act", signal.SIGINT)
    assert main(["run", "--policies", "act", "--json", str(path), "--in-process"]) == 130
    assert path.read_bytes() == before
    err = capsys.readouterr().err
    assert f"{path}: left as it was: nothing was measured in this run" in unfolded(err)  # folded at 100 columns


def test_an_interruption_after_a_measured_policy_replaces_the_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.json"
    path.write_text('{"earlier": true}')
    stop_at(monkeypatch, "act", signal.SIGINT)
    assert main(["run", "--policies", "noop,act", "--refills", "1", "--json", str(path), "--in-process"]) == 130
    assert [r["status"] for r in json.loads(path.read_text())["results"]] == ["ok", "interrupted"]


def test_a_new_file_records_an_interruption_even_with_nothing_measured(tmp_path, monkeypatch):
    path = tmp_path / "new.json"
    stop_at(monkeypatch, "act", signal.SIGINT)
    assert main(["run", "--policies", "act", "--json", str(path), "--in-process"]) == 130
    assert [r["status"] for r in json.loads(path.read_text())["results"]] == ["interrupted"]


@pytest.mark.parametrize("fmt", ["md", "csv", "html"])
def test_report_refuses_to_write_onto_its_input(tmp_path, capsys, fmt):
    path = tmp_path / "r.json"
    path.write_bytes((DATA / "small_results.json").read_bytes())
    line = one_error_line(capsys, main(["report", str(path), "--format", fmt, "-o", str(path)]))
    assert "is the input" in line
    assert path.read_bytes() == (DATA / "small_results.json").read_bytes()


def test_report_csv_refuses_when_its_samples_file_is_the_input(tmp_path, capsys):
    path = tmp_path / "r.samples.csv"
    path.write_bytes((DATA / "small_results.json").read_bytes())
    assert "is the input" in one_error_line(
        capsys, main(["report", str(path), "--format", "csv", "-o", str(tmp_path / "r.csv")])
    )
    assert path.read_bytes() == (DATA / "small_results.json").read_bytes()


def test_outputs_never_follow_a_symbolic_link(tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "out.md"
    link.symlink_to(target)
    assert "is a symbolic link" in one_error_line(
        capsys, main(["report", str(DATA / "small_results.json"), "-o", str(link)])
    )
    json_link = tmp_path / "r.json"
    json_link.symlink_to(target)
    assert "is a symbolic link" in one_error_line(capsys, main(["run", "--policies", "noop", "--json", str(json_link)]))
    assert target.read_text() == "keep me"


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{}")
    path.chmod(0o600)
    write_results(run_results([ok_result("act", 4, 2, 10.0, 1.0, 12.0)]), str(path))
    assert (path.stat().st_mode & 0o777) == 0o600
    write_atomic(tmp_path / "new.md", b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert ((tmp_path / "new.md").stat().st_mode & 0o777) == 0o666 & ~umask


def test_a_second_writer_of_one_results_file_stops_at_once(tmp_path, capsys):
    path = str(tmp_path / "r.json")
    with ResultsFile(path):
        line = one_error_line(capsys, main(["run", "--policies", "noop", "--refills", "1", "--json", path]))
        assert f"{path}: another policybench run (process {os.getpid()}) is writing this results file" in line
        assert not os.path.exists(path)
    assert not os.path.exists(tmp_path / ".r.json.lock")  # released and removed
    with ResultsFile(path):  # free again
        pass


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--cameras", "100000000"], "--cameras must be from 0 to 64, got 100000000"),
        (["--image-size", "20000x20000"], "--image-size sides must be from 1 to 8192 pixels, got 20000x20000"),
        (["--cameras", "64", "--image-size", "8192x8192"], "need about"),
        (["--policies", "act", "--set", "act.chunk_size=100000000"], "--set act.chunk_size=100000000: at most 10,000"),
        (["--policies", "noop", "--set", "noop.chunk_size=100000000"], "noop.chunk_size must be at most 1,000,000"),
    ],
)
def test_sizes_beyond_memory_are_one_line_before_anything_is_built(capsys, args, fragment):
    assert fragment in one_error_line(capsys, main(["run", *args]))


def test_terminal_output_escapes_control_characters():
    assert (
        terminal_safe("act\x1b[2J\x1b]0;owned\x07 ok\n\tnext\r\x9b")
        == "act\\x1b[2J\\x1b]0;owned\\x07 ok\n\tnext\\x0d\\x9b"
    )


def test_a_policy_name_with_escapes_and_accents_prints_under_an_ascii_locale(tmp_path):
    data = json.loads((DATA / "small_results.json").read_text())
    data["results"][0]["policy"] = "act\x1b[31mrouge é"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    env = {**os.environ, "LC_ALL": "POSIX", "PYTHONIOENCODING": "", "PYTHONUTF8": "0"}
    command = "import sys; from policybench.cli import main; sys.exit(main())"
    out = subprocess.run(
        [sys.executable, "-c", command, "report", str(path)], capture_output=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert b"\x1b" not in out.stdout and b"act\\x1b[31mrouge \\xe9" in out.stdout


def test_reading_reporting_and_comparing_import_neither_torch_nor_lerobot():
    """report, compare and plot start fast and fit in little memory (a 49 MB file compares in 0.4 GB)."""
    modules = [
        "policybench",
        "policybench.cli",
        "policybench.results",
        "policybench.regression",
        "policybench.report.table",
        "policybench.report.markdown",
        "policybench.report.html",
        "policybench.report.csv",
        "policybench.report.realtime",
        "policybench.report.compare",
    ]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint(sorted({{'torch', 'lerobot'}} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_an_output_that_cannot_be_written_names_its_setting_and_its_flag(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SettingsError, match=f"^json_path {tmp_path}: is a folder, not a file$") as caught:
        check_writable(str(tmp_path))
    assert caught.value.said_with(FLAGS) == f"--json {tmp_path}: is a folder, not a file"
    with pytest.raises(SettingsError, match="^output ") as caught:
        check_writable(str(tmp_path / "none" / "r.md"), field="output")
    assert (
        caught.value.said_with(FLAGS) == f"-o {tmp_path / 'none' / 'r.md'}: folder {tmp_path / 'none'} does not exist"
    )
    with pytest.raises(SettingsError, match=f"^export_dir {tmp_path / 'file'}: is a file, not a folder$") as caught:
        check_folder(str(tmp_path / "file"), "export_dir")
    assert caught.value.said_with(FLAGS) == f"--export {tmp_path / 'file'}: is a file, not a folder"
