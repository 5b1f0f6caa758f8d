"""--variant auto's answer to "what should I deploy?": per policy (and sweep point), the variant
with the lowest refill median among those whose actions are within the tolerance and that beat
eager, with its speedup and that speedup's 95 % interval (regression.ratio_interval, as compare
computes it), its accuracy, its floor, and where its exported model and manifest are."""

from __future__ import annotations

from dataclasses import dataclass

from policybench.regression import ratio_interval
from policybench.report.details import eager_of
from policybench.report.format import label
from policybench.results import OK, PolicyResult, RunResults
from policybench.schema import one_line
from policybench.variants.table import VARIANTS


@dataclass(frozen=True)
class Choice:
    """What one policy at one point should run: ``best`` (None: eager, as LeRobot runs it), the
    eager result it is compared with, and the fastest variant that missed the tolerance, if it
    is faster than ``best``."""

    eager: PolicyResult
    best: PolicyResult | None
    faster_but_off: PolicyResult | None


def choices(results: RunResults) -> list[Choice]:
    """One Choice per measured eager result that has variants beside it (measured or skipped),
    in the file's order."""
    rs = results.results
    out = []
    for eager in rs:
        if eager.status != OK or eager.variant != "eager":
            continue
        variants = [r for r in rs if r is not eager and eager_of(r, rs) is eager]
        base = _refill(eager)
        if not variants or base is None:
            continue
        faster = sorted((r for r in variants if (_refill(r) or base) < base), key=lambda r: _refill(r) or base)
        within = [r for r in faster if r.equivalence.get("equivalent") is True]
        best = within[0] if within else None
        off = next((r for r in faster if r.equivalence.get("equivalent") is False), None)
        if off is not None and best is not None and (_refill(off) or base) >= (_refill(best) or base):
            off = None
        out.append(Choice(eager, best, off))
    return out


def _refill(r: PolicyResult) -> float | None:
    median = r.summary()["refill"]["median_ms"] if r.status == OK else None
    return median if isinstance(median, (int, float)) and median > 0 else None


def choice_line(c: Choice) -> str:
    """'Use ACT+openvino-bf16: refill 6.88x faster than eager (95 % interval 6.51-7.20x), ...'."""
    if c.best is None:
        line = f"Use {label(c.eager)} as LeRobot runs it (eager fp32): no variant within the tolerance is faster"
    else:
        line = (
            f"Use {label(c.best)}: refill {_speedup(c.eager, c.best)}, {_accuracy(c.best)}"
            f"{_floor(c.best)}{_artifact(c.best)}"
        )
    if c.faster_but_off is not None:
        off = c.faster_but_off
        eq = off.equivalence
        line += (
            f" ({one_line(off.variant or '')} is {_ratio(c.eager, off):.3g}x faster but its relative error "
            f"{eq.get('rel_error', float('nan')):.2g} is over the tolerance {eq.get('tolerance', float('nan')):g})"
        )
    return line


def render_choice(results: RunResults) -> str:
    """The lines --variant auto ends with, one per policy (and sweep point) whose eager run was
    measured beside variants; "" for none."""
    return "".join(f"{choice_line(c)}\n" for c in choices(results))


def _ratio(eager: PolicyResult, r: PolicyResult) -> float:
    return (_refill(eager) or 0.0) / (_refill(r) or 1.0)


def _speedup(eager: PolicyResult, r: PolicyResult) -> str:
    """'6.88x faster than eager (95 % interval 6.51-7.2x)', or without an interval where either run
    has too few refills for one."""
    text = f"{_ratio(eager, r):.3g}x faster than eager"
    interval = ratio_interval(eager.summary()["refill"], r.summary()["refill"])
    if interval is None:
        return text + " (no interval: too few refills)"
    low, high = interval  # of the variant's median over eager's; the speedup's is its inverse
    shown = f"{1 / high:.3g}-{1 / low:.3g}x" if low > 0 else f"from {1 / high:.3g}x"
    return text + f" (95 % interval {shown})"


def _accuracy(r: PolicyResult) -> str:
    """'actions within your tolerance 0.05 (relative error 0.012; largest |Δaction| 0.031, 1.2 % of the range)'."""
    eq = r.equivalence
    whose = "your tolerance" if eq.get("tolerance_given") else "the tolerance"
    text = (
        f"actions within {whose} {eq.get('tolerance', float('nan')):g} (relative error {eq.get('rel_error', 0.0):.2g}"
    )
    largest, share = eq.get("action_max_diff"), eq.get("range_share")
    if isinstance(largest, (int, float)):
        units = " action units" if eq.get("units") == "action" else ""
        text += f"; largest |Δaction| {largest:.2g}{units}"
        text += f", {100 * share:.2g} % of the range" if isinstance(share, (int, float)) else ""
    if eq.get("weights") == "random":
        text += "; random weights"
    return text + ")"


def _floor(r: PolicyResult) -> str:
    x, precision = r.roofline.get("x_of_floor"), r.roofline.get("precision")
    if not isinstance(x, (int, float)) or x < 1:
        return ""
    return f", {x:.2g}x its {one_line(precision)} floor" if isinstance(precision, str) else f", {x:.2g}x its floor"


def _artifact(r: PolicyResult) -> str:
    """Where its exported model and manifest are (a runtime variant with --export), or how to get them."""
    variant = VARIANTS.get(r.variant or "")
    if variant is None or variant.runtime is None:
        return ""
    saved = r.export.get("saved")
    if isinstance(saved, list) and len(saved) >= 2 and all(isinstance(p, str) for p in saved):
        return f"; model {one_line(saved[0])}, manifest {one_line(saved[-1])}"
    return "; add --export DIR to save its model and manifest"
