"""The terminal table: the replaced script's rows and ratio columns, for any set of policies."""

from __future__ import annotations

import math

from policybench.policies import label as policy_label
from policybench.policies import short_label
from policybench.results import OK, PolicyResult, RunResults

RULE = "=" * 78


def label(name: str) -> str:
    """Display name: the registry's label (plus "+variant"), or the last two parts of a checkpoint path."""
    base, plus, variant = name.rpartition("+")
    if plus and "/" not in base:
        return f"{policy_label(base)}+{variant}"
    if "/" not in name and "\\" not in name:
        return policy_label(name)
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    return "/".join(parts[-2:]) if len(parts) > 2 else name


def _short(name: str) -> str:
    """A ratio header's name: "Diff", "SmolVLA+compile"."""
    base, plus, variant = name.rpartition("+")
    if plus and "/" not in base:
        return f"{short_label(base)}+{variant}"
    return short_label(name)


def format_ms(value: float | None) -> str:
    """Two decimals from 1 up; below that three significant digits, never scientific notation."""
    if value is None:
        return "-"
    if value >= 1 or value == 0:
        return f"{value:.2f}"
    decimals = 2 - math.floor(math.log10(abs(value)))
    return f"{value:.{decimals}f}"



def _stat(result: PolicyResult, phase: str, key: str) -> float | None:
    if result.status != OK:
        return None
    return result.summary()[phase][key]


def _cold(result: PolicyResult, phase: str, key: str) -> float | None:
    return result.cold_start_ms if result.status == OK else None


# (row label, phase, statistic); the first group gets ratio columns.
_TIME_ROWS = [
    ("Mean Time", "all", "mean_ms"),
    ("Median Time", "all", "median_ms"),
    ("Min Time", "all", "min_ms"),
    ("Max Time", "all", "max_ms"),
    ("p90 Time", "all", "p90_ms"),
    ("p99 Time", "all", "p99_ms"),
    ("Std Dev", "all", "std_ms"),
    ("Cold Start", None, None),
]
_PHASE_ROWS = [
    ("Step Mean (ms)", "step", "mean_ms"),
    ("Step Median (ms)", "step", "median_ms"),
    ("Refill Mean (ms)", "refill", "mean_ms"),
    ("Refill Median (ms)", "refill", "median_ms"),
    ("Refill p99 (ms)", "refill", "p99_ms"),
]


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    r = value / base
    # Two decimals as the replaced script printed them; tiny ratios keep 3 significant digits.
    return f"{r:.2f} x" if r >= 0.1 else f"{format_ms(r)} x"


def render_table(results: RunResults, baseline: str | None = None) -> str:
    """The comparison table as text. ``baseline`` names the policy the ratio columns divide by."""
    rs = results.results
    by_name = {r.policy: r for r in rs}
    base = by_name.get(baseline) if baseline else None
    others = [r for r in rs if base is not None and r is not base]
    headers = ["Metric"] + [f"{label(r.policy)} (ms)" for r in rs] + [
        f"{_short(r.policy)}/{_short(base.policy)}" for r in others
    ]
    rows: list[list[str]] = []

    def stat_row(row_label: str, phase: str | None, key: str | None, with_ratio: bool) -> list[str]:
        get = _cold if phase is None else _stat
        values = [get(r, phase, key) for r in rs]
        cells = [row_label] + [format_ms(v) if r.status == OK else r.status for r, v in zip(rs, values)]
        if with_ratio and base is not None:
            b = get(base, phase, key)
            cells += [_ratio(get(r, phase, key), b) for r in others]
        else:
            cells += [""] * len(others)
        return cells

    rows += [stat_row(name, phase, key, True) for name, phase, key in _TIME_ROWS]
    rows.append(None)  # rule
    rows.append(["Successful Runs"] + [str(len(r.samples)) for r in rs] + [""] * len(others))
    rows += [stat_row(name, phase, key, True) for name, phase, key in _PHASE_ROWS]
    counts = []
    for r in rs:
        s = r.summary()
        counts.append(f"{s['step']['count'] or '-'}/{s['refill']['count'] or '-'}")
    rows.append(["Step/Refill Count"] + counts + [""] * len(others))
    stage_rows = _stage_rows(rs)
    if stage_rows:
        rows.append(None)
        rows += [cells + [""] * len(others) for cells in stage_rows]
    variant_rows = _variant_rows(rs)
    if variant_rows:
        rows.append(None)
        rows += [cells + [""] * len(others) for cells in variant_rows]
    memory_rows = _memory_rows(rs)
    if memory_rows:
        rows.append(None)
        rows += [cells + [""] * len(others) for cells in memory_rows]

    widths = [max(len(h), *(len(row[i]) for row in rows if row)) for i, h in enumerate(headers)]
    widths[0] = max(widths[0], 20)

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    width = max(len(RULE), len(line(headers)))
    out = ["=" * width, "INFERENCE SPEED BENCHMARK RESULTS", machine_line(results), "=" * width, line(headers)]
    out.append("-" * width)
    for row in rows:
        out.append("-" * width if row is None else line(row))
    out.append("=" * width)
    out += _notes(results, base)
    return "\n".join(out) + "\n"


def _stage_rows(rs: list[PolicyResult]) -> list[list[str]]:
    """--pipeline: the median of each stage, per phase."""
    names: list[str] = []
    for r in rs:
        for stage in (r.summary().get("stages") or {}) if r.status == OK else {}:
            if stage not in names:
                names.append(stage)
    rows = []
    for stage in names:
        for phase in ("step", "refill"):
            cells = [f"{stage} {phase} median"]
            for r in rs:
                stages = r.summary().get("stages") or {} if r.status == OK else {}
                cells.append(format_ms(stages[stage][phase]["median_ms"]) if stage in stages else "-")
            rows.append(cells)
    return rows


