"""Result records and the results file (JSON, ``schema_version`` 2; documented in docs/results-schema.md).

Summaries are always computed from the raw samples; the file stores both so that other tools
can read it without policybench, but on reading, policybench recomputes them from the samples.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import os
from dataclasses import dataclass, field
from typing import BinaryIO

from policybench import schema
from policybench.errors import UsageError
from policybench.identity import Identity, identity_name, name_suffix, point_text  # noqa: F401 - the names results are shown by
from policybench.samples import PHASES, TICK_PHASES, Sample, latencies, process_indices, stage_latencies, stage_names
from policybench.schema import (
    DAY_S,
    JSON,
    one_line,
    read_count,
    read_ms,
    read_name,
    read_optional,
    read_seconds,
    read_text,
    shown,
)
from policybench.stats import interval_over_processes, percentile, summarize

SCHEMA_VERSION = 2
READ_VERSIONS = (1, 2)  # a schema-1 file is upgraded as it is read (schema.upgrade_result)
OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"  # a --variant that cannot run here; error holds the reason
INTERRUPTED = "interrupted"  # SIGINT or SIGTERM stopped the run while this policy was measured
STATUSES = (OK, FAILED, SKIPPED, INTERRUPTED)
MAX_RESULTS_BYTES = 2**30  # read_results refuses a larger file unread (a million samples take about 93 MB)
PARSE_FACTOR = 8  # parsing a file takes about 5 times its size in memory: read at most an eighth of what is free
MAX_DEPTH = 64  # JSON nesting read_results accepts (policybench writes at most 7): deeper is refused before parsing


def _sample_json(s: Sample, processes: bool = False) -> dict[str, object]:
    """A sample as the file has it; with ``processes`` (a result of several processes) its "p"."""
    out: dict[str, object] = {"i": s.i, "phase": s.phase, "latency_ms": s.latency_ms}
    if s.stages_ms:
        out["stages_ms"] = s.stages_ms
    if processes:
        out["p"] = s.process
    return out


@dataclass(frozen=True)
class ProcessRun:
    """How one of ``--processes``' fresh processes measured a result (its samples carry its index)."""

    status: str
    cold_start_ms: float | None = None
    build_seconds: float | None = None
    complete: bool | None = None
    precision: float | None = None  # --refills auto: the precision this process reached

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: JSON, where: str) -> "ProcessRun":
        if d.get("status") not in STATUSES:
            raise UsageError(f"{where}.status is {shown(d.get('status'))}; known: {', '.join(STATUSES)}")
        complete = d.get("complete")
        return cls(
            d["status"],
            read_optional(d, "cold_start_ms", where, read_ms),
            read_optional(d, "build_seconds", where, read_seconds),
            None if complete is None else schema.read_bool(complete, f"{where}.complete"),
            read_optional(d, "precision", where, schema.read_share),
        )


@dataclass(frozen=True)
class PolicyResult:
    """One policy's (variant's, sweep point's) measurement: a record, made whole by the child that
    measured it (measure/policy.py) and changed only into new records (dataclasses.replace)."""

    policy: str  # the policy's name (a registry name or a --policy-path), without variant or point
    status: str  # OK or FAILED
    error: str | None = None
    config: dict[str, object] = field(default_factory=dict)
    params: int | None = None
    samples: list[Sample] = field(default_factory=list)
    cold_start_ms: float | None = None
    build_seconds: float | None = None
    complete: bool | None = None  # the target number of refill cycles was reached
    memory: dict[str, float | int | None] = field(default_factory=dict)  # see docs/results-schema.md
    source: str | None = None  # checkpoint folder or hub id (--policy-path); None for a built-in
    variant: str | None = None  # --variant: eager, noeval, bf16, ...; None without --variant
    first_chunk_seconds: float | None = None  # --variant: the first refill, torch.compile included
    equivalence: dict[str, object] = field(default_factory=dict)  # --variant: vs fp32 eager
    roofline: dict[str, object] = field(default_factory=dict)  # --variant: FLOPs, bytes, floor
    export: dict[str, object] = field(default_factory=dict)  # runtime variants: what was exported, how, how long
    point: dict[str, str] = field(default_factory=dict)  # sweep: {axis: value as shown}; {} outside a sweep
    precision: float | None = None  # --refills auto: the refill median's interval half-width reached, a share of it
    processes: list[ProcessRun] = field(default_factory=list)  # --processes N > 1: each process, by index
    machine_load: dict[str, object] = field(default_factory=dict)  # other work while measured (machine_load.py)
    machine: dict[str, object] = field(default_factory=dict)  # --ray: {"node": name, the node's environment}; {} here
    breakdown: dict[str, object] = field(default_factory=dict)  # --breakdown: raw per-refill components (anatomy/)
    # summary() of the samples it was computed from (their list and count): a report asks for it
    # many times, and sorting a million samples takes a third of a second
    _summary: tuple[list[Sample], int, JSON] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def identity(self) -> Identity:
        """Who the result is (policy, variant, point): what results are grouped and looked up by."""
        return Identity.of(self.policy, self.variant, self.point)

    @property
    def name(self) -> str:
        return self.identity.name

    def process_count(self) -> int:
        """The processes whose samples the result holds (1 for a run without --processes)."""
        return max(len(self.processes), len(process_indices(self.samples)), 1)

    def process_medians(self, phase: str | None = None) -> list[float]:
        """The median latency of ``phase`` (every call when None) in each process that measured
        one, by process index: one value without --processes."""
        by_process: dict[int, list[float]] = {}
        for s in self.samples:
            if phase is None or s.phase == phase:
                by_process.setdefault(s.process, []).append(s.latency_ms)
        return [percentile(by_process[k], 50) for k in sorted(by_process)]

    def median_of_processes(self, phase: str | None = None) -> float | None:
        """The headline median with several processes: the median of their medians."""
        medians = self.process_medians(phase)
        return percentile(medians, 50) if medians else None

    def process_spread(self, phase: str | None = None) -> tuple[float, float] | None:
        """The spread between processes: the lowest and highest per-process median (None with one)."""
        medians = self.process_medians(phase)
        return (min(medians), max(medians)) if len(medians) > 1 else None

    def _phase_summary(self, phase: str | None) -> JSON:
        """summarize over every sample of the phase; with several processes, the headline median
        is the median of the per-process medians, its interval the one over processes (widened to
        hold that median), and the per-process medians and their spread are kept beside."""
        out: JSON = dict(summarize(latencies(self.samples, phase)))
        medians = self.process_medians(phase)
        if len(medians) > 1:
            median = percentile(medians, 50)
            interval = interval_over_processes(medians)
            out["median_ms"] = median
            out["median_ci_ms"] = None if interval is None else [min(interval[0], median), max(interval[1], median)]
            out["process_medians_ms"] = medians
            out["process_spread_ms"] = [min(medians), max(medians)]
        return out

    def summary(self) -> JSON:
        """Per phase ("all", step, refill) the statistics of summarize; per stage, when the
        samples have stages, the same per phase (one level deeper). Computed once per list of
        samples (samples are frozen; appending one or replacing the list computes it again);
        each caller gets its own copy."""
        cached = self._summary
        if cached is None or cached[0] is not self.samples or cached[1] != len(self.samples):
            cached = (self.samples, len(self.samples), self._computed_summary())
            object.__setattr__(self, "_summary", cached)  # a cache, not the record: set on the frozen result
        return copy.deepcopy(cached[2])

    def _computed_summary(self) -> JSON:
        out: JSON = {"all": self._phase_summary(None)}
        for phase in PHASES:
            out[phase] = self._phase_summary(phase)
        stages = stage_names(self.samples)
        if stages:
            out["stages"] = {
                stage: {
                    key: summarize(stage_latencies(self.samples, stage, None if key == "all" else key))
                    for key in ("all", *PHASES)
                }
                for stage in stages
            }
        return out

    def to_json(self) -> dict[str, object]:
        several = len(process_indices(self.samples)) > 1 or len(self.processes) > 1
        return {
            "policy": self.policy,
            "variant": self.variant,
            "point": self.point,
            "status": self.status,
            "error": self.error,
            "config": self.config,
            "params": self.params,
            "build_seconds": self.build_seconds,
            "complete": self.complete,
            "cold_start_ms": self.cold_start_ms,
            "summary": self.summary(),
            "memory": self.memory,
            "source": self.source,
            "first_chunk_seconds": self.first_chunk_seconds,
            "equivalence": self.equivalence,
            "roofline": self.roofline,
            "export": self.export,
            **({"machine_load": self.machine_load} if self.machine_load else {}),
            **({"machine": self.machine} if self.machine else {}),
            **({"breakdown": self.breakdown} if self.breakdown else {}),
            "samples": [_sample_json(s, several) for s in self.samples],
            **({"precision": self.precision} if self.precision is not None else {}),
            **({"processes": [p.to_json() for p in self.processes]} if self.processes else {}),
        }

    @classmethod
    def from_json(cls, d: JSON, version: int = SCHEMA_VERSION) -> "PolicyResult":
        """Checked as it is read (UsageError naming the first bad value; schema.py says what each
        field must be): known status and phases, increasing call indices, latencies that are
        milliseconds a call can take, and every field the reports read of the type they need.
        A schema-1 result is upgraded first (schema.upgrade_result)."""
        if version == 1:
            d = schema.upgrade_result(d)
        policy = read_name(d.get("policy"), "a result's policy")
        variant = read_optional(d, "variant", policy, read_name)
        point = schema.read_point(d.get("point"), f"{one_line(policy)}: point")
        name = identity_name(policy, variant, point)
        where = one_line(name)
        if d.get("status") not in STATUSES:
            raise UsageError(f"{where}: status is {shown(d.get('status'))}; known: {', '.join(STATUSES)}")
        complete = d.get("complete")
        if complete is not None:
            schema.read_bool(complete, f"{where}: complete")
        return cls(
            policy=policy,
            status=d["status"],
            error=read_optional(d, "error", name, read_text),
            config=schema.read_config(d.get("config"), f"{where}: config"),
            params=read_optional(d, "params", name, read_count),
            samples=schema.read_samples(d.get("samples"), name),
            cold_start_ms=read_optional(d, "cold_start_ms", name, read_ms),
            build_seconds=read_optional(d, "build_seconds", name, read_seconds),
            complete=complete,
            memory=schema.read_memory(d.get("memory"), f"{where}: memory"),
            source=read_optional(d, "source", name, read_name),
            variant=variant,
            first_chunk_seconds=read_optional(d, "first_chunk_seconds", name, read_seconds),
            equivalence=schema.read_equivalence(d.get("equivalence"), f"{where}: equivalence"),
            roofline=schema.read_roofline(d.get("roofline"), f"{where}: roofline"),
            export=schema.read_object(d.get("export"), f"{where}: export"),
            point=point,
            precision=read_optional(d, "precision", name, schema.read_share),
            processes=[
                ProcessRun.from_json(p, f"{where}: processes[{k}]")
                for k, p in enumerate(schema.read_objects(d.get("processes"), f"{where}: processes"))
            ],
            machine_load=schema.read_machine_load(d.get("machine_load"), f"{where}: machine_load"),
            machine=schema.read_machine(d.get("machine"), f"{where}: machine"),
            breakdown=schema.read_breakdown(d.get("breakdown"), f"{where}: breakdown"),
        )


