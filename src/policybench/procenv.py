"""Process-environment helpers: an environment variable, the hub's access and the libraries'
chatter, each set inside a ``with`` block and put back after (leaf: imports nothing of policybench)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator

LIBRARY_LOGGERS = ("lerobot", "root")


@contextlib.contextmanager
def environment_variable(name: str, value: str | None) -> Iterator[None]:
    """``name`` set to ``value`` (None: unset) inside, its previous value (or absence) after."""
    previous = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextlib.contextmanager
def hub_access(allowed: bool) -> Iterator[None]:
    """The hub reachable or not: ``HF_HUB_OFFLINE`` for libraries imported inside (and child
    processes), and huggingface_hub's constant where it was imported already (it reads the
    variable once, at import)."""
    constants = sys.modules.get("huggingface_hub.constants")
    previous = getattr(constants, "HF_HUB_OFFLINE", None)
    offline = os.environ.get("HF_HUB_OFFLINE")
    value = "1" if not allowed else None if offline == "1" else offline
    with environment_variable("HF_HUB_OFFLINE", value):
        if constants is not None:
            constants.HF_HUB_OFFLINE = not allowed  # type: ignore[attr-defined]
        try:
            yield
        finally:
            if constants is not None:
                constants.HF_HUB_OFFLINE = previous  # type: ignore[attr-defined]


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """No warnings and no LeRobot log lines below errors: their chatter is not policybench's output.
    Tokenizers are told not to fork threads, as they otherwise warn when a child process starts."""
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    levels = [lg.level for lg in loggers]
    tokenizers = os.environ.get("TOKENIZERS_PARALLELISM", "false")
    with warnings.catch_warnings(), environment_variable("TOKENIZERS_PARALLELISM", tokenizers):
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)
