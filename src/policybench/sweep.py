"""policybench sweep: how latency grows along one or two axes of settings.

An axis is a list of values for the number of cameras, the image size, torch's threads, or any
field of a policy's config (``--set diffusion.num_inference_steps=5,10,25``). Every point of the
grid is measured exactly as ``run`` measures (same loop, same samples, each policy in a process
of its own) and kept in the results file under a policy name that carries the point,
``act[cameras=2]``, with the point's values in its config (``sweep_point``), so that report, plot
and compare read a sweep like any run. Then, per policy and axis, a straight line is fitted to
the refill medians (intercept, slope and the slope's standard error; a fit with R² below 0.95 says
it is poor), and with a control rate, the largest value on the axis that still holds it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

from policybench.config import Override, RunConfig, customize_profile, parse_image_size, parse_override
from policybench.errors import UsageError
from policybench.results import OK, PolicyResult, RunResults

POOR_FIT_R2 = 0.95
SETTING_AXES = ("cameras", "image_size", "threads")  # axes of a flag, not of a --set field


@dataclass(frozen=True)
class Axis:
    name: str  # "cameras", "image_size", "threads" or "POLICY.FIELD"
    values: tuple

    @property
    def unit(self) -> str:
        """What one unit of the fitted slope is."""
        return {"cameras": "camera", "image_size": "megapixel per camera", "threads": "thread"}.get(
            self.name, self.name.rsplit(".", 1)[-1])

    def x(self, value) -> float:
        """The number a line is fitted against: pixels in millions for an image size."""
        if self.name == "image_size":
            return value[0] * value[1] / 1e6
        return float(value)

    def show(self, value) -> str:
        return f"{value[0]}x{value[1]}" if self.name == "image_size" else f"{value:g}" if isinstance(value, float) else str(value)


def _ints(text: str, flag: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"{flag} takes a comma-separated list of integers, got '{text}'") from None
    if any(v <= 0 for v in values):
        raise UsageError(f"{flag} values must be positive, got '{text}'")
    return values


def parse_axes(cameras: str | None, image_sizes: str | None, threads: str | None,
               sets: list[str]) -> tuple[list[Axis], list[Override]]:
    """The sweep's axes (flags with a comma-separated list) and the plain ``--set`` overrides."""
    axes: list[Axis] = []
    if cameras:
        axes.append(Axis("cameras", _ints(cameras, "--cameras")))
    if image_sizes:
        axes.append(Axis("image_size", tuple(parse_image_size(v) for v in image_sizes.split(",") if v.strip())))
    if threads:
        axes.append(Axis("threads", _ints(threads, "--threads")))
    fixed: list[Override] = []
    for text in sets:
        o = parse_override(text)
        raw = text.split("=", 1)[1]
        if "," in raw and not raw.strip().startswith("["):
            values = tuple(parse_override(f"{o.policy}.{o.field}={v}").value for v in raw.split(","))
            axes.append(Axis(f"{o.policy}.{o.field}", values))
        else:
            fixed.append(o)
    if any(len(a.values) >= 2 for a in axes):  # a single value beside a real axis is a fixed setting
        axes = [a for a in axes if len(a.values) >= 2 or a.name not in SETTING_AXES]
    for axis in axes:
        if len(axis.values) < 2:
            raise UsageError(f"the {axis.name} axis has one value ({axis.show(axis.values[0]) if axis.values else 'none'}): "
                             "that is a plain `policybench run`")
        if len(set(axis.values)) != len(axis.values):
            raise UsageError(f"the {axis.name} axis names a value twice")
    if not axes:
        raise UsageError("a sweep needs an axis: --cameras 1,2,3, --image-size 224x224,480x640, --threads 1,2 "
                         "or --set POLICY.FIELD=v1,v2,...")
    if len(axes) > 2:
        raise UsageError(f"a sweep takes one or two axes, got {len(axes)}: {', '.join(a.name for a in axes)}")
    return axes, fixed


