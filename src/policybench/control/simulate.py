"""The real-time verdict computed from a results file's measured samples, without running a policy.

The same paced loops as a live run, on a virtual clock: in sync mode each tick costs the next
measured step or refill latency (in the order they were measured, cycled); in async mode each
chunk costs the next measured refill latency.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from policybench.errors import UsageError
from policybench.identity import Identity
from policybench.control.budget import (
    ASYNC,
    SYNC,
    Alternative,
    HighestRate,
    Knobs,
    PolicyBudget,
    Refills,
    judged,
    policy_budget,
    rtc_ticks_needed,
    ticks_needed,
)
from policybench.control.metrics import rtc_figures, summarize_ticks
from policybench.control.paced import run_async, run_sync
from policybench.control.rtc import VirtualEngine, replayed, run_rtc
from policybench.control.virtual import ReplayPolicy, VirtualClock, VirtualWorker
from policybench.policies.labels import label
from policybench.results import OK, PolicyResult, RealtimeResult, RunResults, Summary
from policybench.samples import REFILL, STEP, latencies
from policybench.sizes import MAX_SEQUENCE

MAX_TICKS = 1_000_000  # per rate and mode: a few seconds of simulation each
RTC = "rtc"


@dataclass(frozen=True)
class Costs:
    """What a simulation needs of a policy: its chunk and its measured latencies, in seconds."""

    policy: str
    chunk: int
    step: list[float]
    refill: list[float]


def costs_from_result(r: PolicyResult) -> Costs:
    refill = [x / 1000 for x in latencies(r.samples, REFILL)]
    if r.status != OK or not refill:
        raise UsageError(f"results file has no refill samples for '{r.name}'; run it again with policybench run --json")
    return Costs(r.name, chunk_length(r), [x / 1000 for x in latencies(r.samples, STEP)], refill)


def chunk_length(r: PolicyResult) -> int:
    """Calls per refill cycle as measured: the most common spacing of refill indices (what the
    queue really held, e.g. TD-MPC's action repeats), else the config's n_action_steps."""
    from collections import Counter

    idx = [s.i for s in r.samples if s.phase == REFILL]
    gaps = Counter(b - a for a, b in zip(idx, idx[1:]))
    steps = r.config.get("n_action_steps")
    chunk = gaps.most_common(1)[0][0] if gaps else int(steps) if isinstance(steps, int) and steps else 1
    if chunk > MAX_SEQUENCE:  # a results file from elsewhere: the simulated queue would hold them all
        raise UsageError(
            f"{r.name}: a chunk of {chunk:,} actions (calls per refill); a simulation replays at most {MAX_SEQUENCE:,}"
        )
    return chunk


def simulate_sync(costs: Costs, hz: float, ticks: int) -> Summary:
    clock = VirtualClock()
    policy = ReplayPolicy(clock, costs.chunk, costs.step, costs.refill, name=costs.policy)
    summary = summarize_ticks(run_sync(policy, {}, clock.clock(), clock.sleep_until, hz, ticks), hz)
    return {**summary, **_needs(costs, SYNC, hz, None)}


def simulate_async(costs: Costs, hz: float, ticks: int, threshold: float, aggregate: str) -> Summary:
    clock = VirtualClock()
    worker = VirtualWorker(clock, costs.chunk, costs.refill)
    run = run_async(worker, {}, clock.clock(), clock.sleep_until, hz, ticks, [0.0] * costs.chunk, threshold, aggregate)
    return {**summarize_ticks(run.ticks, hz, run.chunk_latencies), **_needs(costs, ASYNC, hz, threshold)}


def _needs(costs: Costs, mode: str, hz: float, threshold: float | None) -> Summary:
    """The chunk and the ticks a verdict needs (two refills, at the slowest measured refill)."""
    return {
        "chunk_length": costs.chunk,
        "ticks_needed": ticks_needed(mode, costs.chunk, hz, threshold, max(costs.refill)),
    }


def tick_counts(rates: list[float], seconds: float, ticks: int | None) -> list[tuple[float, int]]:
    """(rate, ticks) of each simulated run: ``ticks``, else ``seconds`` at the rate; UsageError
    where that is more than MAX_TICKS."""
    counts = [(hz, ticks if ticks is not None else max(int(round(seconds * hz)), 2)) for hz in rates]
    for hz, n in counts:
        if n > MAX_TICKS:
            asked = f"--ticks {n:,} is" if ticks is not None else f"--hz {hz:g} for {seconds:g} s is {n:,} ticks,"
            raise UsageError(
                f"{asked} more than the {MAX_TICKS:,} a simulated run may have: lower "
                + ("--ticks" if ticks is not None else "--hz or --seconds")
            )
    return counts


def simulate(
    results: RunResults,
    rates: list[float],
    thresholds: list[float],
    seconds: float,
    aggregate: str = "weighted_average",
    policies: list[str] | None = None,
    ticks: int | None = None,
) -> list[RealtimeResult]:
    """One entry per policy, rate and mode (and threshold in async mode), each run for ``ticks``
    ticks or else ``seconds`` of virtual time; UsageError, before anything runs, where that is
    more than MAX_TICKS."""
    counts = tick_counts(rates, seconds, ticks)
    chosen = [r for r in results.results if policies is None or r.name in policies]
    if policies:
        missing = sorted(set(policies) - {r.name for r in chosen})
        if missing:
            raise UsageError(
                f"results file has no policy {', '.join(missing)}; it has {', '.join(r.name for r in results.results)}"
            )
    entries: list[RealtimeResult] = []
    for r in chosen:
        if r.status != OK:
            continue
        costs = costs_from_result(r)
        flag = not_equivalent(r.equivalence)
        for hz, n in counts:
            base = RealtimeResult(
                r.policy, SYNC, hz, "simulated", not_equivalent=flag, variant=r.variant, point=r.point
            )
            entries.append(replace(base, summary=simulate_sync(costs, hz, n)))
            for g in thresholds:
                entries.append(
                    replace(
                        base,
                        mode=ASYNC,
                        threshold=g,
                        aggregate=aggregate,
                        summary=simulate_async(costs, hz, n, g, aggregate),
                    )
                )
    if not entries:
        rtc = any(e.mode == RTC and e.inferences for e in results.realtime)
        raise UsageError(
            "results file has no successfully measured policy to simulate"
            + (
                "; its live rtc runs replay with --mode rtc"
                if rtc
                else "; 'policybench run --json FILE' measures them, 'realtime --json FILE' a live run"
            )
        )
    return entries


def from_live_ticks(results: RunResults) -> list[PolicyResult]:
    """A live ``realtime`` file's sync runs as measured policies: each sync tick is one
    select_action call, its work (end - start) a step or refill sample as the loop told them
    apart, so ``--simulate`` replays them at other rates and thresholds. Async runs are left
    out: their ticks pop actions, the chunks were computed elsewhere."""
    from policybench.samples import Sample

    out = []
    for e in results.realtime:
        if e.mode != SYNC or e.source != "measured" or not e.ticks:
            continue
        name = (
            f"{e.policy}@{e.hz:g}Hz"
            if sum(x.policy == e.policy and x.mode == SYNC for x in results.realtime) > 1
            else e.policy
        )
        samples = [Sample(t.k, t.phase, max(0.0, t.work_ms)) for t in e.ticks if t.phase in (STEP, REFILL)]
        out.append(PolicyResult(policy=name, status=OK, samples=samples, config=recorded_config(results, e.policy)))
    return out


def not_equivalent(equivalence: dict | None) -> str | None:
    """Why a variant's actions do not count as the policy's (above its tolerance), or None."""
    if not equivalence or equivalence.get("equivalent", True):
        return None
    return (
        f"its actions are {equivalence['rel_error']:.1e} off fp32 eager's, above the tolerance of "
        f"{equivalence['tolerance']:g}"
    )


def highest_rates(entries: list[RealtimeResult]) -> list[HighestRate]:
    """Per policy: the highest rate with no missed deadline (sync) and, per threshold, with no
    starved tick (async). Only a run that saw at least two refills can qualify; the rates of
    those that did not are listed under ``not_judged``."""
    out = []
    ok = [e for e in entries if e.ok and e.mode in (SYNC, ASYNC)]
    for name in dict.fromkeys(e.name for e in ok):
        mine = [e for e in ok if e.name == name]
        row = HighestRate(mine[0], not_equivalent=mine[0].not_equivalent)
        for key in dict.fromkeys(SYNC if e.mode == SYNC else e.threshold or 0.0 for e in mine):
            runs = [e for e in mine if (SYNC if e.mode == SYNC else e.threshold) == key]
            held = [e.hz for e in runs if judged(e.summary) and _held(e)]
            best = max(held) if held else None
            if isinstance(key, str):
                row.sync_hz = best
            else:
                row.async_hz[key] = best
            unjudged = [e.hz for e in runs if not judged(e.summary)]
            if unjudged:
                row.not_judged[key] = unjudged
        out.append(row)
    return out


def _held(e: RealtimeResult) -> bool:
    return e.summary["deadline_misses"] == 0 if e.mode == SYNC else e.summary["starved_ticks"] == 0


def simulated_budgets(results: RunResults, entries: list[RealtimeResult]) -> list[PolicyBudget]:
    """Per policy simulated, the budgets against its measured refills, with the settings of the
    same policy the file also measured (sweep points, variants with equivalent actions)."""
    measured = {r.identity: r for r in results.results if r.status == OK}
    out = []
    firsts: dict[Identity, RealtimeResult] = {}  # each result's first run
    for e in entries:
        if e.mode in (SYNC, ASYNC):  # rtc replays chunks of a live run, not a result's refills
            firsts.setdefault(e.identity, e)
    for run in firsts.values():
        r = measured[run.identity]
        costs = costs_from_result(r)
        refills = Refills.of(costs.refill)
        budget = (
            None
            if refills is None
            else policy_budget(run, costs.chunk, refills, entries, alternatives(r, results.results), knobs_of(r))
        )
        if budget is not None:
            out.append(budget)
    return out


def run_budgets(results: RunResults, hz: float, threshold: float = 0.5) -> list[PolicyBudget]:
    """``policybench run --hz``: each measured policy's budgets at ``hz``, sync and async at
    ``threshold`` (LeRobot's default chunk_size_threshold), and what would hold; a variant or a
    sweep point of the same policy counts as what would hold, not as a policy of its own."""
    base = [r for r in results.results if r.status == OK and r.identity.plain and latencies(r.samples, REFILL)]
    entries = [
        RealtimeResult(r.policy, mode, hz, "simulated", threshold=g, variant=r.variant, point=r.point)
        for r in base
        for mode, g in ((SYNC, None), (ASYNC, threshold))
    ]
    return simulated_budgets(results, entries)


SETTING_FLAGS = {"cameras": "--cameras", "image_size": "--image-size", "threads": "--threads"}
# The config fields of the settings what would hold names, for a results file that does not record
# them (config.set_fields, from 0.x on): the LeRobot types whose fields are these in every release.
KNOWN_FIELDS = {
    "act": ("chunk_size", "num_inference_steps"),
    "smolvla": ("chunk_size", "num_steps"),
    "diffusion": ("horizon", "num_inference_steps"),
    "pi0": ("chunk_size", "num_inference_steps"),
    "pi05": ("chunk_size", "num_inference_steps"),
}
KNOWN_MULTIPLES = {"diffusion": 8}  # its U-Net's default down_dims (3 downsamplings): a horizon a multiple of 8


def knobs_of(r: PolicyResult) -> Knobs | None:
    """The settings of ``r``'s policy that what would hold may change (its config as measured),
    with --breakdown's cost of one denoising step where it was measured; None for a policy whose
    settings are not known (noop, a checkpoint whose type the file does not record)."""
    from policybench.anatomy.summary import split

    cfg = r.config
    kind = cfg.get("policy_type") if isinstance(cfg.get("policy_type"), str) else r.policy
    recorded = cfg.get("set_fields")
    if isinstance(recorded, dict):
        fields = {k: v for k, v in recorded.items() if isinstance(v, str) and v.isidentifier()}
    elif kind in KNOWN_FIELDS:
        chunk_field, steps_field = KNOWN_FIELDS[str(kind)]
        fields = {
            "n_action_steps": "n_action_steps",
            "chunk_size": chunk_field,
            **({"inference_steps": steps_field} if _count(cfg.get("inference_steps")) else {}),
        }
    else:
        return None
    if not isinstance(kind, str) or not kind.isidentifier() or not fields:
        return None
    chunk_size, steps, obs = (
        _count(cfg.get("chunk_size")),
        _count(cfg.get("inference_steps")),
        _count(cfg.get("n_obs_steps")),
    )
    executable = chunk_size - (obs - 1) if chunk_size and obs and fields.get("chunk_size") == "horizon" else chunk_size
    step_cost = None
    parts = split(r.breakdown) if r.breakdown and steps else None
    if parts is not None and not parts.note:
        per_step = [p.median_ms for p in parts.parts if p.repeat == "per step"]
        step_cost = sum(per_step) / 1000 / steps if per_step and steps else None
    multiple = _count(cfg.get("chunk_multiple")) or (
        KNOWN_MULTIPLES.get(kind, 1) if not isinstance(recorded, dict) else 1
    )
    return Knobs(kind, fields, chunk_size, executable, steps, step_cost, multiple)


def _count(value: object) -> int | None:
    """A positive count of a config, or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def alternatives(r: PolicyResult, results: list[PolicyResult]) -> list[Alternative]:
    """The other measured settings of ``r``'s policy, each with the flags that select it: sweep
    points (``--cameras 1``, ``--set smolvla.num_steps=5``) and variants (``--variant compile``),
    a variant only if its actions are equivalent."""
    out = []
    for other in results:
        if other is r or other.status != OK or other.policy != r.policy or not latencies(other.samples, REFILL):
            continue
        flags = [
            f"{SETTING_FLAGS[k]} {v}" if k in SETTING_FLAGS else f"--set {k}={v}"
            for k, v in other.point.items()
            if r.point.get(k) != v
        ]
        if other.variant and other.variant != r.variant:
            if not_equivalent(other.equivalence):
                continue
            flags.append(f"--variant {other.variant}")
        refills = Refills.of([x / 1000 for x in latencies(other.samples, REFILL)])
        if flags and refills is not None:
            out.append(Alternative(other, " ".join(flags), chunk_length(other), refills))
    return out


# LeRobot 0.6.1's policy types whose config has an rtc_config (docs: FINDINGS): what a refusal to
# replay names as the policies a live rtc run can measure
RTC_TYPES = ("smolvla", "pi0", "pi05", "pi0_fast", "evo1", "molmoact2")


def rtc_runs(
    results: RunResults, policies: list[str] | None = None, rates: list[float] | None = None
) -> list[RealtimeResult]:
    """The file's live rtc runs with chunks to replay (``policies``: only these); a UsageError
    naming the command that measures one (at the first of ``rates``) where there is none."""
    runs = [
        e
        for e in results.realtime
        if e.mode == RTC
        and e.source == "measured"
        and e.ok
        and e.inferences
        and (policies is None or e.policy in policies)
    ]
    if not runs:
        raise UsageError(no_rtc_run(results, policies, rates))
    return runs


def no_rtc_run(results: RunResults, policies: list[str] | None, rates: list[float] | None) -> str:
    """Why nothing replays with --mode rtc, and the commands that make and replay a live rtc run:
    of the file's policies that can run LeRobot's RTC engine (a checkpoint by its path), else of
    SmolVLA, saying that the file's policies have none."""
    names = list(dict.fromkeys(r.policy for r in results.results if policies is None or r.name in policies))
    paths = [n for n in names if "/" in n or "\\" in n]
    types = [n for n in names if n in RTC_TYPES]
    which = " ".join([f"--policies {','.join(types)}"] * bool(types) + [f"--policy-path {p}" for p in paths])
    hz = f" --hz {rates[0]:g}" if rates else ""
    measure = (
        f"measure one with 'policybench realtime --mode rtc {which or '--policies smolvla'}{hz} --json rtc.json', "
        "then replay it with 'policybench realtime --simulate rtc.json --mode rtc'"
    )
    without = [label(n) for n in names if n not in types and n not in paths]
    none = (
        f"; {', '.join(without)} {'has' if len(without) == 1 else 'have'} no Real-Time Chunking (LeRobot's RTC "
        f"engine runs {', '.join(RTC_TYPES)})"
        if without and not which
        else ""
    )
    return f"results file has no live rtc run to replay (realtime --mode rtc records one): {measure}{none}"


def simulate_rtc(
    latencies: list[float], chunk: int, hz: float, ticks: int, queue_threshold: int, horizon: int
) -> Summary:
    """LeRobot's RTC engine replaying ``latencies`` (seconds, in the order measured: the cold one
    once, then the rest cycled) on the virtual clock, at ``hz`` for ``ticks`` ticks."""
    clock = VirtualClock()
    engine = VirtualEngine(clock.now, chunk, hz, queue_threshold, replayed(latencies))
    run = run_rtc(engine, {}, clock.clock(), clock.sleep_until, hz, ticks, first_timeout_s=max(latencies) + 1)
    done = [x.latency for x in run.inferences]
    return {
        **summarize_ticks(run.ticks, hz, run.merged_in_loop()),
        **rtc_figures(done, [x.delay_used for x in run.inferences], hz, chunk, horizon, [], []),
        "queue_threshold": queue_threshold,
        "ticks_needed": rtc_ticks_needed(chunk, hz, queue_threshold, max(latencies)),
    }


def smallest_rtc_setting(latencies: list[float], chunk: int, hz: float, ticks: int) -> Summary:
    """The smallest queue threshold with no starved tick in the replay (searched by halving: a
    higher threshold asks sooner), and the smallest execution horizon LeRobot's admission check
    lets through at the d the engine then uses (d <= H <= chunk - d); None where none does. A
    threshold whose replay merged too few chunks to judge (budget.judged) does not hold."""

    def starves(threshold: int) -> bool:
        s = simulate_rtc(latencies, chunk, hz, ticks, threshold, 1)
        return bool(s["starved_ticks"]) or not judged(s)

    if starves(chunk - 1):
        return {"smallest_queue_threshold": None, "smallest_execution_horizon": None}
    low, high = -1, chunk - 1  # low starves (or is below 0), high does not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if starves(middle) else (low, middle)
    d = simulate_rtc(latencies, chunk, hz, ticks, high, 1)["delay_engine_ticks"]
    horizon = None if not isinstance(d, int) or d > chunk - d else max(d, 1)
    return {"smallest_queue_threshold": high, "smallest_execution_horizon": horizon}


def replay_rtc(
    results: RunResults,
    rates: list[float],
    seconds: float,
    ticks: int | None,
    queue_threshold: int,
    horizon: int,
    policies: list[str] | None = None,
) -> list[RealtimeResult]:
    """One simulated rtc entry per live rtc run of the file and rate: the replay at the settings
    given, and (where that replay can be judged) the smallest that never starve."""
    entries = []
    counts = tick_counts(rates, seconds, ticks)
    for e in rtc_runs(results, policies, rates):
        latencies = [x.latency_ms / 1000 for x in e.inferences or []]
        chunk = int(e.summary["chunk_length"] or 0)
        for hz, n in counts:
            summary = simulate_rtc(latencies, chunk, hz, n, min(queue_threshold, chunk - 1), horizon)
            if judged(summary):  # too short a replay to judge the setting given says nothing of others
                summary |= smallest_rtc_setting(latencies, chunk, hz, n)
            entries.append(
                RealtimeResult(e.policy, RTC, hz, "simulated", variant=e.variant, point=e.point, summary=summary)
            )
    return entries


def recorded_config(results: RunResults, policy: str) -> dict[str, object]:
    """A live realtime run's settings of ``policy`` as measured (``run.configs``; {} in a file without)."""
    configs = results.run.get("configs")
    config = configs.get(policy) if isinstance(configs, dict) else None
    return dict(config) if isinstance(config, dict) else {}


def live_budgets(
    entries: list[RealtimeResult], configs: dict[str, dict[str, object]] | None = None
) -> list[PolicyBudget]:
    """Per policy, the budgets against the refills this run measured: the sync loop's refill
    ticks and the async loop's chunks (none for a policy that saw no refill); ``configs``, each
    policy's settings as measured, give the settings of the policy that would hold."""
    out = []
    for policy in dict.fromkeys(e.policy for e in entries):
        runs = [e for e in entries if e.policy == policy and e.status == OK and e.mode in ("sync", "async")]
        refills = [t.work_ms / 1000 for e in runs for t in e.ticks or [] if t.phase == REFILL]
        refills += [ms / 1000 for e in runs for ms in e.chunk_latencies_ms or []]
        chunks = [int(e.summary["chunk_length"] or 0) for e in sorted(runs, key=lambda e: e.mode != "async")]
        measured = Refills.of(refills)
        config = (configs or {}).get(policy)
        knobs = knobs_of(PolicyResult(policy, OK, config=dict(config))) if isinstance(config, dict) else None
        budget = policy_budget(runs[0], chunks[0], measured, runs, knobs=knobs) if measured and chunks else None
        if budget is not None:
            out.append(budget)
    return out
