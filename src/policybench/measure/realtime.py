"""A live paced run of real policies: each policy built, warmed up, then run at the rate."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from policybench import policies
from policybench.measure.device import clock_for
from policybench.settings import RealtimeSettings, RunSettings
from policybench.errors import SettingsError, UsageError, literal
from policybench.interrupt import Interrupted, interruptible
from policybench.measure.loop import warm_up
from policybench.observations import input_shapes, synthetic_observation
from policybench.control.budget import rtc_ticks_needed, ticks_needed
from policybench.control.metrics import stored_ticks, summarize_ticks
from policybench.control.paced import ThreadWorker, run_async, run_sync, sleep_until_real
from policybench.measure.remote import overhead, run_remote
from policybench.results import FAILED, INTERRUPTED, OK, SKIPPED, RealtimeResult
from policybench.measure.policy import describe_error, release_memory
from policybench.stats import summarize

Log = Callable[[str], None]


@interruptible()
def run_live(
    settings: RealtimeSettings,
    device: str,
    log: Log = lambda line: None,
    build=policies.build,
    inputs: dict[str, dict[str, list[int]]] | None = None,
    configs: dict[str, dict[str, object]] | None = None,
) -> list[RealtimeResult]:
    """One entry per policy of ``settings.run`` and mode; a policy that fails is an entry with its
    error. With ``settings.remote``, also round trips through LeRobot's PolicyServer (mode
    "remote"). SIGINT or SIGTERM stops the run with Interrupted, whose ``partial`` is the entries
    measured and, last, the one interrupted (status "interrupted"). ``inputs`` receives, per
    policy built, the shapes of the observation it was fed (for the results file's ``run``), and
    ``configs`` its settings as measured (``describe()``: what the budget's "what would hold" reads)."""
    cfg, hz, modes = _live(settings), settings.hz[0], list(settings.modes)
    if settings.modes == ("rtc",):
        from policybench.lerobot_adapter.rtc import rtc_problem

        problem = rtc_problem()
        if problem:
            raise UsageError(problem)
    clock = clock_for(device)
    sleep_until = sleep_until_real(clock.now)
    entries: list[RealtimeResult] = []
    doing: list[RealtimeResult] = []  # the entry being measured, marked "interrupted" by a signal
    try:
        for name in cfg.policies:
            whole = RealtimeResult(name, ",".join(modes), hz, "measured")  # until one of its modes starts
            doing[:] = [whole]
            try:
                _measure_policy(
                    settings,
                    device,
                    build,
                    whole,
                    clock,
                    sleep_until,
                    log,
                    entries,
                    doing,
                    {} if inputs is None else inputs,
                    {} if configs is None else configs,
                )
            except UsageError:
                raise
            except Exception as exc:  # noqa: BLE001 - isolate every policy
                error = describe_error(exc)
                log(f"{name}: FAILED: {error.splitlines()[0]}")
                entries.append(replace(whole, status=FAILED, error=error))
            doing.clear()
    except KeyboardInterrupt as exc:
        stop = Interrupted.wrap(exc, entries)
        entries += [replace(entry, status=INTERRUPTED, error=str(stop), summary={}) for entry in doing]
        raise stop from None
    return entries


def _live(settings: RealtimeSettings) -> RunSettings:
    """The policies of a live run and the settings they are built with."""
    if settings.run is None:
        raise UsageError("a live run needs its policies: RealtimeSettings(run=...)")
    return settings.run


def _mode(base: RealtimeResult, mode: str, threshold: float, aggregate: str) -> RealtimeResult:
    """A run in ``mode``, with the async settings it ran with (None in sync and remote mode)."""
    return replace(
        base,
        mode=mode,
        threshold=threshold if mode == "async" else None,
        aggregate=aggregate if mode == "async" else None,
    )


def _measure_policy(
    settings: RealtimeSettings,
    device: str,
    build,
    base: RealtimeResult,
    clock,
    sleep_until,
    log: Log,
    entries: list[RealtimeResult],
    doing: list[RealtimeResult],
    inputs: dict[str, dict[str, list[int]]],
    configs: dict[str, dict[str, object]],
) -> None:
    """One policy built, then run in each mode (and through the PolicyServer); ``doing`` holds
    the entry being measured, ``inputs`` gets the shapes of the observation fed to it."""
    cfg, hz, name = _live(settings), settings.hz[0], base.policy
    threshold, aggregate, ticks = settings.thresholds[0], settings.aggregate, settings.ticks_at(hz)
    adapter = None
    try:
        adapter = build(name, cfg.profile, cfg.overrides_for(name), device, cfg.seed)
        obs = synthetic_observation(
            adapter.input_specs(), device, cfg.seed, extra=adapter.extra_inputs(cfg.profile.task)
        )
        inputs[name] = input_shapes(obs)
        configs[name] = adapter.describe()
        for mode in settings.modes:
            doing[:] = [_mode(base, mode, threshold, aggregate)]
            if mode == "rtc":
                entries.append(rtc_entry(adapter, settings, device, clock, sleep_until, doing[0], log))
                continue
            log(f"{name}: {mode} at {hz:g} Hz for {ticks} ticks")
            entries.append(paced_run(adapter, obs, cfg, clock, sleep_until, doing[0], ticks))
        if settings.remote and settings.remote_calls > 0:
            doing[:] = [_mode(base, "remote", threshold, aggregate)]
            log(f"{name}: {settings.remote_calls} round trips through LeRobot's policy server")
            try:
                measured = measure_remote(
                    adapter, obs, cfg, device, clock, settings.remote_calls, settings.port, doing[0]
                )
            except Exception as exc:  # noqa: BLE001 - the in-process modes above stand
                measured = replace(doing[0], status=FAILED, error=describe_error(exc))
                log(f"{name}: remote FAILED: {str(measured.error).splitlines()[0]}")
            entries.append(measured)
    finally:
        del adapter
        release_memory(device)


def paced_run(adapter, obs, cfg: RunSettings, clock, sleep_until, run_: RealtimeResult, ticks: int) -> RealtimeResult:
    """``run_`` (its mode, rate and async settings) after a paced run and its warm-up: the
    summary (with the chunk and the ticks a verdict needs), the ticks, and in async mode the
    latencies of the chunks that arrived."""
    mode, hz, threshold, aggregate = run_.mode, run_.hz, run_.threshold or 0.0, run_.aggregate or ""
    chunk = int(adapter.describe().get("n_action_steps") or 1)
    if mode == "sync":
        warm_up(adapter, obs, clock, max(cfg.warmup, 1), cfg.max_seconds)
        run = run_sync(adapter, obs, clock, sleep_until, hz, ticks)
        needed = ticks_needed(mode, chunk, hz, None, 0.0)
        return replace(
            run_,
            status=OK,
            summary={**summarize_ticks(run, hz), "chunk_length": chunk, "ticks_needed": needed},
            ticks=stored_ticks(run, hz),
        )
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
    return replace(
        run_,
        status=OK,
        summary={
            **summarize_ticks(result.ticks, hz, result.chunk_latencies),
            "chunk_length": chunk,
            "ticks_needed": needed,
        },
        ticks=stored_ticks(result.ticks, hz),
        chunk_latencies_ms=[x * 1000 for x in result.chunk_latencies],
    )


def measure_remote(
    adapter, obs, cfg: RunSettings, device: str, clock, calls: int, port: int | None, run_: RealtimeResult
) -> RealtimeResult:
    """``run_`` after round trips through LeRobot's PolicyServer, next to the same chunk computed
    in-process."""
    in_process = []
    for _ in range(calls + 1):
        start = clock.read()
        adapter.predict_chunk(obs)
        in_process.append((clock.read() - start) * 1000)
    remote = run_remote(adapter, cfg.profile, calls, warmup=1, port=port, device=device)
    trips = [x * 1000 for x in remote.round_trips]
    rt, ip = summarize(trips), summarize(in_process[1:])
    summary = {
        "calls": len(trips),
        "round_trip_median_ms": rt["median_ms"],
        "round_trip_p99_ms": rt["p99_ms"],
        "round_trip_min_ms": rt["min_ms"],
        "in_process_chunk_median_ms": ip["median_ms"],
        **overhead(trips, in_process[1:]),
        "chunk_length": remote.chunk_length,
    }
    return replace(run_, status=OK, summary=summary, round_trips_ms=trips, in_process_chunks_ms=in_process[1:])


RTC_MODES_ELSE = "sync, async, remote"  # the modes a policy without RTC support runs in
FIRST_CHUNK_TIMEOUT_S = 600.0  # the engine's first (cold) chunk; pi0 on a CPU takes about 20 s


def rtc_entry(
    adapter, settings: RealtimeSettings, device: str, clock, sleep_until, run_: RealtimeResult, log: Log
) -> RealtimeResult:
    """``run_`` run through LeRobot's RTC engine, or skipped (one line) where the policy or the
    installed LeRobot has no RTC; with ``--mode rtc`` alone that line is a usage error."""
    from policybench.lerobot_adapter.rtc import rtc_problem, supports_rtc

    policy = getattr(adapter, "policy", None)
    problem = rtc_problem()
    if problem is None and (policy is None or not supports_rtc(policy)):
        problem = (
            f"{run_.policy} does not support Real-Time Chunking (LeRobot's supports_rtc_inference); "
            f"its modes: {RTC_MODES_ELSE}"
        )
    if problem:
        if settings.modes == ("rtc",):
            raise UsageError(problem)
        log(f"{run_.policy}: rtc skipped: {problem}")
        return replace(run_, status=SKIPPED, error=problem)
    return measure_rtc(adapter, settings, device, clock, sleep_until, run_, log)


def measure_rtc(
    adapter, settings: RealtimeSettings, device: str, clock, sleep_until, run_: RealtimeResult, log: Log
) -> RealtimeResult:
    """LeRobot's RTC engine, cold as lerobot-rollout starts it, at the rate; then plain and guided
    chunks of the same policy timed in turn (the guidance's cost)."""
    from policybench.measure.remote import robot_features_of
    from policybench.control.rtc import run_rtc
    from policybench.lerobot_adapter import rtc as lr
    from policybench.policies.pipeline import processors_for

    cfg, hz, ticks, policy = _live(settings), run_.hz, settings.ticks_at(run_.hz), adapter.policy
    chunk = lr.chunk_length(policy)
    _check_rtc_sizes(settings, run_.policy, chunk)
    hw, raw = robot_features_of(adapter.input_specs(), cfg.profile.task, f"{run_.policy}'s inputs")
    pre, post = processors_for(policy, run_.policy if policies.is_checkpoint(run_.policy) else None, device)
    with lr.rtc_enabled(policy, settings.execution_horizon, settings.max_guidance_weight):
        engine = lr.LeRobotEngine(
            policy, pre, post, hw, cfg.profile.action_dim, cfg.profile.task, hz, device, settings.queue_threshold
        )
        log(
            f"{run_.policy}: rtc at {hz:g} Hz for {ticks} ticks (LeRobot's RTC engine, queue threshold "
            f"{settings.queue_threshold}, execution horizon {settings.execution_horizon})"
        )
        run = run_rtc(engine, raw, clock, sleep_until, hz, ticks, FIRST_CHUNK_TIMEOUT_S)
        pairs = _refill_pairs(
            policy, lr.engine_batch(pre, hw, raw, cfg.profile.task, device), run, settings, clock, log, run_.policy
        )
    return rtc_result(run_, run, settings, chunk, pairs)


def _check_rtc_sizes(settings: RealtimeSettings, name: str, chunk: int) -> None:
    if settings.execution_horizon > chunk:
        raise SettingsError(
            f"{{execution_horizon}} {settings.execution_horizon} is larger than {literal(name)}'s "
            f"chunk of {chunk} actions"
        )
    if settings.queue_threshold >= chunk:
        raise SettingsError(
            f"{{queue_threshold}} {settings.queue_threshold} must be below {literal(name)}'s chunk "
            f"of {chunk} actions (0 to {chunk - 1}): at or above it the engine never stops computing"
        )


def _refill_pairs(policy, batch, run, settings: RealtimeSettings, clock, log: Log, name: str):
    """``settings.guidance_pairs`` (plain, guided) pairs at the delay the engine used (its largest),
    each said as it ends; their time estimated up front from the chunks the engine computed."""
    from policybench.lerobot_adapter.rtc import refill_pair

    count = settings.guidance_pairs
    if count == 0:
        log(f"{name}: no plain and guided chunks timed (--guidance-pairs 0): the guidance's cost is not measured")
        return []
    delay = max((x.delay_used for x in run.inferences), default=0)
    log(
        f"{name}: {count} plain and guided chunk{'s' if count != 1 else ''} in turn (guidance at d={delay})"
        f"{_pairs_estimate([x.latency for x in run.inferences], count)} (--guidance-pairs N: another count, 0 none)"
    )
    pairs = []
    for k in range(count):
        pairs.append(refill_pair(policy, batch, delay, settings.execution_horizon, clock))
        plain, guided = pairs[-1]
        log(f"{name}: pair {k + 1} of {count}: plain chunk {_seconds(plain)}, guided {_seconds(guided)}")
    return pairs


def _pairs_estimate(latencies: list[float], count: int) -> str:
    """ ", about 2 min": ``count`` pairs of two chunks each at the median chunk the engine computed
    after its first (cold) one; "" without one."""
    from policybench.stats import percentile

    warm = latencies[1:] or latencies
    return f", about {_seconds(2 * count * percentile(warm, 50))}" if warm else ""


def _seconds(seconds: float) -> str:
    """ "850 ms", "12.3 s", "2.5 min": a duration as a progress line says it."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def rtc_result(
    run_: RealtimeResult, run, settings: RealtimeSettings, chunk: int, pairs: list[tuple[float, float]]
) -> RealtimeResult:
    """``run_`` with the figures and records of an RTC run (``run``: control.rtc.RtcRun)."""
    from policybench.control.metrics import rtc_figures

    hz = run_.hz
    latencies = [x.latency for x in run.inferences]
    plain, guided = [p for p, _ in pairs], [g for _, g in pairs]
    summary = {
        **summarize_ticks(run.ticks, hz, run.merged_in_loop()),
        **rtc_figures(
            latencies, [x.delay_used for x in run.inferences], hz, chunk, settings.execution_horizon, plain, guided
        ),
        "queue_threshold": settings.queue_threshold,
        "max_guidance_weight": settings.max_guidance_weight,
        "ticks_needed": rtc_ticks_needed(chunk, hz, settings.queue_threshold, max(latencies)),
    }
    return replace(
        run_,
        status=OK,
        summary=summary,
        ticks=stored_ticks(run.ticks, hz),
        inferences=[x.stored(run.t0) for x in run.inferences],
        plain_refills_ms=[x * 1000 for x in plain],
        guided_refills_ms=[x * 1000 for x in guided],
    )
