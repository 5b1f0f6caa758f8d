"""What each command is asked to do: one frozen settings object per command (RunSettings,
SweepSettings, RealtimeSettings), each checked when it is made, its errors naming the field."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypedDict, cast

from policybench.errors import SettingsError, literal
from policybench.identity import Axis, Override, check_own_field, parse_override  # noqa: F401 - parse_override: --set's reader
from policybench.options import (  # the bounds and choices that the flags' help states
    AGGREGATES,
    DEFAULT_POLICIES,
    GUIDANCE_PAIRS,
    MAX_GUIDANCE_PAIRS,
    MAX_HZ,
    MAX_PROCESSES,
    MAX_THREADS,
    MIN_HZ,
    REALTIME_MODES,
)
from policybench.profiles import DEFAULT_PROFILE, PROFILES, Camera, Profile

AUTO = "auto"  # refills: measure until the refill median is known to --precision
# realtime: a live run keeps one sample per tick, so at most as many ticks per mode as a measured
# policy keeps samples (sizes.MAX_SAMPLES) and a simulation may have (control.simulate.MAX_TICKS).
MAX_LIVE_TICKS = 1_000_000


def _positive(name: str, value: float, spec: str = "") -> None:
    if not (value > 0 and math.isfinite(value)):
        raise SettingsError(f"{{{name}}} must be positive, got {literal(format(value, spec))}")


@dataclass(frozen=True)
class RunSettings:
    """Everything one ``policybench run`` needs, checked when it is made: it cannot exist with a
    count out of range or a setting naming a policy the run does not measure."""

    policies: list[str] = field(default_factory=lambda: list(DEFAULT_POLICIES))
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    profile: Profile = field(default_factory=lambda: PROFILES[DEFAULT_PROFILE])
    refills: int | str = 10  # measure at least this many full refill cycles; "auto": until ``precision``
    warmup: int = 2  # full refill cycles run and discarded before measuring
    max_seconds: float = 60.0  # bound on the measured phase of each policy
    threads: int | None = None  # torch intra-op threads; None keeps torch's default
    overrides: list[Override] = field(default_factory=list)
    baseline: str | None = None  # ratio columns divide by this policy; default smolvla when present
    json_path: str | None = None
    seed: int = 0
    pipeline: bool = False  # time LeRobot's whole deployment pipeline, stage by stage
    variants: list[str] = field(default_factory=lambda: ["eager"])  # acceleration variants, eager first
    export_dir: str | None = None  # --export: where runtime variants save their model and manifest
    calibration: str | None = None  # --calibration: recorded observations the -static int8 variants calibrate on
    tolerance: float | None = None  # --tolerance: relative error a variant's actions may have; None: each variant's own
    auto_variant: bool = False  # --variant auto: every variant, then the fastest within the tolerance named
    trust_remote_code: bool = False  # --trust-remote-code: let LeRobot run a model's own Python files
    hz: float | None = None  # run --hz: the control rate the budgets after the table are for
    hub: bool = False  # --hub: the Hugging Face hub may be reached (SmolVLA's real VLM config)
    processes: int = 1  # --processes: each policy measured in this many fresh child processes in turn
    precision: float = 0.02  # refills "auto": the refill median's 95 % interval within +- this share of it
    breakdown: bool = False  # --breakdown: after the timed refills, refills split into the family's components
    ray: str | None = None  # --ray: the Ray cluster's address ("auto": the one `ray start` started here); None: here
    on: list[str] = field(default_factory=list)  # --on: the cluster nodes each measuring every policy ("all")

    def __post_init__(self) -> None:
        if self.on and self.ray is None:
            raise SettingsError("{on} names the cluster nodes to measure on: give {ray} too")
        if self.hz is not None and not (0 < self.hz <= MAX_HZ and math.isfinite(self.hz)):
            raise SettingsError(f"{{hz}} must be a rate from above 0 to {MAX_HZ}, got {self.hz:g}")
        if isinstance(self.refills, str):
            if self.refills != AUTO:
                raise SettingsError(f"{{refills}} must be a positive count or '{AUTO}', got '{literal(self.refills)}'")
        else:
            _positive("refills", self.refills)
        _positive("max_seconds", self.max_seconds)
        if isinstance(self.processes, bool) or not isinstance(self.processes, int) or self.processes <= 0:
            raise SettingsError(f"{{processes}} must be a positive count, got {literal(self.processes)}")
        if self.processes > MAX_PROCESSES:
            raise SettingsError(f"{{processes}} must be at most {MAX_PROCESSES}, got {self.processes}")
        if not (0 < self.precision < 1):
            raise SettingsError(
                f"{{precision}} must be a share from above 0 to below 1 (0.02 is 2 %), "
                f"got {literal(format(self.precision, 'g'))}"
            )
        if self.warmup < 0:
            raise SettingsError(f"{{warmup}} must be 0 or more, got {self.warmup}")
        if self.threads is not None and self.threads <= 0:
            raise SettingsError(f"{{threads}} must be positive, got {self.threads}")
        if self.threads is not None and self.threads > MAX_THREADS:
            raise SettingsError(f"{{threads}} must be at most {MAX_THREADS}, got {self.threads}")
        self._check_policies()
        if self.tolerance is not None:
            _positive("tolerance", self.tolerance, "g")
            if self.variants == ["eager"]:
                raise SettingsError(
                    "{tolerance} judges variants' actions against fp32 eager's: add variants with {variants}"
                )
        if self.export_dir is not None:
            from policybench.variants.table import VARIANTS

            runtimes = [v.name for v in VARIANTS.values() if v.runtime]
            if not set(self.variants) & set(runtimes):
                raise SettingsError(
                    "{export_dir} saves what a runtime variant exported: add one with {variants} "
                    f"(runtime variants: {', '.join(runtimes)})"
                )

        if self.calibration is not None:
            self._check_calibration(self.calibration)

    def _check_calibration(self, path: str) -> None:
        """A file, and a variant that calibrates on it."""
        from policybench.variants.table import VARIANTS

        calibrated = [v.name for v in VARIANTS.values() if v.calibrated]
        if not set(self.variants) & set(calibrated):
            raise SettingsError(
                "{calibration} is what the statically quantized variants calibrate on: add one with {variants} "
                f"({', '.join(calibrated)})"
            )
        if not os.path.isfile(path):
            raise SettingsError(f"{{calibration}} {literal(path)}: no such file")

    def _check_policies(self) -> None:
        """At least one policy, none twice; the baseline and every override name one of them."""
        listed = literal(",".join(self.policies))
        if not self.policies:
            raise SettingsError("{policies} is empty; name at least one policy")
        if len(set(self.policies)) != len(self.policies):
            raise SettingsError(f"{{policies}} names a policy twice: {listed}")
        if self.baseline is not None and self.baseline not in self.policies:
            raise SettingsError(f"{{baseline}} '{literal(self.baseline)}' is not among {{policies}} ({listed})")
        for o in self.overrides:
            check_own_field(o.policy, o.field)
            if o.policy not in self.policies:
                raise SettingsError(
                    f"{{overrides}} {literal(o.policy)}.{literal(o.field)}: '{literal(o.policy)}' is not "
                    f"among {{policies}} ({listed}) nor the type of a {{policy_paths}} checkpoint"
                )

    def to_json(self) -> dict[str, object]:
        """Everything a child process needs to measure a policy as this run does (measure/jobs.py)."""
        d = asdict(self)
        d["overrides"] = [asdict(o) for o in self.overrides]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunSettings:
        """The settings ``to_json`` wrote (JSON values: Any, as json.loads gives them)."""
        profile = dict(d["profile"])
        profile["cameras"] = tuple(Camera(**c) for c in profile["cameras"])
        return cls(**{**d, "profile": Profile(**profile), "overrides": [Override(**o) for o in d["overrides"]]})

    def record(self) -> dict[str, object]:
        """The settings as the results file records them (``run``)."""
        return {
            "profile": asdict(self.profile),
            "policies": list(self.policies),
            "refills": self.refills,
            **({"precision": self.precision} if self.auto_refills else {}),
            "processes": self.processes,
            "warmup": self.warmup,
            "max_seconds": self.max_seconds,
            "threads": self.threads,
            "overrides": [f"{o.policy}.{o.field}={o.value!r}" for o in self.overrides],
            "baseline": self.resolved_baseline(),
            "seed": self.seed,
            "pipeline": self.pipeline,
            "variants": list(self.variants),
            **({"breakdown": True} if self.breakdown else {}),
            "export_dir": self.export_dir,
            **({"calibration": self.calibration} if self.calibration is not None else {}),
            **({"tolerance": self.tolerance} if self.tolerance is not None else {}),
            **({"auto_variant": True} if self.auto_variant else {}),
            **({"hz": self.hz} if self.hz is not None else {}),
        }

    @property
    def auto_refills(self) -> bool:
        return self.refills == AUTO

    def resolved_baseline(self) -> str | None:
        if self.baseline is not None:
            return self.baseline
        return "smolvla" if "smolvla" in self.policies else None

    def overrides_for(self, policy: str) -> dict[str, object]:
        return {o.field: o.value for o in self.overrides if o.policy == policy}


class RunFields(TypedDict, total=False):
    """The keywords of ``policybench.run`` that are RunSettings fields as they are."""

    device: str
    refills: int | str
    warmup: int
    max_seconds: float
    processes: int
    precision: float
    pipeline: bool
    threads: int | None
    hub: bool
    baseline: str | None
    json_path: str | None
    export_dir: str | None
    calibration: str | None
    tolerance: float | None
    seed: int
    trust_remote_code: bool
    hz: float | None
    breakdown: bool
    ray: str | None
    on: list[str]


class RunKeywords(RunFields, total=False):
    """Every keyword of ``policybench.run`` that makes its settings (``api.build_config``'s): the
    fields, and the robot, overrides, variants and checkpoints given as a user spells them."""

    profile: str
    cameras: int | None
    image_size: tuple[int, int] | str | None
    state_dim: int | None
    action_dim: int | None
    overrides: Mapping[str, object] | Sequence[Override] | None
    variants: Sequence[str] | str
    policy_paths: Sequence[str]


def plain_settings(asked: RunKeywords) -> RunFields:
    """The keywords of ``asked`` that are RunSettings fields as they are."""
    kept = {k: v for k, v in asked.items() if k in RunFields.__optional_keys__}
    return cast(RunFields, kept)  # the keys just checked against RunFields: a TypedDict narrowing mypy cannot see


@dataclass(frozen=True)
class RealtimeSettings:
    """One ``policybench realtime``: the rates and loops asked for, checked when made. ``run``
    holds the policies and their inputs of a live run; None replays a results file, where ``hz``
    and ``thresholds`` may be lists."""

    hz: tuple[float, ...] = (30.0,)
    thresholds: tuple[float, ...] = (0.5,)  # async: a new chunk when the queue holds at most this share
    seconds: float | None = None  # length of each paced run; 10 s unless ``ticks`` is given
    ticks: int | None = None
    mode: str = "both"  # sync | async | both
    aggregate: str = "weighted_average"  # how overlapping actions of two chunks merge (LeRobot's names)
    remote: bool = False  # also round trips through LeRobot's PolicyServer
    remote_calls: int = 10
    port: int | None = None  # the PolicyServer on 127.0.0.1:port instead of a private Unix socket
    # rtc: LeRobot's RTCConfig.execution_horizon and max_guidance_weight, and its engine's queue
    # threshold (a new chunk once the queue holds this many actions or fewer); LeRobot's defaults
    execution_horizon: int = 10
    queue_threshold: int = 30
    max_guidance_weight: float = 10.0
    guidance_pairs: int = GUIDANCE_PAIRS  # rtc: plain and guided chunks timed in turn after the loop; 0: none
    run: RunSettings | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hz", tuple(self.hz))
        object.__setattr__(self, "thresholds", tuple(self.thresholds))
        for hz in self.hz:
            _positive("hz", hz, "g")
            if hz > MAX_HZ:
                raise SettingsError(f"{{hz}} must be at most {MAX_HZ} (a period of 0.1 ms), got {hz:g}")
            if hz < MIN_HZ:
                raise SettingsError(f"{{hz}} must be at least {MIN_HZ:g} (a period of {1 / MIN_HZ:g} s), got {hz:g}")
        for g in self.thresholds:
            if not 0 <= g <= 1:
                raise SettingsError(f"{{thresholds}} must be between 0 and 1, got {g:g}")
        if self.seconds is not None:
            _positive("seconds", self.seconds, "g")
        if self.ticks is not None and self.ticks < 2:
            raise SettingsError(f"{{ticks}} must be 2 or more, got {self.ticks}")
        self._check_choices()

    def _check_choices(self) -> None:
        """The named choices, the server's settings, and one rate for a live run."""
        if not self.hz or not self.thresholds:
            raise SettingsError(f"{{{'hz' if not self.hz else 'thresholds'}}} is empty")
        if self.mode not in REALTIME_MODES:
            raise SettingsError(f"{{mode}} must be one of {', '.join(REALTIME_MODES)}, got '{literal(self.mode)}'")
        if self.aggregate not in AGGREGATES:
            raise SettingsError(
                f"{{aggregate}} must be one of {', '.join(AGGREGATES)}, got '{literal(self.aggregate)}'"
            )
        if self.remote_calls <= 0:
            raise SettingsError(f"{{remote_calls}} must be positive, got {self.remote_calls}")
        if self.execution_horizon < 1:
            raise SettingsError(f"{{execution_horizon}} must be 1 or more, got {self.execution_horizon}")
        if self.queue_threshold < 0:
            raise SettingsError(f"{{queue_threshold}} must be 0 or more, got {self.queue_threshold}")
        _positive("max_guidance_weight", self.max_guidance_weight, "g")
        if (
            isinstance(self.guidance_pairs, bool)
            or not isinstance(self.guidance_pairs, int)
            or not 0 <= self.guidance_pairs <= MAX_GUIDANCE_PAIRS
        ):
            raise SettingsError(
                f"{{guidance_pairs}} must be a count from 0 (none) to {MAX_GUIDANCE_PAIRS}, "
                f"got {literal(self.guidance_pairs)}"
            )
        if self.port is not None and not 0 < self.port < 65536:
            raise SettingsError(f"{{port}} must be between 1 and 65535, got {self.port}")
        if self.run is not None and (len(self.hz) != 1 or len(self.thresholds) != 1):
            raise SettingsError("a live run takes one {hz} and one {thresholds}; lists are for {simulate}")
        if self.run is not None:
            self._check_live_length()

    def _check_live_length(self) -> None:
        """At most MAX_LIVE_TICKS ticks per mode (counted as a float: 1e308 s at 10 kHz is no integer)."""
        if self.ticks is not None:
            if self.ticks > MAX_LIVE_TICKS:
                raise SettingsError(f"{{ticks}} must be at most {MAX_LIVE_TICKS:,} for a live run, got {self.ticks:,}")
            return
        ticks = self.length_s * self.hz[0]
        if ticks > MAX_LIVE_TICKS:
            raise SettingsError(
                f"a live run has at most {MAX_LIVE_TICKS:,} ticks per mode; {{seconds}} "
                f"{self.length_s:g} at {{hz}} {self.hz[0]:g} is {ticks:,.0f}: lower either"
            )

    def to_json(self) -> dict[str, object]:
        """Everything a child process needs to run these loops (measure/jobs.py)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "run"}
        return {
            **d,
            "hz": list(self.hz),
            "thresholds": list(self.thresholds),
            "run": self.run.to_json() if self.run is not None else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RealtimeSettings:
        """The settings ``to_json`` wrote."""
        run = RunSettings.from_json(d["run"]) if d.get("run") is not None else None
        return cls(**{**d, "hz": tuple(d["hz"]), "thresholds": tuple(d["thresholds"]), "run": run})

    @property
    def modes(self) -> tuple[str, ...]:
        return REALTIME_MODES[self.mode]

    @property
    def length_s(self) -> float:
        return self.seconds if self.seconds is not None else 10.0

    def ticks_at(self, hz: float) -> int:
        """The paced run's length in ticks at ``hz``."""
        return self.ticks if self.ticks is not None else max(2, int(round(self.length_s * hz)))


@dataclass(frozen=True)
class SweepSettings:
    """One ``policybench sweep``: the base run, its one or two axes (sweep.Axis), and the control
    rate whose largest holding setting is asked for."""

    run: RunSettings
    axes: tuple[Axis, ...] = ()
    hz: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "axes", tuple(self.axes))
        if self.hz is not None and not (self.hz > 0 and math.isfinite(self.hz)):
            raise SettingsError(f"{{hz}} must be a positive rate, got {self.hz}")
