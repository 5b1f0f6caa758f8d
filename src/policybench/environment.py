"""Which machine, which software: the facts every result is stamped with, and the device choice."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch

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


def cpu_vector_flags() -> list[str]:
    """The CPU's vector and matrix instruction sets (AVX, AVX-512 and its BF16/VNNI, AMX), which
    decide how fast fp32 and bf16 run on it; [] where /proc/cpuinfo is not readable."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return []
    return sorted({f for f in flags if f.startswith(("avx", "amx", "fma"))})


def cuda_driver() -> str | None:
    """The NVIDIA driver version as nvidia-smi reports it, or None."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def cpu_governor(path: str = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") -> str | None:
    """The CPU frequency governor ("performance", "powersave", ...): a CPU that lowers its clock
    when idle makes the first calls slower; None where the kernel does not say (VMs, macOS)."""
    try:
        with open(path) as f:
            return f.read().strip() or None
    except OSError:
        return None


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
        "cpu_flags": cpu_vector_flags(),
        "cpu_count": os.cpu_count(),
        "cuda": torch.version.cuda if device.startswith("cuda") else None,
        "cuda_driver": cuda_driver() if device.startswith("cuda") else None,
        "cpu_governor": cpu_governor(),
        **thread_settings(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }
