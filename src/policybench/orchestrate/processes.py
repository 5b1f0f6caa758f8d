"""Repeated processes (``--processes N``): one policy measured in N fresh processes one after the
other, and their results merged into one result per variant and sweep point.

The merged result keeps every process's samples, each marked with its process index
(``Sample.process``), and each process's cold start, build time, completeness and precision
(``PolicyResult.processes``); its own cold start and build time are the medians over processes.
A process that failed makes the merged result fail, naming the process; the samples measured
in the others are kept. So do processes whose config or environment records differ (a policy
built differently, or measured on another node): they are not one measurement, and the
failed result names the process and the fields that differ (pyperf refuses such runs too). Ctrl-C
or SIGTERM in process k keeps the k processes before it: the
Interrupted raised carries their merged results (status interrupted) as its ``partial``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from policybench.identity import Identity
from policybench.interrupt import Interrupted
from policybench.results import FAILED, INTERRUPTED, OK, PolicyResult, ProcessRun
from policybench.schema import one_line, shown
from policybench.stats import percentile

Log = Callable[[str], None]

# What each process records of how and where it measured (PolicyResult field: the name a refusal
# gives it): every process of one result must record the same
RECORDS = {"config": "config", "machine": "environment"}


def measure_processes(
    name: str, count: int, measure_once: Callable[[int], list[PolicyResult]], log: Log = lambda line: None
) -> list[PolicyResult]:
    """``name``'s results from ``count`` processes (``measure_once(k)``: its results measured in
    the k-th, a fresh one), merged by ``merge_processes``."""
    per_process: list[list[PolicyResult]] = []
    try:
        for k in range(count):
            if count > 1:
                log(f"{name}: process {k + 1} of {count}")
            per_process.append(measure_once(k))
    except KeyboardInterrupt as exc:  # the processes that finished are kept, marked interrupted
        if not per_process:
            raise
        stop = Interrupted.wrap(exc, None)
        error = f"{stop} in process {len(per_process) + 1} of {count}; the {len(per_process)} before it are kept"
        stop.partial = [
            dataclasses.replace(r, status=INTERRUPTED, error=error, complete=False)
            for r in merge_processes(per_process)
        ]
        raise stop from None
    return merge_processes(per_process)


def merge_processes(per_process: list[list[PolicyResult]]) -> list[PolicyResult]:
    """One result per identity (variant and point), in the order the processes first gave them; a
    process that failed as a whole (one failed result without samples) fails every merged result."""
    if len(per_process) == 1:
        return per_process[0]
    groups: dict[Identity, list[tuple[int, PolicyResult]]] = {}
    failures: list[tuple[int, PolicyResult]] = []
    for k, results in enumerate(per_process):
        if _failed_whole(results, per_process):
            failures.append((k, results[0]))
            continue
        for r in results:
            groups.setdefault(r.identity, []).append((k, r))
    if not groups:  # every process failed: the first one's failure, naming it
        k, first = failures[0]
        return [dataclasses.replace(first, error=_named(k, len(per_process), first.error))]
    return [_merged(runs, failures, len(per_process)) for runs in groups.values()]


def _failed_whole(results: list[PolicyResult], per_process: list[list[PolicyResult]]) -> bool:
    """The process failed before measuring anything: one failed result, no samples, where another
    process gave more results or results of other variants."""
    if len(results) != 1 or results[0].status == OK or results[0].samples:
        return False
    return any(len(other) != 1 or other[0].variant != results[0].variant for other in per_process)


def _named(k: int, count: int, error: str | None) -> str:
    return f"process {k + 1} of {count}: {error or 'failed'}"


def _merged(runs: list[tuple[int, PolicyResult]], failures: list[tuple[int, PolicyResult]], count: int) -> PolicyResult:
    """One identity's results from each process as one result: failed where a process failed, or
    where the processes' config or environment records differ."""
    first = runs[0][1]
    samples = [dataclasses.replace(s, process=k) for k, r in runs for s in r.samples]
    record = {k: ProcessRun(r.status, r.cold_start_ms, r.build_seconds, r.complete, r.precision) for k, r in runs}
    record.update({k: ProcessRun(r.status) for k, r in failures})
    bad = sorted([(k, r) for k, r in runs if r.status != OK] + failures, key=lambda kr: kr[0])
    differs = _disagreement(runs, count)
    status, error = (
        (bad[0][1].status, _named(bad[0][0], count, bad[0][1].error))
        if bad
        else (FAILED, differs)
        if differs
        else (first.status, first.error)
    )
    completes = [r.complete for _, r in runs]
    return dataclasses.replace(
        first,
        status=status,
        error=error,
        samples=samples,
        processes=[record[k] for k in sorted(record)],
        cold_start_ms=_median([r.cold_start_ms for _, r in runs]),
        build_seconds=_median([r.build_seconds for _, r in runs]),
        complete=None if None in completes else all(completes) and not failures,
        precision=None if first.precision is None else max(r.precision or 0.0 for _, r in runs),
        machine_load=_busiest([r.machine_load for _, r in runs]),
        breakdown=_pooled_breakdown([r.breakdown for _, r in runs]),
    )


def _disagreement(runs: list[tuple[int, PolicyResult]], count: int) -> str | None:
    """Where a process's config or environment record (RECORDS) differs from the first process's
    that recorded one: "process 2 of 3: its config differs from process 1's: chunk_size 50, not 100; ..."
    (a process that recorded none, having failed before, is not compared). None when they agree."""
    for field, what in RECORDS.items():
        recorded = [(k, getattr(r, field)) for k, r in runs if getattr(r, field)]
        for k, record in recorded[1:]:
            k0, first = recorded[0]
            if record != first:
                keys = sorted(key for key in first.keys() | record.keys() if first.get(key) != record.get(key))
                fields = "; ".join(
                    f"{one_line(key)} {shown(record.get(key))}, not {shown(first.get(key))}" for key in keys
                )
                differs = f"its {what} differs from process {k0 + 1}'s: {fields}"
                return f"{_named(k, count, differs)}; processes measured differently are not merged"
    return None


def _pooled_breakdown(breakdowns: list[dict[str, object]]) -> dict[str, object]:
    """--breakdown over several processes: the first process's components and costs, with the
    breakdown refills of every process that timed the same components (one pool of refills)."""
    measured = [b for b in breakdowns if b]
    if not measured:
        return {}
    first = measured[0]
    same = [b for b in measured if b.get("components") == first.get("components")]
    refills = [refill for b in same for refill in _listed(b.get("refills"))]
    return {**first, "refills": refills}


def _listed(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _busiest(loads: list[dict[str, object]]) -> dict[str, object]:
    """The machine's other load over several processes: for each figure, the worst one read (a
    result is as reliable as its least reliable process)."""
    out: dict[str, object] = {}
    for load in loads:
        for key, value in load.items():
            if isinstance(value, (int, float)):
                known = out.get(key)
                out[key] = max(known, value) if isinstance(known, (int, float)) else value
    return out


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return percentile(known, 50) if known else None
