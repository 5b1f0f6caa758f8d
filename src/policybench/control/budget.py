"""The real-time budget at a control rate, and what would hold: pure arithmetic, no policy run.

Latencies are in seconds. sync: a refill runs on the loop's thread, so it must end within one
period. async (paced.run_async: a chunk of n executed actions is requested once the queue holds
at most g·n of them, one request in flight, the chunk starting at the request's timestep): no
tick starves iff the inference delay d = max(1, ceil(latency / period)) ticks is at most
min(floor(g·n) + 1, floor(n / 2)). The first bound is the actions left when the request goes out,
plus the tick the chunk arrives on; the second holds whatever g: the next request waits for the
chunk in flight, whose first d actions are stale on arrival, so the n - d left must outlast the
next chunk's d ticks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from policybench.control.metrics import EPS
from policybench.results import PolicyResult, RealtimeResult
from policybench.stats import percentile

MIN_REFILLS = 2  # refills a paced run must have seen before it may say "holds"
SYNC, ASYNC = "sync", "async"


def delay_ticks(latency: float, hz: float) -> int:
    """Ticks from a chunk's request to the tick that takes it: at least the next tick."""
    return max(1, math.ceil(latency * hz - EPS))


def async_budget_ticks(chunk: int, threshold: float) -> int:
    """The largest inference delay (ticks) with which an async loop never starves."""
    return min(math.floor(threshold * chunk + EPS) + 1, chunk // 2)


def budget_ticks(mode: str, chunk: int, threshold: float | None) -> int:
    return 1 if mode == SYNC else async_budget_ticks(chunk, threshold or 0.0)


def ticks_needed(mode: str, chunk: int, hz: float, threshold: float | None, latency: float) -> int:
    """Ticks a paced run needs to see MIN_REFILLS refills taking ``latency`` each. sync: the
    refills at ticks 0 and n. async: the first request at k1 = n - 1 - floor(g·n), its chunk taken
    d ticks later; the second request once that chunk is in and the queue is down to g·n again."""
    if mode == SYNC:
        return chunk + 1
    first = max(0, chunk - 1 - math.floor((threshold or 0.0) * chunk + EPS))
    d = delay_ticks(latency, hz)
    return first + max(d, first) + d + 1


def judged(summary: Mapping[str, object]) -> bool:
    """The run saw enough refills for a verdict (a summary without the count is not judged)."""
    seen = summary.get("refills_seen")
    return isinstance(seen, (int, float)) and seen >= MIN_REFILLS


@dataclass(frozen=True)
class Refills:
    """Measured refill latencies (seconds): what the budget is compared with."""

    median: float
    p95: float
    slowest: float
    count: int

    @classmethod
    def of(cls, latencies: list[float]) -> Refills | None:
        if not latencies:
            return None
        return cls(percentile(latencies, 50), percentile(latencies, 95), max(latencies), len(latencies))


@dataclass(frozen=True)
class Fit:
    """One mode at one rate against the measured refills."""

    mode: str
    hz: float
    threshold: float | None  # async only
    ticks: int  # the budget in periods: 1 for sync
    refills: Refills

    @property
    def budget(self) -> float:
        return self.ticks / self.hz

    @property
    def factor(self) -> float:
        """p95 refill / budget: above 1 it misses by this factor, below 1 the headroom is 1/factor."""
        return math.inf if self.ticks == 0 else self.refills.p95 / self.budget

    @property
    def holds(self) -> bool:
        """Every measured refill fits (the replay of them then misses no deadline / starves no tick)."""
        return fits(self.refills.slowest, self.hz, self.ticks)


def fits(latency: float, hz: float, ticks: int) -> bool:
    return ticks >= 1 and latency * hz <= ticks + EPS


def fit(mode: str, hz: float, chunk: int, threshold: float | None, refills: Refills) -> Fit:
    return Fit(mode, hz, threshold if mode == ASYNC else None, budget_ticks(mode, chunk, threshold), refills)


def rate_down(hz: float) -> float:
    """A rate to type, never above ``hz``: whole from 10 Hz up, else two significant digits."""
    if hz >= 10:
        return float(math.floor(hz + EPS))
    step = 10.0 ** (math.floor(math.log10(hz)) - 1)
    return math.floor(round(hz / step, 6)) * step


def highest_rate(latency: float, ticks: int) -> float | None:
    """The largest rate (rounded down to one a person types) at which ``latency`` fits ``ticks``
    periods; None when no rate does (an async budget of 0 ticks)."""
    return rate_down(ticks / latency) if ticks >= 1 and latency > 0 else None


def lowest_threshold(latency: float, hz: float, chunk: int) -> float | None:
    """The smallest threshold g (two decimals) at which async holds ``latency`` at ``hz``; None
    when none does (the delay exceeds half the chunk)."""
    d = delay_ticks(latency, hz)
    if d > chunk // 2:
        return None
    g = math.ceil(round((d - 1) / chunk * 100, 6)) / 100
    while async_budget_ticks(chunk, g) < d:  # two decimals rounded up can still fall short by EPS
        g = round(g + 0.01, 2)
    return g


@dataclass(frozen=True)
class Alternative:
    """A measured setting of the same policy (a sweep point, a variant with equivalent actions)."""

    measured: PolicyResult  # the result of that setting (a sweep point's, a variant's)
    flags: str  # what to set: "--set smolvla.num_steps=5", "--variant compile"
    chunk: int
    refills: Refills


@dataclass(frozen=True)
class Suggestion:
    """A flag to set, and the figures behind it: ``ticks`` periods at ``hz`` hold ``slowest``."""

    flags: str
    what: str  # the mode it holds: "sync", "async g=0.5"
    hz: float
    ticks: int
    slowest: float  # seconds: the slowest refill measured (of ``measured`` where given; estimated: ``estimate``)
    measured: PolicyResult | None = None  # the alternative measured with these flags; None: derived
    estimate: str = ""  # a setting of the policy: how its refill was estimated from the measured one
    budget: str = ""  # how ``ticks`` follow from the setting, where it changes them ("min(floor(0.5 x 40) + 1, 20)")


@dataclass(frozen=True)
class Knobs:
    """The settings of a measured policy that change its budget, and the config fields ``--set``
    names them by (``fields``: "n_action_steps", "chunk_size", "inference_steps" -> the field)."""

    policy_type: str  # --set's prefix: the built-in name, or a checkpoint's type
    fields: Mapping[str, str]
    chunk_size: int | None = None  # the chunk the model computes
    max_executed: int | None = None  # the most actions one refill can execute (n_action_steps' limit)
    steps: int | None = None  # denoising / flow-matching steps per refill
    step_cost: float | None = None  # seconds of one denoising step, as --breakdown measured it
    chunk_multiple: int = 1  # the model's chunk a multiple of this (Diffusion's U-Net: 2 ** its downsamplings)

    def flag(self, knob: str, value: int) -> str:
        return f"--set {self.policy_type}.{self.fields[knob]}={value}"


def smallest_chunk(d: int, threshold: float) -> int | None:
    """The fewest actions executed per refill (n_action_steps) with which an async loop at
    ``threshold`` holds an inference delay of ``d`` ticks: n >= 2d (half the chunk outlasts the
    next chunk's delay) and floor(g·n) + 1 >= d; None when no n does (g = 0 and d > 1)."""
    if threshold <= 0:
        return 2 * d if d <= 1 else None
    n = max(2 * d, math.ceil((d - 1) / threshold - EPS))
    while async_budget_ticks(n, threshold) < d:  # g·n rounded down can fall short by EPS
        n += 1
    return n


def most_steps(slowest: float, steps: int, step_cost: float | None, hz: float, ticks: int) -> tuple[int, float] | None:
    """The most denoising steps (below ``steps``) whose refill fits ``ticks`` periods at ``hz``, and
    that refill: the slowest measured less ``step_cost`` per step dropped (None: the whole refill
    scaled with the steps, the most a step can cost); None when even one step misses."""
    per = step_cost if step_cost is not None else slowest / steps
    if per <= 0 or ticks < 1:
        return None
    rest = slowest - steps * per  # what no step count changes
    s = min(steps - 1, math.floor((ticks / hz - rest) / per + EPS))
    while s >= 1 and not fits(rest + s * per, hz, ticks):
        s -= 1
    return (s, rest + s * per) if s >= 1 else None


def policy_settings(fits_: list[Fit], knobs: Knobs) -> tuple[list[Suggestion], list[str]]:
    """For the fits that miss: the settings of the policy that would hold them, each estimated
    from the slowest refill measured, and (second) the settings that hold none, with why.
    async: the fewest actions executed per refill (n_action_steps, with chunk_size where the
    model's chunk is too short: a chunk it was not trained with) whose queue outlasts the refill;
    sync and async: the most denoising steps whose refill fits, from the cost of one step
    (--breakdown's) or, without it, the refill scaled with the steps (the most a step can save)."""
    out: dict[str, Suggestion] = {}
    limits: list[str] = []
    missed = [f for f in fits_ if not f.holds]
    if "n_action_steps" in knobs.fields and any(f.mode == SYNC for f in missed):
        limits.append(
            f"no {knobs.policy_type}.{knobs.fields['n_action_steps']} holds sync: each refill still runs "
            "within one period, whatever the chunk (a longer one makes refills rarer, not shorter)"
        )
    for f in missed:
        if f.mode == ASYNC and "n_action_steps" in knobs.fields:
            _chunk_setting(f, knobs, out, limits)
        if knobs.steps and knobs.steps > 1 and "inference_steps" in knobs.fields:
            _steps_setting(f, knobs, out, limits)
    return list(out.values()), list(dict.fromkeys(limits))


def _chunk_setting(f: Fit, knobs: Knobs, out: dict[str, Suggestion], limits: list[str]) -> None:
    """The fewest actions executed per refill that hold ``f`` at its threshold."""
    g, d = f.threshold or 0.0, delay_ticks(f.refills.slowest, f.hz)
    n = smallest_chunk(d, g)
    field = f"{knobs.policy_type}.{knobs.fields['n_action_steps']}"
    if n is None:
        limits.append(
            f"no {field} holds async g={g:g}: at threshold 0 a chunk is asked for once the queue is "
            f"empty, and a refill of {_ms(f.refills.slowest)} takes {d} ticks"
        )
        return
    flags = knobs.flag("n_action_steps", n)
    beyond = knobs.max_executed is not None and n > knobs.max_executed
    if beyond and "chunk_size" in knobs.fields:
        size = n + (knobs.chunk_size or n) - (knobs.max_executed or n)  # Diffusion: n + n_obs_steps - 1
        size = -(-size // knobs.chunk_multiple) * knobs.chunk_multiple
        flags = f"{knobs.flag('chunk_size', size)} {flags}"
    estimate = (
        f"estimated from the slowest refill measured, {_ms(f.refills.slowest)}, which n_action_steps does "
        f"not change: {d} ticks at {f.hz:g} Hz"
    )
    if beyond:
        estimate += (
            f"; beyond the {knobs.max_executed} actions its chunk holds: a chunk it was not trained with, and "
            "a longer chunk costs more to compute: measure it"
        )
    ticks = async_budget_ticks(n, g)
    out.setdefault(
        flags,
        Suggestion(
            flags,
            _what(f),
            f.hz,
            ticks,
            f.refills.slowest,
            estimate=estimate,
            budget=f"min(floor({g:g} x {n}) + 1, {n // 2}) = {ticks} periods",
        ),
    )


def _steps_setting(f: Fit, knobs: Knobs, out: dict[str, Suggestion], limits: list[str]) -> None:
    """The most denoising steps whose refill fits ``f``'s budget as run."""
    steps, field = int(knobs.steps or 0), f"{knobs.policy_type}.{knobs.fields['inference_steps']}"
    found = most_steps(f.refills.slowest, steps, knobs.step_cost, f.hz, f.ticks)
    per = knobs.step_cost if knobs.step_cost is not None else f.refills.slowest / steps
    if knobs.step_cost is not None:
        how = (
            f"a denoising step {_ms(per)} as --breakdown measured it, the rest of the slowest refill "
            f"{_ms(f.refills.slowest - steps * per)}"
        )
    else:
        how = (
            f"the slowest refill, {_ms(f.refills.slowest)} for {steps} steps, scaled with the steps: the most a "
            "step can save (--breakdown measures a step's cost)"
        )
    if found is None:
        if knobs.step_cost is not None and f.ticks >= 1:
            limits.append(f"no {field} holds {_what(f)}: {how}, already over {_ms(f.budget)} with one step")
        return
    s, refill = found
    flags = knobs.flag("inference_steps", s)
    out.setdefault(
        flags, Suggestion(flags, _what(f), f.hz, f.ticks, refill, estimate=f"estimated refill {_ms(refill)} from {how}")
    )


def _ms(seconds: float) -> str:
    """ "72.9 ms", "1,240 ms": a duration of an estimate's line."""
    ms = seconds * 1000
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.3g} ms"


def what_would_hold(
    fits_: list[Fit], chunk: int, alternatives: Sequence[Alternative] = (), knobs: Knobs | None = None
) -> list[Suggestion]:
    """For the fits that miss: the largest rate that holds each mode, the smallest threshold that
    holds async at the rate (with ``--mode async`` when only sync was run), the measured
    alternatives that hold there, and (with ``knobs``) the settings of the policy that would
    (``policy_settings``). Each is derived from the slowest refill measured (an alternative's own),
    so a replay of the measurements holds it too; a setting of the policy is an estimate."""
    out: dict[str, Suggestion] = {}
    missed = [f for f in fits_ if not f.holds]
    for f in missed:
        rate = highest_rate(f.refills.slowest, f.ticks)
        if rate is not None:
            out.setdefault(f"--hz {rate:g}", Suggestion(f"--hz {rate:g}", _what(f), rate, f.ticks, f.refills.slowest))
    mode = "" if any(f.mode == ASYNC for f in fits_) else "--mode async "
    for f in [f for f in fits_ if f.mode == ASYNC and f.holds][:1] if missed else []:
        flags = f"--mode async --threshold {f.threshold:g}"  # held as run: no other threshold to suggest
        out[flags] = Suggestion(flags, _what(f), f.hz, f.ticks, f.refills.slowest)
    for f in missed if not any(f.mode == ASYNC and f.holds for f in fits_) else []:
        g = lowest_threshold(f.refills.slowest, f.hz, chunk)
        if g is not None:
            flags = f"{mode}--threshold {g:g}"
            out.setdefault(
                flags, Suggestion(flags, f"async g={g:g}", f.hz, async_budget_ticks(chunk, g), f.refills.slowest)
            )
    for alt in alternatives:
        holding = [f for f in missed if fits(alt.refills.slowest, f.hz, budget_ticks(f.mode, alt.chunk, f.threshold))]
        if holding and alt.flags not in out:
            f = holding[0]
            ticks = budget_ticks(f.mode, alt.chunk, f.threshold)
            out[alt.flags] = Suggestion(alt.flags, _what(f), f.hz, ticks, alt.refills.slowest, alt.measured)
    if knobs is not None and missed:
        for x in policy_settings(fits_, knobs)[0]:
            out.setdefault(x.flags, x)
    return list(out.values())


def _what(f: Fit) -> str:
    return SYNC if f.mode == SYNC else f"async g={f.threshold:g}"


@dataclass(frozen=True)
class PolicyBudget:
    """A policy's budgets at the rates and modes run, and what would hold at the highest rate."""

    run: RealtimeResult  # one of the policy's runs: its identity (policy, variant, point)
    chunk: int
    refills: Refills
    fits: list[Fit]
    suggestions: list[Suggestion]
    limits: list[str] = field(default_factory=list)  # settings of the policy that hold none, with why


@dataclass
class HighestRate:
    """A policy's highest rate with no missed deadline (sync) and, per threshold, with no starved
    tick (async); None where no rate qualifies. ``not_judged``: per mode key ("sync" or the
    threshold), the rates too short to judge."""

    run: RealtimeResult  # the policy's first run: its identity
    sync_hz: float | None = None
    async_hz: dict[float, float | None] = field(default_factory=dict)
    not_judged: dict[str | float, list[float]] = field(default_factory=dict)
    not_equivalent: str | None = None  # a variant whose actions are off: why it is not a win

    @property
    def policy(self) -> str:
        """The name the policy is shown by."""
        return self.run.name


def policy_budget(
    run: RealtimeResult,
    chunk: int,
    refills: Refills,
    entries: list[RealtimeResult],
    alternatives: Sequence[Alternative] = (),
    knobs: Knobs | None = None,
) -> PolicyBudget | None:
    """The budget of every sync/async entry of ``run``'s policy (same variant and sweep point)
    measured or simulated without error; None when it has none. ``knobs``: the policy's settings,
    for what would hold."""
    runs = [e for e in entries if e.name == run.name and e.ok and e.mode in (SYNC, ASYNC)]
    fits_ = [fit(e.mode, e.hz, chunk, e.threshold, refills) for e in runs]
    if not fits_:
        return None
    target = [f for f in fits_ if f.hz == max(f.hz for f in fits_)]
    limits = policy_settings(target, knobs)[1] if knobs is not None else []
    return PolicyBudget(run, chunk, refills, fits_, what_would_hold(target, chunk, alternatives, knobs), limits)


def rtc_ticks_needed(chunk: int, hz: float, queue_threshold: int, latency: float) -> int:
    """Ticks an RTC run needs to see MIN_REFILLS chunks merged during the loop, each taking
    ``latency``: the loop starts on a merged chunk less its d stale actions; the engine asks for
    the next once the queue is down to the threshold, and it arrives d ticks later."""
    d = delay_ticks(latency, hz)
    wait = max(0, chunk - d - queue_threshold)  # pops from a merge until the next request
    return wait + MIN_REFILLS * d + (MIN_REFILLS - 1) * wait + 1
