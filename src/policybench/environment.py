"""Which machine, which software: the facts every result is stamped with, and the device choice."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch

from policybench.errors import UsageError
from policybench.policies.compat import lerobot_version


def resolve_device(requested: str) -> str:
    """'auto' picks cuda, then mps, then cpu. An unavailable device is a usage error."""
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    kind, _, index = requested.partition(":")
    if kind == "cpu" and not index:
        return "cpu"
    if kind == "cuda" and (not index or index.isdigit()):
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise UsageError(f"device '{requested}' is not available: torch sees no CUDA GPU here; use --device cpu")
        if index and int(index) >= n:
            raise UsageError(f"device '{requested}' is not available: torch sees {n} CUDA GPU(s), cuda:0..cuda:{n - 1}")
        return requested
    if kind == "mps" and not index:
        if not torch.backends.mps.is_available():
            raise UsageError("device 'mps' is not available here (no Apple GPU); use --device cpu")
        return "mps"
    raise UsageError(f"unknown device '{requested}'; use auto, cpu, cuda, cuda:N or mps")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    if device == "mps":
        return f"Apple GPU (MPS) on {platform.machine()}"
    return cpu_model()


def git_commit() -> str | None:
    """The policybench checkout's commit, when it runs from one."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def describe_environment(device: str) -> dict[str, object]:
    try:
        from importlib.metadata import version

        transformers_version = version("transformers")
    except Exception:
        transformers_version = None
    from policybench import __version__

    return {
        "policybench": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lerobot": lerobot_version(),
        "transformers": transformers_version,
        "device": device,
        "device_name": device_name(device),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }
