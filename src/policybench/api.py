"""The library's public face: what the CLI does, callable from a notebook or a script.

    import policybench
    results = policybench.run(["act"], device="cpu", refills=3, overrides={"act.n_action_steps": 50})
    results["act"].refill.median_ms

``run`` measures, ``load`` reads a results file, ``compare`` tells whether a run regressed,
``simulate_realtime`` gives the control-rate verdict from measured samples. The CLI calls these
same functions. Nothing here changes process-wide state that it does not restore: torch's thread
count, ``HF_HUB_OFFLINE``, warning filters and log levels are set for the call and put back.
Bad arguments raise ``ValueError`` with one line naming the value.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from policybench.errors import UsageError
from policybench.results import OK, PolicyResult, RunResults


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
        return self.raw.policy

    @property
    def ok(self) -> bool:
        return self.raw.status == OK

    @property
    def error(self) -> str | None:
        return self.raw.error

    def _phase(self, key: str) -> Phase:
        return Phase(**{k: v for k, v in self.raw.summary()[key].items() if k in Phase.__dataclass_fields__})

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
    """A run's measurements by policy name (``results["act"]``, ``results["act+bf16"]``), the
    machine it ran on (``environment``), and the results file's content (``raw``)."""

    def __init__(self, raw: RunResults):
        self.raw = raw

    @property
    def environment(self) -> dict[str, object]:
        return dict(self.raw.environment)

    def names(self) -> list[str]:
        return [r.policy for r in self.raw.results]

    def __getitem__(self, name: str) -> Measurement:
        for r in self.raw.results:
            if r.policy == name:
                return Measurement(r)
        raise KeyError(f"no policy '{name}' in these results; they have {', '.join(self.names()) or 'none'}")

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


# ----------------------------------------------------------------------------- process state


@contextlib.contextmanager
def process_state(threads: int | None = None, hub: bool = False, trust_remote_code: bool = False):
    """Torch threads, hub access, remote code, warnings and LeRobot's log level for one call,
    restored after."""
    import torch

    from policybench.policies.checkpoint_guard import remote_code

    previous_threads = torch.get_num_threads()
    previous_offline = os.environ.get("HF_HUB_OFFLINE")
    hub_constants = _hub_constants()
    previous_constant = getattr(hub_constants, "HF_HUB_OFFLINE", None)
    loggers = [logging.getLogger(n) for n in ("lerobot", "root")]
    levels = [lg.level for lg in loggers]
    if not hub:
        os.environ["HF_HUB_OFFLINE"] = "1"  # nothing is downloaded at run time
    elif previous_offline == "1":
        os.environ.pop("HF_HUB_OFFLINE")
    if hub_constants is not None:  # huggingface_hub reads the variable once, at import
        hub_constants.HF_HUB_OFFLINE = not hub
    try:
        with warnings.catch_warnings(), remote_code(trust_remote_code):
            warnings.simplefilter("ignore")
            for lg in loggers:
                lg.setLevel(logging.ERROR)
            if threads is not None:
                torch.set_num_threads(threads)
            yield
    finally:
        torch.set_num_threads(previous_threads)
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        if previous_offline is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous_offline
        if hub_constants is not None:
            hub_constants.HF_HUB_OFFLINE = previous_constant


def _hub_constants():
    import sys

    return sys.modules.get("huggingface_hub.constants")


# ----------------------------------------------------------------------------- run


HUB_SMOLVLM = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"


