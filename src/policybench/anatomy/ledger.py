"""Attribute a meter's growth to nested component calls, and install the wrappers that report them.

A meter is any non-decreasing reading: the clock (which synchronizes the device before it reads,
so every component boundary is a synchronization), FLOPs counted so far, weight bytes read so far.
Each component gets the growth between its call's start and end less what the components called
inside it got, so the components of one refill never count the same growth twice.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Callable

from policybench.anatomy.spec import Component


class Ledger:
    """Per component: its own growth of ``meter`` and its calls since ``clear``."""

    def __init__(self, meter: Callable[[], float]):
        self.meter = meter
        self.totals: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._open: list[list] = []  # [name, reading at start, growth of the calls nested in it]

    def clear(self) -> None:
        self.totals, self.calls = {}, {}

    def active(self) -> bool:
        return bool(self._open)

    def enter(self, name: str) -> None:
        self._open.append([name, self.meter(), 0.0])

    def exit(self) -> None:
        end = self.meter()
        name, start, nested = self._open.pop()
        grown = end - start
        self.totals[name] = self.totals.get(name, 0.0) + grown - nested
        self.calls[name] = self.calls.get(name, 0) + 1
        if self._open:
            self._open[-1][2] += grown


def _timed(fn: Callable, component: Component, ledgers: Sequence[Ledger]) -> Callable:
    """``fn`` reporting each call to ``ledgers`` as ``component`` (its signature kept: some callers inspect it)."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if component.outermost and ledgers[0].active():
            return fn(*args, **kwargs)  # left to the enclosing component
        for ledger in ledgers:
            ledger.enter(component.name)
        try:
            return fn(*args, **kwargs)
        finally:
            for ledger in reversed(ledgers):
                ledger.exit()

    return call


def resolve(root: object, components: Sequence[Component]) -> tuple[list[tuple[Component, list]], list[str]]:
    """Each component with its (owner, attribute) targets on ``root``, and the names of those whose
    targets this policy does not have (another LeRobot version, another configuration)."""
    found, missing = [], []
    for c in components:
        try:
            targets = c.targets(root)
        except (AttributeError, KeyError, IndexError, TypeError):
            targets = []
        usable = [(o, a) for o, a in targets if callable(getattr(o, a, None))]
        if usable:
            found.append((c, usable))
        else:
            missing.append(c.name)
    return found, missing


@contextlib.contextmanager
def patched(targets: Iterable[tuple[object, str, Callable[[Callable], Callable]]]) -> Iterator[None]:
    """Each (owner, attribute) replaced by ``wrap(original)``, as an attribute of its own object,
    while inside; every object is put back as it was on the way out, an error included."""
    undo: list[tuple[object, str, object]] = []
    try:
        for owner, attr, wrap in targets:
            own = vars(owner).get(attr, _ABSENT) if hasattr(owner, "__dict__") else _ABSENT
            undo.append((owner, attr, own))
            setattr(owner, attr, wrap(getattr(owner, attr)))
        yield
    finally:
        for owner, attr, own in reversed(undo):
            if own is _ABSENT:
                delattr(owner, attr)
            else:
                setattr(owner, attr, own)


def instrumented(found: Sequence[tuple[Component, list]], ledgers: Sequence[Ledger]):
    """Every target of the components found reporting its calls to ``ledgers`` while inside."""
    return patched(
        (owner, attr, functools.partial(_timed, component=c, ledgers=ledgers))
        for c, targets in found
        for owner, attr in targets
    )


_ABSENT = object()
