"""One self-contained HTML file: tables and plots embedded, no scripts, no network access."""

from __future__ import annotations

import base64
import html

from policybench.report.markdown import COLUMNS, detail_table, realtime_section, report_notes, summary_rows
from policybench.report.plots import render_pngs
from policybench.report.format import machine_line
from policybench.report.table import render_table
from policybench.results import RunResults

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
img { max-width: 100%; display: block; margin: 1em 0; }
"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    esc = html.escape
    head = "<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in headers) + "</tr></thead><tbody>"
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return head + body + "</tbody></table>"


def render_html(results: RunResults, notes: list[str] | None = None, pngs: dict[str, bytes] | None = None) -> str:
    """``pngs`` defaults to the plots of ``results``; pass {} for a file without figures."""
    pngs = render_pngs(results) if pngs is None else pngs
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>policybench results</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>policybench results</h1>",
        f"<p>{esc(machine_line(results))}</p>",
    ]
    if results.results:
        parts.append(_table(COLUMNS, summary_rows(results)))
    headers, rows = detail_table(results)
    if rows:
        parts.append(_table(headers, rows))
    realtime = realtime_section(results)
    if realtime:
        parts.append("<h2>realtime</h2><pre>" + esc(realtime) + "</pre>")
    extra = report_notes(results, notes)
    if extra:
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in extra) + "</ul>")
    for name, data in pngs.items():
        b64 = base64.b64encode(data).decode("ascii")
        parts.append(f'<h2>{esc(name)}</h2><img alt="{esc(name)}" src="data:image/png;base64,{b64}">')
    if results.results:
        baseline = results.run.get("baseline")
        table = render_table(results, baseline if isinstance(baseline, str) else None)
        parts.append("<h2>full table</h2><pre>" + esc(table) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
