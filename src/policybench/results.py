"""Result records and the results file (JSON, ``schema_version`` 1; documented in docs/results-schema.md).

Summaries are always computed from the raw samples; the file stores both so that other tools
can read it without policybench, but on reading, policybench recomputes them from the samples.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from policybench.errors import UsageError
from policybench.samples import PHASES, Sample, latencies, stage_latencies, stage_names
from policybench.stats import summarize

SCHEMA_VERSION = 1
OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"  # a --variant that cannot run here; error holds the reason


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
            "samples": [_sample_json(s) for s in self.samples],
        }

    @classmethod
    def from_json(cls, d: dict) -> "PolicyResult":
        return cls(
            policy=d["policy"],
            status=d["status"],
            error=d.get("error"),
            config=d.get("config") or {},
            params=d.get("params"),
            samples=[
                Sample(int(s["i"]), s["phase"], float(s["latency_ms"]), s.get("stages_ms")) for s in d.get("samples", [])
            ],
            cold_start_ms=d.get("cold_start_ms"),
            build_seconds=d.get("build_seconds"),
            complete=d.get("complete"),
            memory=d.get("memory") or {},
            source=d.get("source"),
            variant=d.get("variant"),
            first_chunk_seconds=d.get("first_chunk_seconds"),
            equivalence=d.get("equivalence") or {},
            roofline=d.get("roofline") or {},
        )


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
            list(d.get("realtime", [])),
        )


def check_writable(path: str, flag: str = "--json") -> None:
    """Fail early, before anything is measured, when an output file cannot be written."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag} {path}: is a folder, not a file")
    parent = p.parent if str(p.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"{flag} {path}: {parent} is a file, not a folder")
    if not parent.is_dir():
        raise UsageError(f"{flag} {path}: folder {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".policybench-check-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write there ({exc.strerror})") from None


def write_results(results: RunResults, path: str) -> None:
    """Write atomically (temporary file, then rename): a crash never leaves half a file."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=f".{p.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(results.to_json(), f, indent=1)
        f.write("\n")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    os.replace(tmp, p)


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
