"""The published tables are what policybench prints from the results files kept in docs/results/.

A table in README.md or docs/ follows a comment naming the command that prints it
(docs/results/README.md); this test runs that command and compares, so a figure in the docs
cannot drift from its data.
"""

import re
import shlex
from pathlib import Path

import pytest

from policybench.cli import main

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"<!-- generated: policybench (report [^>\n]+? --format table) -->\n+```\n(.*?)```", re.S)


def _tables() -> list[tuple[str, str, str]]:
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for command, table in MARKER.findall(doc.read_text()):
            found.append((doc.name, command, table))
    return found


def test_the_readme_has_a_generated_table():
    assert any(doc == "README.md" for doc, _, _ in _tables())


@pytest.mark.parametrize(("doc", "command", "table"), _tables(), ids=lambda x: str(x)[:40])
def test_a_published_table_is_what_its_command_prints(doc, command, table, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(shlex.split(command)) == 0
    assert capsys.readouterr().out == table, f"{doc}: regenerate with `policybench {command}`"
