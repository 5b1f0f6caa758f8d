"""What ``run`` shows while it works: warnings in a log, progress bars only on a terminal."""

import io

import pytest

from policybench.progress import RunOutput


class Terminal(io.StringIO):
    """A stream that says it is a terminal, so rich draws its live progress display into it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """rich sizes its display from $COLUMNS: a narrow one would cut the policy names short."""
    monkeypatch.setenv("COLUMNS", "120")


@pytest.mark.parametrize("quiet, verbose, shown", [
    (False, False, ["warn"]),
    (True, False, []),
    (False, True, ["info", "warn"]),
])
def test_lines_in_a_log(quiet, verbose, shown):
    stream = io.StringIO()
    with RunOutput(quiet=quiet, verbose=verbose, stream=stream) as out:
        out.info("info")
        out.warn("warn")
    assert stream.getvalue().splitlines() == shown


def test_progress_is_a_no_op_without_a_terminal():
    stream = io.StringIO()
    with RunOutput(verbose=True, stream=stream) as out:
        out.progress("act", 3, 10)
        out.progress("act", 10, 10)
    assert stream.getvalue() == ""


def test_lines_are_printed_as_given():
    # no rich markup or highlighting in a log: brackets and numbers stay as they are
    stream = io.StringIO()
    with RunOutput(stream=stream) as out:
        out.warn("[bold]act[/bold]: 12 refills")
    assert stream.getvalue() == "[bold]act[/bold]: 12 refills\n"


def test_a_terminal_shows_a_bar_per_policy():
    stream = Terminal()
    with RunOutput(stream=stream) as out:
        out.progress("smolvla", 3, 10)
        out.progress("smolvla", 12, 10)  # more than the target: the bar stops at the target
        out.progress("diffusion", 1, 4)
    screen = stream.getvalue()
    assert "smolvla" in screen and "10/10" in screen and "12/10" not in screen
    assert "diffusion" in screen and "1/4" in screen


def test_warnings_reach_a_terminal_through_the_bar():
    stream = Terminal()
    with RunOutput(stream=stream) as out:
        out.progress("act", 1, 2)
        out.warn("act: only 2 refills")
        out.info("not shown without --verbose")
    screen = stream.getvalue()
    assert "act: only 2 refills" in screen and "not shown" not in screen


def test_quiet_on_a_terminal_shows_nothing():
    stream = Terminal()
    with RunOutput(quiet=True, stream=stream) as out:
        out.progress("act", 1, 2)
        out.warn("warn")
        out.info("info")
    assert stream.getvalue() == ""


def test_each_step_of_a_policy_shows_as_it_happens_on_a_terminal():
    """A slow load or first call is not a hang: the bar says which step is running, with its time."""
    stream = Terminal()
    with RunOutput(stream=stream, policies=["act"]) as out:
        out.info("policybench: device cpu, profile so100, policies act")  # not a policy's step
        out.info("act: building")
        assert "act: building" in stream.getvalue()
        out.info("act: first call")
        out.progress("act", 1, 3)
        out.info("act: measuring")
    shown = stream.getvalue()
    assert "act: first call" in shown and "act: measuring" in shown and "1/3" in shown
    assert "policybench: device" not in shown


def test_a_log_that_is_not_a_terminal_gets_no_steps():
    stream = io.StringIO()
    with RunOutput(stream=stream, policies=["act"]) as out:
        out.info("act: building")
    assert stream.getvalue() == ""
