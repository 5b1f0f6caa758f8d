"""No silent minutes (issue 30, 1): RTC's plain and guided chunks after the loop are counted by a
flag (0 skips them), estimated up front and said one by one; `run ... 2>&1 | cat` says each step
as it starts."""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest
from fakes import assert_one_error_line

import policybench
import policybench.cli
from policybench.cli import build_parser, main, parse_args, realtime_settings
from policybench.errors import SettingsError
from policybench.measure import realtime
from policybench.settings import GUIDANCE_PAIRS, RealtimeSettings


def fake_run(latencies: list[float], delays: list[int]):
    return SimpleNamespace(inferences=[SimpleNamespace(latency=x, delay_used=d) for x, d in zip(latencies, delays)])


@pytest.fixture
def pairs(monkeypatch):
    """refill_pair timed as (plain, guided) = (20 s, 25 s); the calls it got."""
    calls = []

    def refill_pair(policy, batch, delay, horizon, clock):
        calls.append((delay, horizon))
        return 20.0, 25.0

    monkeypatch.setattr("policybench.lerobot_adapter.rtc.refill_pair", refill_pair)
    return calls


def test_each_pair_is_said_after_an_estimate_of_them_all(pairs):
    lines: list[str] = []
    settings = RealtimeSettings(mode="rtc", guidance_pairs=2, execution_horizon=7)
    # the cold chunk (90 s) is left out of the estimate: 2 pairs x 2 chunks x the median of 10, 12, 30 s
    got = realtime._refill_pairs(
        None, {}, fake_run([90.0, 10.0, 12.0, 30.0], [0, 3, 5, 4]), settings, None, lines.append, "smolvla"
    )
    assert got == [(20.0, 25.0), (20.0, 25.0)] and pairs == [(5, 7), (5, 7)]
    assert lines == [
        "smolvla: 2 plain and guided chunks in turn (guidance at d=5), about 48.0 s (--guidance-pairs N: another "
        "count, 0 none)",
        "smolvla: pair 1 of 2: plain chunk 20.0 s, guided 25.0 s",
        "smolvla: pair 2 of 2: plain chunk 20.0 s, guided 25.0 s",
    ]


def test_no_pair_with_zero(pairs):
    lines: list[str] = []
    settings = RealtimeSettings(mode="rtc", guidance_pairs=0)
    assert realtime._refill_pairs(None, {}, fake_run([9.0, 1.0], [0, 1]), settings, None, lines.append, "smolvla") == []
    assert pairs == [] and lines == [
        "smolvla: no plain and guided chunks timed (--guidance-pairs 0): the guidance's cost is not measured"
    ]


def test_the_pairs_estimate_says_minutes_past_two():
    assert realtime._pairs_estimate([200.0, 40.0, 50.0], 3) == ", about 4.5 min"  # 3 x 2 x 45 s
    assert realtime._pairs_estimate([0.3], 1) == ", about 600 ms"  # only the cold one: it is the estimate


def test_the_count_is_a_setting_of_its_own_with_fewer_by_default():
    assert RealtimeSettings().guidance_pairs == GUIDANCE_PAIRS == 3
    assert RealtimeSettings.from_json(RealtimeSettings(guidance_pairs=0).to_json()).guidance_pairs == 0
    for bad in (-1, 1001, True, 2.5):
        with pytest.raises(SettingsError, match="guidance_pairs.? must be a count from 0 .none. to 1000"):
            RealtimeSettings(guidance_pairs=bad)


def args_of(*argv: str) -> argparse.Namespace:
    return parse_args(["realtime", *argv])  # the declared defaults filled in, as main reads argv


def test_the_flag_sets_it_beside_the_other_rtc_flags(monkeypatch):
    monkeypatch.setattr(policybench.cli, "config_from_args", lambda args: None)
    assert realtime_settings(args_of("--mode", "rtc", "--guidance-pairs", "5")).guidance_pairs == 5
    assert realtime_settings(args_of("--mode", "all", "--guidance-pairs", "0")).guidance_pairs == 0
    assert realtime_settings(args_of("--mode", "rtc")).guidance_pairs == GUIDANCE_PAIRS
    assert "--guidance-pairs N" in build_parser()._subparsers._group_actions[0].choices["realtime"].format_help()


def test_the_flag_is_refused_where_nothing_uses_it(capsys, tmp_path):
    assert_one_error_line(
        capsys,
        main(["realtime", "--mode", "rtc", "--guidance-pairs", "-1"]),
        "--guidance-pairs must be a count from 0 (none) to 1000, got -1",
    )
    assert_one_error_line(
        capsys,
        main(["realtime", "--guidance-pairs", "2"]),
        "--guidance-pairs times RTC's plain and guided chunks: it needs --mode rtc or all, not both",
    )
    assert_one_error_line(
        capsys,
        main(["realtime", "--simulate", str(tmp_path / "x.json"), "--mode", "rtc", "--guidance-pairs", "2"]),
        "--guidance-pairs applies to live runs only",
    )


def test_the_library_takes_it_too(monkeypatch):
    seen = []

    def measure_realtime(settings, log=None, isolate=True):
        seen.append(settings)
        return SimpleNamespace(realtime=[])

    monkeypatch.setattr(policybench.api, "measure_realtime", measure_realtime)
    monkeypatch.setattr(policybench.api, "build_config", lambda *a, **k: None)
    policybench.realtime(["smolvla"], mode="rtc", guidance_pairs=1)
    policybench.realtime(["smolvla"], mode="rtc")
    assert [s.guidance_pairs for s in seen] == [1, GUIDANCE_PAIRS]


def test_run_in_a_pipe_says_each_step_as_it_starts(capsys):
    """`policybench run ... 2>&1 | cat`: stderr is no terminal here, as in a pipe."""
    assert (
        main(
            [
                "run",
                "--policies",
                "noop",
                "--profile",
                "pusht",
                "--device",
                "cpu",
                "--refills",
                "2",
                "--warmup",
                "1",
                "--variant",
                "eager,noeval",
                "--breakdown",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err.splitlines()
    steps = [
        "noop: building",
        "noop: fp32 eager's first chunk (the variants' reference) and the refill's cost",
        "noop: first chunk, checked against fp32 eager's",
        "noop: first call",
        "noop: warm-up",
        "noop: measuring",
        "noop: --breakdown: 5 refills of its own, split into components",
    ]
    assert [line for line in err if line in steps] == steps
    assert err.index("noop: building") < next(i for i, line in enumerate(err) if line.startswith("noop: built in "))
