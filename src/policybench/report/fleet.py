"""The fleet view: results files of several machines side by side, one column per machine.

Which of our computers holds 30 Hz with this policy, in which variant, at what cost in memory:
per policy (variant, sweep point) and machine, the refill and step medians with their 95 %
intervals, the peak memory, and the highest control rate held in sync and async mode, found as
``realtime --simulate`` finds it (the measured latencies replayed on a virtual clock). A row
whose machines measured it with different settings (profile, cameras, image size, config
fields) is marked and the difference named: its figures do not compare.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from policybench.control.budget import ASYNC, SYNC, async_budget_ticks, highest_rate, ticks_needed
from policybench.control.simulate import MAX_TICKS, costs_from_result, highest_rates, simulate
from policybench.errors import SettingsError, UsageError
from policybench.identity import Identity
from policybench.machine_load import busy_reason
from policybench.report.details import interval_notes
from policybench.report.format import _hardware_note, column_blocks, identity_label, median_text
from policybench.results import OK, PolicyResult, RunResults
from policybench.schema import JSON, one_line
from policybench.settings import MAX_HZ
from policybench.stats import min_samples_for_interval

THRESHOLD = 0.5  # async: LeRobot's default chunk_size_threshold, as run --hz judges it
SECONDS = 10.0  # virtual seconds replayed at each rate, as realtime --simulate's default
LADDER = (1000, 500, 250, 200, 120, 100, 60, 50, 30, 25, 20, 15, 10, 5, 2, 1)  # rates tried below the exact one
CONFIG_KEYS = ("chunk_size", "n_action_steps", "inference_steps")  # what a result's config says of its policy
NOT_COMPARABLE = "not comparable"
FEW_REFILLS = min_samples_for_interval()  # 6: below it a refill median has no 95 % interval
RERUN_REFILLS = 10  # what a warning asks for: run's default --refills
BUSY, TOO_FEW = "busy", "too few"  # the words a warning cell carries


@dataclass(frozen=True)
class Machine:
    """One column: the results measured on one machine, named for the table."""

    name: str
    environment: JSON
    run: JSON
    results: list[PolicyResult]
    source: str  # the results file it was read from

    def result(self, identity: Identity) -> PolicyResult | None:
        return next((r for r in self.results if r.identity == identity), None)


@dataclass(frozen=True)
class Rates:
    """The highest rate (Hz) held with no missed deadline (sync), no starved tick (async)."""

    sync_hz: float | None
    async_hz: float | None


@dataclass(frozen=True)
class FleetRow:
    """One policy (variant, sweep point): its result and rates on each machine (None: not measured
    there), and why its machines' figures do not compare (None when they do)."""

    label: str
    results: list[PolicyResult | None]
    rates: list[Rates | None]
    mismatch: str | None = None


@dataclass(frozen=True)
class Fleet:
    machines: list[Machine]
    rows: list[FleetRow]
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return render_fleet_table(self)


# ----------------------------------------------------------------------------- machines


def machine_name(env: JSON) -> str:
    """What the file says of its machine: "NVIDIA H200 (cuda), torch 2.11.0, lerobot 0.6.1", or
    for a CPU run its model, widest vector instructions and threads."""
    device = str(env.get("device") or "?")
    if device == "cpu":
        threads = f", {env['threads']} thread{'' if env['threads'] == 1 else 's'}" if env.get("threads") else ""
        hardware = f"{env.get('cpu_model') or 'CPU'} (cpu{_hardware_note(env)}{threads})"
    else:
        hardware = f"{env.get('device_name') or device} ({device}{_hardware_note(env)})"
    return one_line(f"{hardware}, torch {env.get('torch')}, lerobot {env.get('lerobot')}")


def machines(files: Sequence[tuple[str, RunResults]], labels: Sequence[str] = ()) -> list[Machine]:
    """One machine per file, in order, named by ``labels`` (in order; the rest by their facts);
    a file measured on several cluster nodes (``--ray``) is one machine per node."""
    if len(labels) > len(files):
        raise SettingsError(
            f"{{labels}} names {len(labels)} machines for {len(files)} results files: at most one per file"
        )
    out: list[Machine] = []
    for n, (path, results) in enumerate(files):
        label = labels[n] if n < len(labels) else None
        out += _split_by_node(path, results, label)
    return _distinct(out)


def _split_by_node(path: str, results: RunResults, label: str | None) -> list[Machine]:
    nodes: dict[str, list[PolicyResult]] = {}
    facts: dict[str, JSON] = {}  # each node's own environment, from its first result that has one
    for r in results.results:
        node = str(r.machine.get("node", ""))
        nodes.setdefault(node, []).append(r)
        own = {k: v for k, v in r.machine.items() if k != "node"}  # a task that died has none
        if own:
            facts.setdefault(node, own)
    if not nodes:
        raise UsageError(
            f"{path}: no measured policies to compare (a realtime-only file has none); "
            "'policybench run --json FILE' measures them on each machine"
        )
    out = []
    for node, rs in nodes.items():
        env = facts.get(node, {} if node else results.environment)  # a node whose task died: no facts
        name = label or machine_name(env)
        if node and len(nodes) > 1:  # a fleet file (--on): a column per node
            name = f"{label}/{node}" if label else node
        out.append(Machine(one_line(name), env, results.run, rs, path))
    return out


def _distinct(ms: list[Machine]) -> list[Machine]:
    """Machines of the same name told apart by their file's name, then by their place."""
    import dataclasses
    import os

    def dups(names: list[str]) -> set[str]:
        return {n for n in names if names.count(n) > 1}

    same = dups([m.name for m in ms])
    ms = [dataclasses.replace(m, name=f"{m.name} [{os.path.basename(m.source)}]") if m.name in same else m for m in ms]
    same = dups([m.name for m in ms])
    return [dataclasses.replace(m, name=f"{m.name} #{n + 1}") if m.name in same else m for n, m in enumerate(ms)]


# ----------------------------------------------------------------------------- rows


def highest_held(r: PolicyResult) -> Rates:
    """The highest rate each mode holds on ``r``'s measured latencies, as ``realtime --simulate``
    replays them: the exact rate the slowest refill allows (control.budget; at most MAX_HZ), then
    common rates below it, highest first, until each mode has one that held."""
    costs = costs_from_result(r)
    slowest = max(costs.refill)
    ticks = {SYNC: 1, ASYNC: async_budget_ticks(costs.chunk, THRESHOLD)}  # 0: async starves at any rate
    exact = [highest_rate(slowest, n) for n in ticks.values()]
    tried = sorted({min(hz, MAX_HZ) for hz in (*exact, *LADDER) if hz}, reverse=True)  # MAX_HZ: the most a loop asks
    found: dict[str, float | None] = {SYNC: None, ASYNC: None}
    for hz in tried:
        if all(found[mode] is not None or not n for mode, n in ticks.items()):
            break
        needed = max(ticks_needed(m, costs.chunk, hz, THRESHOLD, slowest) for m in (SYNC, ASYNC))
        length = min(MAX_TICKS, max(round(SECONDS * hz), 2 * needed))
        thresholds = [THRESHOLD] if found[ASYNC] is None and ticks[ASYNC] else []  # sync alone once async is known
        best = highest_rates(simulate(RunResults({}, {}, [r]), [hz], thresholds, SECONDS, ticks=length))[0]
        found[SYNC] = found[SYNC] or best.sync_hz
        found[ASYNC] = found[ASYNC] or best.async_hz.get(THRESHOLD)
    return Rates(found[SYNC], found[ASYNC])


def config_facts(m: Machine, r: PolicyResult) -> dict[str, str]:
    """What a result's figures depend on besides the machine: the robot's inputs, the ``--set``
    values of its policy, its chunk and step counts."""
    profile = m.run.get("profile")
    facts: dict[str, str] = {}
    if isinstance(profile, dict):
        cams = [c for c in profile.get("cameras") or [] if isinstance(c, dict)]
        facts["profile"] = str(profile.get("name"))
        facts["cameras"] = str(len(cams))
        facts["image size"] = ",".join(sorted({f"{c.get('height')}x{c.get('width')}" for c in cams})) or "-"
        facts |= {key: str(profile.get(key)) for key in ("state_dim", "action_dim")}
    else:
        facts["profile"] = "not recorded" if profile is None else str(profile)
    overrides = [o for o in m.run.get("overrides") or [] if isinstance(o, str) and o.startswith(f"{r.policy}.")]
    facts["--set"] = ", ".join(sorted(overrides)) or "none"
    return facts | {key: str(r.config.get(key)) for key in CONFIG_KEYS}


def mismatch(ms: list[Machine], rs: list[PolicyResult | None]) -> str | None:
    """The settings on which the machines that measured a row differ, the machines numbered as
    their columns: "cameras 1 on machines 1, 3; 2 on machine 2"."""
    facts = [(n + 1, config_facts(m, r)) for n, (m, r) in enumerate(zip(ms, rs)) if r is not None and r.status == OK]
    parts = []
    for key in dict.fromkeys(key for _, f in facts for key in f):  # a file without its run record has fewer
        on: dict[str, list[int]] = {}
        for n, f in facts:
            on.setdefault(f.get(key, "not recorded"), []).append(n)
        if len(on) > 1:
            parts.append(
                f"{key} "
                + "; ".join(
                    f"{value} on machine{'s' if len(ns) > 1 else ''} " + ", ".join(map(str, ns))
                    for value, ns in on.items()
                )
            )
    return " | ".join(parts) or None


