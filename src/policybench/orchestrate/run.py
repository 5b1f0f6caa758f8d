"""Run a benchmark: each policy measured in turn (in a child process of its own, or here), and
written out before the next.

A policy that fails to build or run (CUDA out-of-memory included) becomes a failed result with
its error; the others still run. With a results path, the file is rewritten after every policy,
so a crash later in the run keeps what was measured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from policybench.errors import SettingsError
from policybench.interrupt import Interrupted, interruptible
from policybench.orchestrate import children
from policybench.orchestrate.launch import Given, launcher
from policybench.orchestrate.processes import measure_processes
from policybench.results import INTERRUPTED, PolicyResult, RunResults
from policybench.resultsfile import ResultsFile
from policybench.settings import RunSettings

Log = Callable[[str], None]
Progress = Callable[[str, int, int], None]  # (policy, refills done, target)


@interruptible()
def run_benchmark(
    cfg: RunSettings,
    device: str,
    log: Log = lambda line: None,
    *,
    environment: dict[str, object] | None = None,
    warn: Log | None = None,
    progress: Progress | None = None,
    isolate: bool = False,
    given: Given | None = None,
    clock: object = None,
    build: Callable | None = None,
) -> RunResults:
    """Measure every policy of ``cfg`` in turn; with ``isolate`` each in a child process of its
    own (``cfg.processes`` of them, one after the other), else here. Here, ``given`` holds the
    policies given as objects, and ``clock`` and ``build`` replace the device's clock and the
    registry's builder (tests run fake policies on a fake clock). ``environment`` is the machine's
    record (None: made as a run's plan makes it). ``log`` gets progress lines,
    ``warn`` (default: ``log``) warnings and failures, ``progress(policy, refills_done, target)``
    each measured refill. A results file that cannot be written stops the run with NotWritten,
    whose ``partial`` is the results measured. So does SIGINT or SIGTERM, with Interrupted,
    whose ``partial`` ends with the policy it interrupted (status "interrupted"), as the
    results file does (a child is stopped first)."""
    if cfg.processes > 1 and not isolate:
        raise SettingsError(
            f"{{processes}} {cfg.processes} measures each policy in fresh child processes; "
            "it cannot run in this process: drop {in_process}"
        )
    warn = warn or log
    if environment is None:  # the machine's record, as a run's plan makes it (its context normally hands it in)
        environment = launcher(isolate)(
            "plan", {"cfg": cfg.to_json(), "skip": list(given.policies) if given else []}, log=log, warn=warn
        )["environment"]
    if isolate:

        def measure(name: str) -> list[PolicyResult]:
            return measure_processes(
                name, cfg.processes, lambda k: children.measure_in_child(name, cfg, device, log, warn, progress), log
            )
    else:
        here = launcher(False, dataclasses.replace(given or Given(), clock=clock, build=build))

        def measure(name: str) -> list[PolicyResult]:
            on_progress = (lambda done, target: progress(name, done, target)) if progress else None
            answer = here(
                "measure",
                {"name": name, "cfg": cfg.to_json(), "device": device},
                log=log,
                warn=warn,
                progress=on_progress,
            )
            return [PolicyResult.from_json(r) for r in answer["results"]]

    return run_in_turn(cfg, environment, measure, warn)


def run_in_turn(
    cfg: RunSettings,
    environment: dict[str, object],
    measure: Callable[[str], list[PolicyResult]],
    said: Log | None = None,
) -> RunResults:
    """Every policy of ``cfg`` measured by ``measure(name)`` in turn, the results file saved after
    each; at the end ``said`` is told whether the file was written or left as it was."""
    results = RunResults(environment, cfg.record())
    current = None  # the policy being measured, not yet in results
    with ResultsFile(cfg.json_path, said) as out:
        try:
            for name in cfg.policies:
                current = name
                results.results.extend(measure(name))
                current = None
                out.save(results)
        except KeyboardInterrupt as exc:
            stop = Interrupted.wrap(exc, results)
            if current is not None:  # what its finished processes measured (processes.py), else its name
                finished = exc.partial if isinstance(exc, Interrupted) and isinstance(exc.partial, list) else None
                results.results.extend(finished or [PolicyResult(policy=current, status=INTERRUPTED, error=str(stop))])
            out.save(results)
            raise stop from None
    return results
