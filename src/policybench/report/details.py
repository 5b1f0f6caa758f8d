"""What every renderer shows beside the latencies, computed once: pipeline stages, variants
(speedup, equivalence, "not a win"), chunk settings and memory, and why a figure is "-".

Rows are ``[row label, cell per policy...]``, as the terminal table lays them out; the Markdown
and HTML reports show the same rows, the CSV the same values."""

from __future__ import annotations

from policybench.anatomy.summary import divergence_text
from policybench.report.format import identity_label, label, median_text
from policybench.results import OK, PolicyResult
from policybench.schema import one_line

NOT_A_WIN = "not a win"


def stage_rows(rs: list[PolicyResult]) -> list[list[str]]:
    """--pipeline: the median of each stage, per phase, in ms."""
    names: list[str] = []
    for r in rs:
        for stage in stages_of(r):
            if stage not in names:
                names.append(stage)
    rows = []
    for stage in names:
        for phase in ("step", "refill"):
            cells = [f"{stage} {phase} median (ms)"]
            for r in rs:
                stages = stages_of(r)
                cells.append(median_text(stages[stage][phase]) if stage in stages else "-")
            rows.append(cells)
    return rows


def stages_of(r: PolicyResult) -> dict:
    return (r.summary().get("stages") or {}) if r.status == OK else {}


def eager_of(r: PolicyResult, rs: list[PolicyResult]) -> PolicyResult | None:
    """The measured plain (eager) run of ``r``'s policy at ``r``'s sweep point."""
    return next((e for e in rs if e.identity == r.identity.reference and e.status == OK), None)


def not_a_win(r: PolicyResult) -> str | None:
    """'not a win: actions 2.7e-02 off fp32 eager (tolerance 0.01)' for a variant whose actions
    fail the equivalence check, else None."""
    eq = r.equivalence
    if r.status != OK or not eq or eq.get("equivalent", True):
        return None
    return f"{NOT_A_WIN}: actions {eq['rel_error']:.1e} off fp32 eager (tolerance {eq['tolerance']:g})"


def _speedup(r: PolicyResult, rs: list[PolicyResult], phase: str) -> str:
    eager = eager_of(r, rs)
    if r.status != OK or eager is None:
        return "-"
    a, b = eager.summary()[phase]["median_ms"], r.summary()[phase]["median_ms"]
    return f"{a / b:.2f} x" if a and b else "-"


def _equivalent(r: PolicyResult) -> str:
    """ "yes" (within the variant's own tolerance), "yes, within your 0.05" (--tolerance), or by
    how much it misses: "NO (2.5x over 0.02): not a win", "NO (2.5x over your 0.02): ..."."""
    eq = r.equivalence
    if r.status != OK or not eq:
        return "-"
    yours = "your " if eq.get("tolerance_given") else ""
    if eq["equivalent"]:
        return f"yes, within your {eq['tolerance']:g}" if yours else "yes"
    rel, tol = _number(eq, "rel_error"), _number(eq, "tolerance")
    if rel is None or tol is None:
        return f"NO: {NOT_A_WIN}"
    over = f"{rel / tol:.2g}x over {yours}{tol:g}" if tol > 0 else f"> {yours}{tol:g}"
    return f"NO ({over}): {NOT_A_WIN}"


def _action_diff(r: PolicyResult) -> str:
    """The largest and the median |Δaction|, in action units: "0.031 / 0.0042"."""
    eq = r.equivalence
    largest, median = _number(eq, "action_max_diff"), _number(eq, "action_median_diff")
    if r.status != OK or largest is None or median is None:
        return "-"
    return f"{largest:.2g} / {median:.2g}"


def _range_share(r: PolicyResult) -> str:
    share = _number(r.equivalence, "range_share") if r.status == OK else None
    return "-" if share is None else f"{100 * share:.2g} %"


