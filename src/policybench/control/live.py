"""A live paced run of real policies: each policy built, warmed up, then run at the rate."""

from __future__ import annotations

from typing import Callable

from policybench import policies
from policybench.clock import clock_for
from policybench.settings import RealtimeSettings, RunSettings
from policybench.errors import UsageError
from policybench.interrupt import Interrupted, interruptible
from policybench.loop import warm_up
from policybench.observations import synthetic_observation
from policybench.control.budget import PolicyBudget, Refills, policy_budget, ticks_needed
from policybench.control.metrics import summarize_ticks, ticks_json
from policybench.control.paced import ThreadWorker, run_async, run_sync, sleep_until_real
from policybench.control.remote import overhead, run_remote
from policybench.results import INTERRUPTED
from policybench.samples import REFILL
from policybench.runner import describe_error, release_memory
from policybench.stats import summarize

Log = Callable[[str], None]


@interruptible()
def run_live(
    settings: RealtimeSettings,
    device: str,
    log: Log = lambda line: None,
    build=policies.build,
) -> list[dict[str, object]]:
    """One entry per policy of ``settings.run`` and mode; a policy that fails is an entry with its
    error. With ``settings.remote``, also round trips through LeRobot's PolicyServer (mode
    "remote"). SIGINT or SIGTERM stops the run with Interrupted, whose ``partial`` is the entries
    measured and, last, the one interrupted (status "interrupted")."""
    cfg, hz, modes = settings.run, settings.hz[0], list(settings.modes)
    clock = clock_for(device)
    sleep_until = sleep_until_real(clock.now)
    entries: list[dict[str, object]] = []
    doing: list[dict[str, object]] = []  # the entry being measured, marked "interrupted" by a signal
    try:
        for name in cfg.policies:
            base = {"policy": name, "hz": hz, "source": "measured"}
            whole = {**base, "mode": ",".join(modes)}  # the policy's entry until one of its modes starts
            doing[:] = [whole]
            try:
                _measure_policy(settings, device, build, base, clock, sleep_until, log, entries, doing)
            except UsageError:
                raise
            except Exception as exc:  # noqa: BLE001 - isolate every policy
                error = describe_error(exc)
                log(f"{name}: FAILED: {error.splitlines()[0]}")
                entries.append({**whole, "status": "failed", "error": error, "summary": {}})
            doing.clear()
    except KeyboardInterrupt as exc:
        stop = Interrupted.wrap(exc, entries)
        entries += [{**entry, "status": INTERRUPTED, "error": str(stop), "summary": {}} for entry in doing]
        raise stop from None
    return entries


def _mode(mode: str, threshold: float, aggregate: str) -> dict[str, object]:
    """A run's mode and the async settings it ran with (None in sync and remote mode)."""
    return {"mode": mode, "threshold": threshold if mode == "async" else None,
            "aggregate": aggregate if mode == "async" else None}


def _measure_policy(settings: RealtimeSettings, device: str, build, base: dict[str, object], clock, sleep_until,
                    log: Log, entries: list[dict[str, object]], doing: list[dict[str, object]]) -> None:
    """One policy built, then run in each mode (and through the PolicyServer); ``doing`` holds
    the entry being measured."""
    cfg, hz, name = settings.run, settings.hz[0], str(base["policy"])
    threshold, aggregate, ticks = settings.thresholds[0], settings.aggregate, settings.ticks_at(hz)
    adapter = None
    try:
        adapter = build(name, cfg.profile, cfg.overrides_for(name), device, cfg.seed)
        obs = synthetic_observation(adapter.input_specs(), device, cfg.seed, extra=adapter.extra_inputs(cfg.profile.task))
        for mode in settings.modes:
            doing[:] = [{**base, **_mode(mode, threshold, aggregate)}]
            log(f"{name}: {mode} at {hz:g} Hz for {ticks} ticks")
            entries.append({**doing[0], "status": "ok", "error": None,
                            **paced_run(adapter, obs, cfg, clock, sleep_until, mode, hz, ticks, threshold, aggregate)})
        if settings.remote and settings.remote_calls > 0:
            doing[:] = [{**base, **_mode("remote", threshold, aggregate)}]
            log(f"{name}: {settings.remote_calls} round trips through LeRobot's policy server")
            try:
                measured = measure_remote(adapter, obs, cfg, device, clock, settings.remote_calls, settings.port)
            except Exception as exc:  # noqa: BLE001 - the in-process modes above stand
                measured = {"status": "failed", "error": describe_error(exc), "summary": {}}
                log(f"{name}: remote FAILED: {measured['error'].splitlines()[0]}")
            entries.append({**doing[0], **measured})
    finally:
        del adapter
        release_memory(device)


