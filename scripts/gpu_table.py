"""The GPU check's table: every policy and variant of the check's results files in one Markdown
table, with the best variant within tolerance per policy. Exits 1, naming what is missing,
when any expected figure is absent, so that the check never writes a partial table.

    python scripts/gpu_table.py OUT.md RESULTS.json... --expect act,diffusion,smolvla
"""

from __future__ import annotations

import argparse
import sys

from policybench.report.table import format_ms, label
from policybench.results import OK, SKIPPED, read_results

COLUMNS = [
    "Policy",
    "Variant",
    "Status",
    "Refill median (ms)",
    "Refill p99 (ms)",
    "Step median (ms)",
    "vs eager",
    "Rel. error",
    "Within tol.",
    "First refill (s)",
    "x floor",
    "Peak CUDA (MB)",
]


def _rows_and_missing(files: list[str], expect: list[str]):
    rows, missing, best, machine = [], [], {}, None
    seen = set()
    for path in files:
        results = read_results(path)
        env = results.environment
        machine = machine or (
            f"{env.get('device_name')}, driver {env.get('cuda_driver', '?')}, torch {env.get('torch')}, "
            f"LeRobot {env.get('lerobot')}, profile {results.run.get('profile', {}).get('name')}"
        )
        eager = {
            r.policy: r.summary()["refill"]["median_ms"]
            for r in results.results
            if r.status == OK and (r.variant in (None, "eager"))
        }
        for r in results.results:
            base = r.policy.split("+")[0]
            seen.add(base)
            variant = r.variant or "eager"
            if r.status == SKIPPED:
                if not r.error:
                    missing.append(f"{r.policy}: skipped without a reason")
                rows.append([label(base), variant, f"skipped: {r.error}"] + ["-"] * (len(COLUMNS) - 3))
                continue
            if r.status != OK:
                missing.append(f"{r.policy}: {r.status}: {(r.error or '').splitlines()[0] if r.error else ''}")
                rows.append([label(base), variant, r.status] + ["-"] * (len(COLUMNS) - 3))
                continue
            s = r.summary()
            refill, step = s["refill"]["median_ms"], s["step"]["median_ms"]
            cuda = r.memory.get("cuda_max_allocated_mb")
            for name, value in (("refill median", refill), ("peak CUDA memory", cuda)):
                if value is None:
                    missing.append(f"{r.policy}: no {name}")
            speedup = eager.get(base) / refill if refill and eager.get(base) else None
            eq = r.equivalence or {}
            if r.variant and r.variant != "eager" and "rel_error" not in eq:
                missing.append(f"{r.policy}: no equivalence figure")
            if speedup and eq.get("equivalent", r.variant in (None, "eager")):
                if speedup > best.get(base, ("", 0.0))[1]:
                    best[base] = (variant, speedup, refill)
            rows.append(
                [
                    label(base),
                    variant,
                    "ok" if r.complete is not False else "ok (cut short)",
                    format_ms(refill),
                    format_ms(s["refill"]["p99_ms"]),
                    format_ms(step),
                    f"{speedup:.2f}x" if speedup else "-",
                    f"{eq['rel_error']:.2g}" if "rel_error" in eq else "-",
                    ("yes" if eq.get("equivalent") else "NO") if eq else "-",
                    f"{r.first_chunk_seconds:.2f}" if r.first_chunk_seconds is not None else "-",
                    f"{r.roofline['x_of_floor']:.1f}" if r.roofline.get("x_of_floor") else "-",
                    f"{cuda:.0f}" if cuda is not None else "-",
                ]
            )
    missing += [f"{name}: not in any results file" for name in expect if name not in seen]
    return rows, missing, best, machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--expect", default="", help="policies that must appear, comma-separated")
    args = parser.parse_args(argv)
    expect = [p for p in args.expect.split(",") if p]
    rows, missing, best, machine = _rows_and_missing(args.files, expect)
    if missing:
        print("gpu check: figures missing, no table written:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    lines = [
        f"**{machine}**",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(["---", "---", "---"] + ["---:"] * (len(COLUMNS) - 3)) + "|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    lines.append("")
    for base, (variant, speedup, refill) in best.items():
        lines.append(
            f"- {label(base)}: best variant within tolerance is {variant}, refill {format_ms(refill)} ms, "
            f"{speedup:.1f}x eager"
        )
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
