"""Figures of a paced run, pure functions of its ticks."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from policybench.results import RealtimeTick, Summary
from policybench.samples import REFILL, STARVED
from policybench.stats import percentile

if TYPE_CHECKING:  # paced.py imports torch; a report of ticks does not need it
    from policybench.control.paced import Tick

# Costs and periods are floats: 0.1 s at 30 Hz is 3.0000000000000004 periods. A tick that
# overruns its period by less than a nanosecond is not a miss, and d is not rounded up for it.
EPS = 1e-9


def inference_delay_ticks(latency: float, hz: float) -> int:
    """d = ceil(latency / period): the ticks that pass while a chunk is computed (what
    Real-Time Chunking needs to know)."""
    return max(0, math.ceil(latency * hz - EPS))


def summarize_ticks(ticks: list[Tick], hz: float, chunk_latencies: list[float] | None = None) -> Summary:
    """Achieved rate, deadline misses, worst overrun, longest stall (one still open when the run
    ends included), start jitter (all in ms), refills seen; for sync runs the late ticks, and for
    async runs starved ticks, the rate of delivered actions and the inference delay in ticks."""
    period = 1.0 / hz
    n = len(ticks)
    work = [t.end - t.start for t in ticks]
    n_missed = sum(missed(t, hz) for t in ticks)
    # The loop's start counts as the last delivery: waiting for the first action is a stall too.
    delivered = ([ticks[0].scheduled] if ticks else []) + [t.end for t in ticks if t.phase != STARVED]
    gaps = [b - a for a, b in zip(delivered, delivered[1:])]
    # A stall still open when the run ends counts too: the robot has not moved since its start.
    open_stall = bool(ticks) and ticks[-1].phase == STARVED
    if open_stall:
        gaps.append(ticks[-1].end - delivered[-1])
    jitter = [abs(t.start - t.scheduled) * 1000 for t in ticks]
    span = ticks[-1].start - ticks[0].start if n > 1 else 0.0
    out: Summary = {
        "ticks": n,
        "hz": hz,
        "achieved_hz": (n - 1) / span if span > 0 else None,
        "deadline_misses": n_missed,
        "deadline_miss_pct": 100.0 * n_missed / n if n else None,
        "worst_overrun_ms": max(0.0, max(work) - period) * 1000 if work else None,
        "longest_stall_ms": max(gaps) * 1000 if gaps else None,
        "stall_open_at_end": open_stall,  # the last ticks had no action: the run ended mid-stall
        "jitter_p50_ms": percentile(jitter, 50) if jitter else None,
        "jitter_p99_ms": percentile(jitter, 99) if jitter else None,
    }
    out.update(_sync_figures(ticks, hz) if chunk_latencies is None else _async_figures(ticks, hz, chunk_latencies))
    return out


def _sync_figures(ticks: list[Tick], hz: float) -> Summary:
    """The achieved rate counts the ticks whose action was ready by their deadline (the next
    tick's scheduled time) over the run's length: late ticks that run back to back after a stall
    do not make up for it. Late ticks are counted apart; refills seen are refill ticks."""
    period = 1.0 / hz
    late = sum(is_late(t.scheduled, t.end, hz) for t in ticks)
    length = max(len(ticks) * period, ticks[-1].end - ticks[0].scheduled) if ticks else 0.0
    return {
        "achieved_hz": (len(ticks) - late) / length if length > 0 else None,
        "late_ticks": late,
        "refills_seen": sum(t.phase == REFILL for t in ticks),
    }


def _async_figures(ticks: list[Tick], hz: float, chunk_latencies: list[float]) -> Summary:
    """Starved ticks, the rate of delivered actions, the inference delay; refills seen are the
    chunks that arrived during the loop."""
    n = len(ticks)
    span = ticks[-1].start - ticks[0].start if n > 1 else 0.0
    starved = sum(t.phase == STARVED for t in ticks)
    delays = [inference_delay_ticks(x, hz) for x in chunk_latencies]
    return {
        # The rate the robot gets new actions, not the rate the loop ticks at.
        "delivered_hz": (n - starved - 1) / span if span > 0 and n - starved > 1 else 0.0,
        "starved_ticks": starved,
        "starved_pct": 100.0 * starved / n if n else None,
        "chunks": len(chunk_latencies),
        "refills_seen": len(chunk_latencies),
        "chunk_latency_median_ms": percentile(chunk_latencies, 50) * 1000 if chunk_latencies else None,
        "inference_delay_ticks_median": percentile(delays, 50) if delays else None,
        "inference_delay_ticks_max": max(delays) if delays else None,
    }


def is_late(scheduled: float, end: float, hz: float) -> bool:
    """A sync tick's action was not ready by its deadline, the next tick's scheduled time (seconds)."""
    return end > scheduled + 1.0 / hz + EPS


def missed(tick: Tick, hz: float) -> bool:
    """The tick's work overran its period."""
    return tick.end - tick.start > 1.0 / hz + EPS


def stored_ticks(ticks: list[Tick], hz: float) -> list[RealtimeTick]:
    """The ticks as a results file keeps them: in milliseconds, each marked missed or not."""
    return [
        RealtimeTick(t.k, t.phase, t.scheduled * 1000, t.start * 1000, t.end * 1000, t.queue, missed(t, hz))
        for t in ticks
    ]


def rtc_figures(
    latencies: list[float],
    delays_used: list[int],
    hz: float,
    chunk: int,
    horizon: int,
    plain: list[float],
    guided: list[float],
) -> Summary:
    """What Real-Time Chunking adds to an async summary. ``latencies`` and ``delays_used``: every
    chunk the engine merged, the first (cold) one first; ``plain``/``guided``: the policy's chunk
    without and with guidance, timed in the same process (seconds). d as the engine computed it
    (its largest), as the p95 latency would give it, and as the first chunk alone sets it (LeRobot
    0.6.1's LatencyTracker.max() keeps the largest latency ever added)."""
    steady = latencies[1:]
    d_engine = max(delays_used[1:], default=None)
    d_p95 = inference_delay_ticks(percentile(steady, 95), hz) if steady else None
    d_first = inference_delay_ticks(latencies[0], hz) if latencies else None
    d_rest = inference_delay_ticks(max(steady), hz) if steady else None
    out: Summary = {
        "chunk_length": chunk,
        "execution_horizon": horizon,
        "delay_engine_ticks": d_engine,
        "delay_p95_ticks": d_p95,
        "delay_first_ticks": d_first,
        # the cold first chunk alone set the engine's d: the rest would have given less
        "cold_start_sets_delay": d_first is not None and d_rest is not None and d_first > d_rest,
        "admission_ok": None if d_engine is None else admitted(d_engine, horizon, chunk),
    }
    for name, values in (("plain", plain), ("guided", guided)):
        out[f"{name}_refill_median_ms"] = percentile(values, 50) * 1000 if values else None
        out[f"{name}_refill_p95_ms"] = percentile(values, 95) * 1000 if values else None
    if plain and guided:
        out["guidance_overhead_median_ms"] = (percentile(guided, 50) - percentile(plain, 50)) * 1000
        out["guidance_overhead_p95_ms"] = (percentile(guided, 95) - percentile(plain, 95)) * 1000
    return out


def admitted(d: int, horizon: int, chunk: int) -> bool:
    """LeRobot's RTC admission check (its training uses it): d <= execution_horizon <= chunk - d."""
    return d <= horizon <= chunk - d
