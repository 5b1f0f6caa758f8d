"""Tables of real-time verdicts (live runs and simulations)."""

from __future__ import annotations

from policybench.report.table import format_ms, label


def _num(value: object, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


HEADERS = ["Policy", "Mode", "Hz", "Achieved", "Misses", "Worst overrun", "Longest stall",
           "Jitter p50/p99", "Starved", "d (ticks)"]


def realtime_row(e: dict[str, object]) -> list[str]:
    s = e.get("summary") or {}
    mode = str(e["mode"]) + (f" g={e['threshold']:g}" if e.get("threshold") is not None else "")
    if e.get("status", "ok") != "ok":  # failed or interrupted
        return [label(str(e["policy"])), mode, f"{e['hz']:g}", str(e["status"])] + ["-"] * (len(HEADERS) - 4)
    starved = "-" if "starved_ticks" not in s else f"{s['starved_ticks']} ({s['starved_pct']:.1f}%)"
    delay = "-" if s.get("inference_delay_ticks_max") is None else f"{s['inference_delay_ticks_median']:g}/{s['inference_delay_ticks_max']}"
    return [
        label(str(e["policy"])),
        mode,
        f"{e['hz']:g}",
        _num(s.get("delivered_hz", s.get("achieved_hz"))),  # async: actions delivered, not ticks
        f"{s['deadline_misses']} ({s['deadline_miss_pct']:.1f}%)",
        format_ms(s.get("worst_overrun_ms")) + " ms",
        format_ms(s.get("longest_stall_ms")) + " ms" + (" (never recovered)" if s.get("stall_open_at_end") else ""),
        f"{format_ms(s.get('jitter_p50_ms'))}/{format_ms(s.get('jitter_p99_ms'))} ms",
        starved,
        delay,
    ]


def render_remote(entries: list[dict[str, object]]) -> list[str]:
    """Lines for the round trips through LeRobot's PolicyServer, next to the in-process chunk."""
    out = []
    for e in entries:
        s = e.get("summary") or {}
        out.append(
            f"{label(str(e['policy']))} through LeRobot's PolicyServer (loopback gRPC): round trip median "
            f"{format_ms(s['round_trip_median_ms'])} ms, p99 {format_ms(s['round_trip_p99_ms'])} ms over "
            f"{s['calls']} calls; the same chunk in-process {format_ms(s['in_process_chunk_median_ms'])} ms "
            f"(overhead {format_ms(s['overhead_median_ms'])} ms: serialize, transport, pre/post-processing)"
        )
    return out


def render_realtime(entries: list[dict[str, object]], highest: list[dict[str, object]] | None = None) -> str:
    remote = [e for e in entries if e.get("mode") == "remote" and e.get("status", "ok") == "ok"]
    entries = [e for e in entries if e not in remote]
    rows = [realtime_row(e) for e in entries]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(HEADERS)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [line(HEADERS), "-" * len(line(HEADERS))] + [line(r) for r in rows]
    out.append("")
    out.append("Achieved: ticks per second (sync), new actions per second (async). Misses: ticks whose work "
               "overran the period.")
    out.append("Longest stall: longest time with no new action; never recovered: still stalled when the run ended.")
    out.append("Starved (async): ticks with an empty queue. d: inference delay in ticks, median/max.")
    for e in entries:
        if e.get("status", "ok") != "ok":
            out.append(f"{label(str(e['policy']))} {e['status']}: {str(e.get('error') or '').splitlines()[0]}")
    out += render_remote(remote)
    for h in highest or []:
        parts = [f"sync {h['sync_hz']:g} Hz" if h["sync_hz"] is not None else "sync: none of the rates"]
        for g, hz in h["async_hz"].items():
            parts.append(f"async g={g:g} {hz:g} Hz" if hz is not None else f"async g={g:g}: none of the rates")
        line = f"highest rate without a miss/starved tick, {label(str(h['policy']))}: " + ", ".join(parts)
        if h.get("not_equivalent"):
            line += f" (not a win: {h['not_equivalent']})"
        out.append(line)
    return "\n".join(out) + "\n"
