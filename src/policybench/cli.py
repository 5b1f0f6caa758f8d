"""Command line: argument parsing only; the work is done by the functions it calls."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext
from typing import cast

from policybench.errors import SettingsError, UsageError
from policybench.settings import GUIDANCE_PAIRS, MAX_HZ, RealtimeSettings, RunKeywords, RunSettings, parse_override
from policybench.interrupt import Interrupted, interruptible
from policybench.orchestrate.launch import JobFailed
from policybench.profiles import DEFAULT_PROFILE, PROFILES
from policybench.results import NotWritten, RunResults
from policybench.policies.hub import HUB_SMOLVLM
from policybench.terminal import PIPE_WIDTH, format_safe, output_width, terminal_safe

DEFAULT_POLICIES = "act,smolvla,diffusion"
REALTIME_POLICIES = "act"  # live realtime default; --simulate defaults to every policy in the file
# The one table between the settings' fields and the command line: an error naming a field
# (SettingsError) is printed with the flag that sets it.
FLAGS = {
    "policies": "--policies", "policy_paths": "--policy-path", "device": "--device", "profile": "--profile",
    "cameras": "--cameras", "image_size": "--image-size", "state_dim": "--state-dim", "action_dim": "--action-dim",
    "overrides": "--set", "threads": "--threads", "hub": "--hub", "trust_remote_code": "--trust-remote-code",
    "refills": "--refills", "warmup": "--warmup", "max_seconds": "--max-seconds", "pipeline": "--pipeline",
    "variants": "--variant", "export_dir": "--export", "baseline": "--baseline", "json_path": "--json",
    "hz": "--hz", "seconds": "--seconds", "ticks": "--ticks", "mode": "--mode", "thresholds": "--threshold",
    "aggregate": "--aggregate", "remote": "--remote", "remote_calls": "--remote-calls", "port": "--port",
    "execution_horizon": "--execution-horizon", "queue_threshold": "--queue-threshold",
    "max_guidance_weight": "--max-guidance-weight", "guidance_pairs": "--guidance-pairs",
    "simulate": "--simulate", "output": "-o", "processes": "--processes", "precision": "--precision",
    "in_process": "--in-process", "breakdown": "--breakdown", "ray": "--ray", "on": "--on", "labels": "--label",
}
BREAKDOWN_HELP = ("after the timed refills, 5 refills of its own split into the policy family's components "
                  "(vision encoder, denoising steps, ...), each against its FLOP/byte floor; the unattributed rest "
                  "is a row of its own")
TRUST_HELP = ("let LeRobot run the Python files of a model or tokenizer it loads with trust_remote_code "
              "(pi0_fast's FAST tokenizer, GR00T); refused without it. Only for sources you trust: the code "
              "runs as you")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No abbreviations: "--policy act" must not be read as "--policy-path act".
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def error(self, message: str):  # one line, not usage + error
        raise UsageError(message)


def _int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
    return value


def _refills(text: str) -> int | str:
    """--refills: a count, or "auto" (until the refill median is known to --precision)."""
    return "auto" if text.strip().lower() == "auto" else _int(text)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None


def _add_policy_args(p: argparse.ArgumentParser, policies_default: str | None, shown: str) -> None:
    """The one way every command names its policies: built-in names, checkpoints, and LeRobot's
    own spellings of both (--policy.type, --policy.path)."""
    p.add_argument("--policies", default=policies_default, help=f"comma-separated policy names (default {shown}, or none with --policy-path); see `policybench list`")
    p.add_argument("--policy.type", dest="policy_type", action="append", default=[], metavar="NAME", help="a policy name, as LeRobot's own commands spell it (repeatable; adds to --policies)")
    p.add_argument("--policy-path", "--policy.path", dest="policy_path", action="append", default=[], metavar="DIR", help="your own trained policy: a LeRobot pretrained_model folder (config.json + model.safetensors), or a hub id with --hub; repeatable, runs after --policies; --set TYPE.FIELD=V reaches it by its policy type")


def _add_target_args(p: argparse.ArgumentParser, policies_default: str | None, shown: str | None = None) -> None:
    shown = shown or policies_default or f"{REALTIME_POLICIES}; with --simulate every policy in the file"
    _add_policy_args(p, policies_default, shown)
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--profile", help=f"robot profile: {', '.join(PROFILES)} (default {DEFAULT_PROFILE})")
    p.add_argument("--cameras", type=_int, help="number of cameras (overrides the profile)")
    p.add_argument("--image-size", help="camera image size HEIGHTxWIDTH, e.g. 480x640 (overrides the profile)")
    p.add_argument("--state-dim", type=_int, help="observation.state size (overrides the profile)")
    p.add_argument("--action-dim", type=_int, help="action size (overrides the profile)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="POLICY.FIELD=VALUE", help="set a field of a policy's LeRobot config, e.g. diffusion.num_inference_steps=10 (repeatable)")
    p.add_argument("--threads", type=_int, help="torch intra-op threads (default: torch's choice)")
    p.add_argument("--hub", action="store_true", help=f"allow the Hugging Face hub: SmolVLA uses the real {HUB_SMOLVLM} config, tokenizer and processor (weights stay random); without it nothing is downloaded")
    p.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="policybench", description="Steady-state inference latency of LeRobot policies, step vs refill.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    _add_run(sub)
    _add_realtime(sub)
    _add_readers(sub)
    _add_sweep(sub)
    sub.add_parser("list", help="every policy name, whether it can be built here, and why not")
    verify = sub.add_parser("verify", help="build each policy and run one inference: ✓/✗ per policy")
    _add_target_args(verify, None, DEFAULT_POLICIES)
    return parser


def _add_run(sub) -> None:
    run = sub.add_parser("run", help="benchmark policies and print the comparison table")
    _add_target_args(run, None, DEFAULT_POLICIES)
    run.add_argument("--refills", type=_refills, default=10, help="measure at least this many full refill cycles (default 10); auto: until the refill median's 95%% interval is within --precision, at least 6, bounded by --max-seconds")
    _add_repeat_args(run, "each policy (and variant)")
    run.add_argument("--warmup", type=_int, default=2, help="full refill cycles run and discarded first (default 2)")
    run.add_argument("--max-seconds", type=_float, default=60.0, help="upper bound on each policy's measuring time (default 60)")
    run.add_argument("--pipeline", action="store_true", help="time LeRobot's whole deployment step, stage by stage: raw observation -> prepare -> preprocessor -> select_action -> postprocessor")
    run.add_argument("--breakdown", action="store_true", help=BREAKDOWN_HELP)
    run.add_argument("--variant", help="acceleration variants measured side by side with eager: eager,noeval,bf16,fp16,compile,onnxruntime,openvino,openvino-bf16,tensorrt,cudagraph or all; each checked for equivalent actions and placed against the refill's roofline floor")
    run.add_argument("--export", dest="export_dir", metavar="DIR", help="save each model a runtime variant (onnxruntime, openvino, openvino-bf16) exported, with a JSON manifest: policy, config, inputs, runtime and version, equivalence")
    run.add_argument("--baseline", help="policy the ratio columns divide by (default smolvla when it runs)")
    run.add_argument("--hz", type=_float, help=f"after the table, each policy's budget at this control rate (sync, and async at threshold 0.5), by how much its refill misses it and what would hold; at most {MAX_HZ}")
    run.add_argument("--json", dest="json_path", help="write the results file here, rewritten after every policy")
    run.add_argument("--in-process", action="store_true", help="measure every policy in this process instead of a child process each (for debugging: memory figures then accumulate)")
    _add_cluster_args(run, "policy")
    chatter = run.add_mutually_exclusive_group()
    chatter.add_argument("--quiet", action="store_true", help="print the table only: no progress, no warnings")
    chatter.add_argument("--verbose", action="store_true", help="print every step (build, measure) as a line, also on a terminal")


def _add_cluster_args(parser, what: str) -> None:
    parser.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS", help=f"each {what} a task on a node of the Ray cluster at ADDRESS (default auto: the one `ray start` started here) that has the resource policybench (ray start ... --resources='{{\"policybench\": 1}}'), one task per node at a time; needs the cluster extra: pip install -e \".[cluster]\"")
    parser.add_argument("--on", type=_nodes, default=[], metavar="NODES", help="with --ray: the same benchmark on each of these nodes (comma-separated names, or all), into one fleet file")


def _nodes(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _add_repeat_args(parser, what: str) -> None:
    parser.add_argument("--processes", type=_int, default=1, help=f"measure {what} in this many fresh processes, one after the other; the table gives the median of their medians and the spread between them (default 1)")
    parser.add_argument("--precision", type=_float, default=0.02, help="--refills auto: the 95%% interval of the refill median within +- this share of it (default 0.02, 2%%)")


def _add_realtime(sub) -> None:
    rt = sub.add_parser("realtime", help="can a policy hold a control rate? paced loop, sync and async inference")
    _add_target_args(rt, None)
    rt.add_argument("--hz", default="30", help=f"control rate in Hz, at most {MAX_HZ} (default 30); with --simulate a comma-separated list, e.g. 10,15,30,50,100, each run for at most 1,000,000 simulated ticks")
    length = rt.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=_float, help="length of the paced run in seconds (default 10)")
    length.add_argument("--ticks", type=_int, help="length of the paced run in control ticks")
    rt.add_argument("--mode", choices=["sync", "async", "both", "rtc", "all"], default="both", help="sync: select_action on the loop; async: chunks computed in a background worker; rtc: LeRobot's Real-Time Chunking engine (LeRobot 0.6+, policies that support it); all: sync, async and rtc (default both)")
    rt.add_argument("--execution-horizon", type=_int, default=10, help="rtc: actions of the previous chunk that guide the next (LeRobot's RTCConfig.execution_horizon; default 10)")
    rt.add_argument("--queue-threshold", type=_int, default=30, help="rtc: the engine computes a new chunk once the queue holds this many actions or fewer (default 30, as lerobot-rollout)")
    rt.add_argument("--max-guidance-weight", type=_float, default=10.0, help="rtc: LeRobot's RTCConfig.max_guidance_weight (default 10)")
    rt.add_argument("--guidance-pairs", type=_int, metavar="N", help=f"rtc: after the loop, N plain and guided chunks timed in turn, the guidance's cost (default {GUIDANCE_PAIRS}; 0 skips them): each pair is two chunks, a minute or more for SmolVLA on a CPU")
    rt.add_argument("--threshold", default="0.5", help="async: request a new chunk when the queue holds at most this share of a chunk, in [0, 1] (LeRobot's chunk_size_threshold; default 0.5); with --simulate a comma-separated list")
    rt.add_argument("--aggregate", choices=["weighted_average", "latest_only"], default="weighted_average", help="async: how overlapping actions of two chunks merge, as LeRobot defines them (default weighted_average)")
    rt.add_argument("--warmup", type=_int, help="refill cycles (sync) or chunks (async) run before the paced loop (default 2)")
    rt.add_argument("--remote", action="store_true", help="also time round trips through LeRobot's own async inference server (gRPC PolicyServer on a Unix socket only you can open, needs lerobot[async])")
    rt.add_argument("--remote-calls", type=_int, default=10, help="round trips timed with --remote (default 10)")
    rt.add_argument("--port", type=_int, help="serve the policy server with --remote on 127.0.0.1:PORT, as LeRobot's robot client reaches it (default: a Unix socket in a private folder); every call still needs the run's secret")
    rt.add_argument("--simulate", metavar="RESULTS.json", help="compute the verdict from a results file's measured samples instead of running policies")
    rt.add_argument("--json", dest="json_path", help="write the results file with a 'realtime' section (with --simulate: the input results plus the simulation)")


def _add_readers(sub) -> None:
    """The commands that read results files: plot, report, compare."""
    plot = sub.add_parser("plot", help="write PNG plots of a results file")
    plot.add_argument("results", help="a results file written by run --json")
    plot.add_argument("-o", "--output", default="plots", help="folder for the PNGs (default ./plots)")

    report = sub.add_parser("report", help="render a results file as Markdown, CSV or self-contained HTML")
    report.add_argument("results", nargs="+", help="a results file written by run --json; several (or a run --on "
                        "fleet file): the fleet view, one column per machine")
    report.add_argument("--label", action="append", default=[], help="the name of the next file's machine in the "
                        "fleet view (repeatable, in the files' order; default: the CPU or GPU, device and versions "
                        "the file records)")
    report.add_argument("--format", choices=["md", "csv", "html", "table"], default="md",
                        help="md (default), csv, html, or table: the table `run` printed")
    report.add_argument("-o", "--output", help="write here instead of standard output (csv: also <name>.samples.csv with the raw samples)")

    compare = sub.add_parser("compare", help="change of each median between two results files; exit 1 on a significant slowdown")
    compare.add_argument("base", help="results file of the reference run")
    compare.add_argument("new", help="results file of the run to check")
    compare.add_argument("--min-change", default="5%", help="smallest change of a median that counts, e.g. 5%% or 0.05 (default 5%%)")
    compare.add_argument("--force", action="store_true",
                         help="compare even when a policy was measured on a busy machine (its figures are not reliable)")


def _add_sweep(sub) -> None:
    sw = sub.add_parser("sweep", help="latency along one or two axes of settings: a fitted cost model, the largest setting that holds a rate")
    _add_policy_args(sw, None, DEFAULT_POLICIES)
    sw.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps (default auto)")
    sw.add_argument("--profile", default=DEFAULT_PROFILE, help=f"robot profile: {', '.join(PROFILES)} (default {DEFAULT_PROFILE})")
    sw.add_argument("--cameras", help="axis: numbers of cameras, e.g. 1,2,3")
    sw.add_argument("--image-size", help="axis: camera image sizes, e.g. 224x224,480x640,720x1280")
    sw.add_argument("--threads", help="axis: torch intra-op threads, e.g. 1,2")
    sw.add_argument("--state-dim", type=_int, help="observation.state size (overrides the profile)")
    sw.add_argument("--action-dim", type=_int, help="action size (overrides the profile)")
    sw.add_argument("--set", dest="overrides", action="append", default=[], metavar="POLICY.FIELD=V[,V...]", help="a config field: one value, or an axis of values, e.g. diffusion.num_inference_steps=5,10,25,50,100 (repeatable)")
    sw.add_argument("--refills", type=_refills, default=3, help="refill cycles measured at each point (default 3); auto: until --precision, as in run")
    _add_repeat_args(sw, "each point of each policy")
    sw.add_argument("--warmup", type=_int, default=1, help="refill cycles discarded first at each point (default 1)")
    sw.add_argument("--max-seconds", type=_float, default=60.0, help="bound on each point's measuring time (default 60)")
    sw.add_argument("--variant", help="acceleration variants, as in run")
    sw.add_argument("--breakdown", action="store_true", help=BREAKDOWN_HELP + " (at each point)")
    sw.add_argument("--hz", type=_float, help="also give, per policy and axis, the largest value that holds this control rate (sync and async)")
    sw.add_argument("--hub", action="store_true", help="allow the Hugging Face hub, as in run")
    sw.add_argument("--trust-remote-code", action="store_true", help=TRUST_HELP)
    sw.add_argument("--json", dest="json_path", help="write the results file, rewritten after every point")
    _add_cluster_args(sw, "sweep point")


def _split_policies(text: str) -> list[str]:
    """The names of a comma-separated list (each one checked by the run's plan, in a child)."""
    return [n.strip() for n in text.split(",") if n.strip()]


def _asked_names(args: argparse.Namespace) -> str:
    """--policies and every --policy.type, as one comma-separated list."""
    return ",".join(t for t in [args.policies, *args.policy_type] if t)


def _policy_names(args: argparse.Namespace, default: str) -> list[str]:
    """--policies and --policy.type; ``default`` when neither is given and there is no --policy-path.
    A name that is also a folder here is the built-in policy, and one line says how to get the folder."""
    text = _asked_names(args)
    if args.policies is None and not args.policy_type:
        text = "" if args.policy_path else default
    names = _split_policies(text)
    for name in names:
        if os.path.isfile(os.path.join(name, "config.json")):
            _log(f"note: '{name}' is the built-in policy; for the checkpoint folder {name}/ use --policy-path {name}")
    return names


def config_from_args(args: argparse.Namespace) -> RunSettings:
    """The validated settings of ``run``, ``verify`` or a live ``realtime``, as the API builds them."""
    from policybench.api import build_config

    names = _policy_names(args, DEFAULT_POLICIES)  # an unknown name is said before a bad --set
    run: RunKeywords = {
        "device": args.device, "profile": args.profile or DEFAULT_PROFILE, "cameras": args.cameras,
        "image_size": args.image_size, "state_dim": args.state_dim, "action_dim": args.action_dim,
        "threads": args.threads, "hub": args.hub, "overrides": [parse_override(o) for o in args.overrides],
        "policy_paths": args.policy_path, "trust_remote_code": args.trust_remote_code}
    if args.command == "run":
        run.update({"refills": args.refills, "baseline": args.baseline, "json_path": args.json_path,
                    "max_seconds": args.max_seconds, "pipeline": args.pipeline,
                    "variants": args.variant if args.variant is not None else "eager", "export_dir": args.export_dir,
                    "hz": args.hz, "processes": args.processes, "precision": args.precision, "ray": args.ray, "on": args.on,
                    "breakdown": args.breakdown})
    if args.command in ("run", "realtime"):
        run["warmup"] = args.warmup
    return build_config(names, **run)


def _print(text: str) -> None:
    """Rendered output on stdout, as the renderer made it (its own trailing newline)."""
    sys.stdout.write(terminal_safe(text))
    sys.stdout.flush()


def _width_of(path: str | None) -> int:
    """The columns a table may take: the terminal's on standard output (``path`` None), else PIPE_WIDTH."""
    return output_width() if path is None else PIPE_WIDTH


def _log(line: str) -> None:
    print(terminal_safe(line), file=sys.stderr, flush=True)


def _said(exc: UsageError) -> str:
    """A user's mistake as the command line says it: a setting's error names its flag (FLAGS)."""
    return exc.said_with(FLAGS) if isinstance(exc, SettingsError) else str(exc)


def _error(message: str, code: int = 2) -> int:
    """One line on stderr; returns the exit code."""
    _log(f"policybench: error: {message}")
    return code


def cmd_run(args: argparse.Namespace) -> int:
    from policybench.api import measure, run_context
    from policybench.diagnostics import diagnose
    from policybench.resultsfile import holds_results
    from policybench.progress import RunOutput
    from policybench.report.table import render_table
    from policybench.results import OK, SKIPPED, RunResults

    cfg = config_from_args(args)
    folders = {cfg.export_dir: "export_dir"} if cfg.export_dir else None
    earlier = cfg.json_path is not None and holds_results(cfg.json_path)
    stopped: Interrupted | NotWritten | None = None
    try:
        here = cfg.ray is None  # --ray: each node sets up its own run
        with run_context(cfg, isolate=not args.in_process, folders=folders) if here else nullcontext() as ctx, \
                RunOutput(quiet=args.quiet, verbose=args.verbose, policies=cfg.policies) as out:
            device = ctx.device if ctx is not None else f"{cfg.device} on each node"
            out.info(f"policybench: device {device}, profile {cfg.profile.name}, policies {','.join(cfg.policies)}")
            results = measure(cfg, log=out.info, warn=out.warn, progress=out.progress, context=ctx,
                              isolate=not args.in_process)
    except (Interrupted, NotWritten) as exc:  # the table of what was measured all the same
        if not isinstance(exc.partial, RunResults):  # measure's partial is always its results
            raise
        stopped, results = exc, exc.partial
    _print(_node_table(results, cfg.json_path) if _several_nodes(results) else
           render_table(results, cfg.resolved_baseline(), width=output_width()))
    if args.hz is not None:
        _print(_budget_text(results, args.hz))
    if cfg.json_path and earlier and not results.measured():
        _log(f"{cfg.json_path}: left as it was: nothing was measured in this run")
    elif cfg.json_path and stopped is None and not args.quiet:
        _log(f"results written to {cfg.json_path}")
    if stopped is not None:
        raise stopped
    if not args.quiet:
        for note in diagnose(results):
            _log(f"warning: {note}")
    return 0 if all(r.status in (OK, SKIPPED) for r in results.results) else 1


def _budget_text(results, hz: float) -> str:
    from policybench.control.simulate import run_budgets
    from policybench.report.realtime import render_budgets

    lines = render_budgets(run_budgets(results, hz))
    return "".join(f"{line}\n" for line in lines) if lines else f"no policy measured a refill to judge at {hz:g} Hz\n"


def _float_list(text: str, flag: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise UsageError(f"{flag} must be a number or a comma-separated list of numbers, got '{text}'") from None
    if not values:
        raise UsageError(f"{flag} is empty")
    return values


LIVE_ONLY = {"--device": lambda a: a.device != "auto", "--profile": lambda a: a.profile is not None,
             "--policy-path": lambda a: bool(a.policy_path), "--warmup": lambda a: a.warmup is not None,
             "--cameras": lambda a: a.cameras is not None, "--image-size": lambda a: a.image_size is not None,
             "--state-dim": lambda a: a.state_dim is not None, "--action-dim": lambda a: a.action_dim is not None,
             "--set": lambda a: bool(a.overrides), "--threads": lambda a: a.threads is not None,
             "--hub": lambda a: a.hub, "--remote": lambda a: a.remote, "--port": lambda a: a.port is not None,
             "--guidance-pairs": lambda a: a.guidance_pairs is not None}


def realtime_settings(args: argparse.Namespace) -> RealtimeSettings:
    """The validated settings of ``realtime``: a replay of ``--simulate``'s file, or a live run."""
    import dataclasses

    settings = RealtimeSettings(
        hz=_float_list(args.hz, "--hz"), thresholds=_float_list(args.threshold, "--threshold"), seconds=args.seconds,
        ticks=args.ticks, mode=args.mode, aggregate=args.aggregate, remote=args.remote,
        remote_calls=args.remote_calls, port=args.port, execution_horizon=args.execution_horizon,
        queue_threshold=args.queue_threshold, max_guidance_weight=args.max_guidance_weight,
        guidance_pairs=GUIDANCE_PAIRS if args.guidance_pairs is None else args.guidance_pairs)
    if args.guidance_pairs is not None and "rtc" not in settings.modes:
        raise UsageError(f"--guidance-pairs times RTC's plain and guided chunks: it needs --mode rtc or all, "
                         f"not {args.mode}")
    if args.simulate:
        given = [flag for flag, used in LIVE_ONLY.items() if used(args)]
        if given:
            raise UsageError(f"--simulate replays a results file; {given[0]} applies to live runs only")
        return settings
    if not (args.policies or args.policy_type or args.policy_path):
        args.policies = REALTIME_POLICIES
    args.warmup = 2 if args.warmup is None else args.warmup
    return dataclasses.replace(settings, run=config_from_args(args))


def cmd_realtime(args: argparse.Namespace) -> int:
    from policybench.outputs import check_writable
    from policybench.resultsfile import ResultsFile

    settings = realtime_settings(args)
    if args.json_path:
        check_writable(args.json_path)
    with ResultsFile(args.json_path) as out:
        if args.simulate:
            return _realtime_simulate(args, settings, out)
        return _realtime_live(args, settings, out)


def _realtime_simulate(args: argparse.Namespace, settings: RealtimeSettings, out) -> int:
    from policybench.api import replay
    from policybench.control.simulate import highest_rates, simulated_budgets
    from policybench.report.realtime import render_realtime
    from policybench.results import read_results

    results = read_results(args.simulate)
    live = [] if any(r.status == "ok" for r in results.results) else list(results.realtime)
    if live:  # a live realtime file: its sync ticks are the measurements replayed
        from policybench.control.simulate import from_live_ticks

        results.results = from_live_ticks(results)
    names = [n.strip() for n in _asked_names(args).split(",") if n.strip()]
    entries = replay(results, settings, names or None)
    _print(render_realtime(entries, highest_rates(entries), simulated_budgets(results, entries), width=output_width()))
    if live:  # the file keeps what it measured: its live runs, then the simulation (no made-up results)
        results.results, entries = [], live + entries
    results.realtime = entries
    out.save(results)
    return 0


def _realtime_live(args: argparse.Namespace, settings: RealtimeSettings, out) -> int:
    from policybench.api import measure_realtime
    from policybench.control.simulate import highest_rates, live_budgets
    from policybench.report.realtime import render_realtime
    from policybench.results import OK, SKIPPED, RunResults

    stopped = None
    try:
        results = measure_realtime(settings, log=_log)
    except Interrupted as exc:  # what was measured is shown and written all the same
        stopped, results = exc, cast(RunResults, exc.partial)  # measure_realtime's partial: the results so far
    configs = results.run.get("configs")
    _print(render_realtime(results.realtime, highest_rates(results.realtime),
                           live_budgets(results.realtime, configs if isinstance(configs, dict) else None),
                           width=output_width()))
    out.save(results)
    if out.kept:
        _log(f"{args.json_path}: left as it was: nothing was measured in this run")
    elif args.json_path:
        _log(f"results written to {args.json_path}")
    if stopped is not None:
        raise stopped
    return 0 if all(e.status in (OK, SKIPPED) for e in results.realtime) else 1  # skipped: rtc without support


def _output_path(path: str, *sources: str) -> None:
    """-o PATH can be written, is no link and is none of the command's input ``sources``."""
    from policybench.outputs import check_output, check_writable

    check_writable(path, field="output")
    check_output(path, "-o", inputs=sources)


def _write_output(path: str, data: bytes) -> None:
    from policybench.outputs import write_atomic

    try:
        write_atomic(path, data)
    except OSError as exc:
        raise UsageError(f"-o {path}: cannot write ({exc.strerror or exc})") from None


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from policybench.results import read_results

    from policybench.report.pngs import render_pngs, write_pngs

    results = read_results(args.results)
    pngs = render_pngs(results)
    if not pngs:
        raise UsageError(f"{args.results}: nothing to plot: no policy with samples to plot and no live realtime run; "
                         "'policybench run --json FILE' or 'policybench realtime --json FILE' writes them")
    folder = Path(args.output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"-o {folder}: cannot create the folder ({exc.strerror})") from None
    for name in pngs:
        _output_path(str(folder / f"{name}.png"), args.results)
    try:
        written = write_pngs(pngs, str(folder))
    except OSError as exc:
        raise UsageError(f"-o {folder}: cannot write the plots ({exc.strerror or exc})") from None
    for path in written:
        _print(f"{path}\n")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from policybench.diagnostics import diagnose
    from policybench.results import read_results

    files = [(path, read_results(path)) for path in args.results]
    if len(files) > 1 or args.label or _several_nodes(files[0][1]):  # the fleet view
        return _emit(_fleet_outputs(args, files), args.results)
    source, results = files[0]
    if not results.results and not results.realtime:
        raise UsageError(f"{source}: no results to report; 'policybench run --json FILE' or "
                         "'policybench realtime --json FILE' writes them")
    notes = diagnose(results)
    if args.format == "table":
        from policybench.report.table import render_table

        if not results.results:
            raise UsageError(f"{source}: holds realtime entries only; --format table is run's table: use --format md")

        outputs = {args.output: render_table(results, _recorded_baseline(results), width=_width_of(args.output))}
    elif args.format == "md":
        from policybench.report.markdown import render_markdown

        outputs = {args.output: render_markdown(results, notes)}
    elif args.format == "html":
        from policybench.report.html import render_html

        outputs = {args.output: render_html(results, notes)}
    else:
        from policybench.report.csv import render_realtime_csv, render_samples_csv, render_summary_csv

        # A live realtime file (no results) is its realtime table; with both, that table goes beside.
        main = render_summary_csv(results) if results.results else render_realtime_csv(results)
        outputs = {args.output: main}
        p = Path(args.output or ".")
        if args.output and results.results:
            outputs[str(p.with_name(p.stem + ".samples" + (p.suffix or ".csv")))] = render_samples_csv(results)
        if args.output and results.results and results.realtime:
            outputs[str(p.with_name(p.stem + ".realtime" + (p.suffix or ".csv")))] = render_realtime_csv(results)
    return _emit(outputs, [source])


def _several_nodes(results: RunResults) -> bool:
    """A fleet file: the same benchmark measured on several cluster nodes (run --on)."""
    cluster = results.run.get("cluster")
    return isinstance(cluster, dict) and isinstance(cluster.get("on"), list) and len(cluster["on"]) > 1


def _node_table(results: RunResults, path: str | None) -> str:
    """The fleet table of a run measured on several cluster nodes (--on)."""
    from policybench.report.fleet import build_fleet, render_fleet_table

    return render_fleet_table(build_fleet([(path or "the cluster", results)]), width=output_width())


def _fleet_outputs(args: argparse.Namespace, files: list[tuple[str, RunResults]]) -> dict[str | None, str]:
    """report of several files (or one fleet file): the fleet view in --format's rendering."""
    from policybench.report import fleet as report_fleet

    fleet = report_fleet.build_fleet(files, args.label)
    if args.format == "md":
        from policybench.report.markdown import render_fleet_markdown

        return {args.output: render_fleet_markdown(fleet)}
    if args.format == "html":
        from policybench.report.html import render_fleet_html

        return {args.output: render_fleet_html(fleet)}
    if args.format == "csv":
        return {args.output: report_fleet.render_fleet_csv(fleet)}
    return {args.output: report_fleet.render_fleet_table(fleet, width=_width_of(args.output))}


def _emit(outputs: dict[str | None, str], sources: list[str]) -> int:
    """Each rendering to its -o path (None: standard output), none of them over an input."""
    for path in outputs:
        if path is not None:
            _output_path(path, *sources)
    for path, text in outputs.items():
        if path is None:
            _print(text)
        else:
            _write_output(path, format_safe(text).encode("utf-8"))
            _print(f"{path}\n")
    return 0


def _recorded_baseline(results: RunResults) -> str | None:
    """The baseline the run used: recorded in its file, else run's default (SmolVLA when measured)."""
    if "baseline" in results.run:
        return results.run["baseline"] if isinstance(results.run["baseline"], str) else None
    return "smolvla" if any(r.policy == "smolvla" for r in results.results) else None


def cmd_compare(args: argparse.Namespace) -> int:
    from policybench.api import Results, compare
    from policybench.regression import busy_measurements, nothing_to_compare, parse_threshold, refuse_busy
    from policybench.results import read_results

    threshold = parse_threshold(args.min_change)
    base, new = Results(read_results(args.base)), Results(read_results(args.new))
    busy = busy_measurements(base.raw, new.raw, args.base, args.new)  # named by the files' paths
    if not args.force:
        refuse_busy(busy)
    comparison = compare(base, new, threshold, force=True)
    if not comparison.changes and not comparison.newly_failed:
        raise UsageError(nothing_to_compare(base.raw, new.raw, args.base, args.new))
    _print(str(comparison))
    for line in busy:
        _log(f"warning: {line}: its figures are not reliable (compared anyway: --force)")
    return 1 if comparison.regressed else 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from policybench.api import build_config, measure_sweep, sweep_settings
    from policybench.progress import RunOutput
    from policybench.report.sweep import render_holding, render_sweep
    from policybench.results import OK, SKIPPED
    from policybench.scaling.axes import fixed_settings, parse_axes
    from policybench.scaling.fit import fits
    from policybench.orchestrate.sweep import estimate_seconds
    from policybench.scaling.verdict import holding

    axes, fixed = parse_axes(args.cameras, args.image_size, args.threads, args.overrides)
    cfg = build_config(
        _policy_names(args, DEFAULT_POLICIES), policy_paths=args.policy_path, device=args.device,
        profile=args.profile, state_dim=args.state_dim, **fixed_settings(args.cameras, args.image_size, args.threads),
        action_dim=args.action_dim, refills=args.refills, warmup=args.warmup, max_seconds=args.max_seconds,
        processes=args.processes, precision=args.precision,
        overrides=fixed, variants=args.variant or "eager", hub=args.hub, json_path=args.json_path,
        trust_remote_code=args.trust_remote_code, breakdown=args.breakdown, ray=args.ray, on=args.on,
    )
    settings = sweep_settings(cfg, axes, policy_paths=args.policy_path, hz=args.hz)
    estimate = estimate_seconds(cfg, list(settings.axes))
    if estimate > 600:
        _log(f"warning: this sweep can take up to {estimate / 60:.0f} min (--max-seconds {cfg.max_seconds:g} for each "
             f"point of each policy, builds not counted): lower --max-seconds or --refills, or use fewer values")
    with RunOutput(quiet=False, verbose=False, policies=cfg.policies) as out:
        results = measure_sweep(settings, log=out.info, warn=out.warn, progress=out.progress, said=_said)
    several = _several_nodes(results)  # --on: each point on several nodes, a column per node (no fit across them)
    text = (_node_table(results, cfg.json_path) if several
            else render_sweep(results, fits(results, list(settings.axes)), width=output_width()))
    if args.hz is not None and not several:
        text += "".join("\n" + render_holding(holding(results, a, list(settings.axes), args.hz), args.hz, a.name)
                        for a in settings.axes)
    _print(text)
    return 0 if all(r.status in (OK, SKIPPED) for r in results.results) else 1


def cmd_list(args: argparse.Namespace) -> int:
    from policybench.orchestrate.launch import launcher

    answer = launcher(True)("list", {}, log=_log, warn=_log)
    rows = answer["policies"]
    width = max(len(r["name"]) for r in rows)
    print(f"LeRobot {answer['lerobot'] or 'not installed'}: every policy type it registers, and noop")
    for r in rows:
        mark = "no     " if r["problem"] else "yes    " if r["curated"] else "untried"
        line = f"{r['name'].ljust(width)}  {mark}  {r['summary']}"
        print(line if r["problem"] is None else f"{line}\n{' ' * (width + 11)}why not: {r['problem']}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from policybench.api import run_context

    cfg = config_from_args(args)
    with run_context(cfg) as ctx:
        print(f"Using device: {ctx.device}")
        failed = 0
        for name in cfg.policies:
            answer = ctx.launch("verify", {"name": name, "cfg": cfg.to_json(), "device": ctx.device}, log=_log,
                                warn=_log)
            failed += not answer["ok"]
            _print(f"{'✓' if answer['ok'] else '✗'} {name}: {answer['message']}\n")
    print("All policies passed." if not failed else f"{failed} of {len(cfg.policies)} policies failed.")
    return 0 if not failed else 1


COMMANDS = {
    "run": cmd_run,
    "sweep": cmd_sweep,
    "list": cmd_list,
    "verify": cmd_verify,
    "realtime": cmd_realtime,
    "plot": cmd_plot,
    "report": cmd_report,
    "compare": cmd_compare,
}


def _survive_any_locale() -> None:
    """Characters the terminal's encoding lacks (an ASCII-only locale) print as escapes, not as
    a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    from policybench.procenv import hub_access, quiet_libraries

    _survive_any_locale()
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        # SIGTERM as SIGINT: one line, exit 143 (130); the hub closed unless --hub, before
        # transformers is imported; a run's own RunContext sets the rest.
        with interruptible(), quiet_libraries(), hub_access(getattr(args, "hub", False)):
            return COMMANDS[args.command](args)
    except UsageError as exc:
        return _error(_said(exc))
    except JobFailed as exc:  # a child that was to plan or list died: LeRobot or torch broken here
        return _error(str(exc), 1)
    except NotWritten as exc:  # what was measured has been printed; the file could not be written
        return _error(str(exc), 1)
    except KeyboardInterrupt as exc:
        _log("policybench: interrupted")
        return exc.exit_code if isinstance(exc, Interrupted) else 130
    except BrokenPipeError:  # e.g. `policybench list | head`: the reader left, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
