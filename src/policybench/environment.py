"""Which machine: the facts about the computer that need no torch (the CPU, its flags and governor,
the driver, the checkout). measure/device.py adds what torch knows, in the child."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    """The policybench checkout's commit, when it runs from one."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
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
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
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