@dataclass
class RunResults:
    environment: dict[str, object]
    run: dict[str, object]  # the settings of the run (profile, counts, overrides)
    results: list[PolicyResult] = field(default_factory=list)
    # policybench realtime: one entry per policy, rate and mode (see docs/results-schema.md)
    realtime: list[RealtimeResult] = field(default_factory=list)

    def measured(self) -> bool:
        """Worth replacing an earlier results file with: a policy measured, or a realtime run."""
        return any(r.status == OK for r in self.results) or bool(self.realtime)

    def to_json(self) -> dict[str, object]:
        out = {
            "schema_version": SCHEMA_VERSION,
            "environment": self.environment,
            "run": self.run,
            "results": [r.to_json() for r in self.results],
        }
        if self.realtime:
            out["realtime"] = [e.to_json() for e in self.realtime]
        return out

    @classmethod
    def from_json(cls, d: JSON) -> "RunResults":
        version = d.get("schema_version")
        if isinstance(version, bool) or version not in READ_VERSIONS:
            readable = " and ".join(map(str, READ_VERSIONS))
            raise UsageError(f"results file has schema_version {shown(version)}; this policybench reads {readable}")
        run = schema.read_run(d.get("run"))
        stored = schema.read_objects(d.get("results"), "results")
        results = [PolicyResult.from_json(r, version) for r in stored]
        names = [r["policy"] for r in stored] if version == 1 else [r.name for r in results]  # as the file names them
        schema.check_sweep_points(run, results, names, version)
        realtime = [
            RealtimeResult.from_json(e, n) for n, e in enumerate(schema.read_objects(d.get("realtime"), "realtime"))
        ]
        if version == 1:
            realtime = _upgrade_realtime(realtime, dict(zip(names, results)))
        return cls(schema.read_environment(d.get("environment")), run, results, realtime)


