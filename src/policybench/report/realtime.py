"""Tables of real-time verdicts (live runs and simulations)."""

from __future__ import annotations

from collections.abc import Sequence

import math

from policybench.control.budget import MIN_REFILLS, Fit, HighestRate, PolicyBudget, Suggestion, judged
from policybench.report.format import column_blocks, duration_text, format_ms, label
from policybench.results import RealtimeResult, Summary
from policybench.terminal import wrapped


def _num(value: object, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


HEADERS = [
    "Policy",
    "Mode",
    "Hz",
    "Achieved",
    "Misses",
    "Worst overrun",
    "Longest stall",
    "Jitter p50/p99",
    "Starved",
    "d (ticks)",
]


def _mode_text(e: RealtimeResult) -> str:
    if e.mode == "rtc" and e.summary.get("queue_threshold") is not None:
        return f"rtc q={e.summary['queue_threshold']:g} H={e.summary.get('execution_horizon', '-')}"
    return e.mode + (f" g={e.threshold:g}" if e.threshold is not None else "")


def realtime_row(e: RealtimeResult) -> list[str]:
    s, mode = e.summary, _mode_text(e)
    if not e.ok:  # failed or interrupted
        return [label(e), mode, f"{e.hz:g}", str(e.status)] + ["-"] * (len(HEADERS) - 4)
    starved = _count(s, "starved_ticks", "starved_pct")
    delay = (
        "-"
        if s.get("inference_delay_ticks_max") is None
        else f"{s['inference_delay_ticks_median']:g}/{s['inference_delay_ticks_max']}"
    )
    late = f" ({s['late_ticks']} late)" if s.get("late_ticks") else ""
    return [
        label(e),
        mode,
        f"{e.hz:g}",
        _num(s.get("delivered_hz", s.get("achieved_hz"))) + late,  # async: actions delivered, not ticks
        _count(s, "deadline_misses", "deadline_miss_pct"),
        format_ms(s.get("worst_overrun_ms")) + " ms",
        format_ms(s.get("longest_stall_ms")) + " ms" + (" (never recovered)" if s.get("stall_open_at_end") else ""),
        f"{format_ms(s.get('jitter_p50_ms'))}/{format_ms(s.get('jitter_p99_ms'))} ms",
        starved,
        delay,
    ]


def _count(s: Summary, key: str, pct: str) -> str:
    """ "3 (1.0%)"; "-" for a figure the summary lacks (a results file may carry a partial one)."""
    if s.get(key) is None:
        return "-"
    return f"{s[key]} ({s[pct]:.1f}%)" if s.get(pct) is not None else str(s[key])


def render_remote(entries: list[RealtimeResult]) -> list[str]:
    """Lines for the round trips through LeRobot's PolicyServer, next to the in-process chunk."""
    out = []
    for e in entries:
        s = e.summary
        out.append(
            f"{label(e)} through LeRobot's PolicyServer (gRPC on this machine): round trip median "
            f"{format_ms(s.get('round_trip_median_ms'))} ms, p99 {format_ms(s.get('round_trip_p99_ms'))} ms over "
            f"{s.get('calls', '-')} calls; the same chunk in-process "
            f"{format_ms(s.get('in_process_chunk_median_ms'))} ms "
            f"({_overhead(s)})"
        )
    return out


def _overhead(s: Summary) -> str:
    """The server's overhead, never negative: the round trips and the in-process chunks are timed
    in different runs, so serialization, transport and pre/post-processing are one figure, and a
    difference whose interval reaches zero is noise between the runs."""
    low, high, median = s.get("overhead_low_ms"), s.get("overhead_high_ms"), s.get("overhead_median_ms")
    interval = (
        "not above 0" if low is None or high is None else f"95% interval {format_ms(low)} to {format_ms(high)} ms"
    )
    if median is None or median <= 0 or (low is not None and low <= 0):
        return (
            f"overhead within noise: round trip minus in-process, {interval}; the two are timed in different "
            "runs, so serialization, transport and pre/post-processing cannot be told apart"
        )
    return (
        f"overhead {format_ms(median)} ms, {interval}: serialization, transport and pre/post-processing "
        "together, timed in different runs"
    )


def seconds_to_judge(e: RealtimeResult) -> int | None:
    """The whole seconds a run of ``e``'s rate needs for a verdict (its summary's ticks_needed at
    its rate: what ``--seconds`` must be); None where the summary does not say."""
    needed = e.summary.get("ticks_needed")
    if not isinstance(needed, (int, float)) or e.hz <= 0:
        return None
    return max(1, math.ceil(needed / e.hz - 1e-9))


def render_not_judged(entries: list[RealtimeResult]) -> list[str]:
    """A line for each paced run too short for a verdict (fewer than two refills seen), with the
    --seconds that would give one."""
    out = []
    for e in entries:
        s = e.summary
        if e.ok and "ticks_needed" in s and not judged(s):
            out.append(
                f"{label(e)} {_mode_text(e)} at {e.hz:g} Hz: not enough ticks to judge: needs at least "
                f"{s['ticks_needed']:,} at this rate (to see {MIN_REFILLS} refills; this run saw "
                f"{s.get('refills_seen', 0)} in {s['ticks']:,} ticks): run it with --seconds "
                f"{seconds_to_judge(e):,}"
            )
    return out


def render_budgets(budgets: list[PolicyBudget]) -> list[str]:
    """Per policy: the measured refill, each mode's budget at each rate with the factor by which
    the refill misses it or the headroom it leaves, then what would hold at the highest rate."""
    out = []
    for b in budgets:
        r = b.refills
        out.append(
            f"Budget, {label(b.run)} (chunk {b.chunk}): refill median {_d(r.median)}, p95 {_d(r.p95)} "
            f"over {r.count} refill{'s' if r.count != 1 else ''}"
        )
        for key in dict.fromkeys((f.mode, f.threshold) for f in b.fits):
            fits = [f for f in b.fits if (f.mode, f.threshold) == key]
            out.append(f"  {_mode(fits[0])} budget ({_periods(fits[0])}): " + ", ".join(_fit(f) for f in fits))
        missed = [f for f in b.fits if not f.holds and f.hz == max(x.hz for x in b.fits)]
        if missed:
            out.append(
                f"  What would hold at {missed[0].hz:g} Hz (from the slowest refill measured, "
                f"{_d(r.slowest)}):" + ("" if b.suggestions else " nothing these measurements show")
            )
            out += [f"    {_suggestion(x)}" for x in b.suggestions]
            out += [f"    {limit}" for limit in b.limits]
    if budgets:
        out.append(
            "Async budget: min(floor(g x chunk) + 1, floor(chunk / 2)) periods: the actions left when a chunk "
            "is requested (plus the tick it arrives on), and half the chunk, whose first actions are stale "
            "on arrival."
        )
    return out


def _d(seconds: float) -> str:
    return duration_text(seconds * 1000)


def _mode(f: Fit) -> str:
    return "sync" if f.mode == "sync" else f"async g={f.threshold:g}"


def _periods(f: Fit) -> str:
    return "one period" if f.mode == "sync" else f"{f.ticks} period{'s' if f.ticks != 1 else ''}"


def _fit(f: Fit) -> str:
    where = f"{_d(f.budget)} at {f.hz:g} Hz"
    if f.ticks == 0:
        return f"none at {f.hz:g} Hz (a chunk of one action is stale when it arrives)"
    if f.factor > 1:
        return f"{where} (p95 misses it by {_times(f.factor)})"
    headroom = f"{_times(1 / f.factor)} headroom" if f.factor > 0 else "all of it to spare"
    if not f.holds:
        return f"{where} (p95 fits with {headroom}; the slowest, {_d(f.refills.slowest)}, misses it)"
    return f"{where} (fits with {headroom})"


def _times(factor: float) -> str:
    """A factor as a person reads it: "19.2x", "1.56x", "7,300x"; never scientific notation."""
    return f"{factor:,.0f}x" if factor >= 100 else f"{factor:.3g}x"


def _suggestion(x: Suggestion) -> str:
    if x.measured is None:
        budget = f"a period of {_d(1 / x.hz)}" if x.ticks == 1 else f"{x.ticks} x {_d(1 / x.hz)} = {_d(x.ticks / x.hz)}"
        if x.budget:  # a setting that changes the budget: how it follows
            budget = f"{x.budget} = {_d(x.ticks / x.hz)}"
        held = f"{x.flags}: {x.what} holds it ({budget} at {x.hz:g} Hz)"
        return f"{held}; {x.estimate}" if x.estimate else held
    return (
        f"{x.flags}: measured as {label(x.measured)}, slowest refill {_d(x.slowest)}: {x.what} holds it at "
        f"{x.hz:g} Hz ({_d(x.ticks / x.hz)})"
    )


KEEP = 3  # Policy, Mode, Hz: what names a row, repeated in each block of a folded table


def render_realtime(
    entries: list[RealtimeResult],
    highest: list[HighestRate] | None = None,
    budgets: list[PolicyBudget] | None = None,
    width: int | None = None,
) -> str:
    """The table of paced runs, its legend, failures, PolicyServer round trips, the runs too short
    to judge, the budgets and what would hold, and per policy the highest rate that held. A table
    wider than ``width`` characters (None: any width) folds into blocks of as many columns as fit,
    the policy, mode and rate repeated in each."""
    remote = [e for e in entries if e.mode == "remote" and e.ok]
    entries = [e for e in entries if e not in remote]
    rows = [realtime_row(e) for e in entries]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(HEADERS)]

    def line(cells: list[str], columns: list[int]) -> str:
        return "  ".join(cells[i].ljust(widths[i]) for i in columns).rstrip()

    out: list[str] = []
    for columns in column_blocks(widths, width, keep=KEEP):
        out += [""] * bool(out) + [line(HEADERS, columns), "-" * len(line(HEADERS, columns))]
        out += [line(r, columns) for r in rows]
    notes: list[str] = [""]
    notes.append(
        "Achieved: ticks whose action was ready by their deadline, per second (sync; late: the others), new "
        "actions per second (async). Misses: ticks whose work overran the period."
    )
    notes.append("Longest stall: longest time with no new action; never recovered: still stalled when the run ended.")
    notes.append("Starved (async): ticks with an empty queue. d: inference delay in ticks, median/max.")
    for e in entries:
        if not e.ok:
            notes.append(f"{label(e)} {e.status}: {str(e.error or '').splitlines()[0]}")
    notes += render_remote(remote)
    notes += render_rtc([e for e in entries if e.mode == "rtc" and e.ok and e.summary])
    notes += render_not_judged(entries)
    notes += render_budgets(budgets or [])
    notes += render_highest(highest or [], entries)
    out += [part for note in notes for part in wrapped(note, width)]  # folded to the width, as the table
    return "\n".join(out) + "\n"


