"""Refill anatomy (--breakdown): where the time inside one refill goes, component by component.

``spec`` says what a component is (a policy family lists its own beside its other facts),
``ledger`` attributes a meter's growth (time, FLOPs, bytes read) to nested components,
``measure`` runs the breakdown refills and the cost pass, ``summary`` turns the raw refills of a
results file into medians, coverage and floor multiples, and ``anchors`` holds the published
per-component figures a run can be put beside. Only ``measure`` imports torch.
"""

from policybench.anatomy.spec import Component

__all__ = ["Component"]
