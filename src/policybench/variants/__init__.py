"""Acceleration variants of a built policy, one strategy per module, each checked against fp32 eager.

Every variant wraps the *same* built policy (same weights) and is measured in the same run and on
the same device as ``eager``. The package's face is the table (names and what each needs), which
loads no torch; the strategies load it when they are imported:

    table        the variants by name, parsed from --variant
    strategies   which wrapper runs a variant, and why one cannot run here
    noeval, autocast, compile, cudagraph, runtimes (sessions, export, manifest)   one strategy each
    equivalence  the first chunk from a seeded RNG, compared with fp32 eager's
    measure      every --variant of one built policy measured in turn
"""

from policybench.variants.table import ORDER, VARIANTS, Variant, parse_variants

__all__ = ["ORDER", "VARIANTS", "Variant", "parse_variants"]