def render_highest(highest: list[HighestRate], entries: Sequence[RealtimeResult] = ()) -> list[str]:
    """Per policy, the highest rate that held in each mode, and the rates too short to judge with
    the --seconds that judges them all (from ``entries``, the runs ``highest`` was found in)."""
    out = []
    for h in highest:
        unjudged = h.not_judged.get("sync")
        parts = [_highest("sync", h.sync_hz, unjudged, _seconds(entries, h.policy, "sync", unjudged))]
        for g, hz in h.async_hz.items():
            unjudged = h.not_judged.get(g)
            parts.append(_highest(f"async g={g:g}", hz, unjudged, _seconds(entries, h.policy, g, unjudged)))
        line = f"highest rate without a miss/starved tick, {label(h.run)}: " + ", ".join(parts)
        if h.not_equivalent:
            line += f" (not a win: {h.not_equivalent})"
        out.append(line)
    return out


def _seconds(entries: Sequence[RealtimeResult], name: str, key: str | float, rates: list[float] | None) -> int | None:
    """The --seconds that judges every one of ``rates`` of policy ``name`` in mode ``key`` ("sync"
    or an async threshold)."""
    mine = [
        seconds_to_judge(e)
        for e in entries
        if e.name == name
        and e.hz in (rates or [])
        and (e.mode == "sync" if key == "sync" else e.mode == "async" and e.threshold == key)
    ]
    return max((n for n in mine if n is not None), default=None)


