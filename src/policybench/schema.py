"""What each field of a results file must be, checked as it is read (docs/results-schema.md).

A results file may come from anyone: every field that reports, plots, compare or simulate read is
checked here for its type and range, so that a bad one is one UsageError naming it, never a
traceback later. Each reader takes a JSON value and where it is (``act: samples[3].latency_ms``)
and returns the value checked (numbers as the renderers need them, ``{}`` for a null object).
"""

from __future__ import annotations

import math
import re
import reprlib
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from policybench.errors import UsageError
from policybench.samples import PHASES, REFILL, STEP, Sample
from policybench.terminal import format_safe

if TYPE_CHECKING:
    from policybench.results import PolicyResult

JSON = dict[str, Any]  # a JSON object as read from a file: its values (JSON values) are unchecked until read here
Reader = Callable[[object, str], object]  # a reader: a JSON value and where it is, to the value checked
T = TypeVar("T")

DAY_S = 86_400  # a file that says a call or a build took longer than a day is not a measurement
MAX_COUNT = 2**53  # call and tick indices, parameter counts: whole numbers a float holds exactly
MAX_NAME = 4096  # characters of a policy name, variant or source (PATH_MAX, for a checkpoint path)
MAX_POINT_AXES = 8  # axes of a sweep point in a file (policybench sweeps one or two)
MAX_POINT_VALUE = 100  # characters of a sweep value as shown ("480x640", "0.001")
MAX_AXIS_VALUE = 1e12  # a sweep axis value; a fitted line squares it
_FLOAT_MAX = sys.float_info.max
_IMAGE_SIZE = re.compile(r"[1-9][0-9]{0,5}x[1-9][0-9]{0,5}")  # a sweep's image_size value, HEIGHTxWIDTH

_SHOWN = reprlib.Repr()  # a bad value in a message: a long string, list or number shortened
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlong = 40
_LINE_BREAKS = {c: repr(chr(c))[1:-1] for c in (0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}


def shown(value: object) -> str:
    return _SHOWN.repr(value)


def one_line(name: str) -> str:
    """A name as a message shows it: its line breaks escaped, so the message stays one line, and
    its format characters (U+202E, ...), so it reads as it is."""
    return format_safe(name.translate(_LINE_BREAKS))


# ----------------------------------------------------------------------------- values


def read_number(
    value: object, where: str, low: float, high: float, what: str, kinds: tuple[type, ...] = (int, float)
) -> float | int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not isinstance(value, kinds)
        or not low <= value <= high
    ):  # NaN fails too
        raise UsageError(f"{where} is {shown(value)}; {what}")
    return value


def read_ms(value: object, where: str) -> float:
    what = f"a latency must be a number of milliseconds from 0 to {DAY_S * 1000} (a day)"
    return float(read_number(value, where, 0, DAY_S * 1000, what))


def read_seconds(value: object, where: str) -> float:
    return float(read_number(value, where, 0, DAY_S, f"must be a number of seconds from 0 to {DAY_S} (a day)"))


def read_count(value: object, where: str) -> int:
    count = read_number(value, where, 0, MAX_COUNT, f"must be a whole number from 0 to {MAX_COUNT}", (int,))
    return cast(int, count)  # kinds (int,): an int


def read_real(value: object, where: str) -> float | int:
    """Any number a float holds, NaN and infinities included (a relative error can be NaN)."""
    if isinstance(value, float):
        return value
    return read_number(value, where, -_FLOAT_MAX, _FLOAT_MAX, "must be a number", (int,))


def read_share(value: object, where: str) -> float:
    """A share of a median (--precision, the precision reached): 0.02 is 2 %."""
    return float(read_number(value, where, 0, 1e9, "must be a share, a number from 0 up (0.02 is 2 %)"))


def read_processes(value: object, where: str) -> int:
    return cast(int, read_number(value, where, 1, MAX_COUNT, f"must be a whole number from 1 to {MAX_COUNT}", (int,)))


def read_refills(value: object, where: str) -> int | str:
    """A run's --refills: a count, or "auto"."""
    return "auto" if value == "auto" else read_count(value, where)


def read_rate(value: object, where: str) -> float | int:
    return read_number(value, where, 1e-9, 1e9, "must be a rate in Hz above 0")


def read_text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{where} is {shown(value)}; must be a string")
    return value


def read_name(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise UsageError(f"{where} is {shown(value)}; must be a string of at most {MAX_NAME} characters")
    return value


def read_bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{where} is {shown(value)}; must be true or false")
    return value


def read_entry(value: object, where: str) -> JSON:
    """A JSON object (null refused: a list's item)."""
    if not isinstance(value, dict):
        raise UsageError(f"{where} is {shown(value)}; must be an object")
    return value


def read_object(value: object, where: str) -> JSON:
    """A JSON object; {} for null."""
    return {} if value is None else read_entry(value, where)


def read_list(value: object, where: str, item: Reader | None = None) -> list[object]:
    """A JSON array, each item checked by ``item`` when given; [] for null."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"{where} is {shown(value)}; must be a list")
    if item is not None:
        for k, x in enumerate(value):
            item(x, f"{where}[{k}]")
    return value


def read_objects(value: object, where: str) -> list[JSON]:
    return cast("list[JSON]", read_list(value, where, read_entry))  # each item checked by read_entry


def read_texts(value: object, where: str) -> list[str]:
    return cast("list[str]", read_list(value, where, read_text))  # each item checked by read_text


def read_fields(d: JSON, where: str, readers: Mapping[str, Reader]) -> JSON:
    """``d`` with each key of ``readers`` that it holds (and is not null) checked by its reader;
    other keys kept as they are."""
    return {**d, **{key: read(d[key], f"{where}.{key}") for key, read in readers.items() if d.get(key) is not None}}


def read_optional(d: JSON, key: str, policy: str, read: Callable[[object, str], T]) -> T | None:
    """d[key] checked by ``read``; None when absent or null."""
    return None if d.get(key) is None else read(d[key], f"{one_line(policy)}: {key}")


# ----------------------------------------------------------------------------- a result's sections


def read_samples(value: object, policy: str) -> list[Sample]:
    """Known phases, increasing call indices, latencies that are milliseconds a call can take,
    and with --pipeline the same stages in every sample that has them."""
    samples: list[Sample] = []
    stages_seen = None
    name = one_line(policy)
    for k, s in enumerate(read_list(value, f"{name}: samples")):
        where = f"{name}: samples[{k}]"
        if not isinstance(s, dict):
            raise UsageError(f"{where} is {shown(s)}; must be an object with i, phase and latency_ms")
        i = read_count(s.get("i"), f"{where}.i")
        p = 0 if s.get("p") is None else read_count(s.get("p"), f"{where}.p")
        if samples and p < samples[-1].process:
            raise UsageError(
                f"{where}.p is {p}, after {samples[-1].process}; each process's samples follow the last one's"
            )
        if samples and p == samples[-1].process and i <= samples[-1].i:
            raise UsageError(f"{where}.i is {i}, after {samples[-1].i}; call indices must increase")
        phase = s.get("phase")
        if phase not in PHASES:
            raise UsageError(f"{where}.phase is {shown(phase)}; known phases: {', '.join(PHASES)}")
        stages = s.get("stages_ms")
        if stages is not None:
            stages = {
                stage: read_ms(ms, f"{where}.stages_ms.{one_line(stage)}")
                for stage, ms in read_object(stages, f"{where}.stages_ms").items()
            }
            if stages and stages_seen is not None and stages.keys() != stages_seen:
                raise UsageError(
                    f"{where}.stages_ms names {shown(list(stages))}; the samples before it name "
                    f"{shown(list(stages_seen))}"
                )
            stages_seen = stages.keys() if stages else stages_seen
        # one string object per phase for all samples (a million samples keep a million otherwise)
        samples.append(
            Sample(i, STEP if phase == STEP else REFILL, read_ms(s.get("latency_ms"), f"{where}.latency_ms"), stages, p)
        )
    return samples


def read_config(value: object, where: str) -> JSON:
    """Chunk and step counts (simulate replays n_action_steps)."""
    return read_fields(
        read_object(value, where),
        where,
        {
            "chunk_size": read_count,
            "n_action_steps": read_count,
            "inference_steps": read_count,
        },
    )


SCHEMA_1_POINT = ("sweep_point", "sweep_policy")  # where schema 1 kept a result's sweep point, in its config


def upgrade_result(d: JSON) -> JSON:
    """A schema-1 result as schema 2 has it. Schema 1 named a result "act+bf16[cameras=2]" and kept
    the point in config.sweep_point and the name before the point in config.sweep_policy: ``policy``
    becomes the name without the "+variant" and "[point]" policybench added, ``point`` the sweep
    point, and config keeps neither."""
    name = read_name(d.get("policy"), "a result's policy")
    where = f"{one_line(name)}: config"
    config = read_object(d.get("config"), where)
    old = read_fields(config, where, {"sweep_point": read_point, "sweep_policy": read_name})
    if old.get("sweep_point") and old.get("sweep_policy") is None:
        raise UsageError(f"{where}.sweep_policy is missing; a sweep point names the policy measured there")
    policy = old.get("sweep_policy") or name
    variant = d.get("variant")
    if isinstance(variant, str) and variant != "eager" and policy.endswith(f"+{variant}"):
        policy = policy[: -len(variant) - 1]
    rest = {key: value for key, value in config.items() if key not in SCHEMA_1_POINT}
    return {**d, "policy": policy, "point": old.get("sweep_point") or {}, "config": rest}


def read_point(value: object, where: str) -> dict[str, str]:
    """A sweep point: at most MAX_POINT_AXES axes, each value a short string ("2", "480x640")."""
    point = read_object(value, where)
    if len(point) > MAX_POINT_AXES:
        raise UsageError(f"{where} has {len(point):,} axes; a sweep point has at most {MAX_POINT_AXES}")
    for axis, shown_value in point.items():
        if len(read_text(shown_value, f"{where}.{one_line(axis)}")) > MAX_POINT_VALUE:
            raise UsageError(
                f"{where}.{one_line(axis)} is {shown(shown_value)}; a sweep value is at most "
                f"{MAX_POINT_VALUE} characters"
            )
    return cast(dict[str, str], point)


def read_memory(value: object, where: str) -> JSON:
    keys = ("weight_bytes", "rss_after_build_mb", "peak_rss_mb", "cuda_max_allocated_mb", "cuda_max_reserved_mb")
    return read_fields(read_object(value, where), where, dict.fromkeys(keys, read_real))


def read_equivalence(value: object, where: str) -> JSON:
    """{} without --variant; else its verdict, relative error and tolerance."""
    eq = read_object(value, where)
    if not eq:
        return eq
    for key in ("equivalent", "rel_error", "tolerance"):
        if eq.get(key) is None:
            raise UsageError(
                f"{where}.{key} is missing; an equivalence has max_abs_diff, rel_error, tolerance and equivalent"
            )
    return read_fields(
        eq,
        where,
        {
            "equivalent": read_bool,
            "rel_error": read_real,
            "tolerance": read_real,
            "max_abs_diff": read_real,
            "tolerance_given": read_bool,
            "action_max_diff": read_real,
            "action_median_diff": read_real,
            "range_share": read_real,
            "action_range": read_reals,
            "units": read_choice(("action", "output")),
            "range_from": read_choice(("dataset statistics", "reference chunk")),
            "weights": read_choice(("random", "checkpoint", "given")),
            "divergence": read_divergence,
        },
    )


def read_divergence(value: object, where: str) -> JSON:
    """Where a variant that missed left fp32 eager (measure/divergence.py): the first component
    output beyond the tolerance (or null), each component's largest relative difference, those not
    compared, and the tolerance."""
    d = read_entry(value, where)
    first = None
    if d.get("first") is not None:
        f, w = read_entry(d["first"], f"{where}.first"), f"{where}.first"
        first = {
            "component": read_name(f.get("component"), f"{w}.component"),
            "call": read_count(f.get("call"), f"{w}.call"),
            "calls": read_count(f.get("calls"), f"{w}.calls"),
            "rel_error": read_real(f.get("rel_error"), f"{w}.rel_error"),
        }
    components = []
    for k, c in enumerate(read_objects(d.get("components"), f"{where}.components")):
        w = f"{where}.components[{k}]"
        components.append(
            {
                "component": read_name(c.get("component"), f"{w}.component"),
                "calls_compared": read_count(c.get("calls_compared"), f"{w}.calls_compared"),
                "largest_rel_error": read_real(c.get("largest_rel_error"), f"{w}.largest_rel_error"),
            }
        )
    return {
        "first": first,
        "components": components,
        "not_compared": [
            read_name(n, f"{where}.not_compared[{k}]")
            for k, n in enumerate(read_list(d.get("not_compared"), f"{where}.not_compared"))
        ],
        "tolerance": read_real(d.get("tolerance"), f"{where}.tolerance"),
    }


def read_reals(value: object, where: str) -> list[float]:
    return [float(read_real(v, f"{where}[{k}]")) for k, v in enumerate(read_list(value, where))]


def read_choice(choices: tuple[str, ...]) -> Reader:
    """A reader of one of ``choices``."""

    def read(value: object, where: str) -> str:
        if value not in choices:
            raise UsageError(f"{where} is {shown(value)}; must be one of {', '.join(choices)}")
        return cast(str, value)

    return read


def read_machine_load(value: object, where: str) -> JSON:
    """Other work on the machine while measured: ``other_cpu`` a fraction of the machine from 0
    to 1, ``other_gpu_processes`` a count; {} for a file that has none."""
    return read_fields(
        read_object(value, where), where, {"other_cpu": read_fraction, "other_gpu_processes": read_count}
    )


def read_fraction(value: object, where: str) -> float:
    return float(read_number(value, where, 0, 1, "must be a fraction of the machine from 0 to 1"))


ROOFLINE_TERMS = ("flops", "weight_bytes_read", "peak_flops", "peak_bytes_per_s")
_COST = dict.fromkeys(("flops", "weight_bytes_read", "floor_ms", "peak_flops", "peak_bytes_per_s"), read_real)


def read_precision(value: object, where: str) -> str:
    """A number format's short name ("fp32", "bf16"): a word of at most 16 letters and digits."""
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9_]{1,16}", value):
        raise UsageError(f"{where} is {shown(value)}; must be a precision's name such as fp32, bf16, fp16 or int8")
    return value


