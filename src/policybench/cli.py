"""Command line: argument parsing only; the work is done by the functions it calls."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from policybench.config import (
    DEFAULT_PROFILE,
    PROFILES,
    RunConfig,
    customize_profile,
    get_profile,
    parse_image_size,
    parse_override,
)
from policybench.errors import UsageError

DEFAULT_POLICIES = "act,smolvla,diffusion"
HUB_SMOLVLM = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + error
        raise UsageError(message)


def _int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
    return value


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None


def _add_target_args(p: argparse.ArgumentParser, policies_default: str) -> None:
    p.add_argument("--policies", default=policies_default, help=f"comma-separated policy names (default {policies_default}); see `policybench list`")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--profile", default=DEFAULT_PROFILE, help=f"robot profile: {', '.join(PROFILES)} (default {DEFAULT_PROFILE})")
    p.add_argument("--cameras", type=_int, help="number of cameras (overrides the profile)")
    p.add_argument("--image-size", help="camera image size HEIGHTxWIDTH, e.g. 480x640 (overrides the profile)")
    p.add_argument("--state-dim", type=_int, help="observation.state size (overrides the profile)")
    p.add_argument("--action-dim", type=_int, help="action size (overrides the profile)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="POLICY.FIELD=VALUE", help="set a field of a policy's LeRobot config, e.g. diffusion.num_inference_steps=10 (repeatable)")
    p.add_argument("--threads", type=_int, help="torch intra-op threads (default: torch's choice)")
    p.add_argument("--hub", action="store_true", help=f"allow the Hugging Face hub: SmolVLA uses the real {HUB_SMOLVLM} config, tokenizer and processor (weights stay random); without it nothing is downloaded")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="policybench", description="Steady-state inference latency of LeRobot policies, step vs refill.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="benchmark policies and print the comparison table")
    _add_target_args(run, DEFAULT_POLICIES)
    run.add_argument("--refills", type=_int, default=10, help="measure at least this many full refill cycles (default 10)")
    run.add_argument("--warmup", type=_int, default=2, help="full refill cycles run and discarded first (default 2)")
    run.add_argument("--max-seconds", type=_float, default=60.0, help="upper bound on each policy's measuring time (default 60)")
    run.add_argument("--baseline", help="policy the ratio columns divide by (default smolvla when it runs)")
    run.add_argument("--json", dest="json_path", help="write the results file here, rewritten after every policy")
    chatter = run.add_mutually_exclusive_group()
    chatter.add_argument("--quiet", action="store_true", help="print the table only: no progress, no warnings")
    chatter.add_argument("--verbose", action="store_true", help="print every step (build, measure) as a line, also on a terminal")

    plot = sub.add_parser("plot", help="write PNG plots of a results file")
    plot.add_argument("results", help="a results file written by run --json")
    plot.add_argument("-o", "--output", default="plots", help="folder for the PNGs (default ./plots)")

    report = sub.add_parser("report", help="render a results file as Markdown, CSV or self-contained HTML")
    report.add_argument("results", help="a results file written by run --json")
    report.add_argument("--format", choices=["md", "csv", "html"], default="md", help="md (default), csv or html")
    report.add_argument("-o", "--output", help="write here instead of standard output (csv: also <name>.samples.csv with the raw samples)")

    compare = sub.add_parser("compare", help="change of each median between two results files; exit 1 on a significant slowdown")
    compare.add_argument("base", help="results file of the reference run")
    compare.add_argument("new", help="results file of the run to check")
    compare.add_argument("--threshold", default="5%", help="smallest change of a median that counts, e.g. 5%% or 0.05 (default 5%%)")

    sub.add_parser("list", help="every policy name, whether it can be built here, and why not")

    verify = sub.add_parser("verify", help="build each policy and run one inference: ✓/✗ per policy")
    _add_target_args(verify, DEFAULT_POLICIES)
    return parser


def _split_policies(text: str) -> list[str]:
    from policybench import policies

    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        policies.check_name(name)
    return names


def config_from_args(args: argparse.Namespace) -> RunConfig:
    profile = customize_profile(
        get_profile(args.profile),
        cameras=args.cameras,
        image_size=parse_image_size(args.image_size) if args.image_size else None,
        state_dim=args.state_dim,
        action_dim=args.action_dim,
    )
    names = _split_policies(args.policies)
    overrides = [parse_override(o) for o in args.overrides]
    if args.hub and "smolvla" in names:
        overrides.insert(0, parse_override(f"smolvla.vlm_model_name={HUB_SMOLVLM}"))
    cfg = RunConfig(
        policies=names,
        device=args.device,
        profile=profile,
        overrides=overrides,
        threads=args.threads,
    )
    if args.command == "run":
        cfg.refills, cfg.warmup, cfg.max_seconds = args.refills, args.warmup, args.max_seconds
        cfg.baseline, cfg.json_path = args.baseline, args.json_path
    cfg.validate()
    return cfg


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from policybench.environment import resolve_device
    from policybench.report.table import render_table
    from policybench.results import OK, check_writable
    from policybench.runner import run_benchmark, validate_overrides

    from policybench.diagnostics import diagnose
    from policybench.progress import RunOutput

    cfg = config_from_args(args)
    device = resolve_device(cfg.device)
    if cfg.json_path:
        check_writable(cfg.json_path)
    validate_overrides(cfg)
    with RunOutput(quiet=args.quiet, verbose=args.verbose) as out:
        out.info(f"policybench: device {device}, profile {cfg.profile.name}, policies {','.join(cfg.policies)}")
        results = run_benchmark(cfg, device, log=out.info, warn=out.warn, progress=out.progress)
    print(render_table(results, cfg.resolved_baseline()), end="")
    if not args.quiet:
        for note in diagnose(results):
            _log(f"warning: {note}")
        if cfg.json_path:
            _log(f"results written to {cfg.json_path}")
    return 0 if all(r.status == OK for r in results.results) else 1


def _output_path(path: str) -> None:
    from policybench.results import check_writable

    check_writable(path, flag="-o")


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from policybench.report.plots import write_plots
    from policybench.results import read_results

    results = read_results(args.results)
    folder = Path(args.output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"-o {folder}: cannot create the folder ({exc.strerror})") from None
    _output_path(str(folder / "timeline.png"))
    paths = write_plots(results, str(folder))
    if not paths:
        raise UsageError(f"{args.results}: no policy with samples to plot")
    for path in paths:
        print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from policybench.diagnostics import diagnose
    from policybench.results import read_results

    results = read_results(args.results)
    if args.output:
        _output_path(args.output)
    notes = diagnose(results)
    if args.format == "md":
        from policybench.report.markdown import render_markdown

        outputs = {args.output: render_markdown(results, notes)}
    elif args.format == "html":
        from policybench.report.html import render_html

        outputs = {args.output: render_html(results, notes)}
    else:
        from policybench.report.csv import render_samples_csv, render_summary_csv

        outputs = {args.output: render_summary_csv(results)}
        if args.output:
            p = Path(args.output)
            outputs[str(p.with_name(p.stem + ".samples" + (p.suffix or ".csv")))] = render_samples_csv(results)
    for path, text in outputs.items():
        if path is None:
            print(text, end="")
        else:
            Path(path).write_text(text, encoding="utf-8")
            print(path)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from policybench.compare import (
        SLOWER,
        compare_results,
        environment_differences,
        parse_threshold,
        unmatched_policies,
    )
    from policybench.report.compare import render_compare
    from policybench.results import read_results

    threshold = parse_threshold(args.threshold)
    base, new = read_results(args.base), read_results(args.new)
    changes = compare_results(base, new, threshold)
    print(render_compare(changes, environment_differences(base, new), unmatched_policies(base, new), threshold), end="")
    return 1 if any(c.verdict == SLOWER for c in changes) else 0


def cmd_list(args: argparse.Namespace) -> int:
    from policybench import policies

    width = max(len(n) for n in policies.ENTRIES)
    for name, entry in policies.ENTRIES.items():
        problem = policies.availability(name)
        mark = "yes" if problem is None else "no "
        line = f"{name.ljust(width)}  {mark}  {entry.summary}"
        print(line if problem is None else f"{line}\n{' ' * (width + 7)}why not: {problem}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from policybench import policies
    from policybench.environment import resolve_device
    from policybench.observations import synthetic_observation
    from policybench.runner import validate_overrides

    cfg = config_from_args(args)
    device = resolve_device(cfg.device)
    validate_overrides(cfg)
    print(f"Using device: {device}")
    failed = 0
    for name in cfg.policies:
        try:
            adapter = policies.build(name, cfg.profile, cfg.overrides_for(name), device, cfg.seed)
            obs = synthetic_observation(adapter.input_specs(), device, cfg.seed, extra=adapter.extra_inputs(cfg.profile.task))
            adapter.reset()
            action = adapter.select_action(obs)
            print(f"✓ {name}: action {tuple(action.shape)}, {adapter.parameter_count() / 1e6:.1f} M params")
        except Exception as exc:  # noqa: BLE001 - report every policy
            failed += 1
            print(f"✗ {name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    print("All policies passed." if not failed else f"{failed} of {len(cfg.policies)} policies failed.")
    return 0 if not failed else 1


COMMANDS = {
    "run": cmd_run,
    "list": cmd_list,
    "verify": cmd_verify,
    "plot": cmd_plot,
    "report": cmd_report,
    "compare": cmd_compare,
}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("lerobot").setLevel(logging.ERROR)
    logging.getLogger("root").setLevel(logging.ERROR)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        if not getattr(args, "hub", False):
            # Nothing is downloaded at run time; set before transformers is imported.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"policybench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("policybench: interrupted", file=sys.stderr)
        return 130