def _eager_of(r: PolicyResult, rs: list[PolicyResult]) -> PolicyResult | None:
    base = r.policy.rpartition("+")[0] if r.variant not in (None, "eager") else r.policy
    return next((e for e in rs if e.policy == base and e.variant == "eager" and e.status == OK), None)


def _variant_rows(rs: list[PolicyResult]) -> list[list[str]]:
    """--variant: speedup over eager, equivalence, first call, distance to the roofline floor."""
    if not any(r.variant for r in rs):
        return []

    def speedup(r: PolicyResult, phase: str) -> str:
        eager = _eager_of(r, rs)
        if r.status != OK or eager is None:
            return "-"
        a, b = eager.summary()[phase]["median_ms"], r.summary()[phase]["median_ms"]
        return f"{a / b:.2f} x" if a and b else "-"

    def equivalent(r: PolicyResult) -> str:
        eq = r.equivalence
        if r.status != OK or not eq:
            return "-"
        return "yes" if eq["equivalent"] else f"NO (> {eq['tolerance']:g}): not a win"

    def floor(r: PolicyResult) -> str:
        x = r.roofline.get("x_of_floor") if r.status == OK else None
        return "-" if x is None else f"{x:.1f} x"

    def first(r: PolicyResult) -> str:
        return "-" if r.first_chunk_seconds is None or r.status != OK else f"{r.first_chunk_seconds:.2f}"

    def rel(r: PolicyResult) -> str:
        return "-" if r.status != OK or not r.equivalence else f"{r.equivalence['rel_error']:.2g}"

    rows = [
        ["Variant"] + [r.variant or "-" for r in rs],
        ["Refill speedup vs eager"] + [speedup(r, "refill") for r in rs],
        ["Step speedup vs eager"] + [speedup(r, "step") for r in rs],
        ["Rel. error vs fp32 eager"] + [rel(r) for r in rs],
        ["Equivalent actions"] + [equivalent(r) for r in rs],
        ["First refill (s)"] + [first(r) for r in rs],
        ["Refill / floor"] + [floor(r) for r in rs],
    ]
    return rows


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
    return "/".join(str(c.get(k) if c.get(k) is not None else "-") for k in ("chunk_size", "n_action_steps", "inference_steps"))


def _memory_rows(rs: list[PolicyResult]) -> list[list[str]]:
    """Chunk settings, size and memory per policy, for the rows any policy has a value for.
    Chunk/Exec/Denoise: actions per chunk, actions executed before the next refill, denoising
    steps per refill (they differ between LeRobot versions: Diffusion is 16/8/100 on 0.4.4 and
    64/32/100 on 0.6)."""
    chunk = [["Chunk/Exec/Denoise"] + [_chunk_cell(r) for r in rs]] if any(
        r.config.get("chunk_size") is not None for r in rs) else []
    rows = []
    for name, get in _MEMORY_ROWS:
        values = [get(r) for r in rs]
        if name != "Params (M)" and all(v is None for v in values):
            continue
        rows.append([name] + ["-" if v is None else f"{v:.1f}" for v in values])
    return chunk + (rows if any(r.memory for r in rs) else [])


def machine_line(results: RunResults) -> str:
    env, run = results.environment, results.run
    profile = run.get("profile", {})
    name = profile.get("name", "?") if isinstance(profile, dict) else profile
    return (
        f"device {env.get('device')} ({env.get('device_name')}{_hardware_note(env)}), torch {env.get('torch')}, "
        f"lerobot {env.get('lerobot')}, profile {name}, threads {env.get('threads')}"
    )


def _hardware_note(env: dict) -> str:
    """The widest vector instruction set of a CPU run, the driver of a CUDA run ("" when unknown)."""
    if env.get("cuda_driver"):
        return f", driver {env['cuda_driver']}, CUDA {env.get('cuda')}"
    flags = env.get("cpu_flags") or []
    if str(env.get("device")) == "cpu" and flags:
        widest = next((f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2", "avx") if f in flags), None)
        return f", {widest}" if widest else ""
    return ""


def _notes(results: RunResults, base: PolicyResult | None) -> list[str]:
    notes: list[str] = []
    for r in results.results:
        if r.status != OK:
            notes.append(f"{label(r.policy)} {r.status}: {(r.error or '').splitlines()[0] if r.error else 'unknown error'}")
        elif r.complete is False:
            n = r.summary()["refill"]["count"]
            notes.append(f"{label(r.policy)}: stopped by --max-seconds before its full refill cycles ({n} refills measured)")
    for r in results.results:
        if r.variant == "eager" and r.roofline.get("floor_ms"):
            rl = r.roofline
            notes.append(
                f"{label(r.policy)} refill floor {rl['floor_ms']:.3g} ms = max({rl['flops'] / 1e9:.3g} GFLOP / "
                f"{rl['peak_flops'] / 1e9:.3g} GFLOP/s, {rl['weight_bytes_read'] / 1e9:.3g} GB of weights read / "
                f"{rl['peak_bytes_per_s'] / 1e9:.3g} GB/s), peaks measured on this device"
            )
    if base is not None and base.status == OK:
        bs = base.summary()
        for r in results.results:
            if r is base or r.status != OK:
                continue
            s = r.summary()
            parts = []
            for phase in ("step", "refill"):
                a, b = s[phase]["median_ms"], bs[phase]["median_ms"]
                if a is not None and b:
                    parts.append(f"{phase} median {a / b:.2f}x")
            if parts:
                notes.append(f"{label(r.policy)} vs {label(base.policy)}: " + ", ".join(parts))
    return notes