def read_rates(value: object, where: str) -> JSON:
    """{precision: peak operations per second}."""
    rates = read_object(value, where)
    for name, rate in rates.items():
        read_precision(name, f"{where} key")
        read_number(rate, f"{where}.{one_line(name)}", 0, _FLOAT_MAX, "must be a rate in operations per second")
    return rates


def read_breakdown(value: object, where: str) -> JSON:
    """--breakdown (anatomy/): its components, each breakdown refill's whole time and each
    component's time and calls in it, and the costs; {} for a result (or a file) without one."""
    bd = read_object(value, where)
    if not bd:
        return bd
    comps = read_objects(bd.get("components"), f"{where}.components")
    names = [read_name(c.get("name"), f"{where}.components[{k}].name") for k, c in enumerate(comps)]
    refills = []
    for k, r in enumerate(read_objects(bd.get("refills"), f"{where}.refills")):
        w = f"{where}.refills[{k}]"
        ms = {n: read_ms(v, f"{w}.ms.{one_line(n)}") for n, v in read_object(r.get("ms"), f"{w}.ms").items()}
        calls = {
            n: read_count(v, f"{w}.calls.{one_line(n)}") for n, v in read_object(r.get("calls"), f"{w}.calls").items()
        }
        unknown = [n for n in (*ms, *calls) if n not in names]
        if unknown:
            raise UsageError(f"{w} names {shown(unknown[0])}, which is not among {where}.components")
        refills.append({"total_ms": read_ms(r.get("total_ms"), f"{w}.total_ms"), "ms": ms, "calls": calls})
    cost = {
        n: read_fields(read_object(c, f"{where}.cost.{one_line(n)}"), f"{where}.cost.{one_line(n)}", _COST)
        for n, c in read_object(bd.get("cost"), f"{where}.cost").items()
    }
    return {
        "components": [
            {"name": n, "repeat": read_text(c.get("repeat") or "", f"{where}.components.repeat")}
            for n, c in zip(names, comps)
        ],
        "refills": refills,
        "cost": cost,
        "missing": read_texts(bd.get("missing"), f"{where}.missing"),
        "unattributed_cost": read_fields(
            read_object(bd.get("unattributed_cost"), f"{where}.unattributed_cost"), f"{where}.unattributed_cost", _COST
        ),
        "peaks": read_fields(read_object(bd.get("peaks"), f"{where}.peaks"), f"{where}.peaks", _COST),
        **({"note": read_text(bd["note"], f"{where}.note")} if bd.get("note") is not None else {}),
    }


