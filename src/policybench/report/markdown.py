"""A GitHub-ready Markdown summary of a results file."""

from __future__ import annotations

from policybench.report.table import format_ms, label, machine_line
from policybench.results import OK, RunResults

COLUMNS = [
    "Policy", "Status", "Params (M)", "Step median (ms)", "Step p99 (ms)", "Refill median (ms)",
    "Refill p99 (ms)", "Refill max (ms)", "Cold start (ms)", "Steps/Refills",
]


def summary_rows(results: RunResults) -> list[list[str]]:
    """One row of display cells per policy, shared by the Markdown and HTML renderers."""
    rows = []
    for r in results.results:
        if r.status != OK:
            rows.append([label(r.policy), r.status] + ["-"] * (len(COLUMNS) - 2))
            continue
        s = r.summary()
        rows.append([
            label(r.policy),
            "ok" if r.complete is not False else "ok (cut by --max-seconds)",
            f"{r.params / 1e6:.1f}" if r.params is not None else "-",
            format_ms(s["step"]["median_ms"]),
            format_ms(s["step"]["p99_ms"]),
            format_ms(s["refill"]["median_ms"]),
            format_ms(s["refill"]["p99_ms"]),
            format_ms(s["refill"]["max_ms"]),
            format_ms(r.cold_start_ms),
            f"{s['step']['count']}/{s['refill']['count']}",
        ])
    return rows


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def render_markdown(results: RunResults, notes: list[str] | None = None) -> str:
    lines = [f"**{machine_line(results)}**", ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(COLUMNS) - 1)) + "|")
    for row in summary_rows(results):
        lines.append("| " + " | ".join(_escape(c) for c in row) + " |")
    failures = [r for r in results.results if r.status != OK]
    extra = [f"{label(r.policy)} {r.status}: {(r.error or '').splitlines()[0] if r.error else ''}" for r in failures]
    extra += list(notes or [])
    if extra:
        lines.append("")
        lines += [f"- {_escape(n)}" for n in extra]
    return "\n".join(lines) + "\n"
