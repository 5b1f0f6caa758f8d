"""The published figures are what policybench prints from the results files kept in docs/results/,
and every link between the README and the docs/ pages leads somewhere.

A block of output in README.md or docs/ follows a comment naming the command that prints it
(docs/results/README.md): `<!-- generated: policybench COMMAND -->` when the block is the whole
output, `<!-- excerpt of: policybench COMMAND -->` when it quotes some of its lines. This test
runs that command and compares, so a figure in the docs cannot drift from its data.
"""

import re
import shlex
from pathlib import Path

import pytest

from policybench.cli import main
from policybench.options import FLAG_TABLE, render_flag_table

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
GENERATED = re.compile(r"<!-- generated: policybench ([^>\n]+?) -->\n+```\n(.*?)```", re.S)
EXCERPT = re.compile(r"<!-- excerpt of: policybench ([^>\n]+?) -->\n+```\n(.*?)```", re.S)
# Commands that only read files: a test may run them, and they print the same every time.
READERS = re.compile(r"(report (?!.* -o)\S.*|compare \S.*|realtime --simulate \S.*)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


def _blocks(pattern: re.Pattern[str]) -> list[tuple[str, str, str]]:
    return [
        (str(doc.relative_to(ROOT)), command, block)
        for doc in DOCS
        for command, block in pattern.findall(doc.read_text())
    ]


def _output(command: str, monkeypatch, capsys) -> str:
    assert READERS.fullmatch(command), f"not a command that only reads a results file: {command}"
    monkeypatch.chdir(ROOT)
    assert main(shlex.split(command)) == 0
    return capsys.readouterr().out


# Where each published table lives: a table that loses its comment is no longer checked, so its
# place is pinned here (move it, and move its line).
PUBLISHED = [
    ("README.md", "report docs/results/make-bench-xeon.json --format table"),
    ("README.md", "compare docs/results/fleet-1-thread-xeon.json docs/results/fleet-2-threads-xeon.json"),
    ("docs/breakdown.md", "report docs/results/breakdown-xeon.json --format table"),
    ("docs/fleet.md", "report docs/results/fleet-2-threads-xeon.json docs/results/fleet-1-thread-xeon.json"),
    ("docs/realtime.md", "realtime --simulate docs/results/rtc-smolvla-xeon.json --mode rtc"),
]


@pytest.mark.parametrize(("doc", "command"), PUBLISHED)
def test_a_published_table_is_generated_where_it_lives(doc, command):
    assert any(d == doc and c.startswith(command) for d, c, _ in _blocks(GENERATED)), f"{doc}: no generated {command}"


def test_every_kept_results_file_is_behind_a_published_block():
    commands = " ".join(command for _, command, _ in _blocks(GENERATED) + _blocks(EXCERPT))
    unused = [p.name for p in sorted((ROOT / "docs" / "results").glob("*.json")) if p.name not in commands]
    assert not unused, f"results files no generated block reads: {unused}"


@pytest.mark.parametrize(("doc", "command", "table"), _blocks(GENERATED), ids=lambda x: str(x)[:40])
def test_a_published_table_is_what_its_command_prints(doc, command, table, monkeypatch, capsys):
    assert _output(command, monkeypatch, capsys) == table, f"{doc}: regenerate with `policybench {command}`"


@pytest.mark.parametrize(("doc", "command", "block"), _blocks(EXCERPT), ids=lambda x: str(x)[:40])
def test_a_published_excerpt_is_part_of_what_its_command_prints(doc, command, block, monkeypatch, capsys):
    printed = iter(_output(command, monkeypatch, capsys).splitlines())
    missing = [line for line in block.splitlines() if line and line not in printed]
    assert not missing, f"{doc}: not printed (in this order) by `policybench {command}`: {missing[0]!r}"


# The flag tables: each a block between `<!-- flags of: policybench COMMAND -->` and
# `<!-- end of flags -->`, made from the settings' declaration (policybench.options) by
# scripts/flag_tables.py. Where each lives is pinned, as the published tables' places are.
FLAG_TABLES = [("docs/commands.md", command) for command in ("run", "realtime", "sweep", "verify")]


def _flag_tables() -> list[tuple[str, str, str]]:
    return [
        (str(doc.relative_to(ROOT)), m.group(2), m.group(3))
        for doc in DOCS
        for m in FLAG_TABLE.finditer(doc.read_text())
    ]


@pytest.mark.parametrize(("doc", "command"), FLAG_TABLES)
def test_a_commands_flag_table_is_generated_where_it_lives(doc, command):
    assert (doc, command) in [(d, c) for d, c, _ in _flag_tables()], f"{doc}: no flag table of {command}"


@pytest.mark.parametrize(("doc", "command", "table"), _flag_tables(), ids=lambda x: str(x)[:40])
def test_a_flag_table_is_what_the_declaration_makes(doc, command, table):
    assert table == render_flag_table(command), f"{doc}: regenerate with `python scripts/flag_tables.py`"


@pytest.mark.parametrize(("doc", "command", "table"), _flag_tables(), ids=lambda x: str(x)[:40])
def test_a_flag_table_names_the_flags_that_help_lists(doc, command, table, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    # "  --ray [ADDRESS]       each ...", "  --policy-path DIR, --policy.path DIR": the flags --help lists
    invocations = re.findall(r"^  (-\S.*?)(?:\s{2,}|$)", capsys.readouterr().out, re.M)
    helped = {part.split()[0] for line in invocations for part in line.split(", ")} - {"-h", "--help"}
    rows = re.findall(r"^\| (.*?) \|", table, re.M)[1:] + re.findall(rf"^`{command}` .*", table, re.M)
    tabled = {flag for cell in rows for flag in re.findall(r"`(-[^ `]+)", cell)}
    assert tabled == helped, (
        f"{doc}: only in {command}'s table: {sorted(tabled - helped)}; only in its --help: {sorted(helped - tabled)}"
    )


def _anchors(doc: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", doc.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def _local_links() -> list[tuple[str, str]]:
    return [
        (str(doc.relative_to(ROOT)), target)
        for doc in DOCS
        for target in LINK.findall(FENCE.sub("", doc.read_text()))
        if not re.match(r"[a-z]+:", target)
    ]


def test_the_docs_have_local_links():
    assert len(_local_links()) > 20


@pytest.mark.parametrize(("doc", "target"), _local_links(), ids=lambda x: str(x)[:50])
def test_a_local_link_leads_to_a_file_and_heading(doc, target):
    path, _, anchor = target.partition("#")
    file = (ROOT / doc).parent / path if path else ROOT / doc
    assert file.resolve().is_relative_to(ROOT), f"{doc}: {target} leads outside the repository"
    assert file.exists(), f"{doc}: {target}: no such file"
    if anchor:
        assert anchor in _anchors(file), f"{doc}: {target}: no such heading in {file.name}"