def accuracy_notes(rs: list[PolicyResult]) -> list[str]:
    """Once per policy: in which units its action differences are, and that the figures are of
    random weights where they are (a trained checkpoint's are what a deployment gets)."""
    notes = []
    for policy in dict.fromkeys(r.policy for r in rs):
        eqs = [r.equivalence for r in rs if r.policy == policy and r.status == OK and "units" in r.equivalence]
        if not eqs:
            continue
        eq, name = eqs[0], identity_label(policy)
        units = (
            "action units, after the checkpoint's postprocessor"
            if eq["units"] == "action"
            else "the policy's output units (no dataset statistics to unnormalize with)"
        )
        span = (
            "each dimension's range in the dataset statistics"
            if eq.get("range_from") == "dataset statistics"
            else "the span of eager's chunk"
        )
        note = f"{name}: action |Δ| against fp32 eager in {units}; the share is of {span}"
        if eq.get("weights") == "random":
            note += (
                "; these accuracy figures are of random weights: a trained checkpoint's (--policy-path) "
                "are what a deployment gets"
            )
        notes.append(note)
    return notes


def divergence_notes(rs: list[PolicyResult]) -> list[str]:
    """For each variant that missed its tolerance and was traced: where it leaves fp32 eager."""
    notes = []
    for r in rs:
        found = r.equivalence.get("divergence")
        if isinstance(found, dict):
            first = found.get("first")
            if isinstance(first, dict):  # a name read from a file, shown on one line
                found = {**found, "first": {**first, "component": one_line(str(first.get("component")))}}
            notes.append(f"{label(r)}: {divergence_text(found)}")
    return notes


def _number(d: dict[str, object], key: str) -> float | None:
    value = d.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _floor(r: PolicyResult) -> str:
    """The refill median as a multiple of its floor; below 1 the floor is wrong, and said so."""
    x = _number(r.roofline, "x_of_floor") if r.status == OK else None
    if x is None:
        return "-"
    return f"{x:.1f} x" if x >= 1 else "below: floor wrong"


def _floor_precision(r: PolicyResult) -> str:
    precision = r.roofline.get("precision") if r.status == OK else None
    return one_line(precision) if isinstance(precision, str) else "-"


def below_floor(r: PolicyResult) -> str | None:
    """'ACT+openvino-bf16: refill median 60.6 ms is below its bf16 floor of 200 ms: ...' for a
    variant measured faster than its roofline floor allows, which only a wrong floor (a peak
    measured below what the variant reached) explains; else None."""
    rl = r.roofline
    x, floor = _number(rl, "x_of_floor"), _number(rl, "floor_ms")
    if r.status != OK or x is None or x >= 1 or not floor:
        return None
    precision = rl.get("precision")
    of = f"its {one_line(precision)} floor" if isinstance(precision, str) else "its floor"
    return (
        f"{label(r)}: refill median {x * floor:.3g} ms is below {of} of {floor:.3g} ms: the floor is wrong "
        "(a peak measured below what this variant reached), so no multiple of it is shown"
    )


def _first(r: PolicyResult) -> str:
    return "-" if r.first_chunk_seconds is None or r.status != OK else f"{r.first_chunk_seconds:.2f}"


def _rel(r: PolicyResult) -> str:
    return "-" if r.status != OK or not r.equivalence else f"{r.equivalence['rel_error']:.2g}"


def variant_rows(rs: list[PolicyResult]) -> list[list[str]]:
    """--variant: speedup over eager, equivalence, first call, distance to the roofline floor."""
    if not any(r.variant for r in rs):
        return []
    return [
        ["Variant"] + [r.variant or "-" for r in rs],
        ["Refill speedup vs eager"] + [_speedup(r, rs, "refill") for r in rs],
        ["Step speedup vs eager"] + [_speedup(r, rs, "step") for r in rs],
        ["Rel. error vs fp32 eager"] + [_rel(r) for r in rs],
        ["Equivalent actions"] + [_equivalent(r) for r in rs],
        *(
            [
                ["Action |Δ| max / median"] + [_action_diff(r) for r in rs],
                ["Action |Δ| max / range"] + [_range_share(r) for r in rs],
            ]
            if any("action_max_diff" in r.equivalence for r in rs)
            else []
        ),
        ["First refill (s)"] + [_first(r) for r in rs],
        ["Refill / floor"] + [_floor(r) for r in rs],
        *(
            [["Floor precision"] + [_floor_precision(r) for r in rs]]
            if any("precision" in r.roofline for r in rs)
            else []
        ),
    ]


