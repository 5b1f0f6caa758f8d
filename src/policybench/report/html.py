"""One self-contained HTML file: tables and plots embedded, no scripts, no network access."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

from policybench.report.breakdown import HEADERS as BREAKDOWN_HEADERS, breakdown_sections
from policybench.report.markdown import COLUMNS, detail_table, realtime_section, report_notes, summary_rows
from policybench.report.pngs import render_pngs
from policybench.report.format import machine_line
from policybench.report.table import render_table
from policybench.results import RunResults

if TYPE_CHECKING:
    from policybench.report.fleet import Fleet  # imports the simulation (torch): only when a fleet is rendered

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
    parts = [*_head("policybench results"), f"<p>{esc(machine_line(results))}</p>"]
    if results.results:
        parts.append(_table(COLUMNS, summary_rows(results)))
    headers, rows = detail_table(results)
    if rows:
        parts.append(_table(headers, rows))
    for title, split_rows, after in breakdown_sections(results):  # --breakdown
        parts.append(
            f"<h2>{esc(title)}</h2>"
            + _table(BREAKDOWN_HEADERS, split_rows)
            + "".join(f"<p>{esc(line.strip())}</p>" for line in after)
        )
    realtime = realtime_section(results)
    if realtime:
        parts.append("<h2>realtime</h2><pre>" + esc(realtime) + "</pre>")
    extra = report_notes(results, notes)
    if extra:
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in extra) + "</ul>")
    parts += [_image(name, data) for name, data in pngs.items()]
    if results.results:
        baseline = results.run.get("baseline")
        table = render_table(results, baseline if isinstance(baseline, str) else None)
        parts.append("<h2>full table</h2><pre>" + esc(table) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _head(title: str) -> list[str]:
    return [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]


def _image(name: str, png: bytes) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return f'<h2>{html.escape(name)}</h2><img alt="{html.escape(name)}" src="data:image/png;base64,{b64}">'


def render_fleet_html(fleet: Fleet, png: bytes | None = None) -> str:
    """The fleet view (report/fleet.py) and its figure (``png``; plot_fleet's when None)."""
    from policybench.report.fleet import fleet_cells
    from policybench.report.plot_fleet import render_fleet_png

    parts = [*_head(f"policybench fleet: {len(fleet.machines)} machines"), _table(*fleet_cells(fleet))]
    if fleet.notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in fleet.notes) + "</ul>")
    parts += [_image("fleet", render_fleet_png(fleet) if png is None else png), "</body></html>"]
    return "\n".join(parts) + "\n"