def _highest(mode: str, hz: float | None, unjudged: list[float] | None, seconds: int | None = None) -> str:
    text = f"{mode} {hz:g} Hz" if hz is not None else f"{mode}: none of the rates"
    if unjudged and (hz is None or max(unjudged) > hz):
        way = f"; --seconds {seconds:,} judges them" if seconds is not None else ""
        text += f" ({', '.join(f'{x:g}' for x in unjudged if hz is None or x > hz)} Hz: not enough ticks to judge{way})"
    return text


def render_rtc(entries: list[RealtimeResult]) -> list[str]:
    """Per Real-Time Chunking run: the verdict, the engine's d against the p95 latency's (and the
    cold start's), the guidance's cost, and LeRobot's admission check."""
    out = []
    for e in entries:
        s = e.summary
        out.append(f"{label(e)} rtc at {e.hz:g} Hz ({e.source}): {_rtc_verdict(e)}")
        if s.get("delay_engine_ticks") is not None:
            out.append(
                f"  d: the engine used {s['delay_engine_ticks']} ticks (ceil(LatencyTracker.max() / period)); "
                f"the p95 latency gives {_num(s.get('delay_p95_ticks'), '{}')}" + _cold(s)
            )
        if s.get("guided_refill_median_ms") is not None:
            out.append(
                f"  guidance: guided chunk median {format_ms(s['guided_refill_median_ms'])} ms, p95 "
                f"{format_ms(s['guided_refill_p95_ms'])} ms; plain median {format_ms(s['plain_refill_median_ms'])} "
                f"ms, p95 {format_ms(s['plain_refill_p95_ms'])} ms (same process, in turn): "
                f"{_signed(s.get('guidance_overhead_median_ms'))} median, "
                f"{_signed(s.get('guidance_overhead_p95_ms'))} p95"
            )
        out += _admission(s)
        if "smallest_queue_threshold" in s:
            out.append(f"  {_smallest(e)}")
    return out


