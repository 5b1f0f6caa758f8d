"""Result records and the results file (JSON, ``schema_version`` 1; documented in docs/results-schema.md).

Summaries are always computed from the raw samples; the file stores both so that other tools
can read it without policybench, but on reading, policybench recomputes them from the samples.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from policybench.errors import UsageError
from policybench.samples import PHASES, TICK_PHASES, Sample, latencies, stage_latencies, stage_names
from policybench.stats import summarize

SCHEMA_VERSION = 1
OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"  # a --variant that cannot run here; error holds the reason
INTERRUPTED = "interrupted"  # SIGINT or SIGTERM stopped the run while this policy was measured
STATUSES = (OK, FAILED, SKIPPED, INTERRUPTED)
DAY_S = 86_400  # a file that says a call or a build took longer than a day is not a measurement


def _sample_json(s: Sample) -> dict[str, object]:
    out: dict[str, object] = {"i": s.i, "phase": s.phase, "latency_ms": s.latency_ms}
    if s.stages_ms:
        out["stages_ms"] = s.stages_ms
    return out


@dataclass
class PolicyResult:
    policy: str
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

    def summary(self) -> dict[str, dict[str, float | int | None]]:
        out = {"all": summarize(latencies(self.samples))}
        for phase in PHASES:
            out[phase] = summarize(latencies(self.samples, phase))
        stages = stage_names(self.samples)
        if stages:
            out["stages"] = {
                stage: {key: summarize(stage_latencies(self.samples, stage, None if key == "all" else key))
                        for key in ("all", *PHASES)}
                for stage in stages
            }
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "policy": self.policy,
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
            "variant": self.variant,
            "first_chunk_seconds": self.first_chunk_seconds,
            "equivalence": self.equivalence,
            "roofline": self.roofline,
            "export": self.export,
            "samples": [_sample_json(s) for s in self.samples],
        }

    @classmethod
    def from_json(cls, d: dict) -> "PolicyResult":
        """Checked as it is read (UsageError naming the first bad value): known status and
        phases, increasing call indices, latencies that are milliseconds a call can take."""
        policy = _read_text(d["policy"], "a result's policy")
        if d["status"] not in STATUSES:
            raise UsageError(f"{policy}: status is {d['status']!r}; known: {', '.join(STATUSES)}")
        return cls(
            policy=policy,
            status=d["status"],
            error=_read_optional(d, "error", policy, _read_text),
            config=d.get("config") or {},
            params=_read_optional(d, "params", policy, _read_count),
            samples=_read_samples(d.get("samples", []), policy),
            cold_start_ms=_read_optional(d, "cold_start_ms", policy, _read_ms),
            build_seconds=_read_optional(d, "build_seconds", policy, _read_seconds),
            complete=d.get("complete"),
            memory=d.get("memory") or {},
            source=_read_optional(d, "source", policy, _read_text),
            variant=_read_optional(d, "variant", policy, _read_text),
            first_chunk_seconds=_read_optional(d, "first_chunk_seconds", policy, _read_seconds),
            equivalence=d.get("equivalence") or {},
            roofline=d.get("roofline") or {},
            export=d.get("export") or {},
        )


def _read_number(value: object, where: str, low: float, high: float, what: str, kinds: tuple[type, ...] = (int, float)):
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:  # NaN fails too
        raise UsageError(f"{where} is {value!r}; {what}")
    return value


def _read_ms(value: object, where: str) -> float:
    what = f"a latency must be a number of milliseconds from 0 to {DAY_S * 1000} (a day)"
    return float(_read_number(value, where, 0, DAY_S * 1000, what))


def _read_seconds(value: object, where: str) -> float:
    return float(_read_number(value, where, 0, DAY_S, f"must be a number of seconds from 0 to {DAY_S} (a day)"))


def _read_count(value: object, where: str) -> int:
    return _read_number(value, where, 0, float("inf"), "must be a whole number from 0", (int,))


def _read_text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{where} is {value!r}; must be a string")
    return value


def _read_optional(d: dict, key: str, policy: str, read):
    """d[key] checked by ``read``; None when absent or null."""
    return None if d.get(key) is None else read(d[key], f"{policy}: {key}")


def _read_samples(items: list[dict], policy: str) -> list[Sample]:
    samples: list[Sample] = []
    for k, s in enumerate(items):
        where = f"{policy}: samples[{k}]"
        i = _read_count(s["i"], f"{where}.i")
        if samples and i <= samples[-1].i:
            raise UsageError(f"{where}.i is {i}, after {samples[-1].i}; call indices must increase")
        if s["phase"] not in PHASES:
            raise UsageError(f"{where}.phase is {s['phase']!r}; known phases: {', '.join(PHASES)}")
        stages = s.get("stages_ms")
        if stages is not None:
            stages = {name: _read_ms(ms, f"{where}.stages_ms.{name}") for name, ms in stages.items()}
        samples.append(Sample(i, s["phase"], _read_ms(s["latency_ms"], f"{where}.latency_ms"), stages))
    return samples


@dataclass
class RunResults:
    environment: dict[str, object]
    run: dict[str, object]  # the settings of the run (profile, counts, overrides)
    results: list[PolicyResult] = field(default_factory=list)
    # policybench realtime: one entry per policy, rate and mode (see docs/results-schema.md)
    realtime: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        out = {
            "schema_version": SCHEMA_VERSION,
            "environment": self.environment,
            "run": self.run,
            "results": [r.to_json() for r in self.results],
        }
        if self.realtime:
            out["realtime"] = self.realtime
        return out

    @classmethod
    def from_json(cls, d: dict) -> "RunResults":
        version = d.get("schema_version")
        if version != SCHEMA_VERSION:
            raise UsageError(f"results file has schema_version {version!r}; this policybench reads {SCHEMA_VERSION}")
        return cls(
            d.get("environment", {}),
            d.get("run", {}),
            [PolicyResult.from_json(r) for r in d["results"]],
            _read_realtime(list(d.get("realtime", []))),
        )


def _read_realtime(entries: list[dict]) -> list[dict]:
    """The realtime section, checked as PolicyResult.from_json checks a result: what reports and
    plots read of it is known words and numbers in range."""
    for n, e in enumerate(entries):
        where = f"realtime[{n}] ({e.get('policy')}, {e.get('mode')})"
        if e.get("status", OK) not in STATUSES:
            raise UsageError(f"{where}: status is {e['status']!r}; known: {', '.join(STATUSES)}")
        _read_number(e["hz"], f"{where}: hz", 1e-9, 1e9, "must be a rate in Hz above 0")
        if e.get("threshold") is not None:
            _read_number(e["threshold"], f"{where}: threshold", 0, 1, "must be a number from 0 to 1")
        for key, value in (e.get("summary") or {}).items():
            if value is not None and not isinstance(value, bool):  # flags such as stall_open_at_end
                _read_number(value, f"{where}: summary.{key}", -DAY_S * 1000, DAY_S * 1000, "must be a finite number")
        for key in ("chunk_latencies_ms", "round_trips_ms", "in_process_chunks_ms"):
            for k, ms in enumerate(e.get(key) or []):
                _read_ms(ms, f"{where}: {key}[{k}]")
        for k, tick in enumerate(e.get("ticks") or []):
            _read_count(tick["k"], f"{where}: ticks[{k}].k")
            if tick["phase"] not in TICK_PHASES:
                raise UsageError(f"{where}: ticks[{k}].phase is {tick['phase']!r}; known: {', '.join(TICK_PHASES)}")
            for key in ("scheduled_ms", "start_ms", "end_ms"):
                _read_ms(tick[key], f"{where}: ticks[{k}].{key}")
    return entries


def check_writable(path: str, flag: str = "--json") -> None:
    """Fail early, before anything is measured, when an output file cannot be written."""
    p = Path(path)
    if p.is_symlink():
        raise UsageError(f"{flag} {path}: is a symbolic link; policybench does not write through links "
                         "(give the file's own path)")
    if p.is_dir():
        raise UsageError(f"{flag} {path}: is a folder, not a file")
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"{flag} {path}: {parent} is a file, not a folder")
    if not parent.is_dir():
        raise UsageError(f"{flag} {path}: folder {parent} does not exist")
    _probe(parent, f"{flag} {path}")


def check_folder(path: str, flag: str) -> None:
    """Fail early when an output folder cannot be made or written (it is made if missing)."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{flag} {path}: is a file, not a folder") from None
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create the folder ({exc.strerror})") from None
    _probe(p, f"{flag} {path}")


def _probe(folder: Path, what: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".policybench-check-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise UsageError(f"{what}: cannot write there ({exc.strerror})") from None


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

    def fill(f) -> None:
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
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON results file ({exc})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict) or "results" not in data:
        raise UsageError(f"{path}: not a policybench results file (no 'results')")
    try:
        return RunResults.from_json(data)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path}: malformed results file ({type(exc).__name__}: {exc})") from None
