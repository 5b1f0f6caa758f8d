"""The library's public face: what the CLI does, callable from a notebook or a script.

    import policybench
    results = policybench.run(["act"], device="cpu", refills=3, overrides={"act.n_action_steps": 50})
    results["act"].refill.median_ms

``run`` measures, ``sweep`` measures along axes of settings, ``realtime`` runs policies at a
control rate, ``load`` reads a results file, ``compare`` tells whether a run regressed,
``simulate_realtime`` gives the control-rate verdict from measured samples. The CLI calls these
same functions, and each run goes through one RunContext (orchestrate/context.py): nothing here changes
process-wide state that it does not restore. Bad arguments raise ``ValueError`` with one line
naming the keyword.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from policybench.errors import SettingsError, UsageError, literal
from policybench.identity import Identity
from policybench.results import OK, PolicyResult, RealtimeResult, RunResults

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from policybench.profiles import Profile
    from policybench.settings import RealtimeSettings, RunKeywords, RunSettings, SweepSettings
    from policybench.orchestrate.context import RunContext
    from policybench.orchestrate.launch import Given
    from policybench.control.budget import HighestRate
    from policybench.report.fleet import Fleet
    from policybench.scaling.axes import Axis


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Phase:
    """Statistics of one phase's latencies (milliseconds): step, refill or all calls."""

    count: int
    mean_ms: float | None
    median_ms: float | None
    min_ms: float | None
    max_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    std_ms: float | None
    median_ci_ms: list[float] | None = None  # [low, high]: the median's 95% interval (stats.median_interval)

    def __repr__(self) -> str:
        if not self.count:
            return "Phase(no samples)"
        return f"Phase(median {self.median_ms:.4g} ms, p99 {self.p99_ms:.4g} ms, n={self.count})"


@dataclass(frozen=True)
class Measurement:
    """One policy (and variant) as measured: ``step``, ``refill`` and ``all`` statistics, the raw
    ``samples``, and everything else of the results file in ``raw``."""

    raw: PolicyResult

    @property
    def name(self) -> str:
        """ "act", "act+bf16", "act[cameras=2]": the policy, its variant and its sweep point."""
        return self.raw.name

    @property
    def policy(self) -> str:
        return self.raw.policy

    @property
    def variant(self) -> str | None:
        return self.raw.variant

    @property
    def point(self) -> dict[str, str]:
        """The sweep point, {axis: value as shown}; {} outside a sweep."""
        return dict(self.raw.point)

    @property
    def ok(self) -> bool:
        return self.raw.status == OK

    @property
    def error(self) -> str | None:
        return self.raw.error

    def _phase(self, key: str) -> Phase:
        s = self.raw.summary()[key]
        return Phase(int(s["count"] or 0), *(s[f.name] for f in fields(Phase)[1:]))

    @property
    def step(self) -> Phase:
        return self._phase("step")

    @property
    def refill(self) -> Phase:
        return self._phase("refill")

    @property
    def all(self) -> Phase:
        return self._phase("all")

    @property
    def samples(self):
        return list(self.raw.samples)

    @property
    def params(self) -> int | None:
        return self.raw.params

    @property
    def cold_start_ms(self) -> float | None:
        return self.raw.cold_start_ms

    def __repr__(self) -> str:
        if not self.ok:
            first = (self.raw.error or "").splitlines()[0] if self.raw.error else ""
            return f"<Measurement {self.name}: {self.raw.status}{': ' + first if first else ''}>"
        s, r = self.step, self.refill
        step = f"step median {s.median_ms:.4g} ms" if s.count else "no steps"
        return f"<Measurement {self.name}: {step}, refill median {r.median_ms:.4g} ms ({r.count} refills)>"