def _upgrade_realtime(entries: list["RealtimeResult"], by_name: dict[str, PolicyResult]) -> list["RealtimeResult"]:
    """Schema 1 named a simulated variant or sweep point "act+bf16[cameras=2]" in its realtime
    entry too: that entry takes the identity of the result the file names so (looked up, not parsed)."""
    out = []
    for e in entries:
        r = by_name.get(e.policy)
        if r is not None and e.variant is None and not e.point and r.name != r.policy:
            e = dataclasses.replace(e, policy=r.policy, variant=r.variant, point=r.point)
        out.append(e)
    return out


REALTIME_MODES = ("sync", "async", "remote", "rtc")
RAW_LISTS = ("chunk_latencies_ms", "round_trips_ms", "in_process_chunks_ms", "plain_refills_ms", "guided_refills_ms")
Summary = dict[str, "float | int | bool | None"]  # a realtime run's figures (docs/results-schema.md)


@dataclass(frozen=True)
class RealtimeTick:
    """One tick of a live paced run, as stored (milliseconds from the start of the loop)."""

    k: int
    phase: str  # step/refill (sync), pop/starved (async)
    scheduled_ms: float
    start_ms: float
    end_ms: float
    queue: int | None = None  # queued actions at the tick
    missed: bool | None = None  # the tick's work overran the period

    @property
    def work_ms(self) -> float:
        return self.end_ms - self.start_ms

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "k": self.k,
            "scheduled_ms": self.scheduled_ms,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "phase": self.phase,
        }
        return out | {
            key: value for key, value in (("queue", self.queue), ("missed", self.missed)) if value is not None
        }

    @classmethod
    def from_json(cls, tick: JSON, where: str) -> "RealtimeTick":
        k = read_count(tick.get("k"), f"{where}.k")
        if tick.get("phase") not in TICK_PHASES:
            raise UsageError(f"{where}.phase is {shown(tick.get('phase'))}; known: {', '.join(TICK_PHASES)}")
        scheduled, start, end = (
            read_ms(tick.get(key), f"{where}.{key}") for key in ("scheduled_ms", "start_ms", "end_ms")
        )
        extra = schema.read_fields(tick, where, {"missed": schema.read_bool, "queue": read_count})
        return cls(k, tick["phase"], scheduled, start, end, queue=extra.get("queue"), missed=extra.get("missed"))