def paced_run(adapter, obs, cfg: RunSettings, clock, sleep_until, mode: str, hz: float, ticks: int,
              threshold: float, aggregate: str) -> dict[str, object]:
    """One paced run after its warm-up: the summary (with the chunk and the ticks a verdict
    needs), the ticks, and in async mode the latencies of the chunks that arrived."""
    chunk = int(adapter.describe().get("n_action_steps") or 1)
    if mode == "sync":
        warm_up(adapter, obs, clock, max(cfg.warmup, 1), cfg.max_seconds)
        run = run_sync(adapter, obs, clock, sleep_until, hz, ticks)
        needed = ticks_needed(mode, chunk, hz, None, 0.0)
        return {"summary": {**summarize_ticks(run, hz), "chunk_length": chunk, "ticks_needed": needed},
                "ticks": ticks_json(run, hz)}
    warm = []  # the warm-up chunks' latencies: what the ticks a verdict needs are estimated from
    for _ in range(max(cfg.warmup, 1) + 1):
        start = clock.read()
        # On the host, as the worker's chunks are: the control loop merges them there.
        first = adapter.predict_chunk(obs).cpu()
        warm.append(clock.read() - start)
    worker = ThreadWorker(adapter, clock)
    try:
        result = run_async(worker, obs, clock, sleep_until, hz, ticks, first, threshold, aggregate)
    finally:
        worker.close()
    chunk = len(first)
    needed = ticks_needed(mode, chunk, hz, threshold, max(warm[1:] + result.chunk_latencies))
    return {"summary": {**summarize_ticks(result.ticks, hz, result.chunk_latencies), "chunk_length": chunk,
                        "ticks_needed": needed},
            "ticks": ticks_json(result.ticks, hz), "chunk_latencies_ms": [x * 1000 for x in result.chunk_latencies]}


def live_budgets(entries: list[dict[str, object]]) -> list[PolicyBudget]:
    """Per policy, the budgets against the refills this run measured: the sync loop's refill
    ticks and the async loop's chunks (none for a policy that saw no refill)."""
    out = []
    for policy in dict.fromkeys(e["policy"] for e in entries):
        runs = [e for e in entries if e["policy"] == policy and e.get("status") == "ok" and e["mode"] in ("sync", "async")]
        refills = [(t["end_ms"] - t["start_ms"]) / 1000 for e in runs for t in e.get("ticks", []) if t["phase"] == REFILL]
        refills += [ms / 1000 for e in runs for ms in e.get("chunk_latencies_ms", [])]
        chunks = [int(e["summary"]["chunk_length"]) for e in sorted(runs, key=lambda e: e["mode"] != "async")]
        budget = policy_budget(policy, chunks[0], Refills.of(refills), runs) if refills and chunks else None
        if budget is not None:
            out.append(budget)
    return out


def measure_remote(adapter, obs, cfg: RunSettings, device: str, clock, calls: int, port: int | None) -> dict[str, object]:
    """Round trips through LeRobot's PolicyServer, next to the same chunk computed in-process."""
    in_process = []
    for _ in range(calls + 1):
        start = clock.read()
        adapter.predict_chunk(obs)
        in_process.append((clock.read() - start) * 1000)
    remote = run_remote(adapter, cfg.profile, calls, warmup=1, port=port, device=device)
    trips = [x * 1000 for x in remote.round_trips]
    rt, ip = summarize(trips), summarize(in_process[1:])
    return {
        "status": "ok",
        "error": None,
        "summary": {
            "calls": len(trips),
            "round_trip_median_ms": rt["median_ms"],
            "round_trip_p99_ms": rt["p99_ms"],
            "round_trip_min_ms": rt["min_ms"],
            "in_process_chunk_median_ms": ip["median_ms"],
            **overhead(trips, in_process[1:]),
            "chunk_length": remote.chunk_length,
        },
        "round_trips_ms": trips,
        "in_process_chunks_ms": in_process[1:],
    }
