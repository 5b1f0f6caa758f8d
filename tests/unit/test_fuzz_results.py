"""Hostile results files (issue 22): seeded mutations of the committed results files, and of two
richer ones (fakes.rich_json: variants, --pipeline, memory, realtime; fakes.sweep_json: a two-axis
sweep), each run through report, plot, compare and realtime --simulate. A mutated file is either still valid
(exit 0; compare also 1, a regression verdict) or refused with one line (exit 2): never a
traceback, whatever it holds."""

from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path

import pytest
from fakes import rich_json, sweep_json

from policybench.cli import main
from policybench.report import html

DATA = Path(__file__).resolve().parents[1] / "data"
SEED = 22
MUTATIONS = 300
# Figures take about 1 s a file (matplotlib): `plot`, and report --format html with its figures, run for
# one mutation in RENDER_EVERY each; the other html reports are made without figures (all else the same).
RENDER_EVERY = 6
DEEP = 100_000  # brackets: json.loads alone would hit RecursionError
HUGE_INT_DIGITS = 5_000  # above Python's 4300-digit limit for int(text)

HOSTILE_VALUES = [
    [],
    {},
    [1, "x"],
    {"x": [1]},
    "abc",
    "",
    None,
    True,
    False,
    0,
    -1,
    -1e-9,
    0.5,
    1e308,
    -1e308,
    10**30,
    float("nan"),
    float("inf"),
    float("-inf"),
    "\x1b[31mred\x1b[0m",
    "名前\x00\x07\n",
    "$\\frac{1}{0}$",
]
NAME_INSERTS = [
    "\x1b[2J\x1b[31m",
    "\x00",
    "\x07",
    "\n",
    "\r",
    "\t",
    "\x7f",
    "\x9b",
    "é",
    "名前",
    "🤖",
    "\u202e",
    "$x$",
    "|",
    "<b>",
]


def seeds() -> dict[str, dict]:
    files = {p.stem: json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))}
    return {**files, "rich": rich_json(files["mixed_results"]), "sweep": sweep_json(files["small_results"])}


def _paths(node, prefix: tuple = ()) -> list[tuple]:
    """Every value's path below the root; the stored summaries (ignored on reading) only as a whole."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    out = []
    for key, value in items:
        out.append((*prefix, key))
        if key != "summary":
            out += _paths(value, (*prefix, key))
    return out


def _parent(data, path: tuple):
    for key in path[:-1]:
        data = data[key]
    return data


def _pick(rng: random.Random, paths: list[tuple]) -> tuple:
    """A path, each field equally likely however many list items hold it (samples would crowd out
    the rest): a field's shape (list indices as *) first, then one of its paths."""
    shapes: dict[tuple, list[tuple]] = {}
    for p in paths:
        shapes.setdefault(tuple("*" if isinstance(k, int) else k for k in p), []).append(p)
    return rng.choice(shapes[rng.choice(sorted(shapes, key=str))])


def mutate(rng: random.Random, data: dict) -> tuple[str, str]:
    """(what was done, the file's text) for one random mutation of ``data`` (left unchanged)."""
    data = copy.deepcopy(data)
    path = _pick(rng, _paths(data))
    parent, key = _parent(data, path), path[-1]
    op = rng.choice(
        ["replace", "replace", "replace", "delete", "wrap", "name", "stringify", "truncate", "deep", "huge int"]
    )
    marker = None
    if op == "replace":
        parent[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    elif op == "delete":
        del parent[key]
    elif op == "wrap":
        parent[key] = rng.choice([[parent[key]], {"x": parent[key]}])
    elif op == "name":
        strings = [p for p in _paths(data) if isinstance(_parent(data, p)[p[-1]], str)]
        names = [p for p in strings if p[-1] in ("policy", "sweep_policy", "name", "variant")]
        path = rng.choice(names) if names and rng.random() < 0.7 else _pick(rng, strings)
        parent, key = _parent(data, path), path[-1]
        at = rng.randint(0, len(parent[key]))
        parent[key] = parent[key][:at] + rng.choice(NAME_INSERTS) + parent[key][at:]
    elif op == "stringify":
        parent[key] = json.dumps(parent[key], allow_nan=True)
    elif op in ("deep", "huge int"):
        marker = f"@@{op}@@"
        parent[key] = marker
    text = json.dumps(data, indent=1, ensure_ascii=rng.random() < 0.5)
    if op == "truncate":
        text = text[: rng.randint(0, len(text) - 1)]
    elif op == "deep":
        text = text.replace(f'"{marker}"', "[" * DEEP + "]" * DEEP)
    elif op == "huge int":
        text = text.replace(f'"{marker}"', "7" * HUGE_INT_DIGITS)
    return f"{op} {'/'.join(map(str, path))}", text


def run_cli(argv: list[str], allowed: tuple[int, ...], capsys) -> str | None:
    """None when ``main(argv)`` ends as a user's program should; else what went wrong."""
    try:
        code = main(argv)
    except Exception as exc:  # noqa: BLE001 - an escaping exception is what this test looks for
        capsys.readouterr()
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    out, err = capsys.readouterr()
    if "Traceback" in err or "Traceback" in out:
        return "a traceback on the output"
    if code not in allowed:
        return f"exit {code}: {err[:120]!r}"
    lines = err.strip("\n").split("\n")
    if code == 2 and (len(lines) != 1 or not lines[0].startswith("policybench: error: ")):
        return f"not one error line: {err[:120]!r}"
    return None


@pytest.mark.slow  # about 40 s: make test-fast leaves it to make test
def test_hostile_results_files_never_give_a_traceback(tmp_path, capsys, monkeypatch):
    rng = random.Random(SEED)
    figures = {"html": False}
    with_figures = html.render_pngs
    monkeypatch.setattr(html, "render_pngs", lambda results: with_figures(results) if figures["html"] else {})
    originals = {}
    for name, data in seeds().items():
        originals[name] = tmp_path / f"{name}.orig.json"
        originals[name].write_text(json.dumps(data))
    assert all(run_cli(["report", str(p)], (0,), capsys) is None for p in originals.values())
    start, failures, failed_mutations = time.monotonic(), [], 0
    for k in range(MUTATIONS):
        name = rng.choice(sorted(originals))
        what, text = mutate(rng, json.loads(originals[name].read_text()))
        path = tmp_path / f"m{k}.json"
        path.write_text(text, encoding="utf-8")
        f, orig = str(path), str(originals[name])
        runs = [
            (["report", f, "--format", "md"], (0, 2)),
            (["report", f, "--format", "csv"], (0, 2)),
            (["report", f, "--format", "html"], (0, 2)),
            (["compare", f, orig], (0, 1, 2)),
            (["compare", orig, f], (0, 1, 2)),
            (["realtime", "--simulate", f, "--hz", "30", "--ticks", "200"], (0, 2)),
        ]
        if k % RENDER_EVERY == 0:
            runs.append((["plot", f, "-o", str(tmp_path / "plots")], (0, 2)))
        figures["html"] = k % RENDER_EVERY == RENDER_EVERY // 2
        before = len(failures)
        for argv, allowed in runs:
            problem = run_cli(argv, allowed, capsys)
            if problem:
                shown = " ".join({f: "FILE", orig: "ORIGINAL"}.get(a, a) for a in argv)
                failures.append(f"{name}, {what}: {shown}: {problem}")
        failed_mutations += len(failures) > before
        path.unlink()
    elapsed = time.monotonic() - start
    assert not failures, (
        f"{failed_mutations} of {MUTATIONS} mutations failed ({len(failures)} commands, "
        f"{elapsed:.0f} s):\n" + "\n".join(failures[:40])
    )