def _overrides(overrides):
    """{"diffusion.num_inference_steps": 10} or {"diffusion": {"num_inference_steps": 10}}, or
    a list of Override (the CLI's parsed ``--set``)."""
    from policybench.config import Override

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
    policies: Sequence[str] | str | None = None,
    *,
    device: str = "auto",
    profile: str = "so100",
    cameras: int | None = None,
    image_size: tuple[int, int] | str | None = None,
    state_dim: int | None = None,
    action_dim: int | None = None,
    refills: int = 10,
    warmup: int = 2,
    max_seconds: float = 60.0,
    overrides: Mapping[str, object] | None = None,
    variants: Sequence[str] | str = ("eager",),
    pipeline: bool = False,
    policy_paths: Sequence[str] = (),
    threads: int | None = None,
    hub: bool = False,
    baseline: str | None = None,
    json_path: str | None = None,
    export_dir: str | None = None,
    seed: int = 0,
    objects: Sequence[str] = (),
    trust_remote_code: bool = False,
    hz: float | None = None,
):
    """A validated RunConfig from the arguments of ``run`` (raises UsageError). ``objects`` are
    the names of policies given as objects: they run first and are not looked up."""
    from policybench import policies as registry
    from policybench.config import RunConfig, customize_profile, get_profile, parse_image_size, parse_override
    from policybench.variants import parse_variants

    if isinstance(policies, str):
        policies = [p.strip() for p in policies.split(",") if p.strip()]
    default = [] if policy_paths or objects else ["act", "smolvla", "diffusion"]
    names = list(policies if policies is not None else default)
    for name in names:
        registry.check_name(name)
    paths = [as_path(p) for p in policy_paths]
    names = [*objects, *names, *paths]
    size = parse_image_size(image_size) if isinstance(image_size, str) else image_size
    prof = customize_profile(get_profile(profile), cameras=cameras, image_size=size, state_dim=state_dim,
                             action_dim=action_dim)
    ov = _to_checkpoints(_overrides(overrides), names, paths)
    if hub and "smolvla" in names:
        ov.insert(0, parse_override(f"smolvla.vlm_model_name={HUB_SMOLVLM}"))
    cfg = RunConfig(policies=names, device=device, profile=prof, refills=refills, warmup=warmup,
                    max_seconds=max_seconds, threads=threads, overrides=ov, baseline=baseline,
                    json_path=json_path, export_dir=export_dir, seed=seed, pipeline=pipeline,
                    trust_remote_code=trust_remote_code, hz=hz,
                    variants=parse_variants(variants if isinstance(variants, str) else ",".join(variants)))
    cfg.validate()
    return cfg


def _to_checkpoints(overrides: list, names: list[str], paths: list[str]) -> list:
    """``--set TYPE.FIELD=V`` for a type that is not among the named policies reaches every
    --policy-path checkpoint of that type (``--set smolvla.num_steps=5`` tunes your SmolVLA)."""
    from policybench.config import Override

    types = checkpoint_types(paths)
    out = []
    for o in overrides:
        targets = [p for p, t in types.items() if t == o.policy] if o.policy not in names else []
        out += [Override(p, o.field, o.value) for p in targets] or [o]
    return out


def checkpoint_types(paths: Sequence[str]) -> dict[str, str | None]:
    """Each --policy-path as the run names it (``as_path``) and the policy type its config.json
    names (None where it cannot be read here: a hub id)."""
    from policybench.policies.checkpoint_guard import checkpoint_type

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
    isolate: bool | None = None,
    inputs: object = None,
    log: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    **settings,
) -> Results:
    """Measure policies the way a control loop calls them; see ``build_config`` for the settings
    (profile, refills, warmup, max_seconds, overrides, variants, pipeline, policy_paths, threads,
    hub, baseline, json_path, export_dir, seed, cameras, image_size, state_dim, action_dim,
    trust_remote_code: let LeRobot run the Python files of a model or tokenizer it loads with
    trust_remote_code=True, as pi0_fast's FAST tokenizer needs; only for sources you trust).

    ``policies`` are names from ``policybench list`` or already built objects: a LeRobot policy
    (its config gives the inputs), or any ``torch.nn.Module`` with ``inputs`` (a tensor, a tuple
    of tensors or a dict of keyword tensors) for its forward, every call of which is a refill.
    ``device="auto"`` takes cuda, then mps, then cpu. ``isolate`` measures each named policy in a
    process of its own (the default for names; objects always run in this process).
    """
    items = _as_list(policies)
    objects = {f"{_object_name(p)}" if not isinstance(p, str) else p: p for p in items or []}
    names = [n for n, p in objects.items() if isinstance(p, str)] if items is not None else None
    built = {n: p for n, p in objects.items() if not isinstance(p, str)}
    try:
        cfg = build_config(names, device=device, objects=list(built), **settings)
        raw = measure(cfg, hub=settings.get("hub", False), log=log, warn=warn, progress=progress,
                      isolate=isolate, objects=built, inputs=inputs)
    except UsageError as exc:
        raise ValueError(library_message(str(exc))) from None
    return Results(raw)


