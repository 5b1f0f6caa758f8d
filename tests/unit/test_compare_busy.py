"""compare refuses to call a regression on figures measured on a busy machine, unless --force."""

from dataclasses import replace
import pytest
from fakes import assert_one_error_line, ok_result, run_results

from policybench.cli import main
from policybench.regression import busy_measurements
from policybench.results import write_results

QUIET = {"other_cpu": 0.05}
BUSY = {"other_cpu": 0.41}


def results(act_load=QUIET, smolvla_load=QUIET, refill_ms=50.0):
    act, smolvla = ok_result("act", 5, 20, refill_ms, 1.0, 100.0), ok_result("smolvla", 5, 20, refill_ms, 2.0, 100.0)
    return run_results([replace(act, machine_load=act_load), replace(smolvla, machine_load=smolvla_load)])


def write_pair(tmp_path, base, new):
    a, b = tmp_path / "base.json", tmp_path / "new.json"
    write_results(base, str(a))
    write_results(new, str(b))
    return str(a), str(b)


def test_busy_measurements_name_the_file_and_the_policy():
    assert busy_measurements(results(), results(smolvla_load=BUSY), "a.json", "b.json") == [
        "b.json: smolvla was measured while the machine was 41 % busy with other work"
    ]
    assert busy_measurements(results(act_load=BUSY), results(), "a.json", "b.json") == [
        "a.json: act was measured while the machine was 41 % busy with other work"
    ]
    assert busy_measurements(results(), results(), "a.json", "b.json") == []


def test_a_busy_policy_that_is_not_compared_does_not_count():
    only_base = results(smolvla_load=BUSY)
    new = run_results([results().results[0]])  # act only: smolvla is not compared
    assert busy_measurements(only_base, new, "a.json", "b.json") == []


def test_compare_refuses_without_force(tmp_path, capsys):
    a, b = write_pair(tmp_path, results(), results(act_load=BUSY, refill_ms=100.0))
    line = assert_one_error_line(capsys, main(["compare", a, b]))
    assert line == (
        f"policybench: error: {b}: act was measured while the machine was 41 % busy with other work: "
        "its figures are not reliable enough to call a regression; measure it again on a quiet machine, "
        "or use --force to compare anyway"
    )


def test_several_busy_policies_are_counted_in_the_one_line(tmp_path, capsys):
    a, b = write_pair(tmp_path, results(act_load=BUSY), results(smolvla_load=BUSY))
    line = assert_one_error_line(capsys, main(["compare", a, b]))
    assert f"{a}: act was measured while the machine was 41 % busy with other work (and 1 more): " in line


def test_compare_with_force_compares_and_says_the_figures_are_unreliable(tmp_path, capsys):
    a, b = write_pair(tmp_path, results(), results(act_load=BUSY, refill_ms=100.0))
    assert main(["compare", a, b, "--force"]) == 1  # act's refill doubled: a regression
    out, err = capsys.readouterr()
    assert "slower" in out
    assert err.splitlines() == [
        f"warning: {b}: act was measured while the machine was 41 % busy with other work: "
        "its figures are not reliable (compared anyway: --force)"
    ]


@pytest.mark.parametrize("load", [{}, QUIET, {"other_gpu_processes": 0}])
def test_a_quiet_or_unknown_machine_compares_as_before(tmp_path, capsys, load):
    a, b = write_pair(tmp_path, results(load, load), results(load, load))
    assert main(["compare", a, b]) == 0
    assert capsys.readouterr().err == ""


def test_the_library_refuses_a_busy_run_unless_forced():
    from policybench.api import Results, compare
    from policybench.regression import BusyMeasurement

    base, new = Results(results()), Results(results(smolvla_load=BUSY))
    with pytest.raises(BusyMeasurement) as info:
        compare(base, new)
    assert str(info.value).startswith("new: smolvla was measured while the machine was 41 % busy with other work: ")
    forced = compare(base, new, force=True)
    assert forced.busy == ["new: smolvla was measured while the machine was 41 % busy with other work"]
    assert compare(base, Results(results())).busy == []
