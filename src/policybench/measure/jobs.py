"""The jobs a child process runs, each from JSON in to JSON out: ``measure`` one policy, ``plan``
a run (its device, its names and ``--set`` values checked against LeRobot's configs, the
environment record), a live ``realtime`` run of one policy, ``verify`` one policy, ``list``
every policy type. measure/child.py runs them in a child; orchestrate/here.py runs them in the
caller's process (``--in-process``, policies given as objects), by this module's name."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import cast

from policybench.child_process import Given, Message, Send
from policybench.clock import Clock
from policybench.errors import SettingsError, UsageError
from policybench.settings import RealtimeSettings, RunSettings


@contextlib.contextmanager
def process_state(threads: int | None) -> Iterator[None]:
    """What a job sets in its process and puts back after: torch's threads, the global random
    generators, the libraries' warnings (before the imports: their warnings too)."""
    from policybench.procenv import quiet_libraries

    with quiet_libraries():
        from policybench.measure.state import random_state_kept, torch_threads

        with torch_threads(threads), random_state_kept():
            yield


def measure(payload: dict, send: Send, given: Given | None = None) -> dict:
    """Every variant of one policy measured: {"results": [PolicyResult as JSON]} (``given``, here
    only: policies given as objects, or a builder and a clock in place of the registry's and the
    device's, for tests)."""
    from policybench.measure.device import clock_for
    from policybench.measure.policy import measure_policy

    cfg, device = RunSettings.from_json(payload["cfg"]), payload["device"]
    clock = cast(Clock, given.clock) if given is not None and given.clock is not None else clock_for(device)
    results = measure_policy(
        payload["name"],
        cfg,
        device,
        clock,
        **({"build": _builder(given)} if given is not None else {}),
        log=lambda text: send(Message.LOG, text=text),
        warn=lambda text: send(Message.WARN, text=text),
        progress=lambda name, done, target: send(Message.PROGRESS, done=done, target=target),
    )
    return {"results": [r.to_json() for r in results]}


def plan(payload: dict, send: Send) -> dict:
    """The device "auto" picks (UsageError for one not here), every name and ``--set`` field and
    value checked (but those of ``skip``: policies given as objects), and the environment record."""
    from policybench.measure.device import describe_environment, resolve_device
    from policybench.measure.policy import validate_overrides

    cfg = RunSettings.from_json(payload["cfg"])
    device = resolve_device(cfg.device)
    validate_overrides(cfg, skip=set(payload.get("skip", ())))
    return {"device": device, "environment": describe_environment(device)}


def check(payload: dict, send: Send) -> dict:
    """Each settings' names, ``--set`` fields and values checked against LeRobot's configs, and
    each (policy, field) of ``fields`` (a sweep's axes): {"errors": [None, or the error as a
    child sends it]}, one per settings, in order; an axis's unknown field is raised at once."""
    from policybench import policies
    from policybench.measure.policy import validate_overrides

    for policy, field in payload.get("fields", ()):
        policies.check_override_field(policy, field)
    errors: list[dict | None] = []
    for cfg in payload["cfgs"]:
        try:
            validate_overrides(RunSettings.from_json(cfg))
            errors.append(None)
        except UsageError as exc:
            errors.append(said(exc))
    return {"errors": errors}


def said(exc: UsageError) -> dict:
    """A usage error as JSON: its text, and a setting's template (SettingsError) to be raised again."""
    return {"text": str(exc), "template": exc.template if isinstance(exc, SettingsError) else None}


def realtime(payload: dict, send: Send) -> dict:
    """A live paced run of the policies of ``settings``: {"entries": [RealtimeResult as JSON], "inputs",
    "configs"}."""
    from policybench.measure.realtime import run_live

    settings = RealtimeSettings.from_json(payload["settings"])
    if settings.remote and settings.run is not None:
        from policybench.measure.remote import robot_features

        robot_features(settings.run.profile)  # cameras LeRobot's robot client can send, before building
    from policybench.interrupt import Interrupted

    inputs: dict[str, dict[str, list[int]]] = {}  # per policy built: the shapes of the observation fed to it
    configs: dict[str, dict[str, object]] = {}  # per policy built: its settings as measured (describe())
    try:
        entries = run_live(
            settings, payload["device"], log=lambda text: send(Message.LOG, text=text), inputs=inputs, configs=configs
        )
    except Interrupted as stop:  # what was measured, as this job's answer: the child sends it, here it goes up
        done = stop.partial if isinstance(stop.partial, list) else []
        stop.partial = {
            "entries": [e.to_json() for e in done],
            "inputs": inputs,
            "configs": configs,
            "interrupted": str(stop),
        }
        raise
    return {"entries": [e.to_json() for e in entries], "inputs": inputs, "configs": configs}


def verify(payload: dict, send: Send) -> dict:
    """One policy built and run once: {"ok", "message"}."""
    from policybench.measure.policy import verify_policy

    ok, message = verify_policy(payload["name"], RunSettings.from_json(payload["cfg"]), payload["device"])
    return {"ok": ok, "message": message}


def list_policies(payload: dict, send: Send) -> dict:
    """Every policy type the installed LeRobot registers, and noop: whether it builds here."""
    from policybench import policies
    from policybench.lerobot_adapter.version import lerobot_version

    rows = [
        {
            "name": n,
            "problem": policies.availability(n),
            "curated": policies.is_curated(n),
            "summary": policies.summary(n),
        }
        for n in policies.known_names()
    ]
    return {"lerobot": lerobot_version(), "policies": rows}


def _builder(given: Given) -> Callable:
    """The policies given as objects, built by their name; every other name as the registry builds
    it (or all of them by ``given.build``)."""
    from policybench import policies
    from policybench.policies.objects import adapt_object

    if given.build is not None:
        return given.build

    def build(name, profile, overrides, device, seed):
        if name in given.policies:
            return adapt_object(name, given.policies[name], given.inputs, device)
        return policies.build(name, profile, overrides, device, seed)

    return build


JOBS: dict[str, Callable[..., dict]] = {
    "measure": measure,
    "plan": plan,
    "check": check,
    "realtime": realtime,
    "verify": verify,
    "list": list_policies,
}


def run_job(job: str, payload: dict, send: Send, **objects: object) -> dict:
    """``job`` run in this process's state for the run (``objects``: what cannot travel as JSON,
    e.g. the builder of policies given as objects)."""
    cfg = payload.get("cfg") or (payload.get("settings") or {}).get("run") or {}
    with process_state(cfg.get("threads")):
        return JOBS[job](payload, send, **objects)