def measure(cfg, *, hub: bool = False, log=None, warn=None, progress=None, isolate: bool | None = None,
            objects: dict | None = None, inputs=None) -> RunResults:
    """What ``run`` and the CLI share: a validated config in, the results out (UsageError for a
    bad device, output path or ``--set`` value). Named policies run in a child process each unless
    ``isolate`` is False; objects always run in this process."""
    from policybench.environment import resolve_device
    from policybench.results import check_folder, check_writable
    from policybench.runner import run_benchmark, validate_overrides

    objects = objects or {}
    device = resolve_device(cfg.device)
    if cfg.json_path:
        check_writable(cfg.json_path)
    if cfg.export_dir:
        check_folder(cfg.export_dir, "--export")
    with process_state(cfg.threads, hub, cfg.trust_remote_code):
        validate_overrides(_without(cfg, objects))
        kwargs = {"log": log or (lambda line: None), "warn": warn, "progress": progress}
        if objects:
            kwargs["build"] = _builder(objects, inputs, device)
        isolate_named = (isolate if isolate is not None else True) and not objects
        return run_benchmark(cfg, device, isolate=isolate_named, **kwargs)


def measure_sweep(cfg, axes, *, hub: bool = False, log=None, warn=None, progress=None, isolate: bool = True,
                  hz: float | None = None) -> RunResults:
    """``policybench sweep``: every point of the grid measured as ``measure`` does; ``hz``, the
    control rate its verdict is for, is recorded with the axes."""
    from policybench import policies as registry
    from policybench.environment import resolve_device
    from policybench.results import check_writable
    from policybench.runner import validate_overrides
    from policybench.sweep import SETTING_AXES, run_sweep

    device = resolve_device(cfg.device)
    if cfg.json_path:
        check_writable(cfg.json_path)
    with process_state(cfg.threads, hub, cfg.trust_remote_code):
        validate_overrides(cfg)  # the fixed --set values, and every axis's field, before anything is built
        for axis in axes:
            if axis.name not in SETTING_AXES:
                policy, field = axis.name.rsplit(".", 1)
                if policy in cfg.policies:
                    registry.check_override_field(policy, field)
        return run_sweep(cfg, axes, device, log or (lambda line: None), warn or log or (lambda line: None),
                         progress, isolate=isolate, hz=hz)


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


def _without(cfg, built: dict):
    import dataclasses

    return dataclasses.replace(cfg, policies=[p for p in cfg.policies if p not in built],
                               overrides=[o for o in cfg.overrides if o.policy not in built])


def _builder(built: dict, inputs, device: str):
    from policybench import policies as registry
    from policybench.policies.objects import adapt_object

    def build(name, profile, overrides, dev, seed):
        if name in built:
            return adapt_object(name, built[name], inputs, dev)
        return registry.build(name, profile, overrides, dev, seed)

    return build


_KEYWORDS = {"--set": "overrides", "--policy-path": "policy_paths", "--json": "json_path", "--variant": "variants",
             "--export": "export_dir"}


def library_message(text: str) -> str:
    """A validation message as the library's keywords say it: the CLI's --max-seconds is max_seconds."""
    import re

    return re.sub(r"--([a-z][a-z-]*)", lambda m: _KEYWORDS.get(m.group(0), m.group(1).replace("-", "_")), text)