_MEMORY_ROWS = [
    ("Params (M)", lambda r: None if r.params is None else r.params / 1e6),
    ("Weights (MB)", lambda r: _mb(r.memory.get("weight_bytes"))),
    ("Build/Load (s)", lambda r: r.build_seconds),
    ("Peak RSS (MB)", lambda r: r.memory.get("peak_rss_mb")),
    ("CUDA peak alloc (MB)", lambda r: r.memory.get("cuda_max_allocated_mb")),
    ("CUDA peak reserved (MB)", lambda r: r.memory.get("cuda_max_reserved_mb")),
]


def _mb(value: float | None) -> float | None:
    return None if value is None else value / 2**20


def _chunk_cell(r: PolicyResult) -> str:
    c = r.config or {}
    return "/".join(
        str(c.get(k) if c.get(k) is not None else "-") for k in ("chunk_size", "n_action_steps", "inference_steps")
    )


def memory_rows(rs: list[PolicyResult]) -> list[list[str]]:
    """Chunk settings, size and memory per policy, for the rows any policy has a value for.
    Chunk/Exec/Denoise: actions per chunk, actions executed before the next refill, denoising
    steps per refill (they differ between LeRobot versions: Diffusion is 16/8/100 on 0.4.4 and
    64/32/100 on 0.6)."""
    chunk = (
        [["Chunk/Exec/Denoise"] + [_chunk_cell(r) for r in rs]]
        if any(r.config.get("chunk_size") is not None for r in rs)
        else []
    )
    rows = []
    for name, get in _MEMORY_ROWS:
        values = [get(r) for r in rs]
        if name != "Params (M)" and all(v is None for v in values):
            continue
        rows.append([name] + ["-" if v is None else f"{v:.1f}" for v in values])
    return chunk + (rows if any(r.memory for r in rs) else [])


def detail_rows(rs: list[PolicyResult]) -> list[list[list[str]]]:
    """The groups of rows below the latencies (stages, variants, memory), empty groups left out."""
    return [group for group in (stage_rows(rs), variant_rows(rs), memory_rows(rs)) if group]


def missing_reasons(r: PolicyResult, rs: list[PolicyResult]) -> list[str]:
    """Why a figure of a measured policy is "-": one short phrase per missing figure. A policy
    that did not run has its status and error instead."""
    if r.status != OK:
        return []
    s = r.summary()
    out = []
    if not s["step"]["count"] and s["refill"]["count"]:
        queued = r.config.get("n_action_steps")
        if r.complete is False and isinstance(queued, int) and queued > 1:  # a queue, and no time to pop from it
            out.append(f"step: none measured before --max-seconds stopped it (it queues {queued} actions a refill)")
        else:
            out.append("step: every call computed a chunk (no action queue, or temporal ensembling)")
    if not s["refill"]["count"]:
        out.append("refill: none measured" + (" before --max-seconds" if r.complete is False else ""))
    if r.params is None:
        out.append("params: not recorded in the results file")
    if r.cold_start_ms is None:
        out.append("cold start: not recorded in the results file")
    if not r.identity.plain:
        if eager_of(r, rs) is None:
            out.append("speedup: no eager run of this policy in the file")
        if not r.equivalence:
            out.append("equivalence: not checked")
    if r.variant == "eager":
        out.append("equivalence: eager fp32 is the reference")
    if r.variant and r.roofline.get("x_of_floor") is None:
        out.append("refill / floor: no roofline floor in the results file")
    return out


def missing_notes(rs: list[PolicyResult]) -> list[str]:
    """One note per measured policy with a "-": '"-" for ACT: params: not recorded ...'."""
    return [f'"-" for {label(r)}: ' + "; ".join(why) for r in rs if (why := missing_reasons(r, rs))]


def interval_notes(rs: list[PolicyResult]) -> list[str]:
    """What a "±" measured in one process promises: the median of that process, not of the next
    run (fresh processes of one policy land a few per cent apart); said once, when a result of one
    process shows an interval."""

    def shows_interval(r: PolicyResult) -> bool:
        s = r.summary()
        return (
            r.status == OK
            and r.process_count() == 1
            and any(s[p].get("median_ci_ms") for p in ("all", "step", "refill"))
        )

    if not any(shows_interval(r) for r in rs):
        return []
    return [
        "±: the 95 % interval of the median within one process; a fresh process can land outside it "
        "(--processes 3 measures the spread between processes)"
    ]
