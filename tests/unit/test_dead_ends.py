"""Issue 30, item 7: every dead end names its way out. A replay too short to judge names the
--seconds that judges it (and that --seconds does); a refusal names the command that makes what
is missing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fakes import assert_one_error_line, unfolded

from policybench.cli import main

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
BENCH, RTC = str(RESULTS / "make-bench-xeon.json"), str(RESULTS / "rtc-smolvla-xeon.json")


@pytest.fixture()
def act1(tmp_path) -> str:
    """The issue's act1.json: a run file of ACT alone (chunk 100, refills about 365 ms)."""
    d = json.loads(Path(BENCH).read_text())
    d["results"] = d["results"][:1]
    path = tmp_path / "act1.json"
    path.write_text(json.dumps(d))
    return str(path)


def _simulate(capsys, *argv: str) -> str:
    assert main(["realtime", "--simulate", *argv]) == 0
    return unfolded(capsys.readouterr().out)  # each verdict's line whole, as a pipe folds it


def test_not_enough_ticks_names_the_seconds_that_judge(act1, capsys):
    out = _simulate(capsys, act1, "--hz", "5,10,15,30")
    lines = [line for line in out.splitlines() if "not enough ticks to judge" in line]
    assert lines and all("--seconds " in line for line in lines)
    asked = {int(n.replace(",", "")) for line in lines for n in re.findall(r"--seconds ([\d,]+)", line)}
    assert "ACT sync at 5 Hz" in out and "run it with --seconds 21" in out  # 101 ticks at 5 Hz
    assert "(5, 10 Hz: not enough ticks to judge; --seconds 21 judges them)" in out
    again = _simulate(capsys, act1, "--hz", "5,10,15,30", "--seconds", str(max(asked)))
    assert "not enough ticks to judge" not in again  # and the seconds named do judge every rate


def test_an_rtc_replay_too_short_names_its_seconds(capsys):
    out = _simulate(capsys, RTC, "--mode", "rtc", "--hz", "10", "--seconds", "3")
    (line,) = [x for x in out.splitlines() if "rtc at 10 Hz (simulated): not enough ticks" in x]
    seconds = re.search(r"run it with --seconds (\d+)", line).group(1)
    assert "not enough ticks" not in _simulate(capsys, RTC, "--mode", "rtc", "--hz", "10", "--seconds", seconds)


def test_replaying_rtc_from_a_run_file_names_the_commands(capsys):
    line = assert_one_error_line(capsys, main(["realtime", "--simulate", BENCH, "--mode", "rtc", "--hz", "10"]))
    assert (
        "measure one with 'policybench realtime --mode rtc --policies smolvla --hz 10 --json rtc.json', "
        "then replay it with 'policybench realtime --simulate rtc.json --mode rtc'"
    ) in line


def test_a_file_without_an_rtc_policy_says_so(act1, capsys):
    line = assert_one_error_line(capsys, main(["realtime", "--simulate", act1, "--mode", "rtc", "--hz", "5"]))
    assert "'policybench realtime --mode rtc --policies smolvla --hz 5 --json rtc.json'" in line
    assert "ACT has no Real-Time Chunking" in line


def test_a_checkpoint_is_named_by_its_path(tmp_path, capsys):
    d = json.loads(Path(BENCH).read_text())
    d["results"] = d["results"][1:2]
    d["results"][0]["policy"] = d["results"][0]["source"] = "/data/train/my_smolvla"
    path = tmp_path / "ckpt.json"
    path.write_text(json.dumps(d))
    line = assert_one_error_line(capsys, main(["realtime", "--simulate", str(path), "--mode", "rtc", "--hz", "10"]))
    assert "'policybench realtime --mode rtc --policy-path /data/train/my_smolvla --hz 10 --json rtc.json'" in line


@pytest.mark.parametrize(
    "argv, command",
    [
        (["report", "{empty}"], "'policybench run --json FILE'"),
        (["plot", "{empty}", "-o", "{out}"], "'policybench run --json FILE'"),
        (["report", "{realtime}", "{realtime}"], "'policybench run --json FILE' measures them"),
        (["realtime", "--simulate", "{empty}"], "'policybench run --json FILE' measures them"),
    ],
)
def test_refusals_name_the_command_that_makes_what_is_missing(tmp_path, capsys, argv, command):
    empty = tmp_path / "empty.json"
    d = json.loads(Path(BENCH).read_text())
    empty.write_text(json.dumps({**d, "results": [], "realtime": []}))
    names = {"empty": str(empty), "out": str(tmp_path / "plots"), "realtime": RTC}
    assert command in assert_one_error_line(capsys, main([a.format(**names) for a in argv]))
