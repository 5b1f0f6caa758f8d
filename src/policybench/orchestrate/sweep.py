"""Measuring a sweep: every point of the grid, as ``run`` measures, into one results file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from policybench.errors import SettingsError, UsageError
from policybench.interrupt import Interrupted
from policybench.orchestrate.launch import launcher
from policybench.orchestrate.run import run_benchmark
from policybench.results import FAILED, PolicyResult, RunResults
from policybench.resultsfile import ResultsFile
from policybench.scaling.axes import Axis, applies, grid, point_config, point_label, shown_point
from policybench.settings import RunSettings

Check = Callable[[list[RunSettings]], list[dict | None]]  # each point's settings checked: None or its error


def estimate_seconds(cfg: RunSettings, axes: list[Axis]) -> float:
    """The longest the grid can take: every point of every policy up to --max-seconds (in each process)."""
    points = grid(axes)
    return sum(cfg.max_seconds * cfg.processes for p in points for name in cfg.policies if applies(name, p))


def tag(results: list[PolicyResult], point: dict[str, object], axes: list[Axis]) -> list[PolicyResult]:
    """The point's results, each carrying the point (as shown)."""
    shown = shown_point(point, axes)
    return [dataclasses.replace(r, point=shown) for r in results]


def run_sweep(
    cfg: RunSettings,
    axes: list[Axis],
    device: str,
    log,
    warn,
    progress=None,
    isolate: bool = True,
    measure=None,
    hz: float | None = None,
    said: Callable[[UsageError], str] = str,
    *,
    environment: dict[str, object] | None = None,
    check: Check | None = None,
) -> RunResults:
    """Measure every point of the grid (``measure(cfg, device) -> RunResults`` runs one point:
    run_benchmark by default); the results file is written once after every point (``hz`` is
    recorded with the axes before the first). ``check`` checks every point's settings against
    LeRobot's configs before the first is measured: a point whose values a policy cannot take
    fails, its error as ``said`` spells it (the CLI: with its flags), and the others run."""
    points = grid(axes)
    configs = [_point_policies(point_config(cfg, p), p) for p in points]  # structural mistakes stop the sweep here
    errors = (check or check_here)([c for c in configs if c is not None])
    checked = iter(errors)
    problems = [next(checked, None) if c is not None else None for c in configs]
    sweep: dict[str, object] = {"axes": [a.record() for a in axes], **({"hz": hz} if hz is not None else {})}
    environment = environment or {}
    results = RunResults(environment, {**cfg.record(), "sweep": sweep})
    with ResultsFile(cfg.json_path) as out:
        for point, point_cfg, problem in zip(points, configs, problems):
            if point_cfg is None:
                continue
            log(f"sweep point {point_label(point, axes)}")
            measured = _measure_point(
                point,
                point_cfg,
                problem,
                axes,
                device,
                log,
                warn,
                progress,
                isolate,
                measure,
                environment,
                results,
                out,
                said,
            )
            results.results.extend(tag(measured, point, axes))
            out.save(results)
    return results


def check_here(cfgs: list[RunSettings]) -> list[dict | None]:
    """Each settings checked against LeRobot's configs in this process (the "check" job)."""
    quiet = lambda line: None  # noqa: E731
    return launcher(False)("check", {"cfgs": [c.to_json() for c in cfgs]}, log=quiet, warn=quiet)["errors"]


def _point_policies(point_cfg: RunSettings, point: dict[str, object]) -> RunSettings | None:
    """The point's settings for the policies that take it (None: no policy applies there)."""
    names = [n for n in point_cfg.policies if applies(n, point)]
    if not names:
        return None
    return dataclasses.replace(
        point_cfg, policies=names, baseline=None, overrides=[o for o in point_cfg.overrides if o.policy in names]
    )


def _measure_point(
    point, point_cfg, problem, axes, device, log, warn, progress, isolate, measure, env, results, out, said
):
    """The results of one grid point; an interruption saves the points measured, this one marked
    interrupted, and goes on up."""
    if problem is not None:  # a value this policy cannot take: this point fails, the others run
        exc = SettingsError(problem["template"]) if problem.get("template") else UsageError(problem["text"])
        warn(f"{point_label(point, axes)}: FAILED: {said(exc)}")
        return [PolicyResult(policy=n, status=FAILED, error=said(exc)) for n in point_cfg.policies]
    try:
        if measure is None:
            return run_benchmark(
                point_cfg, device, log=log, warn=warn, progress=progress, isolate=isolate, environment=env
            ).results
        return measure(point_cfg, device).results
    except Interrupted as stop:  # keep the points measured, this one marked interrupted
        partial = stop.partial.results if isinstance(stop.partial, RunResults) else []
        results.results.extend(tag(partial, point, axes))
        stop.partial = results
        out.save(results)
        raise