@dataclass(frozen=True)
class RtcInference:
    """One chunk of a live ``rtc`` run as LeRobot's RTC engine computed and merged it
    (milliseconds from the start of the loop; the first, cold one starts before it)."""

    start_ms: float
    end_ms: float
    model_ms: float  # the policy's predict_action_chunk, within end - start
    guided: bool  # called with the unexecuted rest of the previous chunk
    delay_used: int  # the inference_delay the engine passed (ceil(LatencyTracker.max() / period))
    delay_taken: int  # the delay it merged with (ceil(latency / period))
    queue_before: int  # actions queued when it merged
    queue_after: int
    popped: int  # actions the loop executed while it was computed
    skipped: int  # actions of the new chunk dropped on merge

    @property
    def latency_ms(self) -> float:
        return self.end_ms - self.start_ms

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: JSON, where: str) -> "RtcInference":
        span = DAY_S * 1000
        start, end = (
            float(
                schema.read_number(
                    d.get(key), f"{where}.{key}", -span, span, "must be milliseconds within a day of the loop's start"
                )
            )
            for key in ("start_ms", "end_ms")
        )
        counts = [
            read_count(d.get(key), f"{where}.{key}")
            for key in ("delay_used", "delay_taken", "queue_before", "queue_after", "popped", "skipped")
        ]
        return cls(
            start,
            end,
            read_ms(d.get("model_ms"), f"{where}.model_ms"),
            schema.read_bool(d.get("guided"), f"{where}.guided"),
            *counts,
        )


@dataclass(frozen=True)
class Inference:
    """One chunk the engine computed and merged, as its wrappers saw it (seconds on the loop's clock)."""

    start: float  # the engine read the queue's index: its latency starts here
    end: float  # it merged the chunk
    model_s: float  # of which the policy's predict_action_chunk
    guided: bool  # called with the unexecuted rest of the previous chunk
    delay_used: int  # the inference_delay the engine passed: ceil(LatencyTracker.max() / period)
    delay_taken: int  # the delay it merged with: ceil(latency / period)
    queue_before: int  # actions queued when it merged
    queue_after: int
    popped: int  # actions the loop executed while it was computed
    skipped: int  # actions of the new chunk dropped on merge

    @property
    def latency(self) -> float:
        return self.end - self.start

    def stored(self, t0: float) -> RtcInference:
        """As a results file keeps it: milliseconds from the loop's start."""
        return RtcInference(
            (self.start - t0) * 1000,
            (self.end - t0) * 1000,
            self.model_s * 1000,
            self.guided,
            self.delay_used,
            self.delay_taken,
            self.queue_before,
            self.queue_after,
            self.popped,
            self.skipped,
        )


