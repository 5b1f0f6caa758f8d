"""What ``run`` shows while it works: in a log a line per step, the warnings, and a line after every
10 s of silence; on a terminal progress bars."""

import io
import re
import time

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


@pytest.mark.parametrize(
    "quiet, verbose, shown",
    [
        (False, False, ["warn"]),  # "info" is no policy's step
        (True, False, []),
        (False, True, ["info", "warn"]),
    ],
)
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


def test_a_log_that_is_not_a_terminal_gets_a_line_as_each_step_starts():
    """`run ... 2>&1 | cat`: building, first call, warm-up, measuring, each variant, each a line."""
    stream = io.StringIO()
    steps = [
        "act: building",
        "act: built in 1.0 s (1.0 M params), measuring",
        "act: first call",
        "act: warm-up",
        "act: measuring",
        "act: 40 calls, 4 refills in 1.0 s",
        "act+compile: first chunk, checked against fp32 eager's (torch.compile compiles on it)",
        "act+compile: first call",
    ]
    with RunOutput(stream=stream, policies=["act"]) as out:
        for step in steps:
            out.info(step)
    assert stream.getvalue().splitlines() == steps


def test_a_log_hears_what_is_still_running_after_each_silent_stretch():
    """A 200 s first call of the compile variant is no silent minute: a line per heartbeat, saying
    how long the step has run (and, measuring, the refills done), none while lines come."""
    stream = io.StringIO()
    with RunOutput(stream=stream, policies=["act"], heartbeat_s=0.5) as out:
        out.info("act+compile: first call")
        time.sleep(1.25)  # heartbeats at 0.5 and 1 s
        out.info("act+compile: measuring")
        out.progress("act", 3, 10)
        time.sleep(0.75)  # one at 0.5 s
        out.progress("act", 4, 10)  # and none after it: the run ends first
    lines = stream.getvalue().splitlines()
    assert [re.sub(r"\d+ s$", "N s", line) for line in lines] == [
        "act+compile: first call",
        "act+compile: first call ... N s",
        "act+compile: first call ... N s",
        "act+compile: measuring",
        "act+compile: measuring, 3/10 refills ... N s",
    ]
    assert lines[2].endswith(" 1 s")  # how long the step has run, not the time since the last line


def test_a_terminal_and_quiet_get_no_heartbeat():
    for stream, quiet in ((Terminal(), False), (io.StringIO(), True)):
        with RunOutput(stream=stream, quiet=quiet, policies=["act"], heartbeat_s=0.05) as out:
            out.info("act: first call")
            time.sleep(0.2)
        assert "..." not in stream.getvalue()


def test_a_long_line_in_a_log_folds_to_a_pipes_width_losing_nothing():
    """A variant's "actions differ" warning, with where it leaves eager, was 287 columns in a log."""
    stream = io.StringIO()
    warning = "diffusion+bf16: actions differ from fp32 eager (" + "relative error 1.3 " * 14 + "): not a win"
    step = "diffusion+compile: first chunk, checked against fp32 eager's (torch.compile compiles on it: minutes)"
    with RunOutput(stream=stream, policies=["diffusion"]) as out:
        out.warn(warning)
        out.info(step + " for a large policy")
    lines = stream.getvalue().splitlines()
    assert len(lines) > 3 and all(len(line) <= 100 for line in lines), lines
    assert all(line.startswith("  ") for line in lines[1:] if not line.startswith("diffusion"))
    assert " ".join(line.strip() for line in lines) == f"{warning} {step} for a large policy"
