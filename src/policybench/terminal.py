"""Text for a terminal: what a results file or a checkpoint carries must not drive it.

A policy name can come from a results file someone sent or a checkpoint folder's path; printed
raw, an ANSI escape sequence in it would move the cursor, rewrite lines or set the window
title. ``terminal_safe`` shows every control character but newline and tab as ``\\xNN``, and
every format character (Unicode category Cf: the bidi overrides such as U+202E, which make a
name read backwards, zero-width ones) as ``\\uNNNN``, as ``format_safe`` does.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
import unicodedata
from typing import TextIO

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]}
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def terminal_safe(text: str) -> str:
    """``text`` with control characters (but newlines and tabs) shown as ``\\xNN``, format
    characters as ``\\uNNNN``."""
    return format_safe(text.translate(_CONTROL))


def format_safe(text: str) -> str:
    """``text`` with its format characters (Unicode category Cf) shown as ``\\uNNNN`` (``\\UNNNNNNNN``
    above U+FFFF), as Python's repr shows them."""
    if text.isascii():
        return text
    return _NON_ASCII.sub(
        lambda m: "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cf" else c for c in m.group()), text
    )


PIPE_WIDTH = 100  # the columns a table may take where the output is no terminal (a pipe, a file)


def output_width(stream: TextIO | None = None) -> int:
    """The columns a table printed on ``stream`` (standard output by default) may take: the
    terminal's width where it is one, else PIPE_WIDTH."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if not (callable(isatty) and isatty()):
        return PIPE_WIDTH
    return shutil.get_terminal_size((PIPE_WIDTH, 24)).columns


def wrapped(line: str, width: int | None, indent: str = "  ") -> list[str]:
    """A note or warning of one logical line folded at spaces to ``width`` columns (None: as it
    is), its continuation lines indented by ``indent`` more than the line; a word longer than the
    width (a path) is not broken."""
    if width is None or len(line) <= width:
        return [line]
    lead = line[: len(line) - len(line.lstrip(" "))]
    folded = textwrap.wrap(line, width, subsequent_indent=lead + indent, break_long_words=False, break_on_hyphens=False)
    return folded or [line]
