"""The policy registry: every name policybench knows, as one kind object each.

A kind knows how to build its policy, which ``--set`` fields it takes and whether their values
are good, why it cannot be built here, and what to call itself in tables: ``NoopKind`` (the
built-in harness check), ``LeRobotKind`` (one per LeRobot policy type, its knowledge in one
``Family`` of lerobot_policies.py) and ``CheckpointKind`` (a user's saved policy). Adding a
LeRobot family is one ``Family`` entry. LeRobot is imported lazily, inside the methods that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policybench.errors import SettingsError, UsageError, literal
from policybench.policies.hub import hub_overrides  # noqa: F401  (policies.hub_overrides: --hub's settings)
from policybench.policies.labels import label, short_label  # noqa: F401  (policies.label: the table's names)

if TYPE_CHECKING:
    from policybench.policies.base import PolicyAdapter
    from policybench.profiles import Profile

NOOP = "noop"


class NoopKind:
    name = NOOP
    summary = "built-in: returns preallocated actions (measures the harness)"
    curated = True

    def availability(self) -> str | None:
        return None

    def config_fields(self) -> list[str]:
        from policybench.policies.noop import NOOP_CONFIG_FIELDS

        return list(NOOP_CONFIG_FIELDS)

    def check_overrides(self, overrides: dict[str, object]) -> None:
        from policybench.policies.noop import check_chunk_size

        check_chunk_size(overrides)

    def build(self, profile: Profile, overrides: dict[str, object], device: str, seed: int) -> PolicyAdapter:
        from policybench.policies.noop import build_noop

        return build_noop(profile, overrides, device, seed)


class LeRobotKind:
    """One policy type of the installed LeRobot, described by its ``Family``."""

    def __init__(self, name: str):
        from policybench.policies.lerobot_policies import family

        self.name, self.family = name, family(name)
        self.summary, self.curated = self.family.summary, self.family.curated

    def availability(self) -> str | None:
        try:
            from policybench.lerobot_adapter.registry import policy_class

            policy_class(self.name)
        except ModuleNotFoundError as exc:  # an optional dependency of this policy is missing
            return f"needs the Python package '{exc.name}', which is not installed: pip install {exc.name}"
        except Exception as exc:  # noqa: BLE001 - LeRobot's own import-time checks
            return f"{type(exc).__name__}: {exc}"
        return self.family.availability_problem()

    def config_fields(self) -> list[str]:
        from policybench.policies.lerobot_policies import config_fields

        return config_fields(self.name)

    def check_overrides(self, overrides: dict[str, object]) -> None:
        """Build the config (not the policy) with the ``--set`` values: a bad value is a usage error."""
        from policybench.lerobot_adapter.registry import config_class
        from policybench.policies.lerobot_policies import coerce_overrides
        from policybench.sizes import check_override_sizes

        check_override_sizes(self.name, overrides)
        cls = config_class(self.name)
        try:
            cls(**coerce_overrides(cls, overrides))
        except (TypeError, ValueError, AssertionError, NotImplementedError) as exc:
            sets = " ".join(
                f"{{overrides}} {literal(self.name)}.{literal(k)}={literal(repr(v))}" for k, v in overrides.items()
            )
            raise SettingsError(
                f"{sets}: {literal(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}"
            ) from None

    def build(self, profile: Profile, overrides: dict[str, object], device: str, seed: int) -> PolicyAdapter:
        from policybench.policies.lerobot_policies import build_lerobot

        return build_lerobot(self.name, profile, overrides, device, seed)


class CheckpointKind:
    """A user's own saved policy (--policy-path): its config decides, checked when it is loaded."""

    summary, curated = "a saved LeRobot policy", True

    def __init__(self, path: str):
        self.name = path

    def availability(self) -> str | None:
        return None

    def config_fields(self) -> list[str]:
        return []

    def check_overrides(self, overrides: dict[str, object]) -> None:
        """Sizes, then the values against the checkpoint's own config as its type's rules hold them
        (a config parsed with them, nothing built, no weights read): a bad value is a usage error.
        A checkpoint that cannot be read here is left for its build to report."""
        from policybench.policies.checkpoint import OverrideRefused, check_overrides
        from policybench.sizes import check_override_sizes

        check_override_sizes(self.name, overrides)
        try:
            check_overrides(self.name, overrides)
        except OverrideRefused as exc:
            sets = " ".join(
                f"{{overrides}} {literal(exc.policy_type)}.{literal(k)}={literal(repr(v))}"
                for k, v in exc.overrides.items()
            )
            raise SettingsError(f"{sets} (for the checkpoint {literal(self.name)}): {literal(exc.reason)}") from None

    def build(self, profile: Profile, overrides: dict[str, object], device: str, seed: int) -> PolicyAdapter:
        from policybench.policies.checkpoint import load_checkpoint

        return load_checkpoint(self.name, overrides, device)


