"""Who a result is (``Identity``: a policy, its variant and its sweep point), and the values that
name them (``--set`` overrides, sweep axes). Display names are made here and never parsed back."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from policybench.errors import SettingsError, literal
from policybench.profiles import parse_image_size


# Config fields that policybench sets itself on every policy it builds or loads, and the setting
# that sets each: a --set of one would collide with it (a TypeError "multiple values" at build).
OWN_FIELDS = {"device": "device", "input_features": "profile", "output_features": "profile"}


def check_own_field(policy: str, name: str) -> None:
    """A ``--set`` of a field that policybench sets itself (OWN_FIELDS): a SettingsError naming
    the setting to use instead."""
    if name in OWN_FIELDS:
        raise SettingsError(
            f"{{overrides}} {literal(policy)}.{name}: policybench sets {name} itself; "
            f"use {{{OWN_FIELDS[name]}}} instead"
        )


@dataclass(frozen=True)
class Override:
    """One ``--set POLICY.FIELD=VALUE``: a field of a LeRobot policy config."""

    policy: str
    field: str
    value: object


def parse_override(text: str) -> Override:
    m = re.fullmatch(r"([A-Za-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_]*)=(.*)", text.strip())
    if not m:
        raise SettingsError(
            "{overrides} must look like POLICY.FIELD=VALUE (e.g. diffusion.num_inference_steps=10), "
            f"got '{literal(text)}'"
        )
    check_own_field(m.group(1), m.group(2))
    return Override(m.group(1), m.group(2), _parse_value(m.group(3)))


def _parse_value(raw: str) -> object:
    """JSON where it parses (numbers, true/false/null, lists), otherwise the text itself."""
    lowered = {"none": None, "true": True, "false": False}
    if raw.strip().lower() in lowered:
        return lowered[raw.strip().lower()]
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass(frozen=True)
class Axis:
    name: str  # "cameras", "image_size", "threads" or "POLICY.FIELD"
    values: tuple

    @property
    def unit(self) -> str:
        """What one unit of the fitted slope is."""
        return {"cameras": "camera", "image_size": "megapixel per camera", "threads": "thread"}.get(
            self.name, self.name.rsplit(".", 1)[-1]
        )

    def x(self, value) -> float:
        """The number a line is fitted against: pixels in millions for an image size."""
        if self.name == "image_size":
            return value[0] * value[1] / 1e6
        return float(value)

    def show(self, value) -> str:
        return (
            f"{value[0]}x{value[1]}"
            if self.name == "image_size"
            else f"{value:g}"
            if isinstance(value, float)
            else str(value)
        )

    @staticmethod
    def read(name: str, shown: str):
        """A value as ``show`` wrote it (a results file's), read back: HEIGHTxWIDTH for an image
        size, else a whole number where it is one, a float otherwise."""
        if name == "image_size":
            return parse_image_size(shown)
        number = float(shown)
        return int(number) if number.is_integer() and shown.strip().lstrip("+-").isdigit() else number

    def record(self) -> dict[str, object]:
        """The axis as the results file keeps it (run.sweep.axes): its values as shown."""
        return {"name": self.name, "values": [self.show(v) for v in self.values]}


PLAIN_VARIANT = "eager"  # the variant that is the policy as LeRobot runs it: the same result as no variant

Point = tuple[tuple[str, str], ...]  # a sweep point's (axis, value as shown) pairs, in the order measured


@dataclass(frozen=True, eq=False)
class Identity:
    """A result's identity: its policy (a registry name or a --policy-path), its variant (None
    without --variant) and its sweep point (() outside a sweep). Results are grouped and looked up
    by it: two identities are equal when their ``key`` is, so the eager variant is the plain
    policy (``plain``) and a point's axes compare in any order."""

    policy: str
    variant: str | None = None
    point: Point = ()

    @classmethod
    def of(cls, policy: str, variant: str | None = None, point: Mapping[str, str] | None = None) -> "Identity":
        """The identity of a result's fields (its point as a results file holds it: {axis: value})."""
        return cls(policy, variant, tuple((point or {}).items()))

    @property
    def plain(self) -> bool:
        """The policy as LeRobot runs it: no variant, or the eager one (the reference a variant is
        compared with). The one place this rule is written."""
        return self.variant is None or self.variant == PLAIN_VARIANT

    @property
    def key(self) -> tuple[str, str | None, Point]:
        """What tells identities apart: the policy, the variant (None when ``plain``) and the point's
        pairs sorted by axis."""
        return self.policy, None if self.plain else self.variant, tuple(sorted(self.point))

    @property
    def reference(self) -> "Identity":
        """The plain policy at the same point: what this identity's variant is compared with."""
        return Identity(self.policy, None, self.point)

    @property
    def name(self) -> str:
        """ "act", "act+bf16", "act[cameras=2]", "act+bf16[cameras=2]": for display only, never
        parsed back."""
        return self.policy + self.suffix

    @property
    def suffix(self) -> str:
        """What follows the policy in the name: "+bf16" for a variant (none when ``plain``),
        "[cameras=2]" for a sweep point (a ``--set`` axis by its field's name alone)."""
        suffix = "" if self.plain else f"+{self.variant}"
        return suffix + f"[{point_text(dict(self.point))}]" if self.point else suffix

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Identity) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def identity_name(policy: str, variant: str | None, point: Mapping[str, str]) -> str:
    """The name a result is shown by (``Identity.name``): "act", "act+bf16", "act[cameras=2]",
    "act+bf16[cameras=2]". Display only: never parsed back."""
    return Identity.of(policy, variant, point).name


def name_suffix(variant: str | None, point: Mapping[str, str]) -> str:
    """What follows the policy in a result's name (``Identity.suffix``)."""
    return Identity.of("", variant, point).suffix


def point_text(point: Mapping[str, str], sep: str = ",") -> str:
    """ "cameras=2,steps=5": each axis (a ``--set`` axis by its field's name alone) and its value."""
    return sep.join(f"{axis.rsplit('.', 1)[-1]}={value}" for axis, value in point.items())
