"""A variant that finds at its first refill that it cannot run here, and its one-line reason."""

from __future__ import annotations

import traceback


class VariantUnavailable(Exception):
    """A variant found at its first refill that it cannot run here; the message is the skip reason."""


def first_line(exc: BaseException) -> str:
    """'ExceptionType: the first line of its message', for a one-line skip reason."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def where(exc: BaseException) -> str:
    """The deepest frame of LeRobot, transformers or diffusers in a traceback: the operation that broke."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if any(k in f.filename for k in ("/lerobot/", "/transformers/", "/diffusers/"))
    ]
    if not frames:
        return ""
    f = frames[-1]
    return f" at {f.filename.split('site-packages/')[-1]}:{f.lineno} `{(f.line or '').strip()}`"
