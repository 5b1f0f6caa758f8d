"""A sweep's axes: parsed from the command line or read back from a results file, and the grid."""

from __future__ import annotations

import dataclasses
import itertools
from typing import TypedDict

from policybench.errors import SettingsError, UsageError, literal
from policybench.identity import Axis, Override, parse_override, point_text
from policybench.profiles import customize_profile, parse_image_size
from policybench.settings import MAX_THREADS, RunSettings

__all__ = ["Axis", "SETTING_AXES"]  # Axis is identity's: kept here for the sweep's readers

SETTING_AXES = ("cameras", "image_size", "threads")  # axes of a flag, not of a --set field


def recorded_axes(run: dict) -> list[Axis]:
    """The axes of a sweep's results file (run.sweep.axes, checked by schema.read_axes)."""
    return [
        Axis(a["name"], tuple(Axis.read(a["name"], v) for v in a["values"]))
        for a in (run.get("sweep") or {}).get("axes") or []
    ]


def _ints(text: str, field: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise SettingsError(f"{{{field}}} takes a comma-separated list of integers, got '{literal(text)}'") from None
    if any(v <= 0 for v in values):
        raise SettingsError(f"{{{field}}} values must be positive, got '{literal(text)}'")
    return values


def _given_axes(
    cameras: str | None, image_sizes: str | None, threads: str | None, sets: list[str]
) -> tuple[list[Axis], list[Override]]:
    """Every list given, as an axis (a ``--set`` with a comma-separated value too), and the plain
    ``--set`` overrides."""
    axes: list[Axis] = []
    if cameras:
        axes.append(Axis("cameras", _ints(cameras, "cameras")))
    if image_sizes:
        axes.append(Axis("image_size", tuple(parse_image_size(v) for v in image_sizes.split(",") if v.strip())))
    if threads:
        axes.append(Axis("threads", _ints(threads, "threads")))
        if max(axes[-1].values, default=0) > MAX_THREADS:
            raise SettingsError(f"{{threads}} values must be at most {MAX_THREADS}, got '{literal(threads)}'")
    fixed: list[Override] = []
    for text in sets:
        o = parse_override(text)
        raw = text.split("=", 1)[1]
        if "," in raw and not raw.strip().startswith("["):
            values = tuple(parse_override(f"{o.policy}.{o.field}={v}").value for v in raw.split(","))
            axes.append(Axis(f"{o.policy}.{o.field}", values))
        else:
            fixed.append(o)
    return axes, fixed


def parse_axes(
    cameras: str | None, image_sizes: str | None, threads: str | None, sets: list[str]
) -> tuple[list[Axis], list[Override]]:
    """The sweep's axes (flags with a comma-separated list) and the plain ``--set`` overrides."""
    axes, fixed = _given_axes(cameras, image_sizes, threads, sets)
    if any(len(a.values) >= 2 for a in axes):  # a single value beside a real axis is a fixed setting
        axes = [a for a in axes if len(a.values) >= 2 or a.name not in SETTING_AXES]
    for axis in axes:
        if len(axis.values) < 2:
            raise UsageError(
                f"the {axis.name} axis has one value ({axis.show(axis.values[0]) if axis.values else 'none'}): "
                "that is a plain `policybench run`"
            )
        if len(set(axis.values)) != len(axis.values):
            raise UsageError(f"the {axis.name} axis names a value twice")
    if not axes:
        raise UsageError(
            "a sweep needs an axis: --cameras 1,2,3, --image-size 224x224,480x640, --threads 1,2 "
            "or --set POLICY.FIELD=v1,v2,..."
        )
    if len(axes) > 2:
        raise UsageError(f"a sweep takes one or two axes, got {len(axes)}: {', '.join(a.name for a in axes)}")
    return axes, fixed


class FixedSettings(TypedDict, total=False):
    """The settings of a sweep given one value, as ``build_config`` takes them."""

    cameras: int
    image_size: tuple[int, int]
    threads: int


def fixed_settings(cameras: str | None, image_sizes: str | None, threads: str | None) -> FixedSettings:
    """The --cameras, --image-size and --threads given one value: held fixed beside the axes."""
    fixed: FixedSettings = {}
    camera_counts = _ints(cameras, "cameras") if cameras else ()
    sizes = tuple(parse_image_size(v) for v in image_sizes.split(",") if v.strip()) if image_sizes else ()
    thread_counts = _ints(threads, "threads") if threads else ()
    if len(camera_counts) == 1:
        fixed["cameras"] = camera_counts[0]
    if len(sizes) == 1:
        fixed["image_size"] = sizes[0]
    if len(thread_counts) == 1:
        fixed["threads"] = thread_counts[0]
    return fixed


def grid(axes: list[Axis]) -> list[dict[str, object]]:
    """Every point: {axis name: value}, the first axis varying slowest."""
    return [dict(zip((a.name for a in axes), combo)) for combo in itertools.product(*(a.values for a in axes))]


def shown_point(point: dict[str, object], axes: list[Axis]) -> dict[str, str]:
    """A point as its results keep it: {axis name: value as shown}."""
    return {a.name: a.show(point[a.name]) for a in axes if a.name in point}


def point_label(point: dict[str, object], axes: list[Axis]) -> str:
    """ "cameras=2,image_size=480x640", as a result's name shows its point."""
    return point_text(shown_point(point, axes))


def point_config(base: RunSettings, point: dict[str, object]) -> RunSettings:
    """The run settings of one point: the base run with the point's values applied. A ``--set``
    axis of a policy not in the run is a usage error."""
    cameras, image_size, threads = point.get("cameras"), point.get("image_size"), point.get("threads", base.threads)
    profile = customize_profile(
        base.profile, cameras=cameras if isinstance(cameras, int) else None, image_size=_image_size(image_size)
    )
    overrides = list(base.overrides)
    for name, value in point.items():
        if "." in name:
            policy, field = name.rsplit(".", 1)
            if policy not in base.policies:
                raise SettingsError(
                    f"{{overrides}} {literal(name)}=...: '{literal(policy)}' is not among {{policies}} "
                    f"({literal(','.join(base.policies))})"
                )
            overrides = [o for o in overrides if (o.policy, o.field) != (policy, field)] + [
                Override(policy, field, value)
            ]
    return dataclasses.replace(
        base,
        profile=profile,
        overrides=overrides,
        threads=threads if isinstance(threads, int) else None,
        json_path=None,
    )


def _image_size(value: object) -> tuple[int, int] | None:
    """A point's image_size, (height, width), or None where the point has none."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    return None


def applies(policy: str, point: dict[str, object]) -> bool:
    """A ``--set`` axis changes one policy; the others are measured once, not at every value."""
    return all("." not in name or name.rsplit(".", 1)[0] == policy for name in point)
