"""The device as torch sees it, in the child: which one "auto" picks, its name, the clock that
synchronizes it before every reading, the threads torch uses, and the environment record every
result is stamped with (environment.py's facts plus torch's)."""

from __future__ import annotations

import os
import platform
import time
from typing import Callable

import torch

from policybench.clock import Clock, no_sync
from policybench.environment import cpu_governor, cpu_model, cpu_vector_flags, cuda_driver, git_commit
from policybench.errors import UsageError
from policybench.lerobot_adapter.version import lerobot_version


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


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    if device == "mps":
        return f"Apple GPU (MPS) on {platform.machine()}"
    return cpu_model()


def thread_settings() -> dict[str, object]:
    """The threads torch uses between and within operators, and the variables that set the
    OpenMP and MKL pools (None when unset)."""
    return {
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "mkl_num_threads": os.environ.get("MKL_NUM_THREADS"),
    }


def describe_environment(device: str) -> dict[str, object]:
    try:
        from importlib.metadata import version

        transformers_version = version("transformers")
    except Exception:
        transformers_version = None

    return {
        "policybench": _policybench_version(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lerobot": lerobot_version(),
        "transformers": transformers_version,
        "device": device,
        "device_name": device_name(device),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_vector_flags(),
        "cpu_count": os.cpu_count(),
        "cuda": torch.version.cuda if device.startswith("cuda") else None,
        "cuda_driver": cuda_driver() if device.startswith("cuda") else None,
        "cpu_governor": cpu_governor(),
        **thread_settings(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }


def device_sync(device: str) -> Callable[[], None]:
    """The function that waits for all queued work on ``device`` (a no-op on the CPU)."""
    kind = device.split(":")[0]
    if kind == "cuda":
        index = torch.device(device).index
        return (lambda: torch.cuda.synchronize(index)) if index is not None else torch.cuda.synchronize
    if kind == "mps":
        return torch.mps.synchronize
    return no_sync


def clock_for(device: str) -> Clock:
    return Clock(now=time.perf_counter, sync=device_sync(device))


def _policybench_version() -> str | None:
    """The installed policybench's version (its package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("policybench")
    except PackageNotFoundError:
        return None
