"""Text of ``policybench compare``: environment warnings, then one line per policy and phase."""

from __future__ import annotations

from policybench.regression import FASTER, SLOWER, TOO_FEW, Change
from policybench.report.format import format_ms, identity_label, label
from policybench.results import PolicyResult
from policybench.stats import min_samples_for_interval


def describe_change(c: Change) -> str:
    """e.g. 'refill 1.80 ± 0.05 × slower': the ratio of medians and the half-width of its
    interval (regression.ratio_interval); 'refill 1.50 × not called: too few samples (3 and 3;
    a median's 95% interval needs 6)' when either median has no interval."""
    if c.verdict == TOO_FEW:
        return (
            f"{c.phase} {c.ratio:.2f} × not called: {TOO_FEW} ({c.base_count} and {c.new_count}; "
            f"a median's 95% interval needs {min_samples_for_interval()})"
        )
    half = max(c.ratio - c.ci_low, c.ci_high - c.ratio)
    return f"{c.phase} {c.ratio:.2f} ± {half:.2f} × {c.verdict}"


def _name(c: Change) -> str:
    """'ACT', or 'ACT (realtime sync at 30 Hz)' for a live realtime run."""
    name = identity_label(c.policy, c.variant, c.point)
    return f"{name} ({c.context})" if c.context else name


def render_compare(
    changes: list[Change],
    env_diffs: list[str],
    unmatched: list[str],
    threshold: float,
    failed: list[PolicyResult] | None = None,
) -> str:
    lines = []
    if env_diffs:
        lines.append("warning: the two runs differ in: " + "; ".join(env_diffs))
    if unmatched:
        lines.append("note: measured in only one of the files: " + ", ".join(unmatched))
    for r in failed or []:
        lines.append(f"regression: {label(r)} was measured in the base run and failed in the new one")
    width = max([len(_name(c)) for c in changes] + [6])
    lines.append(
        f"{'policy'.ljust(width)}  {'base median':>12}  {'new median':>12}  change "
        f"(new/base median, from each median's 95% interval; threshold {100 * threshold:g}%)"
    )
    for c in changes:
        lines.append(
            f"{_name(c).ljust(width)}  {format_ms(c.base_median_ms) + ' ms':>12}  "
            f"{format_ms(c.new_median_ms) + ' ms':>12}  {describe_change(c)}"
        )
    if not changes:
        lines.append("nothing to compare: no policy has samples in both files")
    slower = [c for c in changes if c.verdict == SLOWER]
    faster = [c for c in changes if c.verdict == FASTER]
    too_few = [c for c in changes if c.verdict == TOO_FEW]
    unchanged = len(changes) - len(slower) - len(faster) - len(too_few)
    not_called = f", {len(too_few)} not called ({TOO_FEW})" if too_few else ""
    lines.append(f"verdict: {len(slower)} slower, {len(faster)} faster, {unchanged} unchanged{not_called}")
    return "\n".join(lines) + "\n"
