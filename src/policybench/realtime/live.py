"""A live paced run of real policies: each policy built, warmed up, then run at the rate."""

from __future__ import annotations

from typing import Callable

from policybench import policies
from policybench.clock import clock_for
from policybench.config import RunConfig
from policybench.errors import UsageError
from policybench.interrupt import Interrupted, interruptible
from policybench.loop import warm_up
from policybench.observations import synthetic_observation
from policybench.realtime.metrics import summarize_ticks, ticks_json
from policybench.realtime.paced import ThreadWorker, run_async, run_sync, sleep_until_real
from policybench.realtime.remote import run_remote
from policybench.results import INTERRUPTED
from policybench.runner import describe_error, release_memory
from policybench.stats import summarize

Log = Callable[[str], None]


@interruptible()
def run_live(
    cfg: RunConfig,
    device: str,
    hz: float,
    ticks: int,
    modes: list[str],
    threshold: float,
    aggregate: str,
    log: Log = lambda line: None,
    build=policies.build,
    remote_calls: int = 0,
    port: int | None = None,
) -> list[dict[str, object]]:
    """One entry per policy and mode; a policy that fails is an entry with its error. With
    ``remote_calls`` > 0, also round trips through LeRobot's PolicyServer (mode "remote").
    SIGINT or SIGTERM stops the run with Interrupted, whose ``partial`` is the entries measured
    and, last, the one interrupted (status "interrupted")."""
    clock = clock_for(device)
    sleep_until = sleep_until_real(clock.now)
    entries: list[dict[str, object]] = []
    doing: dict[str, object] | None = None  # the entry being measured, marked "interrupted" by a signal
    try:
        for name in cfg.policies:
            adapter = None
            base = {"policy": name, "hz": hz, "source": "measured"}
            doing = {**base, "mode": ",".join(modes)}
            try:
                adapter = build(name, cfg.profile, cfg.overrides_for(name), device, cfg.seed)
                obs = synthetic_observation(adapter.input_specs(), device, cfg.seed, extra=adapter.extra_inputs(cfg.profile.task))
                for mode in modes:
                    doing = {**base, "mode": mode, "threshold": threshold if mode == "async" else None}
                    log(f"{name}: {mode} at {hz:g} Hz for {ticks} ticks")
                    if mode == "sync":
                        warm_up(adapter, obs, clock, max(cfg.warmup, 1), cfg.max_seconds)
                        run = run_sync(adapter, obs, clock, sleep_until, hz, ticks)
                        summary, chunk_lat = summarize_ticks(run, hz), None
                        entry = {**base, "mode": mode, "threshold": None, "aggregate": None}
                    else:
                        # On the host, as the worker's chunks are: the control loop merges them there.
                        first = adapter.predict_chunk(obs).cpu()
                        for _ in range(max(cfg.warmup, 1)):
                            first = adapter.predict_chunk(obs).cpu()
                        worker = ThreadWorker(adapter, clock)
                        try:
                            result = run_async(worker, obs, clock, sleep_until, hz, ticks, first, threshold, aggregate)
                        finally:
                            worker.close()
                        run, chunk_lat = result.ticks, result.chunk_latencies
                        summary = summarize_ticks(run, hz, chunk_lat)
                        entry = {**base, "mode": mode, "threshold": threshold, "aggregate": aggregate}
                    entry.update(status="ok", error=None, summary=summary, ticks=ticks_json(run, hz))
                    if chunk_lat is not None:
                        entry["chunk_latencies_ms"] = [x * 1000 for x in chunk_lat]
                    entries.append(entry)
                if remote_calls > 0:
                    log(f"{name}: {remote_calls} round trips through LeRobot's policy server")
                    remote = doing = {**base, "mode": "remote", "threshold": None, "aggregate": None}
                    try:
                        remote.update(measure_remote(adapter, obs, cfg, device, clock, remote_calls, port))
                    except Exception as exc:  # noqa: BLE001 - the in-process modes above stand
                        remote.update(status="failed", error=describe_error(exc), summary={})
                        log(f"{name}: remote FAILED: {remote['error'].splitlines()[0]}")
                    entries.append(remote)
                doing = None
            except UsageError:
                raise
            except Exception as exc:  # noqa: BLE001 - isolate every policy
                error = describe_error(exc)
                log(f"{name}: FAILED: {error.splitlines()[0]}")
                entries.append({**base, "mode": ",".join(modes), "status": "failed", "error": error, "summary": {}})
                doing = None
            finally:
                del adapter
                release_memory(device)
    except KeyboardInterrupt as exc:
        stop = Interrupted.wrap(exc, entries)
        if doing is not None:
            entries.append({**doing, "status": INTERRUPTED, "error": str(stop), "summary": {}})
        raise stop from None
    return entries


def measure_remote(adapter, obs, cfg: RunConfig, device: str, clock, calls: int, port: int | None) -> dict[str, object]:
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
            "overhead_median_ms": rt["median_ms"] - ip["median_ms"],
            "chunk_length": remote.chunk_length,
        },
        "round_trips_ms": trips,
        "in_process_chunks_ms": in_process[1:],
    }
