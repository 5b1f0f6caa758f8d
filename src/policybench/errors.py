"""The exceptions for a user's mistake: the CLI prints the message and exits non-zero."""

from __future__ import annotations

from collections.abc import Mapping


class UsageError(Exception):
    """Bad input from the user (a flag, a name, a path). Shown as one line, never as a traceback."""


class SettingsError(UsageError, ValueError):
    """A setting out of range, in words that name its field: ``str()`` says it with the library's
    keywords (``refills must be positive, got 0``), ``said_with(FLAGS)`` with the command line's
    flags (``--refills must be positive, got 0``). A ValueError too, as a library caller expects."""

    def __init__(self, template: str):
        self.template = template  # the message with every field name in braces: "{refills} must be ..."
        super().__init__(self.said_with({}))

    def said_with(self, names: Mapping[str, str]) -> str:
        """The message with each field spelled as ``names`` says (a field not named: as itself)."""
        return self.template.format_map(_Spelled(names))


class _Spelled(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return key


def literal(value: object) -> str:
    """A value quoted into a SettingsError's template: its braces kept as braces."""
    return str(value).replace("{", "{{").replace("}", "}}")


def describe_error(exc: BaseException) -> str:
    """'ExceptionType: message', as a failed result records it."""
    return f"{type(exc).__name__}: {exc}".strip()
