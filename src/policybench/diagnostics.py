"""Warnings about a result that say what to do, in the spirit of pyperf and hyperfine.

Pure functions of the results; the CLI prints them below the table and reports include them.
"""

from __future__ import annotations

import os

from policybench.machine_load import busy_reason
from policybench.results import OK, RunResults
from policybench.samples import REFILL, STEP, latencies
from policybench.stats import percentile, samples_needed

MIN_REFILLS_FOR_P99 = samples_needed(99)  # 100: below it the table prints the refill p99 as n/a
HIGH_SPREAD = 0.10  # IQR / median
COLD_FACTOR = 10.0  # cold start vs steady-state refill median
SPREAD_FLOOR_MS = 0.01  # below 10 us the spread is timer and interpreter noise, not the policy


def diagnose(results: RunResults) -> list[str]:
    notes: list[str] = []
    env = results.environment
    threads, cores = env.get("threads"), env.get("cpu_count") or os.cpu_count()
    if isinstance(threads, int) and isinstance(cores, int) and threads > cores:
        notes.append(
            f"torch uses {threads} threads on {cores} cores: oversubscribed threads make latency erratic; "
            f"use --threads {cores}"
        )
    for r in results.results:
        if r.status != OK or not r.samples:
            continue
        busy = busy_reason(r.machine_load)
        if busy:
            notes.append(
                f"{busy} while {r.name} was measured: its figures are not reliable; close other programs and run again"
            )
        refills = latencies(r.samples, REFILL)
        if 0 < len(refills) < MIN_REFILLS_FOR_P99:
            notes.append(
                f"{r.name}: only {len(refills)} refills, so its refill p99 is about its maximum; "
                f"use --refills {MIN_REFILLS_FOR_P99} for a meaningful p99"
            )
        for phase in (STEP, REFILL):
            values = latencies(r.samples, phase)
            if len(values) < 4:
                continue
            median = percentile(values, 50)
            iqr = percentile(values, 75) - percentile(values, 25)
            if median >= SPREAD_FLOOR_MS and iqr / median > HIGH_SPREAD:
                notes.append(
                    f"{r.name}: {phase} latencies spread widely (IQR {100 * iqr / median:.0f}% of the median); "
                    "close other programs, pin --threads, or use more --warmup and --refills"
                )
        if refills and r.cold_start_ms is not None:
            median = percentile(refills, 50)
            if median > 0 and r.cold_start_ms > COLD_FACTOR * median:
                notes.append(
                    f"{r.name}: cold start {r.cold_start_ms:.0f} ms is "
                    f"{r.cold_start_ms / median:.0f}x the steady refill; "
                    f"{_one_time(r, median)}the first action after start-up will be late: run one inference "
                    "before the robot moves"
                )
    return notes


def _one_time(r, refill_median_ms: float) -> str:
    """The cold start less a steady refill, and what the first call read from disk meanwhile."""
    extra = f"{(r.cold_start_ms - refill_median_ms) / 1000:.1f} s of it is one-time set-up"
    read_mb, faults = r.memory.get("first_call_read_mb"), r.memory.get("first_call_major_faults")
    if read_mb and read_mb >= 1:
        extra += (
            f", during which the process read {read_mb:,.0f} MB from disk ({faults or 0:,.0f} major page "
            "faults: weights read lazily; touch them once after loading)"
        )
    return extra + "; "
