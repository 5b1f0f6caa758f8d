"""Robot profiles: which observations a policy gets (cameras, state and action sizes), the named
ones and the command line's changes to them. Depends on nothing else of policybench but its errors
and size limits, so that every module may use it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from policybench.errors import SettingsError, UsageError, literal
from policybench.sizes import check_cameras, check_dim, check_image_side, check_images


@dataclass(frozen=True)
class Camera:
    key: str  # full observation key, e.g. "observation.images.front"
    height: int
    width: int


@dataclass(frozen=True)
class Profile:
    """The robot a policy is benchmarked for: its cameras and state/action sizes."""

    name: str
    cameras: tuple[Camera, ...]
    state_dim: int
    action_dim: int
    env_state_dim: int = 0  # 0: no observation.environment_state
    task: str = "pick up the cube and place it in the bin"
    description: str = ""


def _cams(names: list[str], h: int, w: int) -> tuple[Camera, ...]:
    return tuple(Camera(f"observation.images.{n}", h, w) for n in names)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "seed",
            (Camera("observation.image", 224, 224),),
            state_dim=14,
            action_dim=14,
            env_state_dim=4,
            description="the replaced simple_benchmark.py's inputs",
        ),
        Profile("so100", _cams(["front", "wrist"], 480, 640), 6, 6, description="SO-100 arm, 2 cameras"),
        Profile(
            "aloha",
            _cams(["cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"], 480, 640),
            14,
            14,
            description="bimanual ALOHA, 4 cameras",
        ),
        Profile("pusht", (Camera("observation.image", 96, 96),), 2, 2, description="PushT simulation"),
    )
}
DEFAULT_PROFILE = "so100"


def customize_profile(
    profile: Profile,
    cameras: int | None = None,
    image_size: tuple[int, int] | None = None,
    state_dim: int | None = None,
    action_dim: int | None = None,
) -> Profile:
    """Apply the command line's overrides to a profile."""
    cams = list(profile.cameras)
    if cameras is not None:
        check_cameras(cameras)
        h, w = (cams[0].height, cams[0].width) if cams else (480, 640)
        cams = cams[:cameras] + [Camera(f"observation.images.camera{i}", h, w) for i in range(len(cams), cameras)]
    if image_size is not None:
        check_image_side(*image_size)
        cams = [replace(c, height=image_size[0], width=image_size[1]) for c in cams]
    check_images([(c.height, c.width) for c in cams])
    for name, value in (("state_dim", state_dim), ("action_dim", action_dim)):
        if value is not None:
            check_dim(name, value)
    return replace(
        profile,
        cameras=tuple(cams),
        state_dim=state_dim if state_dim is not None else profile.state_dim,
        action_dim=action_dim if action_dim is not None else profile.action_dim,
    )


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise UsageError(f"unknown profile '{name}'; known profiles: {', '.join(PROFILES)}")
    return PROFILES[name]


def parse_image_size(text: str) -> tuple[int, int]:
    """'480x640' -> (480, 640): height then width."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise SettingsError(
            f"{{image_size}} must be HEIGHTxWIDTH with positive integers (e.g. 480x640), got '{literal(text)}'"
        )
    return int(m.group(1)), int(m.group(2))