def fixed_settings(cameras: str | None, image_sizes: str | None, threads: str | None) -> dict[str, object]:
    """The --cameras, --image-size and --threads given one value: held fixed beside the axes
    (``cameras``, ``image_size`` and ``threads`` as ``build_config`` takes them)."""
    given = {"cameras": cameras and _ints(cameras, "--cameras"), "threads": threads and _ints(threads, "--threads"),
             "image_size": image_sizes and tuple(parse_image_size(v) for v in image_sizes.split(",") if v.strip())}
    return {name: values[0] for name, values in given.items() if values and len(values) == 1}


def grid(axes: list[Axis]) -> list[dict[str, object]]:
    """Every point: {axis name: value}, the first axis varying slowest."""
    return [dict(zip((a.name for a in axes), combo)) for combo in itertools.product(*(a.values for a in axes))]


def point_label(point: dict[str, object], axes: list[Axis]) -> str:
    by_name = {a.name: a for a in axes}
    return ",".join(f"{name.rsplit('.', 1)[-1]}={by_name[name].show(v)}" for name, v in point.items())


def point_config(base: RunConfig, point: dict[str, object]) -> RunConfig:
    """The run settings of one point: the base run with the point's values applied. A ``--set``
    axis of a policy not in the run is a usage error."""
    profile = customize_profile(base.profile, cameras=point.get("cameras"), image_size=point.get("image_size"))
    overrides = list(base.overrides)
    for name, value in point.items():
        if "." in name:
            policy, field = name.rsplit(".", 1)
            if policy not in base.policies:
                raise UsageError(f"--set {name}=...: '{policy}' is not among --policies ({','.join(base.policies)})")
            overrides = [o for o in overrides if (o.policy, o.field) != (policy, field)] + [Override(policy, field, value)]
    return dataclasses.replace(base, profile=profile, overrides=overrides, threads=point.get("threads", base.threads),
                               json_path=None)


def applies(policy: str, point: dict[str, object]) -> bool:
    """A ``--set`` axis changes one policy; the others are measured once, not at every value."""
    return all("." not in name or name.rsplit(".", 1)[0] == policy for name in point)


def tag(results: list[PolicyResult], point: dict[str, object], axes: list[Axis]) -> list[PolicyResult]:
    """The point's results, named ``policy[axis=value]`` and carrying the point in their config."""
    label = point_label(point, axes)
    shown = {a.name: a.show(point[a.name]) for a in axes if a.name in point}
    out = []
    for r in results:
        out.append(dataclasses.replace(r, policy=f"{r.policy}[{label}]",
                                       config={**r.config, "sweep_point": shown, "sweep_policy": r.policy}))
    return out


# ----------------------------------------------------------------------------- the fitted cost model


@dataclass(frozen=True)
class Fit:
    policy: str
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
        line = f"{self.policy}: refill {self.intercept_ms:.4g} ms {sign} {abs(self.slope_ms):.4g}{se} ms per {self.unit}"
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
    """One policy's ok points along one axis, the other axis (if any) held at one value."""

    policy: str
    group: str  # "" with one axis, else e.g. "cameras=2"
    points: list  # (x, refill median ms, axis value, PolicyResult), in axis order

    @property
    def name(self) -> str:
        return f"{self.policy} at {self.group}" if self.group else self.policy


def series(results: RunResults, axis: Axis, axes: list[Axis]) -> list[Series]:
    by_shown = {axis.show(v): v for v in axis.values}
    others = [a.name for a in axes if a.name != axis.name]
    groups: dict[tuple[str, str], list] = {}
    for r in results.results:
        point = r.config.get("sweep_point") or {}
        if r.status != OK or axis.name not in point:
            continue
        median = r.summary()["refill"]["median_ms"]
        if median is None:
            continue
        value = by_shown.get(point[axis.name])  # None: a value not shown as the axis shows it ("02" for 2)
        if value is None:
            continue
        group = ", ".join(f"{o.rsplit('.', 1)[-1]}={point[o]}" for o in others if o in point)
        groups.setdefault((r.config["sweep_policy"], group), []).append((axis.x(value), median, value, r))
    return [Series(policy, group, sorted(pts, key=lambda p: p[0])) for (policy, group), pts in groups.items()]


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


# ----------------------------------------------------------------------------- does it hold the rate


