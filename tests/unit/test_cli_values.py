"""Bad --set values and other mistakes caught before anything is built: one line, exit 2."""

from __future__ import annotations

import pytest
from fakes import assert_one_error_line, run_results

from policybench.cli import main
from policybench.results import OK, PolicyResult, RunResults, write_results
from policybench.samples import REFILL, Sample


@pytest.mark.parametrize(
    "setting, fragment",
    [
        ("act.chunk_size=abc", "--set act.chunk_size='abc'"),
        ("act.n_action_steps=200", "Got 200 for `n_action_steps` and 100 for `chunk_size`"),
        ("noop.chunk_size=0", "noop.chunk_size must be a positive integer, got 0"),
    ],
)
def test_bad_set_values_are_caught_before_building(capsys, setting, fragment):
    assert fragment in assert_one_error_line(capsys, main(["run", "--policies", "act,noop", "--set", setting]))


def test_remote_with_cameras_lerobot_cannot_send(capsys):
    line = assert_one_error_line(capsys, main(["realtime", "--policies", "act", "--remote", "--profile", "pusht"]))
    assert "--remote needs cameras named observation.images.<name>" in line


def _file(tmp_path, name, results):
    path = tmp_path / name
    write_results(run_results(results), str(path))
    return str(path)


def test_compare_with_no_policy_in_both_files(capsys, tmp_path):
    a = _file(tmp_path, "a.json", [PolicyResult("act", OK, samples=[Sample(0, REFILL, 1.0)])])
    b = _file(tmp_path, "b.json", [PolicyResult("smolvla", OK, samples=[Sample(0, REFILL, 1.0)])])
    assert "no policy was measured in both" in assert_one_error_line(capsys, main(["compare", a, b]))


def test_report_of_a_file_without_results(capsys, tmp_path):
    path = tmp_path / "empty.json"
    write_results(RunResults({}, {}, []), str(path))
    assert "no results to report" in assert_one_error_line(capsys, main(["report", str(path)]))