def _smallest(e: RealtimeResult) -> str:
    """The simulated smallest setting that never starves, or why none does."""
    s = e.summary
    q, h, n, d = (
        s.get("smallest_queue_threshold"),
        s.get("smallest_execution_horizon"),
        s.get("chunk_length"),
        s.get("inference_delay_ticks_max"),
    )
    if q is not None:
        horizon = (
            f"--execution-horizon {h}"
            if h is not None
            else "no execution horizon passes the admission check (d > chunk - d)"
        )
        return f"smallest setting with no starved tick at {e.hz:g} Hz: --queue-threshold {q}, {horizon}"
    if isinstance(d, int) and isinstance(n, int) and d >= n:
        return (
            f"no queue threshold holds {e.hz:g} Hz: a chunk takes {d} ticks, longer than the whole chunk of {n} "
            "actions (every merge skips all of it)"
        )
    return (
        f"no queue threshold holds {e.hz:g} Hz: a chunk takes up to {_num(d, '{}')} ticks and the {n} - d "
        "actions left after a merge run out before the next chunk arrives"
    )


def _admission(s: Summary) -> list[str]:
    d, h, n = s.get("delay_engine_ticks"), s.get("execution_horizon"), s.get("chunk_length")
    if s.get("admission_ok") is None or not all(isinstance(x, int) for x in (d, h, n)):
        return []
    d, h, n = int(d or 0), int(h or 0), int(n or 0)
    why = "fewer actions than go by during inference" if d > h else "more than the new chunk's rest"
    return [
        f"  admission (d <= execution_horizon <= chunk - d): {d} <= {h} <= {n - d}: "
        + ("holds" if s["admission_ok"] else f"fails: guidance covers {why}")
    ]


def _rtc_verdict(e: RealtimeResult) -> str:
    s = e.summary
    stall = (
        f"longest stall {format_ms(s.get('longest_stall_ms'))} ms, {_num(s.get('delivered_hz'))} actions/s delivered"
    )
    if s.get("starved_ticks") is None:
        return "no verdict"
    if not judged(s):
        way = f": run it with --seconds {seconds:,}" if (seconds := seconds_to_judge(e)) is not None else ""
        return f"not enough ticks to judge ({s.get('refills_seen', 0)} chunks merged during the loop){way}, {stall}"
    if s["starved_ticks"] == 0:
        return f"holds: no starved tick in {s['ticks']:,}, {stall}"
    return f"does not hold: {_count(s, 'starved_ticks', 'starved_pct')} starved ticks, {stall}"


def _cold(s: Summary) -> str:
    if not s.get("cold_start_sets_delay"):
        return ""
    return (
        f"; the first, cold chunk set it ({s['delay_first_ticks']} ticks): LeRobot 0.6.1's "
        "LatencyTracker.max() keeps the largest latency ever added"
    )


def _signed(ms: object) -> str:
    return "-" if not isinstance(ms, (int, float)) else f"{'+' if ms >= 0 else '-'}{format_ms(abs(ms))} ms"
