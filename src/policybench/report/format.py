"""Formatting shared by every renderer: policy names, milliseconds, the machine line."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from policybench.policies.labels import label as policy_label
from policybench.policies.labels import short_label
from policybench.results import PolicyResult, RunResults, name_suffix
from policybench.stats import samples_needed
from policybench.schema import one_line


class Identified(Protocol):
    """What names a result: a PolicyResult, a RealtimeResult (read-only: records are frozen)."""

    @property
    def policy(self) -> str: ...
    @property
    def variant(self) -> str | None: ...
    @property
    def point(self) -> dict[str, str]: ...


def label(r: Identified) -> str:
    """A result's display name: its policy's label, then "+variant" and the sweep point."""
    return identity_label(r.policy, r.variant, r.point)


def identity_label(policy: str, variant: str | None = None, point: dict[str, str] | None = None) -> str:
    """ "ACT+bf16[cameras=2]": the policy's label, then what its result's name adds; a line break
    in a name read from a file is shown escaped, so a table row stays one row."""
    return one_line(policy_name(policy) + name_suffix(variant, point or {}))


def short(r: PolicyResult) -> str:
    """A ratio header's name: "Diff", "SmolVLA+compile"."""
    return one_line(short_label(r.policy) + name_suffix(r.variant, r.point))


def policy_name(policy: str) -> str:
    """The registry's label of a policy ("ACT"), or the last two parts of a checkpoint path."""
    return policy_label(policy)