class Results:
    """A run's measurements by their identity: ``results["act"]`` (the policy's plain or eager
    result), ``results["act", "bf16"]`` (a variant), ``results.where(cameras=2)`` (the sweep
    points with that value, as Results); the machine it ran on (``environment``), and the
    results file's content (``raw``)."""

    def __init__(self, raw: RunResults):
        self.raw = raw

    @property
    def environment(self) -> dict[str, object]:
        return dict(self.raw.environment)

    def names(self) -> list[str]:
        return [r.name for r in self.raw.results]

    def __getitem__(self, key: str | tuple[str, str]) -> Measurement:
        """A result by its policy (and variant), each named as given or as the tables print it:
        ``"act"`` or ``"ACT"``, a checkpoint by its whole path or by its last two parts
        (``"nu/my_act_checkpoint"``), a variant as ``("act", "bf16")`` or as printed, ``"ACT+bf16"``."""
        policy, variant = key if isinstance(key, tuple) else (key, None)
        found = [r for r in self.raw.results if _names(r.policy, policy) and _same_variant(r.identity, variant)]
        if not found and not isinstance(key, tuple):  # a variant or sweep point by its whole name
            found = [r for r in self.raw.results if key in (r.name, _shown(r))]
        if len(found) == 1:
            return Measurement(found[0])
        wanted = policy if variant is None else f"{policy}, {variant}"
        policies = list(dict.fromkeys(r.policy for r in found))
        if len(policies) > 1:
            raise KeyError(f"'{wanted}' names {len(policies)} policies: {', '.join(policies)}; give the whole path")
        if found:
            raise KeyError(f"'{wanted}' was measured at {len(found)} sweep points; pick one with .where(...) first")
        raise KeyError(f"no policy '{wanted}' in these results; they have {', '.join(self.shown()) or 'none'}")

    def shown(self) -> list[str]:
        """Each result's name as the tables print it ("ACT", "nu/my_act_checkpoint", "ACT+bf16"):
        each one a key of these results."""
        return [_shown(r) for r in self.raw.results]

    def where(self, **point: object) -> "Results":
        """The results at the sweep points with these values: ``cameras=2``, ``image_size=(480, 640)``
        (or "480x640"), a ``--set`` axis by its field's name (``num_inference_steps=10``)."""
        import dataclasses

        from policybench.scaling.axes import Axis

        shown = {axis: value if isinstance(value, str) else Axis(axis, ()).show(value) for axis, value in point.items()}
        kept = [r for r in self.raw.results if all(_point_value(r.point, a) == v for a, v in shown.items())]
        return Results(dataclasses.replace(self.raw, results=kept))

    def __iter__(self):
        return (Measurement(r) for r in self.raw.results)

    def __len__(self) -> int:
        return len(self.raw.results)

    def table(self, baseline: str | None = None) -> str:
        """The comparison table the CLI prints."""
        from policybench.report.table import render_table

        return render_table(self.raw, baseline)

    def save(self, path: str) -> None:
        from policybench.results import write_results

        write_results(self.raw, path)

    def __repr__(self) -> str:
        env = self.raw.environment
        lines = [f"<Results on {env.get('device')} ({env.get('device_name')}), {len(self)} measured:"]
        lines += [f"  {m!r}" for m in self]
        return "\n".join(lines) + ">"


def _same_variant(measured: Identity, asked: str | None) -> bool:
    """The variant asked (none, or "eager": the plain result; Identity.plain), at any point."""
    return measured == Identity(measured.policy, asked, measured.point)


def _names(policy: str, asked: str) -> bool:
    """``asked`` names ``policy``: as it is given, or as the tables print it (its label)."""
    from policybench.policies.labels import label

    return asked in (policy, label(policy))


def _shown(r: PolicyResult) -> str:
    """A result's name as the tables print it: its policy's label, then its variant and point."""
    from policybench.identity import name_suffix
    from policybench.policies.labels import label

    return label(r.policy) + name_suffix(r.variant, r.point)


def _point_value(point: dict[str, str], axis: str) -> str | None:
    """The point's value on ``axis``, or on the ``--set`` axis whose field is named ``axis``."""
    if axis in point:
        return point[axis]
    return next((v for name, v in point.items() if name.rsplit(".", 1)[-1] == axis), None)


# ----------------------------------------------------------------------------- run


def _overrides(overrides):
    """{"diffusion.num_inference_steps": 10} or {"diffusion": {"num_inference_steps": 10}}, or
    a list of Override (the CLI's parsed ``--set``)."""
    from policybench.settings import Override

    if isinstance(overrides, (list, tuple)):
        return list(overrides)
    out = []
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping):
            out += [Override(key, f, v) for f, v in value.items()]
        else:
            policy, dot, name = key.partition(".")
            if not dot or not policy or not name:
                raise UsageError(f"override '{key}' must be POLICY.FIELD (e.g. diffusion.num_inference_steps)")
            out.append(Override(policy, name, value))
    return out


def build_config(
    policies: Sequence[str] | str | None = None, *, objects: Sequence[str] = (), **asked: Unpack[RunKeywords]
) -> RunSettings:
    """A validated RunSettings from ``run``'s keywords (as ``run`` documents them; UsageError for a
    bad one). ``objects`` are the names of policies given as objects: they run first and are not
    looked up. A keyword not given keeps RunSettings' default."""
    from policybench.options import DEFAULT_POLICIES
    from policybench.policies.hub import hub_overrides
    from policybench.settings import RunSettings, plain_settings
    from policybench.variants.table import AUTO, parse_variants

    if isinstance(policies, str):
        policies = [p.strip() for p in policies.split(",") if p.strip()]
    paths = [as_path(p) for p in asked.get("policy_paths", ())]
    default = [] if paths or objects else list(DEFAULT_POLICIES)
    names = [*objects, *(policies if policies is not None else default), *paths]  # checked by the run's plan
    profile = _profile(asked)
    ov = _to_checkpoints(_overrides(asked.get("overrides")), names, paths)
    if asked.get("hub"):
        ov[:0] = hub_overrides(names)
    variants = asked.get("variants", "eager")
    text = variants if isinstance(variants, str) else ",".join(variants)
    return RunSettings(
        policies=names,
        profile=profile,
        overrides=ov,
        **plain_settings(asked),
        variants=parse_variants(text),
        auto_variant=text.strip() == AUTO,
    )


