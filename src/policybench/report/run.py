"""What ``policybench run`` and ``report --format table`` print after a run, as one text: the
table (or, for a run measured on several cluster nodes, the fleet table), the budgets at a rate
(``--hz``), and ``--variant auto``'s choice. Pure: results in, text out."""

from __future__ import annotations

from policybench.control.simulate import run_budgets
from policybench.report.choice import render_choice
from policybench.report.fleet import build_fleet, render_fleet_table
from policybench.report.realtime import render_budgets
from policybench.report.table import render_table
from policybench.results import RunResults
from policybench.terminal import wrapped


def several_nodes(results: RunResults) -> bool:
    """A fleet file: the same benchmark measured on several cluster nodes (run --on)."""
    cluster = results.run.get("cluster")
    return isinstance(cluster, dict) and isinstance(cluster.get("on"), list) and len(cluster["on"]) > 1


def node_table(results: RunResults, source: str | None, width: int | None = None) -> str:
    """The fleet table of a run measured on several cluster nodes (--on), its file named ``source``."""
    return render_fleet_table(build_fleet([(source or "the cluster", results)]), width=width)


def choice_text(results: RunResults, width: int | None = None) -> str:
    """--variant auto's last lines: what to deploy, per policy (report/choice.py), folded to ``width``."""
    text = render_choice(results) or "no policy measured eager beside its variants: nothing to choose\n"
    return "".join(f"{part}\n" for line in text.splitlines() for part in wrapped(line, width))


def budget_text(results: RunResults, hz: float, width: int | None = None) -> str:
    """``run --hz``: each policy's budgets at ``hz`` and what would hold, folded to ``width``."""
    lines = [part for line in render_budgets(run_budgets(results, hz)) for part in wrapped(line, width)]
    return "".join(f"{line}\n" for line in lines) if lines else f"no policy measured a refill to judge at {hz:g} Hz\n"


def render_run(
    results: RunResults,
    baseline: str | None = None,
    *,
    width: int | None = None,
    hz: float | None = None,
    choose: bool = False,
    source: str | None = None,
) -> str:
    """The run's table (the fleet table when it measured on several nodes; ``source`` names its
    file there), then its budgets at ``hz`` and, with ``choose``, what to deploy."""
    if several_nodes(results):
        text = node_table(results, source, width)
    else:
        text = render_table(results, baseline, width=width)
    if hz is not None:
        text += budget_text(results, hz, width)
    if choose:
        text += choice_text(results, width)
    return text
