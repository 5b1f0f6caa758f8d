"""Sizes a run may ask for, checked before anything is built, so that no input exhausts memory.

A typo (``--cameras 100000000``, ``--set act.chunk_size=100000000``) must be one line naming
the limit, not minutes of allocation ending in a MemoryError or an out-of-memory kill. The
limits are far above anything LeRobot's policies use (ACT's chunk is 100, ALOHA has 4 cameras),
and the images of one observation must fit in a fraction of the memory this machine has free.
"""

from __future__ import annotations

from policybench.errors import SettingsError, literal

MAX_CAMERAS = 64
MAX_IMAGE_SIDE = 8192  # pixels, height or width
# Config fields that size a chunk, a horizon or a loop: above this, a transformer's attention
# over the chunk alone (chunk^2 x heads x 4 bytes) outgrows any machine's memory.
SEQUENCE_FIELDS = (
    "chunk_size",
    "n_action_steps",
    "horizon",
    "n_obs_steps",
    "num_inference_steps",
    "num_steps",
    "n_action_pred_token",
    "action_chunk_size",
)
MAX_SEQUENCE = 10_000
# A state, action or environment-state vector: robots send tens of numbers (ALOHA 14, a humanoid
# under a hundred); a linear layer from 3e9 of them to a 512-wide hidden layer is 6 TB.
MAX_DIM = 10_000
MAX_SAMPLES = 1_000_000  # raw samples kept per measured policy: about 93 MB of the results file (read up to 1 GiB)
# Copies of an observation's images alive at once: the float tensor, the policy's normalized and
# resized copies, the processors' (--pipeline) and the batch the model sees.
_IMAGE_COPIES = 8


def available_memory() -> int | None:
    """Bytes this machine has free (MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - no psutil, or a platform it does not know
        return None


def check_cameras(cameras: int) -> None:
    if not 0 <= cameras <= MAX_CAMERAS:
        raise SettingsError(f"{{cameras}} must be from 0 to {MAX_CAMERAS}, got {cameras}")


def check_image_side(height: int, width: int) -> None:
    if not (0 < height <= MAX_IMAGE_SIDE and 0 < width <= MAX_IMAGE_SIDE):
        raise SettingsError(f"{{image_size}} sides must be from 1 to {MAX_IMAGE_SIDE} pixels, got {height}x{width}")


def check_images(sides: list[tuple[int, int]], available: int | None = None) -> None:
    """The images of one observation (float32, with the copies a policy makes) fit in half the
    free memory."""
    available = available_memory() if available is None else available
    if available is None:
        return
    need = sum(h * w * 3 * 4 for h, w in sides) * _IMAGE_COPIES
    if need > available // 2:
        raise SettingsError(
            f"{len(sides)} camera(s) of these sizes need about {need / 2**30:.1f} GiB per observation, more than half "
            f"of the {available / 2**30:.1f} GiB free here: use fewer cameras or a smaller {{image_size}}"
        )


def check_override_sizes(policy: str, overrides: dict[str, object]) -> None:
    """Chunk, horizon and step counts (``SEQUENCE_FIELDS``) at most MAX_SEQUENCE."""
    for name, value in overrides.items():
        if name in SEQUENCE_FIELDS and isinstance(value, int) and not isinstance(value, bool) and value > MAX_SEQUENCE:
            raise SettingsError(
                f"{{overrides}} {literal(policy)}.{literal(name)}={value}: at most {MAX_SEQUENCE:,} "
                "(a size that large would not fit in memory; LeRobot's policies use at most a few hundred)"
            )


def check_dim(name: str, value: int) -> None:
    """A vector size (``state_dim``, ``action_dim``): from 1 to MAX_DIM."""
    if not 0 < value <= MAX_DIM:
        raise SettingsError(f"{{{name}}} must be from 1 to {MAX_DIM:,}, got {literal(value)}")


def check_declared_sizes(config: dict) -> None:
    """The sizes a checkpoint's config.json declares, held to the limits the command line's
    flags have (cameras, image sides and memory, vector sizes, ``SEQUENCE_FIELDS``), before
    anything is built: SettingsError naming the field and the limit."""
    sides: list[tuple[int, int]] = []
    for group in ("input_features", "output_features"):
        features = config.get(group) or {}
        if not isinstance(features, dict):
            raise SettingsError(f"{group} is not an object")
        for key, feature in features.items():
            shape = feature.get("shape") if isinstance(feature, dict) else None
            kind = str(feature.get("type", "")).upper() if isinstance(feature, dict) else ""
            side = _declared_shape(f"{group}.{literal(key)}", shape, kind == "VISUAL")
            if side is not None:
                sides.append(side)
    cameras = len(sides) + _declared_count(config, "empty_cameras")
    if cameras > MAX_CAMERAS:
        raise SettingsError(
            f"{cameras} cameras (visual input_features and empty_cameras): at most {MAX_CAMERAS}, as --cameras"
        )
    for name in SEQUENCE_FIELDS:
        value = _declared_count(config, name)
        if value > MAX_SEQUENCE:
            raise SettingsError(
                f"{name}={value}: at most {MAX_SEQUENCE:,}, as --set (a size that large would not "
                "fit in memory; LeRobot's policies use at most a few hundred)"
            )
    try:
        check_images(sides)
    except SettingsError as exc:
        raise SettingsError(f"input_features: {literal(exc)}") from None


def _declared_count(config: dict, name: str) -> int:
    value = config.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _declared_shape(where: str, shape: object, visual: bool) -> tuple[int, int] | None:
    """A feature's shape: whole positive numbers, a camera's HxW within MAX_IMAGE_SIDE, any
    other feature at most MAX_DIM numbers; (height, width) for a camera."""
    if not (
        isinstance(shape, list)
        and len(shape) <= 4
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        raise SettingsError(f"{where}.shape must be a list of at most 4 positive whole numbers, got {literal(shape)}")
    shown = "x".join(map(str, shape))
    if visual:
        if len(shape) != 3 or shape[0] > 4 or max(shape[1:]) > MAX_IMAGE_SIDE:
            raise SettingsError(
                f"{where}.shape {shown}: a camera is CHANNELSxHEIGHTxWIDTH with at most 4 channels "
                f"and sides of at most {MAX_IMAGE_SIDE} pixels, as --image-size"
            )
        return shape[1], shape[2]
    size = 1
    for n in shape:
        size *= n
    if size > MAX_DIM:
        raise SettingsError(f"{where}.shape {shown}: at most {MAX_DIM:,} numbers, as --state-dim and --action-dim")
    return None