def holding(results: RunResults, axis: Axis, axes: list[Axis], hz: float, threshold: float = 0.5) -> list[dict[str, object]]:
    """Per policy (and value of the other axis), the largest value on ``axis`` that holds ``hz``
    in sync mode (no missed deadline) and in async mode (no starved tick), each point replayed
    through the realtime simulator on its own samples; with the headroom its worst refill leaves
    (sync: the period; async: the ticks a chunk may take at ``threshold``)."""
    from policybench.realtime.simulate import costs_from_result, simulate_async, simulate_sync

    period_ms = 1000.0 / hz
    ticks = max(int(round(10 * hz)), 2)
    rows = []
    for s in series(results, axis, axes):
        row: dict[str, object] = {"policy": s.policy, "group": s.group, "sync": None, "async": None}
        for _, _, value, r in s.points:  # in axis order: the last that holds is the largest
            costs = costs_from_result(r)
            worst = max(costs.refill) * 1000
            if simulate_sync(costs, hz, ticks)["deadline_misses"] == 0:
                row["sync"] = (value, period_ms - worst)
            if simulate_async(costs, hz, ticks, threshold, "weighted_average")["starved_ticks"] == 0:
                row["async"] = (value, period_ms * costs.chunk * threshold - worst)
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- running a sweep


def estimate_seconds(cfg: RunConfig, axes: list[Axis]) -> float:
    """The longest the grid can take: every point of every policy up to --max-seconds."""
    points = grid(axes)
    return sum(cfg.max_seconds for p in points for name in cfg.policies if applies(name, p))


def run_sweep(cfg: RunConfig, axes: list[Axis], device: str, log, warn, progress=None, isolate: bool = True,
              measure=None, hz: float | None = None) -> RunResults:
    """Measure every point of the grid (``measure(cfg, device) -> RunResults`` runs one point:
    the runner's run_benchmark by default); the results file is rewritten after every point."""
    from policybench.environment import describe_environment
    from policybench.outputs import ResultsFile
    from policybench.runner import run_config_record

    points = grid(axes)
    configs = [point_config(cfg, p) for p in points]  # structural mistakes stop the sweep before it starts
    env = describe_environment(device)
    record = {**run_config_record(cfg), "sweep": {"axes": [{"name": a.name, "values": [a.show(v) for v in a.values]}
                                                          for a in axes]}}
    if hz is not None:
        record["sweep"]["hz"] = hz
    results = RunResults(env, record)
    with ResultsFile(cfg.json_path) as out:
        for point, point_cfg in zip(points, configs):
            measured = _measure_point(cfg, point, point_cfg, axes, device, log, warn, progress, isolate, measure,
                                      env, results, out)
            results.results.extend(tag(measured, point, axes))
            out.save(results)
    return results


def _measure_point(cfg, point, point_cfg, axes, device, log, warn, progress, isolate, measure, env, results, out):
    """The results of one grid point (empty when no policy applies there); an interruption
    saves the points measured, this one marked interrupted, and goes on up."""
    from policybench.interrupt import Interrupted
    from policybench.results import FAILED
    from policybench.runner import run_benchmark, validate_overrides

    names = [n for n in cfg.policies if applies(n, point)]
    if not names:
        return []
    point_cfg = dataclasses.replace(point_cfg, policies=names, baseline=None,
                                    overrides=[o for o in point_cfg.overrides if o.policy in names])
    log(f"sweep point {point_label(point, axes)}")
    try:
        validate_overrides(point_cfg)
    except UsageError as exc:  # a value this policy cannot take: this point fails, the others run
        warn(f"{point_label(point, axes)}: FAILED: {exc}")
        return [PolicyResult(policy=n, status=FAILED, error=str(exc)) for n in names]
    try:
        if measure is None:
            return run_benchmark(point_cfg, device, log=log, warn=warn, progress=progress,
                                 isolate=isolate, environment=env).results
        return measure(point_cfg, device).results
    except Interrupted as stop:  # keep the points measured, this one marked interrupted
        partial = stop.partial.results if isinstance(stop.partial, RunResults) else []
        results.results.extend(tag(partial, point, axes))
        stop.partial = results
        out.save(results)
        raise
