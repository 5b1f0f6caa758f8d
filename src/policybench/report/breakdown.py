"""The refill anatomy block (--breakdown): per result, each component's median time per refill, its
share, calls, FLOPs, weight bytes read and floor multiple, the unattributed rest as a row of its
own, the coverage, and the published figures of a matching anchor. Pure: results in, text out."""

from __future__ import annotations

from policybench.anatomy.anchors import Anchor, matching
from policybench.anatomy.summary import MIN_COVERAGE, Part, Split, split
from policybench.report.format import format_ms, label
from policybench.results import OK, PolicyResult, RunResults

HEADERS = ["Component", "Calls/refill", "Median (ms)", "Share", "GFLOP", "GB read", "Floor (ms)", "x floor"]


def split_results(results: RunResults) -> list[tuple[PolicyResult, Split]]:
    """The measured results that have a breakdown, with its Split, in the file's order."""
    out = []
    for r in results.results:
        s = split(r.breakdown) if r.status == OK and r.breakdown else None
        if s is not None:
            out.append((r, s))
    return out


def _number(value: float | None, scale: float = 1.0) -> str:
    return "-" if value is None else f"{value / scale:.3g}"


def _row(p: Part) -> list[str]:
    calls = "-" if p.calls is None else f"{p.calls:g}" + (f" ({p.repeat})" if p.repeat else "")
    share = "-" if p.share is None else f"{100 * p.share:.1f} %"
    return [
        p.name,
        calls,
        format_ms(p.median_ms),
        share,
        _number(p.flops, 1e9),
        _number(p.weight_bytes_read, 1e9),
        format_ms(p.floor_ms),
        "-" if p.x_floor is None else f"{p.x_floor:.3g} x",
    ]


def breakdown_rows(s: Split) -> list[list[str]]:
    """One row per component, then the unattributed rest, then the whole refill."""
    whole = ["whole refill", "", format_ms(s.refill_ms), "100 %", "", "", "", ""]
    return [_row(p) for p in s.parts] + [whole]


def heading(r: PolicyResult, s: Split) -> str:
    """ "ACT: refill median 2208.54 ms over 5 breakdown refills (timed refills: 2191.27 ms); the
    components cover 98 %": the timed median beside it shows what the instrumentation costs."""
    timed = r.summary()["refill"]["median_ms"]
    beside = "" if timed is None else f" (timed refills: {format_ms(timed)} ms)"
    covered = "" if s.coverage is None else f"; the components cover {100 * s.coverage:.0f} %"
    low = (
        " (under 80 %: much of the refill is outside every component)"
        if (s.coverage is not None and s.coverage < MIN_COVERAGE and not s.note)
        else ""
    )
    return (
        f"{label(r)}: refill median {format_ms(s.refill_ms)} ms over {s.refills} breakdown refills{beside}"
        f"{covered}{low}"
    )


def anchor_lines(r: PolicyResult, s: Split) -> list[str]:
    """For each anchor the result matches: every published part beside the measured one."""
    return [line for a in matching(r.policy, r.config) for line in _anchor(a, s)]


def _anchor(a: Anchor, s: Split) -> list[str]:
    measured = {p.name: p.median_ms for p in s.parts}
    out = [f"published, measured on other hardware ({a.hardware}; {a.source}; {a.cameras} views, {a.steps} steps):"]
    for part in a.parts:
        ours = [measured[c] for c in part.components if c in measured]
        here = format_ms(sum(ours)) if ours else "-"
        out.append(
            f"  {part.published}: {format_ms(part.ms)} ms published, {here} ms here ({' + '.join(part.components)})"
        )
    if a.total_ms is not None:
        out.append(f"  whole call: {format_ms(a.total_ms)} ms published, {format_ms(s.refill_ms)} ms here")
    return out


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADERS)]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in [HEADERS, *rows]]


Section = tuple[str, list[list[str]], list[str]]  # heading, rows under HEADERS, lines after them


def breakdown_sections(results: RunResults) -> list[Section]:
    """Per result with a breakdown, what every renderer shows of it: its heading, its rows, and the
    lines after them (why the refill is whole, the published figures of a matching anchor)."""
    return [
        (heading(r, s), breakdown_rows(s), ([s.note] if s.note else []) + anchor_lines(r, s))
        for r, s in split_results(results)
    ]


TITLE = (
    "Refill anatomy (--breakdown: refills of their own after the timed ones, the device synchronized at every "
    "component boundary; a component's time excludes the components it calls)"
)
FLOOR_NOTE = "floor = max(FLOPs / peak FLOP/s, weight bytes read / peak bytes/s), peaks measured on this device"


def render_breakdown(results: RunResults) -> list[str]:
    """The block's lines for the terminal table ([] when no result has a breakdown)."""
    sections = breakdown_sections(results)
    if not sections:
        return []
    out = [TITLE]
    for title, rows, after in sections:
        out += ["", title, *_table(rows), *(f"  {line}" for line in after)]
    return out + ["", FLOOR_NOTE]
