"""What a run is: robot profiles (which observations a policy gets) and the run's settings."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, replace

from policybench.errors import UsageError


@dataclass(frozen=True)
class Camera:
    key: str  # full observation key, e.g. "observation.images.front"
    height: int
    width: int


@dataclass(frozen=True)
class Profile:
    """The robot a policy is benchmarked for: its cameras and state/action sizes."""

    name: str
    cameras: tuple[Camera, ...]
    state_dim: int
    action_dim: int
    env_state_dim: int = 0  # 0: no observation.environment_state
    task: str = "pick up the cube and place it in the bin"
    description: str = ""


def _cams(names: list[str], h: int, w: int) -> tuple[Camera, ...]:
    return tuple(Camera(f"observation.images.{n}", h, w) for n in names)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "seed",
            (Camera("observation.image", 224, 224),),
            state_dim=14,
            action_dim=14,
            env_state_dim=4,
            description="the replaced simple_benchmark.py's inputs",
        ),
        Profile("so100", _cams(["front", "wrist"], 480, 640), 6, 6, description="SO-100 arm, 2 cameras"),
        Profile(
            "aloha",
            _cams(["cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"], 480, 640),
            14,
            14,
            description="bimanual ALOHA, 4 cameras",
        ),
        Profile("pusht", (Camera("observation.image", 96, 96),), 2, 2, description="PushT simulation"),
    )
}
DEFAULT_PROFILE = "so100"
MAX_HZ = 10_000  # a period of 0.1 ms: a Python control loop's own overhead


def customize_profile(
    profile: Profile,
    cameras: int | None = None,
    image_size: tuple[int, int] | None = None,
    state_dim: int | None = None,
    action_dim: int | None = None,
) -> Profile:
    """Apply the command line's overrides to a profile."""
    from policybench.sizes import check_cameras, check_image_side, check_images

    cams = list(profile.cameras)
    if cameras is not None:
        check_cameras(cameras)
        h, w = (cams[0].height, cams[0].width) if cams else (480, 640)
        cams = cams[:cameras] + [
            Camera(f"observation.images.camera{i}", h, w) for i in range(len(cams), cameras)
        ]
    if image_size is not None:
        check_image_side(*image_size)
        cams = [replace(c, height=image_size[0], width=image_size[1]) for c in cams]
    check_images([(c.height, c.width) for c in cams])
    for name, value in (("--state-dim", state_dim), ("--action-dim", action_dim)):
        if value is not None and value <= 0:
            raise UsageError(f"{name} must be positive, got {value}")
    return replace(
        profile,
        cameras=tuple(cams),
        state_dim=state_dim if state_dim is not None else profile.state_dim,
        action_dim=action_dim if action_dim is not None else profile.action_dim,
    )


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise UsageError(f"unknown profile '{name}'; known profiles: {', '.join(PROFILES)}")
    return PROFILES[name]


def parse_image_size(text: str) -> tuple[int, int]:
    """'480x640' -> (480, 640): height then width."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise UsageError(f"--image-size must be HEIGHTxWIDTH with positive integers (e.g. 480x640), got '{text}'")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class Override:
    """One ``--set POLICY.FIELD=VALUE``: a field of a LeRobot policy config."""

    policy: str
    field: str
    value: object


def parse_override(text: str) -> Override:
    m = re.fullmatch(r"([A-Za-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_]*)=(.*)", text.strip())
    if not m:
        raise UsageError(f"--set must look like POLICY.FIELD=VALUE (e.g. diffusion.num_inference_steps=10), got '{text}'")
    return Override(m.group(1), m.group(2), _parse_value(m.group(3)))


def _parse_value(raw: str) -> object:
    """JSON where it parses (numbers, true/false/null, lists), otherwise the text itself."""
    lowered = {"none": None, "true": True, "false": False}
    if raw.strip().lower() in lowered:
        return lowered[raw.strip().lower()]
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass
class RunConfig:
    """Everything one ``policybench run`` needs. Counts are validated in ``validate``."""

    policies: list[str] = field(default_factory=lambda: ["act", "smolvla", "diffusion"])
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    profile: Profile = field(default_factory=lambda: PROFILES[DEFAULT_PROFILE])
    refills: int = 10  # measure at least this many full refill cycles
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
    trust_remote_code: bool = False  # --trust-remote-code: let LeRobot run a model's own Python files
    hz: float | None = None  # run --hz: the control rate the budgets after the table are for

    def validate(self) -> None:
        if self.hz is not None and not (0 < self.hz <= MAX_HZ and math.isfinite(self.hz)):
            raise UsageError(f"--hz must be a rate from above 0 to {MAX_HZ}, got {self.hz:g}")
        for name, value in (("--refills", self.refills), ("--max-seconds", self.max_seconds)):
            if not (value > 0 and math.isfinite(value)):
                raise UsageError(f"{name} must be positive, got {value}")
        if self.warmup < 0:
            raise UsageError(f"--warmup must be 0 or more, got {self.warmup}")
        if self.threads is not None and self.threads <= 0:
            raise UsageError(f"--threads must be positive, got {self.threads}")
        if not self.policies:
            raise UsageError("--policies is empty; name at least one policy")
        if len(set(self.policies)) != len(self.policies):
            raise UsageError(f"--policies names a policy twice: {','.join(self.policies)}")
        if self.baseline is not None and self.baseline not in self.policies:
            raise UsageError(f"--baseline '{self.baseline}' is not among --policies ({','.join(self.policies)})")
        if self.export_dir is not None:
            from policybench.variants import VARIANTS

            runtimes = [v.name for v in VARIANTS.values() if v.runtime]
            if not set(self.variants) & set(runtimes):
                raise UsageError(f"--export saves what a runtime variant exported: add one with --variant "
                                 f"(runtime variants: {', '.join(runtimes)})")
        for o in self.overrides:
            if o.policy not in self.policies:
                raise UsageError(f"--set {o.policy}.{o.field}: '{o.policy}' is not among --policies ({','.join(self.policies)}) "
                                 "nor the type of a --policy-path checkpoint")

    def to_json(self) -> dict[str, object]:
        """Everything a child process needs to measure a policy as this run does (see isolation.py)."""
        d = asdict(self)
        d["overrides"] = [asdict(o) for o in self.overrides]
        return d

    @classmethod
    def from_json(cls, d: dict) -> "RunConfig":
        profile = dict(d["profile"])
        profile["cameras"] = tuple(Camera(**c) for c in profile["cameras"])
        return cls(**{**d, "profile": Profile(**profile), "overrides": [Override(**o) for o in d["overrides"]]})

    def resolved_baseline(self) -> str | None:
        if self.baseline is not None:
            return self.baseline
        return "smolvla" if "smolvla" in self.policies else None

    def overrides_for(self, policy: str) -> dict[str, object]:
        return {o.field: o.value for o in self.overrides if o.policy == policy}