def known_names() -> list[str]:
    """Every policy type the installed LeRobot registers (curated ones first), then noop.
    Without LeRobot, only the curated types and noop."""
    from policybench.policies.lerobot_policies import FAMILIES, registered_types

    try:
        names = registered_types()
    except ImportError:
        names = list(FAMILIES)
    return [*names, NOOP]


def _is_known(name: str) -> bool:
    from policybench.policies.lerobot_policies import FAMILIES

    return name == NOOP or name in FAMILIES or name in known_names()


def is_checkpoint(name: str) -> bool:
    """A --policy-path target (a folder or hub id) rather than a built-in policy name."""
    from policybench.policies.checkpoint import looks_like_checkpoint

    return looks_like_checkpoint(name) and not _is_known(name)


def kind(name: str) -> NoopKind | LeRobotKind | CheckpointKind:
    """The kind of ``name``; an unknown name is a usage error listing the known ones."""
    if name == NOOP:
        return NoopKind()
    if is_checkpoint(name):
        return CheckpointKind(name)
    if not _is_known(name):
        raise UsageError(f"unknown policy '{name}'; known policies: {', '.join(known_names())} (or --policy-path DIR)")
    return LeRobotKind(name)


def check_name(name: str) -> None:
    kind(name)


def summary(name: str) -> str:
    return kind(name).summary


def is_curated(name: str) -> bool:
    """Tried and measured by policybench (not only known from LeRobot's registry)."""
    return kind(name).curated


def availability(name: str) -> str | None:
    """None when ``name`` can be built here, else the reason it cannot (cheap: imports only)."""
    return kind(name).availability()


def config_fields(name: str) -> list[str]:
    """Fields a ``--set NAME.FIELD=VALUE`` may name."""
    return kind(name).config_fields()


def check_override_field(name: str, field: str) -> None:
    k = kind(name)
    if isinstance(k, CheckpointKind):
        return  # checked against the checkpoint's own config when it is loaded
    valid = k.config_fields()
    if field not in valid:
        raise UsageError(f"unknown field '{field}' for {name}; valid fields: {', '.join(valid)}")


def check_override_values(name: str, overrides: dict[str, object]) -> None:
    kind(name).check_overrides(overrides)


def build(name: str, profile: Profile, overrides: dict[str, object], device: str, seed: int = 0) -> PolicyAdapter:
    return kind(name).build(profile, overrides, device, seed)


def with_pipeline(adapter: PolicyAdapter, checkpoint: str | None, device: str, task: str) -> PolicyAdapter:
    """Wrap a LeRobot policy so that each call runs LeRobot's whole deployment pipeline (--pipeline)."""
    from policybench.policies.checkpoint import hub_offline
    from policybench.policies.lerobot_policies import LeRobotPolicy
    from policybench.policies.pipeline import PipelinePolicy, processors_for

    if not isinstance(adapter, LeRobotPolicy):
        return adapter  # noop: no processors, nothing to stage
    if not checkpoint and adapter.family.pipeline_needs_hub and hub_offline():
        raise RuntimeError(adapter.family.pipeline_needs_hub)
    pre, post = processors_for(adapter.policy, checkpoint, device)
    return PipelinePolicy(adapter, pre, post, device, task)