@dataclass
class RealtimeResult:
    """One policy, rate and mode of ``policybench realtime``: a live paced run (source
    "measured"), a replay of measured samples (source "simulated"), or round trips through
    LeRobot's PolicyServer (mode "remote"). ``policy``, ``variant`` and ``point`` are the
    identity of the result it was measured or simulated as."""

    policy: str
    mode: str  # REALTIME_MODES, or the modes asked for ("sync,async") of a policy that failed before one began
    hz: float
    source: str  # "measured" or "simulated"
    threshold: float | None = None  # async: the request threshold g
    aggregate: str | None = None  # async: how an arrived chunk is merged
    status: str | None = None  # live runs: OK, FAILED or INTERRUPTED; None for a simulated run
    error: str | None = None
    summary: Summary = field(default_factory=dict)
    ticks: list[RealtimeTick] | None = None  # live paced runs
    chunk_latencies_ms: list[float] | None = None  # live async runs
    round_trips_ms: list[float] | None = None  # remote
    in_process_chunks_ms: list[float] | None = None  # remote
    not_equivalent: str | None = None  # simulated variant: why its actions do not count as the policy's
    variant: str | None = None
    point: dict[str, str] = field(default_factory=dict)
    inferences: list[RtcInference] | None = None  # live rtc runs: every chunk the engine merged
    plain_refills_ms: list[float] | None = None  # live rtc runs: the policy's chunk without guidance
    guided_refills_ms: list[float] | None = None  # and with it, interleaved, in the same process

    @property
    def identity(self) -> Identity:
        """The measured result this run is of (policy, variant, point)."""
        return Identity.of(self.policy, self.variant, self.point)

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def ok(self) -> bool:
        return self.status in (None, OK)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "policy": self.policy,
            "hz": self.hz,
            "source": self.source,
            "mode": self.mode,
            "threshold": self.threshold,
            "aggregate": self.aggregate,
        }
        if self.variant is not None:
            out["variant"] = self.variant
        if self.point:
            out["point"] = self.point
        if self.not_equivalent:
            out["not_equivalent"] = self.not_equivalent
        if self.status is not None:
            out |= {"status": self.status, "error": self.error}
        out["summary"] = self.summary
        if self.ticks is not None:
            out["ticks"] = [t.to_json() for t in self.ticks]
        if self.inferences is not None:
            out["inferences"] = [x.to_json() for x in self.inferences]
        return out | {key: getattr(self, key) for key in RAW_LISTS if getattr(self, key) is not None}

    @classmethod
    def from_json(cls, e: JSON, n: int) -> "RealtimeResult":
        """Checked as PolicyResult.from_json checks a result: what reports and plots read of it
        is known words and numbers in range."""
        policy = read_name(e.get("policy"), f"realtime[{n}].policy")
        if e.get("mode") not in REALTIME_MODES:
            raise UsageError(f"realtime[{n}].mode is {shown(e.get('mode'))}; known: {', '.join(REALTIME_MODES)}")
        where = f"realtime[{n}] ({one_line(policy)}, {e['mode']})"
        if e.get("status", OK) not in STATUSES:
            raise UsageError(f"{where}: status is {shown(e['status'])}; known: {', '.join(STATUSES)}")
        text = {
            key: read_optional(e, key, where, read_text) for key in ("error", "aggregate", "source", "not_equivalent")
        }
        hz = float(schema.read_rate(e.get("hz"), f"{where}: hz"))
        threshold = e.get("threshold")
        if threshold is not None:
            threshold = float(
                schema.read_number(threshold, f"{where}: threshold", 0, 1, "must be a number from 0 to 1")
            )
        return cls(
            policy,
            e["mode"],
            hz,
            text["source"] or "measured",
            threshold,
            text["aggregate"],
            e.get("status"),
            text["error"],
            _read_summary(e.get("summary"), where),
            _read_ticks(e.get("ticks"), where),
            chunk_latencies_ms=_read_raw(e, "chunk_latencies_ms", where),
            round_trips_ms=_read_raw(e, "round_trips_ms", where),
            in_process_chunks_ms=_read_raw(e, "in_process_chunks_ms", where),
            not_equivalent=text["not_equivalent"],
            variant=read_optional(e, "variant", where, read_name),
            point=schema.read_point(e.get("point"), f"{where}: point"),
            inferences=_read_inferences(e.get("inferences"), where),
            plain_refills_ms=_read_raw(e, "plain_refills_ms", where),
            guided_refills_ms=_read_raw(e, "guided_refills_ms", where),
        )


def _read_inferences(value: object, where: str) -> list[RtcInference] | None:
    if value is None:
        return None
    return [
        RtcInference.from_json(x, f"{where}: inferences[{k}]")
        for k, x in enumerate(schema.read_objects(value, f"{where}: inferences"))
    ]


def _read_summary(value: object, where: str) -> Summary:
    summary = schema.read_object(value, f"{where}: summary")
    for key, number in summary.items():
        if number is not None and not isinstance(number, bool):  # flags such as stall_open_at_end
            schema.read_number(
                number, f"{where}: summary.{one_line(key)}", -DAY_S * 1000, DAY_S * 1000, "must be a finite number"
            )
    return summary


def _read_ticks(value: object, where: str) -> list[RealtimeTick] | None:
    if value is None:
        return None
    return [
        RealtimeTick.from_json(tick, f"{where}: ticks[{k}]")
        for k, tick in enumerate(schema.read_objects(value, f"{where}: ticks"))
    ]


def _read_raw(e: JSON, key: str, where: str) -> list[float] | None:
    if e.get(key) is None:
        return None
    return [read_ms(ms, f"{where}: {key}[{k}]") for k, ms in enumerate(schema.read_list(e[key], f"{where}: {key}"))]


class NotWritten(Exception):
    """The results file could not be written (a full disk, say); the file that was there is
    unchanged. ``partial`` holds what was measured, to be shown all the same."""

    def __init__(self, path: str, reason: str, partial: RunResults):
        super().__init__(f"{path}: cannot write the results file ({reason}); the file there is unchanged")
        self.partial = partial


