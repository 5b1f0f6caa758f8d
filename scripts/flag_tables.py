"""Rewrite the flag tables of docs/commands.md from the settings' declaration (policybench.options).

    python scripts/flag_tables.py

tests/unit/test_docs_tables.py fails while a table differs from what this writes.
"""

from pathlib import Path

from policybench.options import with_flag_tables

DOC = Path(__file__).resolve().parents[1] / "docs" / "commands.md"

if __name__ == "__main__":
    DOC.write_text(with_flag_tables(DOC.read_text()))
