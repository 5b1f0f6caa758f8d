"""The fitted cost model of a sweep: a straight line through each policy's refill medians along
an axis (intercept, slope and the slope's standard error; a fit with R² below 0.95 is poor)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from policybench.identity import Identity
from policybench.results import OK, PolicyResult, RunResults, identity_name, point_text
from policybench.scaling.axes import Axis

POOR_FIT_R2 = 0.95


@dataclass(frozen=True)
class Fit:
    policy: str  # the series' name: "act", "act+bf16 at cameras=2"
    axis: str
    unit: str
    intercept_ms: float
    slope_ms: float
    slope_se_ms: float | None  # standard error of the slope; None with two points
    r2: float | None
    n: int

    @property
    def poor(self) -> bool:
        return self.r2 is not None and self.r2 < POOR_FIT_R2

    def describe(self) -> str:
        se = f" ± {self.slope_se_ms:.3g}" if self.slope_se_ms is not None else ""
        sign = "+" if self.slope_ms >= 0 else "-"
        line = (
            f"{self.policy}: refill {self.intercept_ms:.4g} ms {sign} {abs(self.slope_ms):.4g}{se} ms per {self.unit}"
        )
        if self.n < 3:
            return line + " (two points: a line through them, no fit quality to judge)"
        if self.poor:
            return line + f" (poor fit: R² {self.r2:.2f}; latency is not linear in {self.axis} here)"
        return line + f" (R² {self.r2:.3f}, {self.n} points)"


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float, float | None, float | None]:
    """Least squares y = a + b x: (a, b, standard error of b, R²)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("all x values are equal")
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    if n < 3:
        return a, b, None, None
    residual = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    total = sum((y - my) ** 2 for y in ys)
    se = math.sqrt(residual / (n - 2) / sxx)
    r2 = 1 - residual / total if total > 0 else 1.0
    return a, b, se, r2


@dataclass(frozen=True)
class Series:
    """One policy's (and variant's) ok points along one axis, the other axis (if any) held at one value."""

    policy: str
    variant: str | None
    group: str  # "" with one axis, else e.g. "cameras=2"
    points: list  # (x, refill median ms, axis value, PolicyResult), in axis order

    @property
    def name(self) -> str:
        name = identity_name(self.policy, self.variant, {})
        return f"{name} at {self.group}" if self.group else name


def series(results: RunResults, axis: Axis, axes: list[Axis]) -> list[Series]:
    by_shown = {axis.show(v): v for v in axis.values}
    others = [a.name for a in axes if a.name != axis.name]
    groups: dict[Identity, list] = {}  # by policy, variant and the point on the other axes
    for r in results.results:
        point = _on_axis(r, axis)
        if point is None:
            continue
        value = by_shown.get(point[axis.name])  # None: a value not shown as the axis shows it ("02" for 2)
        if value is None:
            continue
        held = tuple((o, point[o]) for o in others if o in point)
        median = r.summary()["refill"]["median_ms"]
        groups.setdefault(Identity(r.policy, r.variant, held), []).append((axis.x(value), median, value, r))
    return [
        Series(i.policy, i.variant, point_text(dict(i.point), ", "), sorted(pts, key=lambda p: p[0]))
        for i, pts in groups.items()
    ]


def _on_axis(r: PolicyResult, axis: Axis) -> dict[str, str] | None:
    """``r``'s point when it was measured along ``axis`` with a refill median, else None."""
    if r.status != OK or axis.name not in r.point or r.summary()["refill"]["median_ms"] is None:
        return None
    return r.point


def fits(results: RunResults, axes: list[Axis]) -> list[Fit]:
    """One fitted line per policy and axis (with two axes: along each axis at every value of the other)."""
    out = []
    for axis in axes:
        for s in series(results, axis, axes):
            xs, ys = [p[0] for p in s.points], [p[1] for p in s.points]
            try:
                a, b, se, r2 = fit_line(xs, ys)
            except ValueError:  # one x value, or x values too close for their squares to differ
                continue
            out.append(Fit(s.name, axis.name, axis.unit, a, b, se, r2, len(xs)))
    return out
