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
    """A policy's name in tables, e.g. "Diffusion"; a checkpoint's (a path) is the last two parts
    of its path, "nu/my_act_checkpoint". The library takes either as a key (api.Results)."""
    if "/" in name or "\\" in name:
        parts = [p for p in name.replace("\\", "/").split("/") if p]
        return "/".join(parts[-2:]) if len(parts) > 2 else name
    return LABELS.get(name, ("", ""))[0] or name


def short_label(name: str) -> str:
    """A policy's name in ratio headers, e.g. "Diff"; a checkpoint's whole path (also a key)."""
    return LABELS.get(name, ("", ""))[1] or (name if "/" in name or "\\" in name else label(name))
