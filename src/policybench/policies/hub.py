"""What ``--hub`` changes in a policy's config: the LeRobot types whose real backbone config is
fetched from the hub when it may be reached (torch-free: the parent adds these to a run's --set)."""

from __future__ import annotations

from policybench.identity import Override

HUB_SMOLVLM = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"  # SmolVLA's VLM on the hub
HUB_SETTINGS: dict[str, tuple[tuple[str, object], ...]] = {"smolvla": (("vlm_model_name", HUB_SMOLVLM),)}


def hub_overrides(names: list[str]) -> list[Override]:
    """The config settings that the named LeRobot policies take when the hub may be reached (--hub)."""
    return [Override(n, field, value) for n in names for field, value in HUB_SETTINGS.get(n, ())]