def read_roofline(value: object, where: str) -> JSON:
    """Numbers; a floor (floor_ms) comes with the four terms it is computed from; the precision
    the floor is of and the peak rate measured for each precision (newer files)."""
    readers: dict[str, Reader] = {
        **dict.fromkeys((*ROOFLINE_TERMS, "floor_ms", "x_of_floor", "weights_read"), read_real),
        "precision": read_precision,
        "peak_flops_by_precision": read_rates,
    }
    rl = read_fields(read_object(value, where), where, readers)
    missing = [key for key in ROOFLINE_TERMS if rl.get(key) is None]
    if rl.get("floor_ms") and missing:
        raise UsageError(f"{where}.{missing[0]} is missing; a floor_ms comes with {', '.join(ROOFLINE_TERMS)}")
    return rl


# ----------------------------------------------------------------------------- the machine and the run


_ENVIRONMENT_TEXTS = (
    "policybench",
    "python",
    "torch",
    "lerobot",
    "transformers",
    "device",
    "device_name",
    "cpu_model",
    "cuda",
    "cuda_driver",
    "platform",
    "git_commit",
    "cpu_governor",
    "omp_num_threads",
    "mkl_num_threads",
)
_ENVIRONMENT_READERS: dict[str, Reader] = {
    **dict.fromkeys(_ENVIRONMENT_TEXTS, read_text),
    "cpu_flags": read_texts,
    "cpu_count": read_count,
    "threads": read_count,
    "interop_threads": read_count,
}