def _profile(asked: RunKeywords) -> Profile:
    """The robot ``asked`` names: its profile, with its cameras, image size and sizes changed."""
    from policybench.profiles import DEFAULT_PROFILE, customize_profile, get_profile, parse_image_size

    size = asked.get("image_size")
    return customize_profile(
        get_profile(asked.get("profile", DEFAULT_PROFILE)),
        cameras=asked.get("cameras"),
        image_size=parse_image_size(size) if isinstance(size, str) else size,
        state_dim=asked.get("state_dim"),
        action_dim=asked.get("action_dim"),
    )


def _to_checkpoints(overrides: list, names: list[str], paths: list[str]) -> list:
    """``--set TYPE.FIELD=V`` for a type that is not among the named policies reaches every
    --policy-path checkpoint of that type (``--set smolvla.num_steps=5`` tunes your SmolVLA)."""
    from policybench.settings import Override

    types = checkpoint_types(paths)
    out = []
    for o in overrides:
        targets = [p for p, t in types.items() if t == o.policy] if o.policy not in names else []
        out += [Override(p, o.field, o.value) for p in targets] or [o]
    return out


def checkpoint_types(paths: Sequence[str]) -> dict[str, str | None]:
    """Each --policy-path as the run names it (``as_path``) and the policy type its config.json
    names (None where it cannot be read here: a hub id)."""
    from policybench.checkpoint_guard import CheckpointRefused, check_local_checkpoint, checkpoint_type

    for p in paths:
        try:
            check_local_checkpoint(p)  # its files and declared sizes, before anything reads or builds it
        except CheckpointRefused as exc:
            raise SettingsError(f"{{policy_paths}} {literal(p)}: refused: {literal(exc)}") from None
    return {as_path(p): checkpoint_type(p) for p in paths}


def as_path(target: str) -> str:
    """A --policy-path value that cannot be read as a built-in name: "act" (a folder named act)
    becomes "./act"; a hub id (owner/name) and paths with a separator stay as they are."""
    if "/" in target or os.sep in target:
        return target
    return os.path.join(".", target)


