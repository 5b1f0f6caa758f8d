"""The HTML report is one self-contained file: plots embedded as data URIs, no scripts, no network.

Input: tests/data/mixed_results.json, whose failed policy's error holds ``<b>`` and ``|``.
"""

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from policybench.diagnostics import diagnose
from policybench.report.html import render_html
from policybench.report.markdown import COLUMNS
from policybench.results import read_results

DATA = Path(__file__).resolve().parents[1] / "data"
NAMES = ["timeline", "cdf", "bars"]
IMG = re.compile(r'<img alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each table cell."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_cell = tag in ("td", "th")
        if self._in_cell:
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.cells[-1] += data


@pytest.fixture(scope="module")
def results():
    return read_results(str(DATA / "mixed_results.json"))


@pytest.fixture(scope="module")
def page(results):
    return render_html(results, diagnose(results))


@pytest.fixture(scope="module")
def tags(page):
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def test_one_document(page):
    assert page.startswith("<!DOCTYPE html>\n<html")
    assert page.endswith("</html>\n")
    assert page.count("<html") == page.count("</html>") == 1
    assert page.count("<body>") == page.count("</body>") == 1


def test_every_plot_is_embedded_as_a_png(page):
    images = IMG.findall(page)
    assert [alt for alt, _ in images] == NAMES
    for _, b64 in images:
        data = base64.b64decode(b64, validate=True)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        Image.open(io.BytesIO(data)).load()


def test_nothing_is_fetched(page, tags):
    assert "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page
    assert not [t for t, _ in tags.tags if t in ("script", "link", "iframe", "object", "embed")]
    for tag, attrs in tags.tags:
        for key in ("src", "href"):
            assert key not in attrs or attrs[key].startswith("data:"), (tag, attrs)


def test_summary_table_has_the_columns_and_policies(tags, results):
    assert tags.cells[: len(COLUMNS)] == COLUMNS
    rows = [tags.cells[k : k + len(COLUMNS)] for k in range(len(COLUMNS), len(tags.cells), len(COLUMNS))]
    assert [row[0] for row in rows[: len(results.results)]] == ["SmolVLA", "ACT", "pi0", "Diffusion"]
    assert rows[0][3] == "0.500 ± 0.250" and rows[2][1] == "ok (cut by --max-seconds)" and rows[3][1] == "failed"
    assert rows[len(results.results)][0] == "Metric"  # the summary ends; the details table follows


def test_full_table_and_notes_appear(page, results):
    assert "<h2>full table</h2><pre>" in page and "INFERENCE SPEED BENCHMARK RESULTS" in page
    for note in diagnose(results):
        assert f"<li>{note}</li>" in page  # the notes of this file hold nothing to escape


def test_text_from_results_is_escaped(page):
    assert "<b>" not in page and "</b>" not in page
    assert "Diffusion failed: RuntimeError: bad &lt;b&gt;shape&lt;/b&gt; | 3 != 4" in page


def test_notes_are_escaped(results):
    page = render_html(results, notes=['try <i>this</i> & "that"'], pngs={})
    assert "<li>try &lt;i&gt;this&lt;/i&gt; &amp; &quot;that&quot;</li>" in page
    assert "<i>" not in page


def test_without_pngs_no_images(results):
    page = render_html(results, pngs={})
    assert "<img" not in page and "<h2>full table</h2>" in page


def test_given_pngs_are_embedded_as_given(results):
    page = render_html(results, pngs={"bars": b"\x89PNG fake"})
    assert IMG.findall(page) == [("bars", base64.b64encode(b"\x89PNG fake").decode())]
