"""Published per-component figures (docs/anchors.md) and the conditions they were measured under.

A result matches an anchor when its policy type, number of camera views and denoising steps are
the anchor's; the report then prints the published figure beside the measured one, naming the
hardware it was measured on (always other hardware than this run's, unless the user says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CAMERA_PREFIX = "observation.image"  # every profile's camera keys begin so (observation.images.front too)


@dataclass(frozen=True)
class AnchorPart:
    published: str  # the part as the source names it
    ms: float  # per refill, as published
    components: tuple[str, ...]  # policybench's components whose times add up to it


@dataclass(frozen=True)
class Anchor:
    source: str
    hardware: str
    policy: str  # LeRobot policy type
    cameras: int
    steps: int  # denoising / flow steps per refill
    parts: tuple[AnchorPart, ...]
    total_ms: float | None  # the whole published call, as published (None: not given)
    command: str  # the policybench command that reproduces the conditions


ANCHORS = (
    Anchor(
        "pi0 paper (Black et al., arXiv 2410.24164), on-board inference",
        "NVIDIA RTX 4090",
        "pi0",
        3,
        10,
        (
            AnchorPart("image encoders", 14.0, ("vision encoder",)),
            AnchorPart("observation forward pass", 32.0, ("language embedding", "prefix forward (VLM)")),
            AnchorPart("10 action (flow) steps", 27.0, ("denoising step", "action projection")),
        ),
        73.0,
        "policybench run --policies pi0 --profile aloha --cameras 3 --image-size 224x224 "
        "--set pi0.num_inference_steps=10 --device cuda --breakdown",
    ),
)


def _views(config: Mapping[str, object]) -> int:
    inputs = config.get("inputs")
    return sum(1 for key in inputs if str(key).startswith(CAMERA_PREFIX)) if isinstance(inputs, Mapping) else 0


def matching(policy: str, config: Mapping[str, object]) -> list[Anchor]:
    """The anchors whose conditions a result of ``policy`` with ``config`` (its results-file config) meets."""
    return [
        a
        for a in ANCHORS
        if a.policy == policy and a.steps == config.get("inference_steps") and a.cameras == _views(config)
    ]
