"""Text for a terminal: what a results file or a checkpoint carries must not drive it.

A policy name can come from a results file someone sent or a checkpoint folder's path; printed
raw, an ANSI escape sequence in it would move the cursor, rewrite lines or set the window
title. ``terminal_safe`` shows every control character but newline and tab as ``\\xNN``.
"""

from __future__ import annotations

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]}


def terminal_safe(text: str) -> str:
    """``text`` with control characters (but newlines and tabs) shown as ``\\xNN``."""
    return text.translate(_CONTROL)
