"""Which LeRobot is installed, and what its version cannot build."""

from __future__ import annotations


def lerobot_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("lerobot")
    except Exception:
        return None


def lerobot_at_least(major: int, minor: int) -> bool:
    from packaging.version import Version

    v = lerobot_version()
    return v is not None and Version(v) >= Version(f"{major}.{minor}")


def pi_problem() -> str | None:
    """LeRobot 0.4.4's pi0/pi05 refuse to build unless LeRobot's patched transformers is installed;
    LeRobot 0.5 and later build them on the registry's transformers with their own Gemma code."""
    if lerobot_at_least(0, 5):
        return None
    try:
        from transformers.models.siglip import check

        if check.check_whether_transformers_replace_is_installed_correctly():
            return None
    except ImportError:
        pass
    return (
        "LeRobot 0.4.4 needs its patched transformers (transformers.models.siglip.check) and refuses "
        "the registry's with 'An incorrect transformer version is used': use Python >= 3.12, where "
        "`make` installs LeRobot 0.6, which builds pi0 and pi0.5 on the registry's transformers"
    )


def offline_build_problem(what: str) -> str | None:
    """Why a type whose offline build follows LeRobot 0.5's and 0.6's classes (``what`` says which
    model) cannot be built with the LeRobot installed, or None: 0.4's classes of the same types
    differ (other config fields, other model code)."""
    if lerobot_at_least(0, 5):
        return None
    return (
        f"policybench builds {what} offline with LeRobot 0.5 and later, whose classes it follows; "
        f"LeRobot {lerobot_version()} has other ones: use Python >= 3.12, where `make` installs LeRobot 0.6"
    )
