"""Measuring a sweep: every point of the grid, as ``run`` measures, into one results file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from policybench.errors import UsageError
from policybench.settings import RunSettings
from policybench.results import FAILED, PolicyResult, RunResults
from policybench.scaling.axes import Axis, applies, grid, point_config, point_label, shown_point


def estimate_seconds(cfg: RunSettings, axes: list[Axis]) -> float:
    """The longest the grid can take: every point of every policy up to --max-seconds (in each process)."""
    points = grid(axes)
    return sum(cfg.max_seconds * cfg.processes for p in points for name in cfg.policies if applies(name, p))


def tag(results: list[PolicyResult], point: dict[str, object], axes: list[Axis]) -> list[PolicyResult]:
    """The point's results, each carrying the point (as shown)."""
    shown = shown_point(point, axes)
    return [dataclasses.replace(r, point=shown) for r in results]


def run_sweep(cfg: RunSettings, axes: list[Axis], device: str, log, warn, progress=None, isolate: bool = True,
              measure=None, hz: float | None = None, said: Callable[[UsageError], str] = str) -> RunResults:
    """Measure every point of the grid (``measure(cfg, device) -> RunResults`` runs one point:
    the runner's run_benchmark by default); the results file is written once after every point
    (``hz`` is recorded with the axes before the first). A point whose values a policy cannot
    take fails, its error as ``said`` spells it (the CLI: with its flags)."""
    from policybench.environment import describe_environment
    from policybench.resultsfile import ResultsFile
    from policybench.runner import run_config_record

    points = grid(axes)
    configs = [point_config(cfg, p) for p in points]  # structural mistakes stop the sweep before it starts
    env = describe_environment(device)
    sweep: dict[str, object] = {"axes": [a.record() for a in axes], **({"hz": hz} if hz is not None else {})}
    results = RunResults(env, {**run_config_record(cfg), "sweep": sweep})
    with ResultsFile(cfg.json_path) as out:
        for point, point_cfg in zip(points, configs):
            measured = _measure_point(cfg, point, point_cfg, axes, device, log, warn, progress, isolate, measure,
                                      env, results, out, said)
            results.results.extend(tag(measured, point, axes))
            out.save(results)
    return results


def _measure_point(cfg, point, point_cfg, axes, device, log, warn, progress, isolate, measure, env, results, out, said):
    """The results of one grid point (empty when no policy applies there); an interruption
    saves the points measured, this one marked interrupted, and goes on up."""
    from policybench.interrupt import Interrupted
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
        warn(f"{point_label(point, axes)}: FAILED: {said(exc)}")
        return [PolicyResult(policy=n, status=FAILED, error=said(exc)) for n in names]
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
