"""A GitHub-ready Markdown summary of a results file: what the terminal table says, and the
realtime section of a file written by ``policybench realtime``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from policybench.report.breakdown import HEADERS as BREAKDOWN_HEADERS, breakdown_sections
from policybench.report.details import (
    accuracy_notes,
    below_floor,
    divergence_notes,
    detail_rows,
    interval_notes,
    missing_notes,
    not_a_win,
)
from policybench.report.format import format_ms, label, machine_line, median_text, percentile_text
from policybench.report.realtime import render_realtime
from policybench.results import OK, PolicyResult, RunResults

if TYPE_CHECKING:
    from policybench.report.fleet import Fleet  # imports the simulation (torch): only when a fleet is rendered

COLUMNS = [
    "Policy",
    "Status",
    "Params (M)",
    "Step median (ms)",
    "Step p99 (ms)",
    "Refill median (ms)",
    "Refill p99 (ms)",
    "Refill max (ms)",
    "Cold start (ms)",
    "Steps/Refills",
]


def _status(r: PolicyResult) -> str:
    """ "ok", "ok (cut by --max-seconds)", "ok, not a win: actions 2.7e-02 off fp32 eager (...)"."""
    text = "ok" if r.complete is not False else "ok (cut by --max-seconds)"
    verdict = not_a_win(r)
    return f"{text}, {verdict}" if verdict else text


def summary_rows(results: RunResults) -> list[list[str]]:
    """One row of display cells per policy, shared by the Markdown and HTML renderers."""
    rows = []
    for r in results.results:
        if r.status != OK:
            rows.append([label(r), r.status] + ["-"] * (len(COLUMNS) - 2))
            continue
        s = r.summary()
        rows.append(
            [
                label(r),
                _status(r),
                f"{r.params / 1e6:.1f}" if r.params is not None else "-",
                median_text(s["step"]),
                percentile_text(s["step"], 99),
                median_text(s["refill"]),
                percentile_text(s["refill"], 99),
                format_ms(s["refill"]["max_ms"]),
                format_ms(r.cold_start_ms),
                f"{s['step']['count']}/{s['refill']['count']}",
            ]
        )
    return rows


def detail_table(results: RunResults) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of what the terminal table shows below the latencies (pipeline stages,
    variants and equivalence, chunk settings and memory), one column per policy; no rows when
    the file has none of these."""
    rows = [row for group in detail_rows(results.results) for row in group]
    return ["Metric"] + [label(r) for r in results.results], rows


def report_notes(results: RunResults, notes: list[str] | None = None) -> list[str]:
    """The failures (first line of each error), why a figure is "-", what a "±" promises, then ``notes``."""
    failures = [
        f"{label(r)} {r.status}: {(r.error or '').splitlines()[0] if r.error else ''}"
        for r in results.results
        if r.status != OK
    ]
    below = [why for r in results.results if (why := below_floor(r))]
    return (
        failures
        + missing_notes(results.results)
        + below
        + accuracy_notes(results.results)
        + divergence_notes(results.results)
        + interval_notes(results.results)
        + list(notes or [])
    )


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(_escape(h) for h in headers) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|",
    ]
    return lines + ["| " + " | ".join(_escape(c) for c in row) + " |" for row in rows]


def _code_block(text: str) -> list[str]:
    """A fenced block whose fence is longer than any run of backticks in ``text``."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text.rstrip("\n"), fence]


def realtime_section(results: RunResults) -> str:
    """The realtime section of the file as the terminal shows it ("" when the file has none)."""
    return render_realtime(results.realtime) if results.realtime else ""


def render_markdown(results: RunResults, notes: list[str] | None = None) -> str:
    lines = [f"**{machine_line(results)}**", ""]
    if results.results:
        lines += _table(COLUMNS, summary_rows(results))
    headers, rows = detail_table(results)
    if rows:
        lines += [""] + _table(headers, rows)
    for title, parts, after in breakdown_sections(results):  # --breakdown
        lines += ["", f"**{_escape(title)}**", ""] + _table(BREAKDOWN_HEADERS, parts)
        lines += [""] * bool(after) + [f"- {_escape(line.strip())}" for line in after]
    realtime = realtime_section(results)
    if realtime:
        lines += ([""] if results.results else []) + _code_block(realtime)
    extra = report_notes(results, notes)
    if extra:
        lines.append("")
        lines += [f"- {_escape(n)}" for n in extra]
    return "\n".join(lines) + "\n"


def render_fleet_markdown(fleet: Fleet) -> str:
    """The fleet view (report/fleet.py): one column per machine, then its notes."""
    from policybench.report.fleet import fleet_cells

    lines = [f"**fleet: {len(fleet.machines)} machines**", "", *_table(*fleet_cells(fleet))]
    return "\n".join(lines + ([""] + [f"- {_escape(n)}" for n in fleet.notes] if fleet.notes else [])) + "\n"
