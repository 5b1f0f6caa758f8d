"""The one exception type for a user's mistake: the CLI prints its message and exits non-zero."""


class UsageError(Exception):
    """Bad input from the user (a flag, a name, a path). Shown as one line, never as a traceback."""