def format_ms(value: float | None) -> str:
    """Two decimals from 1 up; below that three significant digits, never scientific notation."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1 or value == 0:  # a negative figure too (an overhead a round trip saves): -1500.00
        return f"{value:.2f}"
    decimals = 2 - math.floor(math.log10(abs(value)))
    return f"{value:.{decimals}f}"


def median_text(summary: Mapping[str, Any]) -> str:
    """A phase's median with its 95% interval, "547.12 ± 6.30", "0.0125 ± 0.0003" (± the larger
    distance from the median to an end of the interval, with the median's decimals or fewer), or the plain
    median when the count supports no interval."""
    median, interval = summary.get("median_ms"), summary.get("median_ci_ms")
    text = format_ms(median)
    if median is None or not interval:
        return text
    half = max(median - interval[0], interval[1] - median)
    decimals = len(text.partition(".")[2])
    if half:  # no more decimals than the half itself needs: "0.0125 ± 152.49"
        decimals = min(decimals, len(format_ms(half).partition(".")[2]))
    return f"{text} ± {half:.{decimals}f}"


def percentile_text(summary: Mapping[str, Any], q: int) -> str:
    """A phase's q-th percentile, or "n/a (needs 100)" when its count does not support one
    (stats.samples_needed); "-" for a phase with no samples."""
    value, needed = summary.get(f"p{q}_ms"), samples_needed(q)
    if value is None:
        return "-"
    return format_ms(value) if summary.get("count", 0) >= needed else f"n/a (needs {needed})"


def duration_text(ms: float) -> str:
    """A duration with its unit, as a person reads it on a figure: "0.02 ms", "36.4 ms",
    "1,200 ms", "16.9 s"; three significant digits at most, never scientific notation."""
    if ms >= 10_000:
        return f"{_plain_number(ms / 1000)} s"
    if ms >= 1000:
        return f"{ms:,.0f} ms"
    return f"{_plain_number(ms)} ms"


def duration_unit(ms: Iterable[float]) -> str:
    """The one unit an axis shows its durations in: "s" when every value is 100 ms or more and
    one reaches 10 s (0.1 s to tens of seconds), else "ms" ("0.02 ms" to "12,000 ms")."""
    values = [abs(v) for v in ms if v and math.isfinite(v)]
    return "s" if values and max(values) >= 10_000 and min(values) >= 100 else "ms"


def duration_in(ms: float, unit: str) -> str:
    """A duration in ``unit`` (duration_unit's): "2.5 s", "0.25 s"; "12,000 ms", "36.4 ms"."""
    if unit == "s":
        return f"{_plain_number(ms / 1000)} s"
    return f"{ms:,.0f} ms" if abs(ms) >= 1000 else f"{_plain_number(ms)} ms"


def _plain_number(value: float) -> str:
    """Three significant digits, no trailing zeros, thousands separated, no exponent."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def machine_line(results: RunResults) -> str:
    env = results.environment
    return (
        f"device {env.get('device')} ({env.get('device_name')}{_hardware_note(env)}), torch {env.get('torch')}, "
        f"lerobot {env.get('lerobot')}, {inputs_text(results)}, threads {env.get('threads')}"
    )


def inputs_text(results: RunResults) -> str:
    """Where the policies' inputs came from: the robot profile, or a --policy-path checkpoint's
    own config (a result with ``source``, a realtime run of a checkpoint), per policy when the
    run mixes both."""
    profile = results.run.get("profile", {})
    name = profile.get("name", "?") if isinstance(profile, dict) else profile
    checkpoints = _checkpoints(results)
    if not checkpoints:
        return f"profile {name}"
    if set(checkpoints) == {r.policy for r in results.results} | {e.policy for e in results.realtime}:
        return "inputs from the checkpoint" + ("s" if len(checkpoints) > 1 else "")
    names = ", ".join(
        dict.fromkeys(
            [label(r) for r in results.results if r.source]
            + [label(e) for e in results.realtime if e.policy in checkpoints]
        )
    )
    return f"profile {name} ({names}: inputs from the checkpoint)"


def _checkpoints(results: RunResults) -> dict[str, object]:
    """The checkpoints of a file (their --policy-path, in order) and the inputs recorded for each:
    a result's ``config["inputs"]``, a realtime run's ``run["inputs"][policy]``; None where none."""
    out: dict[str, object] = {r.policy: r.config.get("inputs") for r in results.results if r.source}
    recorded = results.run.get("inputs")
    for e in results.realtime:
        if e.policy not in out and ("/" in e.policy or "\\" in e.policy):  # a path, as policy_name reads it
            out[e.policy] = recorded.get(e.policy) if isinstance(recorded, dict) else None
    return out


def checkpoint_inputs(results: RunResults) -> list[str]:
    """A line per checkpoint of the file: its name and the inputs it was fed, "nu/my_act:
    images.front 3x480x640, state 6" (a figure's caption names them under the machine line)."""
    return [f"{policy_name(policy)}: {shapes_text(inputs)}" for policy, inputs in _checkpoints(results).items()]


def shapes_text(inputs: object) -> str:
    """ "images.front 3x480x640, state 6" of ``{"observation.images.front": [3, 480, 640], ...}``."""
    if not isinstance(inputs, dict) or not inputs:
        return "inputs not recorded"
    return one_line(
        ", ".join(
            f"{str(k).removeprefix('observation.')} " + ("x".join(str(n) for n in v) if isinstance(v, list) else str(v))
            for k, v in inputs.items()
        )
    )


def _hardware_note(env: dict) -> str:
    """The widest vector instruction set of a CPU run, the driver of a CUDA run ("" when unknown)."""
    if env.get("cuda_driver"):
        return f", driver {env['cuda_driver']}, CUDA {env.get('cuda')}"
    flags = env.get("cpu_flags") or []
    if str(env.get("device")) == "cpu" and flags:
        widest = next((f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2", "avx") if f in flags), None)
        return f", {widest}" if widest else ""
    return ""


def column_blocks(
    widths: list[int], limit: int | None, keep: int = 1, groups: list[list[int]] | None = None, gap: int = 2
) -> list[list[int]]:
    """The columns of each block of a table folded to ``limit`` characters (``widths``: each
    column's, ``gap`` between two): one block of every column when the table fits or ``limit``
    is None; else the first ``keep`` columns (the row's name) in every block, then as many of
    the other columns' ``groups`` (default: one column each; a policy and its ratio column
    stay together) as fit, in order, a group too wide for any company in a block of its own."""
    if limit is None or sum(widths) + gap * (len(widths) - 1) <= limit:
        return [list(range(len(widths)))]
    groups = groups if groups is not None else [[i] for i in range(keep, len(widths))]
    base = sum(widths[:keep]) + gap * (keep - 1)
    blocks: list[list[int]] = []
    current: list[int] = []
    used = base
    for group in groups:
        wide = sum(widths[i] + gap for i in group)
        if current and used + wide > limit:
            blocks.append(current)
            current, used = [], base
        current += group
        used += wide
    return [list(range(keep)) + block for block in blocks + ([current] if current else [])]
