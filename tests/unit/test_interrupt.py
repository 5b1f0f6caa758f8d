"""SIGINT and SIGTERM alike: Interrupted inside interruptible(), the caller's handlers back after."""

import os
import signal
import threading

import pytest

from policybench.interrupt import Interrupted, interruptible

SIGNALS = [signal.SIGINT, signal.SIGTERM]


def handlers():
    return {s: signal.getsignal(s) for s in SIGNALS}


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_raises_interrupted_with_the_shell_exit_code(signum, code):
    with pytest.raises(Interrupted) as stop:
        with interruptible():
            os.kill(os.getpid(), signum)
    assert stop.value.signum == signum and stop.value.exit_code == code
    assert isinstance(stop.value, KeyboardInterrupt)  # passes `except Exception`
    assert str(stop.value) == f"{signal.Signals(signum).name} received"


def test_the_previous_handlers_are_restored():
    before = handlers()
    with interruptible():
        assert handlers() != before
    assert handlers() == before
    with pytest.raises(Interrupted):
        with interruptible():
            os.kill(os.getpid(), signal.SIGTERM)
    assert handlers() == before


def test_a_second_signal_does_not_break_the_clean_up():
    cleaned = []
    with pytest.raises(Interrupted) as stop:
        with interruptible():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            finally:
                os.kill(os.getpid(), signal.SIGINT)  # ignored: the clean-up goes on
                cleaned.append(True)
    assert cleaned == [True] and stop.value.signum == signal.SIGTERM


def test_a_nested_interruptible_keeps_the_outer_handlers_so_the_outer_clean_up_is_not_interrupted():
    """cli wraps the run in interruptible(), and run_benchmark is interruptible too: after the
    inner one raised, a second signal during the outer clean-up (writing the results) is ignored."""
    cleaned = []
    with pytest.raises(Interrupted) as stop:
        with interruptible():
            outer = handlers()
            try:
                with interruptible():
                    assert handlers() == outer
                    os.kill(os.getpid(), signal.SIGTERM)
            finally:
                os.kill(os.getpid(), signal.SIGINT)  # during the outer clean-up: ignored
                cleaned.append(True)
    assert cleaned == [True] and stop.value.signum == signal.SIGTERM


def test_as_a_decorator_each_call_gets_fresh_handlers():
    @interruptible()
    def stopped():
        os.kill(os.getpid(), signal.SIGTERM)

    for _ in range(2):
        with pytest.raises(Interrupted):
            stopped()


def test_outside_the_main_thread_nothing_changes():
    seen = []
    before = handlers()

    def work():
        with interruptible():
            seen.append(handlers())

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == [before]


def test_wrap_keeps_the_signal_and_attaches_what_was_measured():
    assert Interrupted.wrap(KeyboardInterrupt(), [1]).signum == signal.SIGINT  # a plain Ctrl-C
    wrapped = Interrupted.wrap(Interrupted(signal.SIGTERM), [1, 2])
    assert wrapped.signum == signal.SIGTERM and wrapped.partial == [1, 2]
