"""Every setting of every command, declared once: its field, flags, help, default and bounds.

From ``OPTIONS`` the command line's parsers are built (cli.py), ``FLAGS`` spells a settings error
with the flag that sets the field it names, and docs/commands.md's flag tables are rendered
(``render_flag_table``). The settings objects (settings.py) and the library's keywords (api.py)
state the same defaults; tests/unit/test_options.py checks that they do.

A setting that reads differently in one command (sweep's ``--cameras`` is an axis) is declared
for that command by ``Option.but``, beside the declaration it varies.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from policybench.identity import parse_override
from policybench.policies.hub import HUB_SMOLVLM
from policybench.profiles import DEFAULT_PROFILE, PROFILES

DEFAULT_POLICIES = ("act", "smolvla", "diffusion")  # run, sweep, verify, and the library's run
REALTIME_POLICIES = ("act",)  # a live realtime run; --simulate defaults to every policy in the file

MAX_HZ = 10_000  # a period of 0.1 ms: a Python control loop's own overhead
MIN_HZ = 0.01  # a period of 100 s: slower than any control loop; 1e-7 Hz was a 115-day period
# --processes: pyperf spreads a benchmark over 20 by default; a hundred fresh processes of one
# policy is already hours of building for a VLA, and every process's samples are kept.
MAX_PROCESSES = 100
# --threads: a fixed cap, not this machine's CPU count, because the settings are checked where
# they are made (the driver of a --ray run, which does not know its nodes) and again in each child.
# 1024 is above the hardware threads of any one machine sold today (2 x 192 cores x 2 = 768), and
# far below the 32,406 that --threads 100000 made, which exhausted the machine's process table.
MAX_THREADS = 1024
# rtc last: its policy runs with rtc_config enabled, which select_action (sync, async) refuses.
REALTIME_MODES = {
    "sync": ("sync",),
    "async": ("async",),
    "both": ("sync", "async"),
    "rtc": ("rtc",),
    "all": ("sync", "async", "rtc"),
}
AGGREGATES = ("weighted_average", "latest_only")
# rtc: the plain and guided chunks timed in turn after the loop (the guidance's cost). Each pair is
# two chunks: on a CPU, SmolVLA's take a minute or more together, so a few by default.
GUIDANCE_PAIRS = 3
MAX_GUIDANCE_PAIRS = 1000

RUN, SWEEP, REALTIME, VERIFY = "run", "sweep", "realtime", "verify"
TARGET = (RUN, SWEEP, REALTIME, VERIFY)  # the commands that build policies
LIVE = (RUN, REALTIME, VERIFY)  # ... and take one robot (sweep's axes read some of these as lists)
COMMANDS = (*TARGET, "plot", "report", "compare")


# ----------------------------------------------------------------------------- reading a flag's text


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None


def refill_count(text: str) -> int | str:
    """--refills: a count, or "auto" (until the refill median is known to --precision)."""
    return "auto" if text.strip().lower() == "auto" else integer(text)


def comma_list(text: str) -> list[str]:
    """The names of a comma-separated list (--policies, --on's nodes)."""
    return [n.strip() for n in text.split(",") if n.strip()]


def numbers(value: object, flag: str) -> tuple[float, ...]:
    """realtime --hz and --threshold: a comma-separated list (the default: one number)."""
    from policybench.errors import UsageError

    if isinstance(value, (int, float)):
        return (float(value),)
    text = str(value)
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise UsageError(f"{flag} must be a number or a comma-separated list of numbers, got '{text}'") from None
    if not values:
        raise UsageError(f"{flag} is empty")
    return values


def set_values(given: Sequence[str], flag: str) -> list[object]:
    """--set's POLICY.FIELD=VALUE texts, each read (a malformed one names the flag)."""
    return [parse_override(text) for text in given]


def as_list(given: Sequence[str], flag: str) -> list[str]:
    """--on's nodes as RunSettings keeps them (the default is a tuple)."""
    return list(given)


# ----------------------------------------------------------------------------- the declaration


@dataclass(frozen=True)
class Option:
    """One setting of some commands. ``field`` names it in the settings (a SettingsError's
    ``{field}``), ``flags`` on the command line (space-separated; no dash: a positional argument).
    ``help`` is --help's text, where ``{default}`` is the default as ``shown`` (else as its value
    reads). ``default`` is the value when the flag is not given, in the library's terms: api.py's
    keyword (``keyword`` where its name differs) has it. ``into`` is the settings object it goes
    to: "run" (RunSettings, through api.build_config's keywords), "realtime" (RealtimeSettings),
    or "" where the command reads it itself (sweep's axes, realtime's --simulate, the readers');
    ``read`` turns the parsed value (or the default) into that object's value. ``live_only``:
    realtime --simulate refuses it.
    ``more``: what docs/commands.md says after the help."""

    field: str
    flags: str
    commands: tuple[str, ...]
    help: str
    default: object = None
    shown: str | None = None
    type: Callable[[str], object] | None = None
    action: str | None = None  # "store_true" or "append"
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    nargs: str | None = None
    const: object = None
    group: str | None = None  # the options of one group exclude each other
    into: str = "run"
    read: Callable[[Any, str], object] | None = None
    keyword: str | None = None
    live_only: bool = False
    more: str = ""

    def __post_init__(self) -> None:
        if self.action == "store_true" and self.default is None:  # a switch is off unless given
            object.__setattr__(self, "default", False)

    def but(self, commands: tuple[str, ...], **changes: Any) -> Option:
        """The same setting as these ``commands`` take it: what differs is said in ``changes``."""
        return replace(self, commands=commands, **changes)

    @property
    def names(self) -> list[str]:
        return self.flags.split()

    @property
    def flag(self) -> str:
        """The flag an error names: the first."""
        return self.names[0]

    @property
    def positional(self) -> bool:
        return not self.flag.startswith("-")

    @property
    def api_keyword(self) -> str:
        return self.keyword or self.field

    @property
    def default_text(self) -> str:
        """The default in words: ``shown``, else its value ("off" for a switch, "" for none)."""
        return self.shown if self.shown is not None else _text(self.default)

    @property
    def help_text(self) -> str:
        """The help as --help prints it (``%%`` is argparse's escape of a percent sign)."""
        return self.help.replace("{default}", self.default_text)

    @property
    def unset(self) -> object:
        """What the parser stores when the flag is not given (then ``default`` applies)."""
        return False if self.action == "store_true" else [] if self.action == "append" else None

    def value(self, parsed: object) -> object:
        """The settings' value of what the parser stored (after the default was put in its place)."""
        return self.read(parsed, self.flag) if self.read is not None else parsed


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ",".join(_text(v) for v in value)
    return str(value)


_BREAKDOWN_HELP = (
    "after the timed refills, 5 refills of its own split into the policy family's components "
    "(vision encoder, denoising steps, ...), each against its FLOP/byte floor; the unattributed rest "
    "is a row of its own"
)
_RAY_HELP = (
    "each {what} a task on a node of the Ray cluster at ADDRESS (default auto: the one `ray start` started "
    "here) that has the resource policybench (ray start ... --resources='{{\"policybench\": 1}}'), one task "
    'per node at a time; needs the cluster extra: pip install -e ".[cluster]"'
)
_PROCESSES_HELP = (
    "measure {what} in this many fresh processes, one after the other; the table gives the median "
    f"of their medians and the spread between them (default {{{{default}}}}, at most {MAX_PROCESSES})"
)

_POLICIES = Option(
    "policies",
    "--policies",
    (RUN, SWEEP, VERIFY),
    default=DEFAULT_POLICIES,
    help="comma-separated policy names (default {default}, or none with --policy-path); see `policybench list`",
)
_CAMERAS = Option(
    "cameras",
    "--cameras",
    LIVE,
    type=integer,
    metavar="N",
    shown="the profile's",
    live_only=True,
    help="number of cameras (overrides the profile)",
    more="extra ones are named `camera<i>`",
)
_IMAGE_SIZE = Option(
    "image_size",
    "--image-size",
    LIVE,
    metavar="HxW",
    shown="the profile's",
    live_only=True,
    help="camera image size HEIGHTxWIDTH, e.g. 480x640 (overrides the profile)",
)
_SET = Option(
    "overrides",
    "--set",
    LIVE,
    action="append",
    default=(),
    metavar="POLICY.FIELD=VALUE",
    read=set_values,
    live_only=True,
    help="set a field of a policy's LeRobot config, e.g. diffusion.num_inference_steps=10 (repeatable)",
    more="values are read as JSON when they parse (numbers, `true`, `null`, `[84,84]`), else as text; a value the "
    "config rejects is a usage error before anything is built; a TYPE that is not among `--policies` sets that "
    "field of every `--policy-path` checkpoint of that type",
)
_THREADS = Option(
    "threads",
    "--threads",
    LIVE,
    type=integer,
    metavar="N",
    shown="torch's choice",
    live_only=True,
    help=f"torch intra-op threads (default: {{default}}; at most {MAX_THREADS})",
)
_REFILLS = Option(
    "refills",
    "--refills",
    (RUN,),
    type=refill_count,
    default=10,
    metavar="N",
    help="measure at least this many full refill cycles (default {default}); auto: until the refill median's 95%% "
    "interval is within --precision, at least 6, bounded by --max-seconds",
    more="the table says when it stopped short",
)
_PROCESSES = Option(
    "processes",
    "--processes",
    (RUN,),
    type=integer,
    default=1,
    metavar="N",
    help=_PROCESSES_HELP.format(what="each policy (and variant)"),
    more='the results file keeps every process\'s samples (`"p"`)',
)
_WARMUP = Option(
    "warmup",
    "--warmup",
    (RUN,),
    type=integer,
    default=2,
    metavar="N",
    help="full refill cycles run and discarded first (default {default})",
    more="the cold call starts the first",
)
_MAX_SECONDS = Option(
    "max_seconds",
    "--max-seconds",
    (RUN,),
    type=number,
    default=60.0,
    metavar="S",
    help="upper bound on each policy's measuring time (default {default})",
    more="a run cut short says so",
)
_BREAKDOWN = Option(
    "breakdown",
    "--breakdown",
    (RUN,),
    action="store_true",
    help=_BREAKDOWN_HELP,
    more="see [breakdown.md](breakdown.md)",
)
_HZ = Option(
    "hz",
    "--hz",
    (RUN,),
    type=number,
    metavar="HZ",
    help="after the table, each policy's budget at this control rate (sync, and async at threshold 0.5), by how "
    f"much its refill misses it and what would hold; at most {MAX_HZ}",
    more="the results file records it (`run.hz`) and `bars.png` draws the period",
)
_JSON = Option(
    "json_path",
    "--json",
    (RUN,),
    metavar="PATH",
    help="write the results file here, rewritten after every policy",
    more="a file that holds an earlier run is replaced only once this run has measured something; one run at a "
    "time per file",
)
_RAY = Option(
    "ray",
    "--ray",
    (RUN,),
    nargs="?",
    const="auto",
    metavar="ADDRESS",
    help=_RAY_HELP.format(what="policy"),
    more="see [fleet.md](fleet.md)",
)
_ON = Option(
    "on",
    "--on",
    (RUN,),
    type=comma_list,
    default=(),
    metavar="NODES",
    read=as_list,
    help="with --ray: the same benchmark on each of these nodes (comma-separated names, or all), into one fleet file",
)
_RESULTS = Option("results", "results", ("plot",), into="", help="a results file written by run --json")
_OUTPUT = Option(
    "output",
    "-o --output",
    ("plot",),
    default="plots",
    shown="./plots",
    into="",
    help="folder for the PNGs (default {default})",
)

OPTIONS: tuple[Option, ...] = (
    # the policies and the robot: every command that builds policies
    _POLICIES,
    _POLICIES.but(
        (REALTIME,),
        default=REALTIME_POLICIES,
        shown=f"{','.join(REALTIME_POLICIES)}; with --simulate every policy in the file",
    ),
    Option(
        "policy_type",
        "--policy.type",
        TARGET,
        action="append",
        default=(),
        metavar="NAME",
        into="",
        help="a policy name, as LeRobot's own commands spell it (repeatable; adds to --policies)",
    ),
    Option(
        "policy_paths",
        "--policy-path --policy.path",
        TARGET,
        action="append",
        default=(),
        metavar="DIR",
        live_only=True,
        help="your own trained policy: a LeRobot pretrained_model folder (config.json + model.safetensors), or a "
        "hub id with --hub; repeatable, runs after --policies; --set TYPE.FIELD=V reaches it by its policy "
        "type",
        more="its config decides the inputs (the profile is ignored), its weights are loaded, and its processors "
        "(the files `lerobot-train` writes beside it) are used with `--pipeline`",
    ),
    Option(
        "device",
        "--device",
        TARGET,
        default="auto",
        metavar="DEVICE",
        live_only=True,
        help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps (default {default})",
    ),
    Option(
        "profile",
        "--profile",
        TARGET,
        default=DEFAULT_PROFILE,
        metavar="PROFILE",
        live_only=True,
        help=f"robot profile: {', '.join(PROFILES)} (default {{default}})",
        more="see [Profiles](#profiles---profile)",
    ),
    _CAMERAS,
    _CAMERAS.but((SWEEP,), type=None, metavar="LIST", into="", more="", help="axis: numbers of cameras, e.g. 1,2,3"),
    _IMAGE_SIZE,
    _IMAGE_SIZE.but((SWEEP,), metavar="LIST", into="", help="axis: camera image sizes, e.g. 224x224,480x640,720x1280"),
    Option(
        "state_dim",
        "--state-dim",
        TARGET,
        type=integer,
        metavar="N",
        shown="the profile's",
        live_only=True,
        help="observation.state size (overrides the profile)",
    ),
    Option(
        "action_dim",
        "--action-dim",
        TARGET,
        type=integer,
        metavar="N",
        shown="the profile's",
        live_only=True,
        help="action size (overrides the profile)",
    ),
    _SET,
    _SET.but(
        (SWEEP,),
        metavar="POLICY.FIELD=V[,V...]",
        into="",
        read=None,
        more="",
        help="a config field: one value, or an axis of values, e.g. diffusion.num_inference_steps=5,10,25,50,100 "
        "(repeatable)",
    ),
    _THREADS,
    _THREADS.but((SWEEP,), type=None, metavar="LIST", into="", help="axis: torch intra-op threads, e.g. 1,2"),
    Option(
        "hub",
        "--hub",
        TARGET,
        action="store_true",
        live_only=True,
        help=f"allow the Hugging Face hub: SmolVLA uses the real {HUB_SMOLVLM} config, tokenizer and processor "
        "(weights stay random); without it nothing is downloaded",
        more="(`HF_HUB_OFFLINE=1`)",
    ),
    Option(
        "trust_remote_code",
        "--trust-remote-code",
        TARGET,
        action="store_true",
        help="let LeRobot run the Python files of a model or tokenizer it loads with trust_remote_code "
        "(pi0_fast's FAST tokenizer, GR00T); refused without it. Only for sources you trust: the code "
        "runs as you",
        more="(also a Gaussian actor's vision encoder, WALL-OSS's action tokenizer; see [security.md](security.md))",
    ),
    # how long and how often: run, and each point of a sweep
    _REFILLS,
    _REFILLS.but(
        (SWEEP,),
        default=3,
        more="",
        help="refill cycles measured at each point (default {default}); auto: until --precision, as in run",
    ),
    _PROCESSES,
    _PROCESSES.but((SWEEP,), help=_PROCESSES_HELP.format(what="each point of each policy")),
    Option(
        "precision",
        "--precision",
        (RUN, SWEEP),
        type=number,
        default=0.02,
        metavar="SHARE",
        help="--refills auto: the 95%% interval of the refill median within +- this share of it (default "
        "{default}, 2%%)",
    ),
    _WARMUP,
    _WARMUP.but((SWEEP,), default=1, more="", help="refill cycles discarded first at each point (default {default})"),
    _MAX_SECONDS,
    _MAX_SECONDS.but((SWEEP,), more="", help="bound on each point's measuring time (default {default})"),
    # what is measured
    Option(
        "pipeline",
        "--pipeline",
        (RUN,),
        action="store_true",
        help="time LeRobot's whole deployment step, stage by stage: raw observation -> prepare -> preprocessor "
        "-> select_action -> postprocessor",
        more="the raw observation is what a robot delivers (uint8 HxWx3 images and float state on the host, the "
        "task string); the table and the results file give each stage's median per phase; with `--variant`, "
        "each variant changes the policy inside the same processors",
    ),
    _BREAKDOWN,
    _BREAKDOWN.but((SWEEP,), help=_BREAKDOWN_HELP + " (at each point)"),
    Option(
        "variants",
        "--variant",
        (RUN, SWEEP),
        default=("eager",),
        metavar="LIST",
        help="acceleration variants measured side by side with eager: eager,noeval,bf16,bf16-weights,fp16,compile,"
        "onnxruntime,openvino,openvino-bf16,onnxruntime-int8,onnxruntime-int8-static,openvino-int8,"
        "openvino-int8-static,tensorrt,cudagraph or all; each checked for equivalent actions and placed "
        "against the refill's roofline floor of its precision; auto: every variant that applies here, ending "
        "with the fastest within the tolerance",
        more="`noeval`: no `self.eval()` walk over every submodule on each call; `bf16`, `fp16`: autocast; "
        "`bf16-weights`: the weights and inputs cast to bf16; "
        "`compile`: `torch.compile` of ACT's model, Diffusion's UNet, SmolVLA's prefix pass and denoising "
        "step; `cudagraph`, `cudagraph-bf16`: the whole refill captured as one CUDA graph (CUDA only); "
        "`onnxruntime`, `openvino`, `openvino-bf16`: deployment runtimes (CPU); their `-int8` forms quantize the "
        "exported model (ONNX Runtime dynamic, NNCF int8 weights), `-int8-static` ones weights and activations "
        "calibrated on 8 synthetic observations; `tensorrt`: a skip, not "
        "built yet. See [variants.md](variants.md)",
    ),
    Option(
        "tolerance",
        "--tolerance",
        (RUN,),
        type=number,
        metavar="X",
        shown="each variant's own",
        help="relative error (max |Δaction| / max |eager's action|) a variant's actions may have against fp32 "
        "eager's to count as a win (default: each variant's own, 1e-4 for fp32 variants, 2e-2 for bf16/fp16/int8)",
        more='the table then says "yes, within your X" or by how much a variant misses ("NO (1.5x over your '
        'X): not a win"), beside the largest and median action difference in action units',
    ),
    Option(
        "export_dir",
        "--export",
        (RUN,),
        metavar="DIR",
        help="save each model a runtime variant (onnxruntime, openvino and their bf16/int8 forms) ran, with a "
        "JSON manifest: policy, config, inputs, runtime and version, quantization and its calibration set, "
        "equivalence",
        more="deploy exactly what was measured",
    ),
    Option(
        "calibration",
        "--calibration",
        (RUN,),
        metavar="FILE",
        shown="8 synthetic observations",
        help="observations the -static int8 variants calibrate their activation scales on: a torch.save'd list "
        "of dicts as select_action receives them (after the preprocessor, a batch of 1), read with "
        "weights_only; the results and manifests name the set",
        more="default: 8 synthetic observations drawn as the run's, never the one whose actions are compared",
    ),
    # what is written and said
    Option(
        "baseline",
        "--baseline",
        (RUN,),
        metavar="NAME",
        shown="smolvla when it runs",
        help="policy the ratio columns divide by (default {default})",
    ),
    _HZ,
    _HZ.but(
        (SWEEP,),
        into="sweep",
        more="",
        help="also give, per policy and axis, the largest value that holds this control rate (sync and async)",
    ),
    _JSON,
    _JSON.but((SWEEP,), more="", help="write the results file, rewritten after every point"),
    _IN_PROCESS := Option(
        "in_process",
        "--in-process",
        (RUN,),
        action="store_true",
        into="",
        help="measure every policy in this process instead of a child process each (for "
        "debugging: memory figures then accumulate)",
    ),
    _RAY,
    _RAY.but((SWEEP,), help=_RAY_HELP.format(what="sweep point")),
    _ON,
    _ON.but((SWEEP,)),
    Option(
        "quiet",
        "--quiet",
        (RUN,),
        action="store_true",
        group="chatter",
        into="",
        help="print the table only: no progress, no warnings",
    ),
    Option(
        "verbose",
        "--verbose",
        (RUN,),
        action="store_true",
        group="chatter",
        into="",
        help="print every step (build, measure) as a line, also on a terminal",
    ),
    # realtime: can a policy hold a control rate?
    Option(
        "hz",
        "--hz",
        (REALTIME,),
        default=30.0,
        metavar="HZ",
        into="realtime",
        read=numbers,
        help=f"control rate in Hz, at most {MAX_HZ} (default {{default}}); with --simulate a comma-separated list, "
        "e.g. 10,15,30,50,100, each run for at most 1,000,000 simulated ticks",
    ),
    Option(
        "seconds",
        "--seconds",
        (REALTIME,),
        type=number,
        metavar="S",
        shown="10",
        group="length",
        into="realtime",
        help="length of the paced run in seconds (default {default})",
    ),
    Option(
        "ticks",
        "--ticks",
        (REALTIME,),
        type=integer,
        metavar="N",
        group="length",
        into="realtime",
        help="length of the paced run in control ticks",
    ),
    Option(
        "mode",
        "--mode",
        (REALTIME,),
        default="both",
        choices=tuple(REALTIME_MODES),
        into="realtime",
        help="sync: select_action on the loop; async: chunks computed in a background worker; rtc: LeRobot's "
        "Real-Time Chunking engine (LeRobot 0.6+, policies that support it); all: sync, async and rtc "
        "(default {default})",
        more="see [realtime.md](realtime.md)",
    ),
    Option(
        "execution_horizon",
        "--execution-horizon",
        (REALTIME,),
        type=integer,
        default=10,
        metavar="N",
        into="realtime",
        help="rtc: actions of the previous chunk that guide the next (LeRobot's RTCConfig.execution_horizon; "
        "default {default})",
        more="with `--simulate --mode rtc`, the setting replayed",
    ),
    Option(
        "queue_threshold",
        "--queue-threshold",
        (REALTIME,),
        type=integer,
        default=30,
        metavar="N",
        into="realtime",
        help="rtc: the engine computes a new chunk once the queue holds this many actions or fewer (default "
        "{default}, as lerobot-rollout)",
        more="with `--simulate --mode rtc`, the setting replayed",
    ),
    Option(
        "max_guidance_weight",
        "--max-guidance-weight",
        (REALTIME,),
        type=number,
        default=10.0,
        metavar="W",
        into="realtime",
        help="rtc: LeRobot's RTCConfig.max_guidance_weight (default {default})",
    ),
    Option(
        "guidance_pairs",
        "--guidance-pairs",
        (REALTIME,),
        type=integer,
        default=GUIDANCE_PAIRS,
        metavar="N",
        into="realtime",
        live_only=True,
        help="rtc: after the loop, N plain and guided chunks timed in turn, the guidance's cost (default "
        "{default}; 0 skips them): each pair is two chunks, a minute or more for SmolVLA on a CPU",
    ),
    Option(
        "thresholds",
        "--threshold",
        (REALTIME,),
        default=0.5,
        metavar="SHARE",
        into="realtime",
        read=numbers,
        keyword="threshold",
        help="async: request a new chunk when the queue holds at most this share of a chunk, in [0, 1] (LeRobot's "
        "chunk_size_threshold; default {default}); with --simulate a comma-separated list",
    ),
    Option(
        "aggregate",
        "--aggregate",
        (REALTIME,),
        default="weighted_average",
        choices=AGGREGATES,
        into="realtime",
        help="async: how overlapping actions of two chunks merge, as LeRobot defines them (default {default})",
    ),
    _WARMUP.but(
        (REALTIME,),
        live_only=True,
        more="",
        help="refill cycles (sync) or chunks (async) run before the paced loop (default {default})",
    ),
    Option(
        "remote",
        "--remote",
        (REALTIME,),
        action="store_true",
        into="realtime",
        live_only=True,
        help="also time round trips through LeRobot's own async inference server (gRPC PolicyServer on a Unix "
        "socket only you can open, needs lerobot[async])",
    ),
    Option(
        "remote_calls",
        "--remote-calls",
        (REALTIME,),
        type=integer,
        default=10,
        metavar="N",
        into="realtime",
        help="round trips timed with --remote (default {default})",
    ),
    Option(
        "port",
        "--port",
        (REALTIME,),
        type=integer,
        metavar="PORT",
        into="realtime",
        live_only=True,
        shown="a private Unix socket",
        help="serve the policy server with --remote on 127.0.0.1:PORT, as LeRobot's robot client reaches it "
        "(default: a Unix socket in a private folder); every call still needs the run's secret",
    ),
    Option(
        "simulate",
        "--simulate",
        (REALTIME,),
        metavar="RESULTS.json",
        into="",
        help="compute the verdict from a results file's measured samples instead of running policies",
    ),
    _JSON.but(
        (REALTIME,),
        into="",
        more="",
        help="write the results file with a 'realtime' section (with --simulate: the input results plus the "
        "simulation)",
    ),
    _IN_PROCESS.but(
        (REALTIME,),
        live_only=True,
        help="run the paced loops in this process instead of a child process (for debugging)",
    ),
    # the commands that read results files
    _RESULTS,
    _OUTPUT,
    _RESULTS.but(
        ("report",),
        nargs="+",
        help="a results file written by run --json; several (or a run --on fleet file): the fleet view, one "
        "column per machine",
    ),
    Option(
        "labels",
        "--label",
        ("report",),
        action="append",
        default=(),
        metavar="LABEL",
        into="",
        help="the name of the next file's machine in the fleet view (repeatable, in the files' order; default: the "
        "CPU or GPU, device and versions the file records)",
    ),
    Option(
        "format",
        "--format",
        ("report",),
        default="md",
        choices=("md", "csv", "html", "table"),
        into="",
        help="md (default), csv, html, or table: the table `run` printed",
    ),
    _OUTPUT.but(
        ("report",),
        default=None,
        shown=None,
        help="write here instead of standard output (csv: also <name>.samples.csv with the raw samples)",
    ),
    Option("base", "base", ("compare",), into="", help="results file of the reference run"),
    Option("new", "new", ("compare",), into="", help="results file of the run to check"),
    Option(
        "min_change",
        "--min-change",
        ("compare",),
        default="5%",
        into="",
        help="smallest change of a median that counts, e.g. 5%% or 0.05 (default 5%%)",
    ),
    Option(
        "force",
        "--force",
        ("compare",),
        action="store_true",
        into="",
        help="compare even when a policy was measured on a busy machine (its figures are not reliable)",
    ),
)


def options(command: str) -> list[Option]:
    """The settings ``command`` takes, in the order its --help lists them."""
    return [o for o in OPTIONS if command in o.commands]


def option(command: str, field: str) -> Option:
    """The declaration of ``field`` as ``command`` takes it."""
    (found,) = [o for o in options(command) if o.field == field]
    return found


# The one table between the settings' fields and the command line: an error naming a field
# (SettingsError) is printed with the flag that sets it.
FLAGS = {o.field: o.flag for o in OPTIONS if not o.positional}


# ----------------------------------------------------------------------------- docs/commands.md

FLAG_TABLE = re.compile(r"(<!-- flags of: policybench (\w+) -->\n)(.*?)(<!-- end of flags -->)", re.S)


def render_flag_table(command: str) -> str:
    """docs/commands.md's table of ``command``'s flags: each flag with its default and its help
    (and what the docs say more). For a command other than run, the flags it takes as run takes
    them are named in a line below the table."""
    flags = [o for o in options(command) if not o.positional]
    own = [o for o in flags if command == RUN or RUN not in o.commands]
    shared = [o for o in flags if o not in own]
    live = [o for o in flags if o.live_only] if command == REALTIME else []
    paragraphs = ["\n".join(["| flag | default | meaning |", "|---|---|---|", *map(_row, own)])] if own else []
    if shared:
        paragraphs.append(f"`{command}` {'also ' if own else ''}takes {_listed(shared)} as `run` takes them.")
    if live:
        paragraphs.append(f"With `--simulate`, {_listed(live)} are refused: they set up a live run.")
    return "\n\n".join(paragraphs) + "\n"


def _row(o: Option) -> str:
    literal = o.default_text and o.shown is None and o.action != "store_true"  # a value, not words
    default = f"`{o.default_text}`" if literal else o.default_text
    more = "" if not o.more else f" {o.more}" if o.more.startswith("(") else f"; {o.more}"
    flags = ", ".join(f"`{_invocation(o, name)}`" for name in o.names)
    return f"| {flags} | {default} | {o.help_text.replace('%%', '%')}{more} |"


def _invocation(o: Option, name: str) -> str:
    """A flag as --help writes it: with its value's name (``[NAME]`` where the value is optional)."""
    if o.action == "store_true":
        return name
    value = o.metavar or ("{" + ",".join(o.choices) + "}" if o.choices else o.field.upper())
    return f"{name} [{value}]" if o.nargs == "?" else f"{name} {value}"


def _listed(chosen: list[Option]) -> str:
    flags = [" or ".join(f"`{name}`" for name in o.names) for o in chosen]
    return ", ".join(flags[:-1]) + f" and {flags[-1]}" if len(flags) > 1 else flags[0]


def with_flag_tables(markdown: str) -> str:
    """``markdown`` with every marked flag table rendered anew from the declaration."""
    return FLAG_TABLE.sub(lambda m: m.group(1) + render_flag_table(m.group(2)) + m.group(4), markdown)