def run(
    policies: Sequence[str | object] | str | object | None = None,
    *,
    device: str = "auto",
    threads: int | None = None,
    # the robot
    profile: str = "so100",
    cameras: int | None = None,
    image_size: tuple[int, int] | str | None = None,
    state_dim: int | None = None,
    action_dim: int | None = None,
    # how long and how often
    refills: int | str = 10,
    warmup: int = 2,
    max_seconds: float = 60.0,
    processes: int = 1,
    precision: float = 0.02,
    # what is measured
    overrides: Mapping[str, object] | None = None,
    variants: Sequence[str] | str = ("eager",),
    pipeline: bool = False,
    tolerance: float | None = None,
    breakdown: bool = False,
    policy_paths: Sequence[str] = (),
    hub: bool = False,
    trust_remote_code: bool = False,
    seed: int = 0,
    inputs: object = None,
    isolate: bool | None = None,
    ray: str | None = None,
    on: Sequence[str] = (),
    # what is written and said
    baseline: str | None = None,
    json_path: str | None = None,
    export_dir: str | None = None,
    calibration: str | None = None,
    hz: float | None = None,
    log: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Results:
    """Measure policies the way a control loop calls them.

    ``policies`` are names from ``policybench list`` or already built objects: a LeRobot policy
    (its config gives the inputs), or any ``torch.nn.Module`` with ``inputs`` (a tensor, a tuple
    of tensors or a dict of keyword tensors) for its forward, every call of which is a refill;
    ``policy_paths`` adds checkpoint folders (or hub ids with ``hub``). ``device="auto"`` takes
    cuda, then mps, then cpu. The robot: ``profile`` (so100, aloha, pusht, seed) and its
    ``cameras``, ``image_size`` ("480x640" or (480, 640)), ``state_dim``, ``action_dim``. Each policy
    runs ``warmup`` refill cycles, then at least ``refills`` measured ones within ``max_seconds``;
    ``refills="auto"`` measures until the refill median's 95 % interval is within +- ``precision``
    (a share: 0.02 is 2 %) of it, at least 6 refills. ``processes`` measures each policy in that many
    fresh child processes one after the other, every process's samples kept (not with ``isolate=False``).
    ``overrides`` sets LeRobot config fields ({"diffusion.num_inference_steps": 10});
    ``variants`` adds acceleration variants (bf16, compile, onnxruntime, ...) beside eager, whose
    exported models go to ``export_dir`` and whose actions may be ``tolerance`` (a relative error:
    max |Δ| / max |eager's action|) off fp32 eager's (None: each variant's own, 1e-4 for fp32 and
    2e-2 for bf16/fp16/int8); ``calibration``: a file of recorded observations (a torch.save'd
    list of dicts as select_action takes them) the -static int8 variants calibrate on (None:
    synthetic ones); ``pipeline`` times LeRobot's whole deployment step;
    ``breakdown`` splits refills of their own, after the timed ones, into the family's components.
    ``threads`` sets torch's threads for the run; ``hub`` allows downloads; ``trust_remote_code``
    lets LeRobot run a model's own Python files (only for sources you trust); ``json_path`` is
    rewritten after every policy; ``baseline`` divides the ratio columns; ``hz`` is the control
    rate the CLI's budgets are for, kept in the results file. ``isolate``: each named
    policy in a process of its own (the default; objects run here). ``ray``: each policy a task on a
    node of the Ray cluster at that address ("auto": the one started here), on each of the nodes
    ``on`` names ("all": every one) if given (orchestrate/cluster.py). ``log``, ``warn`` and
    ``progress(policy, done, target)`` hear how it goes. A bad argument is a ValueError naming it."""
    names, built = _named_and_built(policies)
    try:
        cfg = build_config(
            names,
            device=device,
            profile=profile,
            cameras=cameras,
            image_size=image_size,
            state_dim=state_dim,
            action_dim=action_dim,
            refills=refills,
            warmup=warmup,
            max_seconds=max_seconds,
            processes=processes,
            precision=precision,
            overrides=overrides,
            variants=variants,
            pipeline=pipeline,
            tolerance=tolerance,
            policy_paths=policy_paths,
            threads=threads,
            hub=hub,
            baseline=baseline,
            json_path=json_path,
            export_dir=export_dir,
            calibration=calibration,
            seed=seed,
            objects=list(built),
            trust_remote_code=trust_remote_code,
            hz=hz,
            breakdown=breakdown,
            ray=ray,
            on=list(on),
        )
        raw = measure(cfg, log=log, warn=warn, progress=progress, isolate=isolate, objects=built, inputs=inputs)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    return Results(raw)


def run_context(
    cfg: RunSettings,
    *,
    isolate: bool = True,
    folders: dict[str, str] | None = None,
    skip: Sequence[str] = (),
    given: Given | None = None,
    log=None,
) -> RunContext:
    """The run context of ``cfg``: its output file and folders checked, hub access and remote code
    set, and its plan (device, environment, names and ``--set`` values checked) made in a child
    (or here, not isolated)."""
    from policybench.orchestrate.context import RunContext

    return RunContext(
        cfg,
        outputs=(cfg.json_path,) if cfg.json_path else (),
        folders=folders,
        isolate=isolate,
        skip=tuple(skip),
        given=given,
        log=log,
    )


def _entered(context: RunContext | None, cfg: RunSettings, **kwargs):
    """``context`` when the caller entered one already, else a new one for ``cfg``."""
    return contextlib.nullcontext(context) if context is not None else run_context(cfg, **kwargs)


def measure(
    cfg: RunSettings,
    *,
    log=None,
    warn=None,
    progress=None,
    isolate: bool | None = None,
    objects: dict | None = None,
    inputs=None,
) -> RunResults:
    """What ``run`` and the CLI share: settings in, the results out (UsageError for a bad device,
    output path or ``--set`` value). With ``cfg.ray`` each policy is a task on the cluster
    (``measure_on_ray``). Else they are measured here, inside their run context (output file,
    folders and plan): named policies in a child process each unless ``isolate`` is False,
    objects always in this process. ``log`` hears the run's first line (device, profile,
    policies) and each step, ``warn`` warnings and what became of the results file."""
    from policybench.orchestrate.launch import Given
    from policybench.orchestrate.run import run_benchmark

    if cfg.ray is not None:
        if objects:
            raise SettingsError("policies given as objects are measured in this process: drop {ray}")
        return measure_on_ray(cfg, log=log, isolate=isolate is not False)
    objects = objects or {}
    say = log or (lambda line: None)
    folders = {cfg.export_dir: "export_dir"} if cfg.export_dir else None
    given = Given(dict(objects), inputs) if objects else None
    isolate_named = (isolate if isolate is not None else True) and not objects
    with run_context(cfg, isolate=isolate_named, folders=folders, skip=list(objects), given=given) as ctx:
        say(f"policybench: device {ctx.device}, profile {cfg.profile.name}, policies {','.join(cfg.policies)}")
        return run_benchmark(
            cfg,
            ctx.device,
            log=say,
            warn=warn,
            progress=progress,
            isolate=ctx.isolate,
            environment=ctx.environment,
            given=given,
        )


def measure_on_ray(cfg: RunSettings, *, log=None, isolate: bool = True) -> RunResults:
    """``run --ray``: each policy of ``cfg`` a task on a node of the Ray cluster at ``cfg.ray``
    (each ``--on`` node), measured there by ``measure``; nothing is set up here but the check
    of its names and ``--set`` values."""
    from policybench.orchestrate.cluster import measure_on_cluster

    check_settings([cfg])
    say = log or (lambda line: None)
    say(f"policybench: device {cfg.device} on each node, profile {cfg.profile.name}, policies {','.join(cfg.policies)}")
    return measure_on_cluster(cfg, measure, log=say, isolate=isolate)


def check_settings(cfgs: Sequence[RunSettings], fields: Sequence[tuple[str, str]] = ()) -> list[dict | None]:
    """Each settings' names and ``--set`` values checked against LeRobot's configs, in a child:
    one settings' error is raised; of several, each one's error (or None) is returned."""
    from policybench.orchestrate.launch import launcher

    quiet = lambda line: None  # noqa: E731
    answer = launcher(True)(
        "check", {"cfgs": [c.to_json() for c in cfgs], "fields": [list(f) for f in fields]}, log=quiet, warn=quiet
    )
    errors = answer["errors"]
    if len(cfgs) == 1 and errors[0] is not None:
        raise SettingsError(errors[0]["template"]) if errors[0].get("template") else UsageError(errors[0]["text"])
    return errors


def measure_sweep(
    settings: SweepSettings,
    *,
    log=None,
    warn=None,
    progress=None,
    isolate: bool = True,
    said: Callable[[UsageError], str] = str,
) -> RunResults:
    """``policybench sweep``: every point of the grid measured as ``measure`` does; the rate its
    verdict is for is recorded with the axes. ``said`` spells a failed point's error."""
    from policybench.orchestrate.sweep import run_sweep
    from policybench.scaling.axes import SETTING_AXES

    cfg = settings.run
    axis_fields = [
        (a.name.rsplit(".", 1)[0], a.name.rsplit(".", 1)[-1]) for a in settings.axes if a.name not in SETTING_AXES
    ]
    if cfg.ray is not None:  # each point a task on a node of the Ray cluster: nothing set up here
        from policybench.orchestrate.cluster import sweep_on_cluster

        check_settings([cfg], [f for f in axis_fields if f[0] in cfg.policies])
        return sweep_on_cluster(settings, measure, log=log, isolate=isolate)
    with run_context(cfg, isolate=isolate) as ctx:
        # the fixed --set values, and every axis's field, before anything is built
        check_settings([cfg], [f for f in axis_fields if f[0] in cfg.policies])
        return run_sweep(
            cfg,
            list(settings.axes),
            ctx.device,
            log or (lambda line: None),
            warn or log or (lambda line: None),
            progress,
            isolate=ctx.isolate,
            hz=settings.hz,
            said=said,
            environment=ctx.environment,
            check=check_settings,
        )


def sweep_settings(
    cfg: RunSettings, axes: Sequence[Axis], *, policy_paths: Sequence[str] = (), hz: float | None = None
) -> SweepSettings:
    """The settings of a sweep of ``cfg`` along ``axes``. A ``TYPE.FIELD`` axis of a type that is not
    among the named policies is the axis of the ``policy_paths`` checkpoint of that type; such a
    checkpoint's inputs are fixed by its config, so it sweeps no camera or image axis."""
    import dataclasses

    from policybench.settings import SweepSettings

    types = checkpoint_types(policy_paths)
    out = []
    for axis in axes:
        policy, dot, field = axis.name.rpartition(".")
        targets = [p for p, t in types.items() if dot and t == policy and policy not in cfg.policies]
        if len(targets) > 1:
            raise SettingsError(
                f"{{overrides}} {literal(axis.name)}=...: {len(targets)} checkpoints are of type "
                f"{literal(policy)}; sweep one at a time"
            )
        out.append(dataclasses.replace(axis, name=f"{targets[0]}.{field}") if targets else axis)
    if policy_paths and any(a.name in ("cameras", "image_size") for a in out):
        raise SettingsError(
            "a {policy_paths} checkpoint's inputs are fixed by its config: sweep it along {threads} "
            "or a {overrides} TYPE.FIELD axis, not {cameras} or {image_size}"
        )
    return SweepSettings(cfg, tuple(out), hz)


def sweep(
    policies: Sequence[str] | str | None = None,
    axes: Mapping[str, Sequence[object]] | None = None,
    *,
    hz: float | None = None,
    device: str = "auto",
    profile: str = "so100",
    state_dim: int | None = None,
    action_dim: int | None = None,
    refills: int | str = 3,
    warmup: int = 1,
    max_seconds: float = 60.0,
    processes: int = 1,
    precision: float = 0.02,
    overrides: Mapping[str, object] | None = None,
    variants: Sequence[str] | str = ("eager",),
    breakdown: bool = False,
    policy_paths: Sequence[str] = (),
    hub: bool = False,
    trust_remote_code: bool = False,
    json_path: str | None = None,
    ray: str | None = None,
    on: Sequence[str] = (),
    log: Callable[[str], None] | None = None,
) -> Results:
    """Measure policies at every point of one or two ``axes``: {"cameras": [1, 2, 3]},
    {"image_size": ["224x224", "480x640"]}, {"threads": [1, 2]} or a LeRobot config field
    {"diffusion.num_inference_steps": [5, 10, 25]}; ``state_dim`` and ``action_dim`` change the profile's sizes at
    every point. Each point runs as ``run`` does (``refills``,
    ``warmup``, ``max_seconds``, ``processes``, ``precision``, the other keywords alike, ``breakdown`` too); ``hz`` is
    the control rate whose largest holding setting the CLI reports; ``ray`` and ``on`` spread the points over a Ray
    cluster as ``run`` spreads its policies. A bad argument raises ValueError naming the keyword."""
    from policybench.profiles import parse_image_size
    from policybench.scaling.axes import Axis

    def values(name: str, given: Sequence[object]) -> tuple:
        return tuple(parse_image_size(v) if name == "image_size" and isinstance(v, str) else v for v in given)

    try:
        cfg = build_config(
            policies,
            device=device,
            profile=profile,
            state_dim=state_dim,
            action_dim=action_dim,
            refills=refills,
            warmup=warmup,
            max_seconds=max_seconds,
            processes=processes,
            precision=precision,
            overrides=overrides,
            variants=variants,
            breakdown=breakdown,
            policy_paths=policy_paths,
            hub=hub,
            trust_remote_code=trust_remote_code,
            json_path=json_path,
            ray=ray,
            on=list(on),
        )
        grid = [Axis(name, values(name, given)) for name, given in (axes or {}).items()]
        settings = sweep_settings(cfg, grid, policy_paths=policy_paths, hz=hz)
        raw = measure_sweep(settings, log=log)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    return Results(raw)


def _named_and_built(policies) -> tuple[list[str] | None, dict[str, object]]:
    """The policy names (None: the default ones) and the built objects, by the name they run as."""
    items = _as_list(policies)
    objects = {f"{_object_name(p)}" if not isinstance(p, str) else p: p for p in items or []}
    names = [n for n, p in objects.items() if isinstance(p, str)] if items is not None else None
    return names, {n: p for n, p in objects.items() if not isinstance(p, str)}


def _as_list(policies) -> list | None:
    if policies is None:
        return None
    if isinstance(policies, str):
        return [p.strip() for p in policies.split(",") if p.strip()]
    if isinstance(policies, (list, tuple)):
        return list(policies)
    return [policies]


def _object_name(obj) -> str:
    cfg = getattr(obj, "config", None)
    kind = getattr(cfg, "type", None) if cfg is not None else None
    return kind or type(obj).__name__.lower()


def _call(fn, *args):
    try:
        return fn(*args)
    except UsageError as exc:
        raise ValueError(str(exc)) from None


# ----------------------------------------------------------------------------- files, comparison, realtime


def load(path: str) -> Results:
    """Read a results file written by ``run`` (or ``policybench run --json``)."""
    from policybench.results import read_results

    return Results(_call(read_results, path))


def fleet(files: Sequence[str | Results], labels: Sequence[str] = ()) -> Fleet:
    """Results files (paths or Results) of several machines side by side: per policy and machine
    the refill and step medians, peak memory and the highest rate held in sync and async mode;
    ``labels`` name the machines in order (the rest are named by their files' facts). ``str()``
    of it is the table; a bad file raises ValueError naming it."""
    from policybench.report.fleet import build_fleet
    from policybench.results import read_results

    loaded = [
        (x, _call(read_results, x)) if isinstance(x, str) else (f"results {n + 1}", x.raw) for n, x in enumerate(files)
    ]
    return _call(build_fleet, loaded, list(labels))


@dataclass(frozen=True)
class Comparison:
    """Per policy and phase, the ratio of medians new/base with its interval from the two medians'
    95% intervals (regression.ratio_interval; not called where either has too few samples).
    ``regressed``: a policy became slower beyond the threshold, or failed in the new run."""

    changes: list = field(default_factory=list)
    newly_failed: list[PolicyResult] = field(default_factory=list)
    environment_differences: list[str] = field(default_factory=list)
    only_in_one: list[str] = field(default_factory=list)
    threshold: float = 0.05
    busy: list[str] = field(default_factory=list)  # compared with force: the results measured on a busy machine

    @property
    def regressed(self) -> bool:
        from policybench.regression import SLOWER

        return bool(self.newly_failed) or any(c.verdict == SLOWER for c in self.changes)

    def __str__(self) -> str:
        from policybench.report.compare import render_compare

        return render_compare(
            self.changes, self.environment_differences, self.only_in_one, self.threshold, self.newly_failed
        )

    def __repr__(self) -> str:
        verdict = "regressed" if self.regressed else "no regression"
        return f"<Comparison: {verdict}, {len(self.changes)} medians compared, threshold {100 * self.threshold:g}%>"


def compare(base: Results | str, new: Results | str, threshold: float = 0.05, force: bool = False) -> Comparison:
    """Compare two runs (Results or results-file paths); ``threshold`` is a fraction (0.05 = 5%).
    A result measured on a machine busy with other work (in both runs) raises
    regression.BusyMeasurement naming it, unless ``force``: then ``Comparison.busy`` names them."""
    from policybench.regression import (
        busy_measurements,
        compare_results,
        environment_differences,
        newly_failed,
        refuse_busy,
        unmatched_policies,
    )

    a, b = (load(x).raw if isinstance(x, str) else x.raw for x in (base, new))
    if not 0 <= threshold < 10:
        raise ValueError(f"threshold must be a fraction between 0 and 10, got {threshold}")
    busy = busy_measurements(a, b, *(x if isinstance(x, str) else name for x, name in ((base, "base"), (new, "new"))))
    if not force:
        refuse_busy(busy)
    return Comparison(
        compare_results(a, b, threshold),
        newly_failed(a, b),
        environment_differences(a, b),
        unmatched_policies(a, b),
        threshold,
        busy,
    )


@dataclass(frozen=True)
class RealtimeVerdict:
    """Every (policy, rate, mode[, threshold]) entry of a simulation, and per policy the highest
    rate with no missed deadline (sync) and with no starved tick (async, per threshold)."""

    entries: list[RealtimeResult]
    highest: list[HighestRate]

    def __str__(self) -> str:
        from policybench.report.realtime import render_realtime

        return render_realtime(self.entries, self.highest)

    def __repr__(self) -> str:
        parts = [f"{h.policy}: sync {h.sync_hz or 'none'} Hz" for h in self.highest]
        return f"<RealtimeVerdict {'; '.join(parts)}>"


def simulate_realtime(
    results: Results | str,
    hz: Iterable[float] = (30.0,),
    thresholds: Iterable[float] = (0.5,),
    seconds: float = 10.0,
    aggregate: str = "weighted_average",
    policies: Sequence[str] | None = None,
    mode: str = "both",
    queue_threshold: int = 30,
    execution_horizon: int = 10,
) -> RealtimeVerdict:
    """Replay measured step and refill latencies through paced sync and async control loops on a
    virtual clock: can these policies hold these control rates? ``mode`` "rtc" (or "all") replays
    a live rtc run's chunks through LeRobot's RTC engine's rules at ``queue_threshold``, with the
    smallest threshold and execution horizon that never starve."""
    from policybench.settings import RealtimeSettings
    from policybench.control.simulate import highest_rates

    raw = load(results).raw if isinstance(results, str) else results.raw
    try:
        settings = RealtimeSettings(
            hz=tuple(hz),
            thresholds=tuple(thresholds),
            seconds=seconds,
            aggregate=aggregate,
            mode=mode,
            queue_threshold=queue_threshold,
            execution_horizon=execution_horizon,
        )
        entries = replay(raw, settings, list(policies) if policies else None)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    return RealtimeVerdict(entries, highest_rates(entries))


def replay(raw: RunResults, settings: RealtimeSettings, policies: list[str] | None = None) -> list[RealtimeResult]:
    """The simulated entries of ``settings`` (its modes only) for the measured samples of ``raw``."""
    from policybench.control.simulate import replay_rtc, simulate

    modes = set(settings.modes)
    entries = []
    if modes - {"rtc"} and (raw.results or "rtc" not in modes):  # a file of live rtc runs has no samples
        entries = simulate(
            raw,
            list(settings.hz),
            list(settings.thresholds),
            settings.length_s,
            settings.aggregate,
            policies,
            ticks=settings.ticks,
        )
    if "rtc" in modes:  # the live rtc runs' chunks, replayed
        entries += replay_rtc(
            raw,
            list(settings.hz),
            settings.length_s,
            settings.ticks,
            settings.queue_threshold,
            settings.execution_horizon,
            policies,
        )
    return [e for e in entries if e.mode in settings.modes]


def measure_realtime(
    settings: RealtimeSettings, *, log=None, context: RunContext | None = None, isolate: bool = True
) -> RunResults:
    """Live paced runs of ``settings.run``'s policies, in a child process (here when not
    ``isolate``): the results with their ``realtime`` entries and the input shapes fed. An
    interruption raises Interrupted whose ``partial`` is these results, as far as they got: every
    mode finished, and the one it stopped marked interrupted."""
    from policybench.interrupt import Interrupted

    cfg = settings.run
    if cfg is None:
        raise UsageError("a live run needs its policies: RealtimeSettings(run=...)")
    if settings.port is not None:
        from policybench.ports import check_port_free

        check_port_free(settings.port)
    with _entered(context, cfg, isolate=isolate) as ctx:
        results = RunResults(ctx.environment, cfg.record())
        said = log or (lambda line: None)
        kept: dict = {}
        try:
            answer = ctx.launch(
                "realtime",
                {"settings": settings.to_json(), "device": ctx.device},
                log=said,
                warn=said,
                on_stopped=kept.update,
            )
        except Interrupted as stop:  # what was measured goes on up with the interruption
            _realtime_into(results, stop.partial if isinstance(stop.partial, dict) else kept, str(stop))
            stop.partial = results
            raise
        _realtime_into(results, answer)
        return results


def _realtime_into(results: RunResults, answer: dict, stopped: str | None = None) -> None:
    """A realtime job's answer (its entries, the inputs fed) into ``results``; when a signal
    ``stopped`` the run, the entry it stopped names that signal (the child saw its own)."""
    from policybench.results import INTERRUPTED

    entries = [RealtimeResult.from_json(e, n) for n, e in enumerate(answer.get("entries", []))]
    if stopped is not None:
        for e in entries:
            if e.status == INTERRUPTED:
                e.error = stopped
    results.realtime = entries
    results.run["inputs"] = answer.get("inputs", {})  # the shapes fed to each policy
    results.run["configs"] = answer.get("configs", {})  # and its settings as measured


def realtime(
    policies: Sequence[str] | str | None = None,
    *,
    hz: float = 30.0,
    seconds: float | None = None,
    ticks: int | None = None,
    mode: str = "both",
    threshold: float = 0.5,
    aggregate: str = "weighted_average",
    warmup: int = 2,
    remote: bool = False,
    remote_calls: int = 10,
    port: int | None = None,
    execution_horizon: int = 10,
    queue_threshold: int = 30,
    max_guidance_weight: float = 10.0,
    guidance_pairs: int = 3,
    device: str = "auto",
    profile: str = "so100",
    cameras: int | None = None,
    image_size: tuple[int, int] | str | None = None,
    state_dim: int | None = None,
    action_dim: int | None = None,
    overrides: Mapping[str, object] | None = None,
    policy_paths: Sequence[str] = (),
    threads: int | None = None,
    hub: bool = False,
    trust_remote_code: bool = False,
    isolate: bool = True,
    log: Callable[[str], None] | None = None,
) -> RealtimeVerdict:
    """Can these policies hold ``hz``? Each is built, warmed up (``warmup`` refill cycles or
    chunks), then run at the rate for ``seconds`` (10 s) or ``ticks``: ``mode`` "sync"
    (select_action on the loop), "async" (chunks from a background worker, a new one asked when the
    queue holds at most ``threshold`` of a chunk; overlapping actions merged by ``aggregate``) or
    "both"; "rtc" drives LeRobot's Real-Time Chunking engine (``execution_horizon``,
    ``queue_threshold``, ``max_guidance_weight`` as LeRobot names them), "all" runs the three; after
    its loop, ``guidance_pairs`` plain and guided chunks are timed in turn (the guidance's cost; 0: none).
    ``remote`` also times ``remote_calls`` round trips through LeRobot's PolicyServer (on
    127.0.0.1:``port`` if given). The policies and their inputs (``profile``, ``cameras``,
    ``image_size``, ``state_dim``, ``action_dim``, ``overrides``) are named as ``run`` names them;
    they run in a child process (here with ``isolate=False``). A bad argument raises ValueError
    naming the keyword."""
    from policybench.options import REALTIME_POLICIES
    from policybench.settings import RealtimeSettings
    from policybench.control.simulate import highest_rates

    try:
        cfg = build_config(
            policies if policies is not None or policy_paths else list(REALTIME_POLICIES),
            device=device,
            profile=profile,
            cameras=cameras,
            image_size=image_size,
            state_dim=state_dim,
            action_dim=action_dim,
            overrides=overrides,
            policy_paths=policy_paths,
            threads=threads,
            hub=hub,
            trust_remote_code=trust_remote_code,
            warmup=warmup,
        )
        settings = RealtimeSettings(
            hz=(hz,),
            thresholds=(threshold,),
            seconds=seconds,
            ticks=ticks,
            mode=mode,
            aggregate=aggregate,
            remote=remote,
            remote_calls=remote_calls,
            port=port,
            execution_horizon=execution_horizon,
            queue_threshold=queue_threshold,
            max_guidance_weight=max_guidance_weight,
            guidance_pairs=guidance_pairs,
            run=cfg,
        )
        entries = measure_realtime(settings, log=log, isolate=isolate).realtime
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    return RealtimeVerdict(entries, highest_rates(entries))
