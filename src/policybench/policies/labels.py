"""What each policy is called in tables: its label, and the short form ratio headers use.

Kept apart from the families (lerobot_policies.py) so that reading a results file, rendering a
report or comparing two files never imports torch or LeRobot just to name a column.
"""

from __future__ import annotations

# name: (label, short); "" = the name itself (label) or the label (short)
LABELS: dict[str, tuple[str, str]] = {
    "act": ("ACT", ""),
    "smolvla": ("SmolVLA", ""),
    "diffusion": ("Diffusion", "Diff"),
    "pi0": ("pi0", ""),
    "pi05": ("pi0.5", "pi05"),
    "pi0_fast": ("pi0-FAST", "pi0F"),
    "vqbet": ("VQ-BeT", "VQBeT"),
    "tdmpc": ("TD-MPC", "TDMPC"),
    "gaussian_actor": ("Gaussian actor", "GaussA"),
    "groot": ("GR00T", ""),
    "xvla": ("X-VLA", ""),
    "multi_task_dit": ("MT-DiT", ""),
    "eo1": ("EO-1", ""),
    "evo1": ("Evo-1", ""),
    "vla_jepa": ("VLA-JEPA", ""),
    "molmoact2": ("MolmoAct2", ""),
    "wall_x": ("WALL-OSS", ""),
    "fastwam": ("FastWAM", ""),
    "sac": ("SAC", ""),
    "reward_classifier": ("reward_classifier", ""),
    "sarm": ("sarm", ""),
    "lingbot_va": ("LingBot-VA", ""),
}


def label(name: str) -> str:
    """A policy's name in tables, e.g. "Diffusion"."""
    return LABELS.get(name, ("", ""))[0] or name


def short_label(name: str) -> str:
    """A policy's name in ratio headers, e.g. "Diff"."""
    return LABELS.get(name, ("", ""))[1] or label(name)
