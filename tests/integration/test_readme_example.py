"""The README's Python example, and the longer one of docs/library.md, run as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_example(doc: Path, heading: str, tmp_path, monkeypatch, capsys) -> str:
    text = doc.read_text()
    section = text[text.index(heading) :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, doc.name, "exec"), {})
    return capsys.readouterr().out


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    out = _run_example(ROOT / "README.md", "## From Python", tmp_path, monkeypatch, capsys)
    step_ms, refill_ms = (float(figure) for figure in out.split())  # ACT's step and refill medians
    assert step_ms > 0 and refill_ms > 0


def test_the_library_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    out = _run_example(ROOT / "docs" / "library.md", "# From Python", tmp_path, monkeypatch, capsys)
    assert "<Results on cpu" in out and "<Measurement act:" in out
    assert out.rstrip().endswith("False")
    assert (tmp_path / "act.json").exists()