def write_results(results: RunResults, path: str) -> None:
    """Write atomically, keeping the file's mode (outputs.write_atomic): a crash never leaves
    half a file, and a failed write (NotWritten) leaves no temporary file."""
    from policybench.outputs import write_atomic

    def fill(f: BinaryIO) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8")
        json.dump(results.to_json(), text, indent=1)
        text.write("\n")
        text.flush()
        text.detach()

    try:
        write_atomic(path, fill)
    except OSError as exc:
        raise NotWritten(path, exc.strerror or str(exc), results) from None


def read_results(path: str) -> RunResults:
    """A results file, checked as it is read: at most ``read_limit()`` bytes, JSON nested at most
    MAX_DEPTH deep, every field of the type and range it must have (UsageError naming it)."""
    data = _load_json(path)
    if not isinstance(data, dict) or "results" not in data:
        raise UsageError(f"{path}: not a policybench results file (no 'results')")
    try:
        return RunResults.from_json(data)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path}: malformed results file ({type(exc).__name__}: {exc})") from None


def read_limit() -> int:
    """The largest results file read here: MAX_RESULTS_BYTES, and at most an eighth of the
    memory free on this machine (a small robot computer reads smaller files)."""
    from policybench.sizes import available_memory

    free = available_memory()
    return MAX_RESULTS_BYTES if free is None else min(MAX_RESULTS_BYTES, free // PARSE_FACTOR)


def _load_json(path: str) -> object:
    limit = read_limit()
    try:
        # Opened without waiting (a FIFO without a writer would block the open), then read as usual:
        # a pipe with a writer (report <(ssh host cat r.json)) is read to its end, one without ends at once.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:  # a regular file: refused unread
                raise UsageError(_too_large(path, limit))
            data = f.read(size + 1) if size else _read_stream(f, limit)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise UsageError(_too_large(path, limit))
    if json_depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise UsageError(f"{path}: JSON nested more than {MAX_DEPTH} deep (MAX_DEPTH; policybench writes at most 7)")
    try:
        text = data.decode("utf-8")
        del data  # not kept alive while the text is parsed: a large file's bytes are tens of MB
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of thousands of digits
        reason = str(exc).partition("; use sys.set_int_max_str_digits")[0]
        raise UsageError(f"{path}: not a JSON results file ({reason})") from None


def _read_stream(f: BinaryIO, limit: int) -> bytearray:
    """A device or a pipe, whose size is not known beforehand: a MiB at a time, until its end or
    just past ``limit`` (/dev/zero ends there)."""
    data = bytearray()
    while len(data) <= limit and (chunk := f.read(1 << 20)):
        data += chunk
    return data


def _too_large(path: str, limit: int) -> str:
    why = (
        "too large for a results file policybench writes"
        if limit >= MAX_RESULTS_BYTES
        else "the most this machine reads (an eighth of its free memory: parsing takes several times the file)"
    )
    return f"{path}: larger than {limit / 2**20:,.0f} MiB, {why}"


_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')  # what json_depth drops


def json_depth(data: bytes | bytearray, stop: int = 2**62) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings not counted),
    found without parsing it, in bounded memory, stopping once past ``stop``. Escaped backslashes
    and quotes are dropped first: every quote left opens or closes a string. Valid JSON or not,
    the depth json.loads reaches before it stops is at most this."""
    import numpy as np

    kept = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _STRUCTURE)
    codes = np.frombuffer(kept, dtype=np.uint8)
    depth = deepest = quotes = 0
    for start in range(0, len(codes), 1 << 20):
        c = codes[start : start + (1 << 20)]
        outside = (np.cumsum(c == ord('"'), dtype=np.int64) + quotes) % 2 == 0
        quotes += int(np.count_nonzero(c == ord('"')))
        opens = outside & ((c == ord("[")) | (c == ord("{")))
        closes = outside & ((c == ord("]")) | (c == ord("}")))
        levels = np.cumsum(opens.astype(np.int64) - closes) + depth
        deepest, depth = max(deepest, int(levels.max())), int(levels[-1])
        if deepest > stop:
            break
    return deepest
