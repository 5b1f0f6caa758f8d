"""A raw breakdown (a result's ``breakdown``) described: each component's median time per refill,
its share, calls, cost and floor multiple, the unattributed rest, and the coverage. Pure: numbers
in, numbers out; the renderers and the run's warnings read the same ``Split``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policybench.stats import percentile

REST = "unattributed"  # the row of what no component timed: never dropped
MIN_COVERAGE = 0.8  # below: a warning naming the rest


@dataclass(frozen=True)
class Part:
    name: str
    repeat: str  # "per camera", "per step"; "" for a component called once, and for the rest
    calls: float | None  # median calls per refill (None for the rest)
    median_ms: float  # median over the breakdown refills of its own time in one refill
    share: float | None  # of the breakdown refills' median
    flops: float | None = None
    weight_bytes_read: float | None = None
    floor_ms: float | None = None

    @property
    def x_floor(self) -> float | None:
        """Its time as a multiple of its floor (None without a floor)."""
        return self.median_ms / self.floor_ms if self.floor_ms else None


@dataclass(frozen=True)
class Split:
    refills: int  # breakdown refills measured
    refill_ms: float | None  # their median
    parts: list[Part]  # the components, then the unattributed rest
    # the median over the breakdown refills of the share their components timed (None without components):
    # within each refill, so never above 1, and robust to a refill slower than the others
    coverage: float | None
    note: str | None  # why the refill is whole (no definition, a compiled variant)
    missing: list[str]  # components this policy does not have

    @property
    def rest(self) -> Part:
        return self.parts[-1]


def split(breakdown: Mapping[str, Any]) -> Split | None:
    """The Split of a raw breakdown (as schema.read_breakdown reads it); None for a result without one."""
    refills = breakdown.get("refills") or []
    if not refills:
        return None
    components = breakdown.get("components") or []
    names = [c["name"] for c in components]
    repeats = {c["name"]: c.get("repeat") or "" for c in components}
    refill_ms = percentile([r["total_ms"] for r in refills], 50)
    cost = breakdown.get("cost") or {}
    parts = [
        _part(
            n,
            repeats[n],
            [r["ms"].get(n, 0.0) for r in refills],
            [r["calls"].get(n, 0) for r in refills],
            refill_ms,
            cost.get(n),
        )
        for n in names
    ]
    rests = [r["total_ms"] - sum(r["ms"].values()) for r in refills]
    parts.append(_part(REST, "", rests, None, refill_ms, breakdown.get("unattributed_cost")))
    covered = [sum(r["ms"].values()) / r["total_ms"] for r in refills if r["total_ms"] > 0]
    return Split(
        len(refills),
        refill_ms,
        parts,
        percentile(covered, 50) if covered and names else None,
        breakdown.get("note"),
        list(breakdown.get("missing") or []),
    )


def _part(
    name: str, repeat: str, ms: list[float], calls: list[int] | None, refill_ms: float, cost: Mapping[str, float] | None
) -> Part:
    median = percentile(ms, 50)
    cost = cost or {}
    return Part(
        name,
        repeat,
        percentile(calls, 50) if calls else None,
        median,
        median / refill_ms if refill_ms else None,
        cost.get("flops"),
        cost.get("weight_bytes_read"),
        cost.get("floor_ms"),
    )


def breakdown_warnings(name: str, breakdown: Mapping[str, Any]) -> list[str]:
    """What a run says about a breakdown: why the refill is whole, components not found, and a
    coverage under MIN_COVERAGE, naming the unattributed rest."""
    s = split(breakdown)
    if s is None:
        return []
    out = [f"{name}: --breakdown: {s.note}"] if s.note else []
    if s.missing:
        out.append(
            f"{name}: --breakdown: {', '.join(s.missing)} not found in this policy: its time is in the {REST} rest"
        )
    if not s.note and s.coverage is not None and s.coverage < MIN_COVERAGE:
        out.append(
            f"{name}: warning: --breakdown: the components cover {100 * s.coverage:.0f} % of the refill; "
            f"the {REST} rest is {s.rest.median_ms:.4g} ms ({100 * (s.rest.share or 0):.0f} %), time "
            "spent outside every component"
        )
    return out


def divergence_text(found: Mapping[str, object]) -> str:
    """A variant's divergence from fp32 eager (measure/divergence.py) in words: 'it leaves eager
    first in the scheduler step (call 1 of 10: relative difference 0.31)', or what the components
    show when none leaves it beyond the tolerance."""
    first = found.get("first")
    if isinstance(first, Mapping):
        calls = first.get("calls")
        where = f"call {first['call']} of {calls}" if isinstance(calls, int) and calls > 1 else "its output"
        return (
            f"it leaves eager first in the {first['component']} ({where}: relative difference {first['rel_error']:.2g})"
        )
    if not found.get("components"):
        if found.get("not_compared"):  # the variant never called them: a runtime ran them in its exported model
            return "none of its components ran where they could be compared with eager's (inside an exported model)"
        return "none of its components could be compared with eager's"
    return (
        f"every component's output stays within {found['tolerance']:g} of eager's: the difference "
        "grows across them or arises between them"
    )
