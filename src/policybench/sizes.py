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
SEQUENCE_FIELDS = ("chunk_size", "n_action_steps", "horizon", "n_obs_steps", "num_inference_steps",
                   "num_steps", "n_action_pred_token", "action_chunk_size")
MAX_SEQUENCE = 10_000
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
        if name in SEQUENCE_FIELDS and isinstance(value, int) and not isinstance(value, bool) \
                and value > MAX_SEQUENCE:
            raise SettingsError(f"{{overrides}} {literal(policy)}.{literal(name)}={value}: at most {MAX_SEQUENCE:,} "
                                "(a size that large would not fit in memory; LeRobot's policies use at most a few hundred)")
