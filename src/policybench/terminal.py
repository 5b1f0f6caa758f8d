"""Text for a terminal: what a results file or a checkpoint carries must not drive it.

A policy name can come from a results file someone sent or a checkpoint folder's path; printed
raw, an ANSI escape sequence in it would move the cursor, rewrite lines or set the window
title. ``terminal_safe`` shows every control character but newline and tab as ``\\xNN``.
"""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]}


def terminal_safe(text: str) -> str:
    """``text`` with control characters (but newlines and tabs) shown as ``\\xNN``."""
    return text.translate(_CONTROL)


PIPE_WIDTH = 100  # the columns a table may take where the output is no terminal (a pipe, a file)


def output_width(stream: TextIO | None = None) -> int:
    """The columns a table printed on ``stream`` (standard output by default) may take: the
    terminal's width where it is one, else PIPE_WIDTH."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if not (callable(isatty) and isatty()):
        return PIPE_WIDTH
    return shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