def build_fleet(files: Sequence[tuple[str, RunResults]], labels: Sequence[str] = ()) -> Fleet:
    """The fleet of ``files`` (path, results), machines named by ``labels`` where given."""
    ms = machines(files, labels)
    identities = list(dict.fromkeys(r.identity for m in ms for r in m.results))
    rows: list[FleetRow] = []
    notes = [
        f"{m.name}: {machine_name(m.environment)}"
        for m in ms
        if m.environment and not m.name.startswith(machine_name(m.environment))
    ]
    for identity in identities:
        rs = [m.result(identity) for m in ms]
        first = next(r for r in rs if r is not None)
        label = identity_label(first.policy, first.variant, first.point)
        rates = [highest_held(r) if r is not None and r.status == OK and _has_refills(r) else None for r in rs]
        why = mismatch(ms, rs)
        rows.append(FleetRow(label, rs, rates, why))
        if why:
            notes.append(f"{label}: {NOT_COMPARABLE}: measured with different settings: {why}")
        notes += [
            f"{label} on machine {n + 1}: {r.status}: {_first_line(r.error)}"
            for n, r in enumerate(rs)
            if r is not None and r.status != OK
        ]
    notes += warning_notes(rows) + interval_notes([r for m in ms for r in m.results])
    return Fleet(ms, rows, notes)


def too_few_refills(r: PolicyResult) -> bool:
    """Measured with fewer refills than a median's 95 % interval needs, or cut by --max-seconds."""
    return r.status == OK and (r.summary()["refill"]["count"] < FEW_REFILLS or r.complete is False)


def warning_notes(rows: list[FleetRow]) -> list[str]:
    """What makes a column unreliable, as the single-file table says it: the machine busy with
    other work while it was measured (one note per machine and reason, naming the policies), too
    few refills (one note per policy and machine)."""
    busy: dict[tuple[int, str], list[str]] = {}
    few = []
    for row in rows:
        for n, r in enumerate(row.results):
            if r is None or r.status != OK:
                continue
            if (reason := busy_reason(r.machine_load)) is not None:
                busy.setdefault((n + 1, reason), []).append(row.label)
            if too_few_refills(r):
                few.append(f"{row.label} on machine {n + 1}: {_few_refills_text(r)}")
    return [
        f"machine {n} ({', '.join(labels)}): {reason} while measured: its figures are not reliable; "
        "measure again on a quiet machine"
        for (n, reason), labels in sorted(busy.items())
    ] + few


def _few_refills_text(r: PolicyResult) -> str:
    count = r.summary()["refill"]["count"]
    cut = r.complete is False and count >= FEW_REFILLS
    why = (
        "cut by --max-seconds before its refill cycles were done"
        if cut
        else f"{TOO_FEW} for a 95 % interval of the median ({FEW_REFILLS} needed)"
    )
    fix = (
        "give it a longer --max-seconds"
        if r.complete is False
        else f"measure with --refills {RERUN_REFILLS} or --refills auto"
    )
    return f"{count} refill{'s' if count != 1 else ''}: {why}, and its highest rates rest on the slowest of them; {fix}"


def _has_refills(r: PolicyResult) -> bool:
    return any(s.phase == "refill" for s in r.samples)


def _first_line(text: str | None) -> str:
    return one_line(text.splitlines()[0]) if text else "no reason recorded"


# ----------------------------------------------------------------------------- cells


def _summary_cell(phase: str) -> Callable[[PolicyResult, Rates | None], str]:
    return lambda r, _: median_text(r.summary()[phase]) if r.summary()[phase]["count"] else "-"


def _memory_cell(key: str) -> Callable[[PolicyResult, Rates | None], str]:
    def cell(r: PolicyResult, _: Rates | None) -> str:
        value = r.memory.get(key)
        return f"{value:,.0f}" if isinstance(value, (int, float)) else "-"

    return cell


def _rate_text(hz: float | None) -> str:
    """ "none", the rate, or ">= 10000" at the most a rate may be (a held MAX_HZ is a bound, not the limit)."""
    if hz is None:
        return "none"
    return f">= {hz:g}" if hz >= MAX_HZ else f"{hz:g}"


METRICS: list[tuple[str, Callable[[PolicyResult, Rates | None], str]]] = [
    ("refill median (ms)", _summary_cell("refill")),
    ("step median (ms)", _summary_cell("step")),
    ("peak RSS (MB)", _memory_cell("peak_rss_mb")),
    ("CUDA peak alloc (MB)", _memory_cell("cuda_max_allocated_mb")),
    ("highest rate sync (Hz)", lambda _, rates: "-" if rates is None else _rate_text(rates.sync_hz)),
    (f"highest rate async g={THRESHOLD:g} (Hz)", lambda _, rates: "-" if rates is None else _rate_text(rates.async_hz)),
]


