"""A live paced run of a real (small) ACT in each mode: structure, never speed."""

from __future__ import annotations

import pytest

from policybench.settings import RealtimeSettings, RunSettings, parse_override
from policybench.profiles import PROFILES, customize_profile
from policybench.measure.realtime import run_live

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_small_act_runs_paced_in_each_mode(mode):
    cfg = RunSettings(
        policies=["act"],
        profile=PROFILES["pusht"],
        warmup=1,
        overrides=[parse_override("act.chunk_size=5"), parse_override("act.n_action_steps=5")],
    )
    settings = RealtimeSettings(hz=(20,), ticks=15, mode=mode, thresholds=(0.6,), aggregate="latest_only", run=cfg)
    (entry,) = run_live(settings, "cpu")
    assert entry.status == "ok" and entry.mode == mode
    ticks = entry.ticks
    assert [t.k for t in ticks] == list(range(15))
    assert all(t.end_ms >= t.start_ms >= 0 for t in ticks)
    if mode == "sync":
        assert [t.k for t in ticks if t.phase == "refill"] == [0, 5, 10]
    else:
        assert entry.summary["chunks"] == len(entry.chunk_latencies_ms) >= 1
        assert {t.phase for t in ticks} <= {"pop", "starved"}
        assert ticks[0].phase == "pop"  # the first chunk is queued before the loop starts


def test_remote_round_trips_through_lerobots_policy_server_on_loopback():
    cfg = RunSettings(
        policies=["act"],
        profile=customize_profile(PROFILES["so100"], cameras=1, image_size=(96, 128)),
        warmup=1,
        overrides=[parse_override("act.chunk_size=6"), parse_override("act.n_action_steps=6")],
    )
    settings = RealtimeSettings(
        hz=(10,), ticks=3, mode="sync", aggregate="latest_only", remote=True, remote_calls=3, run=cfg
    )
    entries = run_live(settings, "cpu")
    remote = entries[-1]
    assert remote.mode == "remote" and remote.status == "ok", remote.error
    s = remote.summary
    assert s["calls"] == 3 == len(remote.round_trips_ms) == len(remote.in_process_chunks_ms)
    assert s["chunk_length"] == 6  # the server returned a whole chunk of n_action_steps actions
    assert all(x > 0 for x in remote.round_trips_ms)


def test_remote_needs_lerobot_style_camera_keys():
    from policybench.errors import UsageError
    from policybench.measure.remote import robot_features

    with pytest.raises(UsageError, match="--remote needs cameras named observation.images"):
        robot_features(PROFILES["pusht"])
    hw, raw = robot_features(PROFILES["so100"])
    assert hw["front"] == (480, 640, 3) and raw["front"].shape == (480, 640, 3) and raw["front"].dtype.name == "uint8"
    assert sum(k.endswith(".pos") for k in raw) == 6 and raw["task"]
