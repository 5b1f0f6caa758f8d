"""A live paced run of a real (small) ACT in each mode: structure, never speed."""

from __future__ import annotations

import pytest

from policybench.config import PROFILES, RunConfig, parse_override
from policybench.realtime.live import run_live

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_small_act_runs_paced_in_each_mode(mode):
    cfg = RunConfig(policies=["act"], profile=PROFILES["pusht"], warmup=1,
                    overrides=[parse_override("act.chunk_size=5"), parse_override("act.n_action_steps=5")])
    (entry,) = run_live(cfg, "cpu", hz=20, ticks=15, modes=[mode], threshold=0.6, aggregate="latest_only")
    assert entry["status"] == "ok" and entry["mode"] == mode
    ticks = entry["ticks"]
    assert [t["k"] for t in ticks] == list(range(15))
    assert all(t["end_ms"] >= t["start_ms"] >= 0 for t in ticks)
    if mode == "sync":
        assert [t["k"] for t in ticks if t["phase"] == "refill"] == [0, 5, 10]
    else:
        assert entry["summary"]["chunks"] == len(entry["chunk_latencies_ms"]) >= 1
        assert {t["phase"] for t in ticks} <= {"pop", "starved"}
        assert ticks[0]["phase"] == "pop"  # the first chunk is queued before the loop starts