def _load_cell(r: PolicyResult, _: Rates | None) -> str:
    """ "3 % CPU", "51 % CPU (busy)", "1 GPU process (busy)": the machine's other work while ``r``
    was measured (machine_load.py), "not recorded" where the file holds none."""
    cpu, gpu = r.machine_load.get("other_cpu"), r.machine_load.get("other_gpu_processes")
    parts = [f"{100 * cpu:.0f} % CPU"] if isinstance(cpu, (int, float)) else []
    if isinstance(gpu, int) and not isinstance(gpu, bool):
        parts.append(f"{gpu} GPU process{'es' if gpu != 1 else ''}")
    text = ", ".join(parts) or "not recorded"
    return f"{text} ({BUSY})" if busy_reason(r.machine_load) else text


def _refills_cell(r: PolicyResult, _: Rates | None) -> str:
    """ "10", "3 (too few)", "4 (too few, cut by --max-seconds)", "8 (cut by --max-seconds)"."""
    count = r.summary()["refill"]["count"]
    if not too_few_refills(r):
        return str(count)
    if r.complete is not False:
        return f"{count} ({TOO_FEW})"
    return f"{count} ({TOO_FEW}, cut by --max-seconds)" if count < FEW_REFILLS else f"{count} (cut by --max-seconds)"


# Shown for a policy only when one of its machines earns the warning: the machine busy with other
# work (machine_load.busy_reason), too few refills (too_few_refills); every machine's cell then.
WARNINGS: list[tuple[str, Callable[[PolicyResult, Rates | None], str], Callable[[PolicyResult], bool]]] = [
    ("other work on the machine", _load_cell, lambda r: busy_reason(r.machine_load) is not None),
    ("refills measured", _refills_cell, too_few_refills),
]


def fleet_cells(f: Fleet) -> tuple[list[str], list[list[str]]]:
    """(headers, rows): "Policy", "Metric", one column per machine. A metric no machine measured
    is left out of a policy's rows; a result not measured ok shows its status; a row that does not
    compare is marked; below the figures, what makes a machine's figures unreliable (WARNINGS)."""
    headers = ["Policy", "Metric", *(m.name for m in f.machines)]
    out = []
    for row in f.rows:
        label = f"{row.label} ({NOT_COMPARABLE})" if row.mismatch else row.label
        pairs = list(zip(row.results, row.rates))
        ok = [(r, rates) for r, rates in pairs if r is not None and r.status == OK]
        kept = [(name, cell) for name, cell in METRICS if any(cell(r, rates) != "-" for r, rates in ok)]
        if kept:
            kept += [(name, cell) for name, cell, flagged in WARNINGS if any(flagged(r) for r, _ in ok)]
        for name, cell in kept or [("status", lambda r, _: r.status)]:
            out.append(
                [
                    label,
                    name,
                    *(
                        "not measured" if r is None else cell(r, rates) if r.status == OK else r.status
                        for r, rates in pairs
                    ),
                ]
            )
    return headers, out


def render_fleet_table(f: Fleet, width: int | None = None) -> str:
    """The fleet as a terminal table, then its notes. A table wider than ``width`` characters
    (None: any width) names its machines "machine 1", ... in the header, each listed above it,
    and folds into blocks of as many machines as fit, the policy and metric repeated in each."""
    headers, rows = fleet_cells(f)
    legend: list[str] = []
    if width is not None and len(column_blocks(_widths(headers, rows), width, keep=2)) > 1:
        legend = [f"machine {n + 1}: {m.name}" for n, m in enumerate(f.machines)]
        headers = headers[:2] + [f"machine {n + 1}" for n in range(len(f.machines))]
    widths = _widths(headers, rows)
    blocks = column_blocks(widths, width, keep=2)

    def line(cells: list[str], columns: list[int]) -> str:
        return "  ".join(cells[i].ljust(widths[i]) for i in columns).rstrip()

    rule = "=" * max(len(line(headers, columns)) for columns in blocks)
    out = [rule, f"FLEET: {len(f.machines)} machines", *legend, rule]
    for columns in blocks:
        out += [line(headers, columns), "-" * len(rule)]
        previous = None
        for row in rows:
            out.append(line([row[0] if row[0] != previous else "", *row[1:]], columns))
            previous = row[0]
        out.append(rule)
    return "\n".join(out + [f"- {n}" for n in f.notes]) + "\n"


def _widths(headers: list[str], rows: list[list[str]]) -> list[int]:
    return [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]


def render_fleet_csv(f: Fleet) -> str:
    """One CSV row per policy and metric, one column per machine; the notes are not repeated."""
    headers, rows = fleet_cells(f)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([headers, *rows])
    return buf.getvalue()