def read_environment(value: object) -> JSON:
    return read_fields(read_object(value, "environment"), "environment", _ENVIRONMENT_READERS)


def read_machine(value: object, where: str) -> JSON:
    """A result measured on a cluster node (--ray): the node's name and its own environment facts;
    {} for a result measured where the file's environment says."""
    return read_fields(read_object(value, where), where, {**_ENVIRONMENT_READERS, "node": read_text})


def read_run(value: object) -> JSON:
    readers = {
        "profile": read_profile,
        "overrides": read_texts,
        "baseline": read_name,
        "sweep": read_sweep,
        "hz": read_rate,
        "processes": read_processes,
        "precision": read_share,
        "refills": read_refills,
        "breakdown": read_bool,
        "tolerance": read_real,
        "auto_variant": read_bool,
    }
    return read_fields(read_object(value, "run"), "run", readers)


def read_profile(value: object, where: str) -> JSON | str:
    """An object with a name, or (as some files have it) the profile's name alone."""
    if isinstance(value, str):
        return value
    return read_fields(read_object(value, where), where, {"name": read_text})


def read_sweep(value: object, where: str) -> JSON:
    return read_fields(read_object(value, where), where, {"hz": read_rate, "axes": read_axes})


def read_axes(value: object, where: str) -> list[JSON]:
    """[{name, values}]: values as shown, numbers (HEIGHTxWIDTH for image_size), a line is fitted to."""
    axes = read_objects(value, where)
    for n, axis in enumerate(axes):
        name = read_text(axis.get("name"), f"{where}[{n}].name")
        for k, v in enumerate(read_texts(axis.get("values"), f"{where}[{n}].values")):
            if not _axis_value_ok(name, v):
                what = (
                    "an image size HEIGHTxWIDTH"
                    if name == "image_size"
                    else f"a number from -{MAX_AXIS_VALUE:g} to {MAX_AXIS_VALUE:g}"
                )
                raise UsageError(f"{where}[{n}].values[{k}] is {shown(v)}; must be {what}")
    return axes


def _axis_value_ok(name: str, value: str) -> bool:
    if name == "image_size":
        return _IMAGE_SIZE.fullmatch(value) is not None
    try:
        x = float(value)
    except ValueError:
        return False
    return math.isfinite(x) and abs(x) <= MAX_AXIS_VALUE


def check_sweep_points(run: JSON, results: list[PolicyResult], names: list[str], version: int) -> None:
    """Each result's sweep point holds values of the run's sweep axes (the result named and its
    point's field spelled as the file has them)."""
    axes = {a["name"]: a.get("values") or [] for a in (run.get("sweep") or {}).get("axes") or []}
    field = "config.sweep_point" if version == 1 else "point"
    for r, result_name in zip(results, names):
        for name, value in r.point.items():
            if name in axes and value not in axes[name]:
                raise UsageError(
                    f"{one_line(result_name)}: {field}.{one_line(name)} is {shown(value)}; "
                    f"the sweep's {one_line(name)} values are {shown(axes[name])}"
                )