def _call(fn, *args):
    try:
        return fn(*args)
    except UsageError as exc:
        raise ValueError(library_message(str(exc))) from None


# ----------------------------------------------------------------------------- files, comparison, realtime


def load(path: str) -> Results:
    """Read a results file written by ``run`` (or ``policybench run --json``)."""
    from policybench.results import read_results

    return Results(_call(read_results, path))


@dataclass(frozen=True)
class Comparison:
    """Per policy and phase, the ratio of medians new/base with its 95% bootstrap interval.
    ``regressed``: a policy became slower beyond the threshold, or failed in the new run."""

    changes: list = field(default_factory=list)
    newly_failed: list[str] = field(default_factory=list)
    environment_differences: list[str] = field(default_factory=list)
    only_in_one: list[str] = field(default_factory=list)
    threshold: float = 0.05

    @property
    def regressed(self) -> bool:
        from policybench.regression import SLOWER

        return bool(self.newly_failed) or any(c.verdict == SLOWER for c in self.changes)

    def __str__(self) -> str:
        from policybench.report.compare import render_compare

        return render_compare(self.changes, self.environment_differences, self.only_in_one, self.threshold,
                              self.newly_failed)

    def __repr__(self) -> str:
        verdict = "regressed" if self.regressed else "no regression"
        return f"<Comparison: {verdict}, {len(self.changes)} medians compared, threshold {100 * self.threshold:g}%>"


def compare(base: Results | str, new: Results | str, threshold: float = 0.05) -> Comparison:
    """Compare two runs (Results or results-file paths); ``threshold`` is a fraction (0.05 = 5%)."""
    from policybench.regression import compare_results, environment_differences, newly_failed, unmatched_policies

    a, b = (load(x).raw if isinstance(x, str) else x.raw for x in (base, new))
    if not 0 <= threshold < 10:
        raise ValueError(f"threshold must be a fraction between 0 and 10, got {threshold}")
    failed = newly_failed(a, b)
    return Comparison(compare_results(a, b, threshold), failed, environment_differences(a, b),
                      unmatched_policies(a, b), threshold)


@dataclass(frozen=True)
class RealtimeVerdict:
    """Every (policy, rate, mode[, threshold]) entry of a simulation, and per policy the highest
    rate with no missed deadline (sync) and with no starved tick (async, per threshold)."""

    entries: list[dict]
    highest: list[dict]

    def __str__(self) -> str:
        from policybench.report.realtime import render_realtime

        return render_realtime(self.entries, self.highest)

    def __repr__(self) -> str:
        parts = [f"{h['policy']}: sync {h['sync_hz'] or 'none'} Hz" for h in self.highest]
        return f"<RealtimeVerdict {'; '.join(parts)}>"


def simulate_realtime(
    results: Results | str,
    hz: Iterable[float] = (30.0,),
    thresholds: Iterable[float] = (0.5,),
    seconds: float = 10.0,
    aggregate: str = "weighted_average",
    policies: Sequence[str] | None = None,
) -> RealtimeVerdict:
    """Replay measured step and refill latencies through paced sync and async control loops on a
    virtual clock: can these policies hold these control rates?"""
    from policybench.realtime.simulate import highest_rates, simulate

    raw = load(results).raw if isinstance(results, str) else results.raw
    rates, gs = [float(h) for h in hz], [float(g) for g in thresholds]
    if not rates or any(not (r > 0) for r in rates):
        raise ValueError(f"hz must be positive rates, got {rates}")
    if any(not 0 <= g <= 1 for g in gs):
        raise ValueError(f"thresholds must be in [0, 1], got {gs}")
    entries = _call(simulate, raw, rates, gs, seconds, aggregate, list(policies) if policies else None)
    return RealtimeVerdict(entries, highest_rates(entries))
