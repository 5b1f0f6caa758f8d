"""Command line: argument parsing only; the work is done by the functions it calls."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, cast

from policybench.errors import SettingsError, UsageError
from policybench.settings import RealtimeSettings, RunKeywords, RunSettings
from policybench.interrupt import Interrupted, interruptible
from policybench.options import FLAGS, MAX_HZ, comma_list, options  # noqa: F401 - MAX_HZ: for the tests
from policybench.orchestrate.launch import JobFailed
from policybench.results import NotWritten, RunResults
from policybench.terminal import PIPE_WIDTH, format_safe, output_width, terminal_safe, wrapped

# Each command, in the order --help lists them; their flags are options.OPTIONS.
COMMAND_HELP = {
    "run": "benchmark policies and print the comparison table",
    "realtime": "can a policy hold a control rate? paced loop, sync and async inference",
    "plot": "write PNG plots of a results file",
    "report": "render a results file as Markdown, CSV or self-contained HTML",
    "compare": "change of each median between two results files; exit 1 on a significant slowdown",
    "sweep": "latency along one or two axes of settings: a fitted cost model, the largest setting that holds a rate",
    "list": "every policy name, whether it can be built here, and why not",
    "verify": "build each policy and run one inference: ✓/✗ per policy",
}


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No abbreviations: "--policy act" must not be read as "--policy-path act".
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def error(self, message: str):  # one line, not usage + error
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="policybench", description="Steady-state inference latency of LeRobot policies, step vs refill."
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for command, text in COMMAND_HELP.items():
        _add_arguments(sub.add_parser(command, help=text), command)
    return parser


def _add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """``command``'s flags as options.OPTIONS declares them. A flag not given is stored as its
    ``unset`` value, so that ``parse_args`` can tell it was not given, then puts its default there."""
    groups: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for o in options(command):
        if o.group is not None and o.group not in groups:
            groups[o.group] = parser.add_mutually_exclusive_group()
        where = parser if o.group is None else groups[o.group]
        asked = {key: getattr(o, key) for key in ("type", "action", "metavar", "choices", "nargs", "const")}
        kwargs = {key: value for key, value in asked.items() if value is not None}
        if o.positional:
            where.add_argument(o.field, help=o.help_text, **kwargs)
        else:
            where.add_argument(*o.names, dest=o.field, default=o.unset, help=o.help_text, **kwargs)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line read: each flag's value, its declared default where it was not given, and
    ``given``, the fields of the flags that were."""
    args = build_parser().parse_args(argv)
    args.given = frozenset(
        o.field for o in options(args.command or "") if not o.positional and getattr(args, o.field) != o.unset
    )
    for o in options(args.command or ""):
        if not o.positional and o.field not in args.given:
            setattr(args, o.field, o.default)
    return args


def _settings(args: argparse.Namespace, into: str) -> dict[str, Any]:
    """The values of the settings of ``args.command`` that go ``into`` a settings object ("run":
    RunSettings, by api.build_config's keywords; "realtime": RealtimeSettings), each as its
    declaration reads it. The policies' names are ``_policy_names``'."""
    return {
        o.field: o.value(getattr(args, o.field))
        for o in options(args.command)
        if o.into == into and o.field != "policies"
    }


def _asked_names(args: argparse.Namespace) -> str:
    """--policies and every --policy.type given, as one comma-separated list."""
    return ",".join(t for t in [args.policies if "policies" in args.given else "", *args.policy_type] if t)


def _policy_names(args: argparse.Namespace) -> list[str]:
    """--policies and --policy.type; the command's default policies when neither is given and there
    is no --policy-path. A name that is also a folder here is the built-in policy, and one line
    says how to get the folder."""
    text = _asked_names(args)
    if "policies" not in args.given and not args.policy_type:
        text = "" if args.policy_paths else ",".join(args.policies)
    names = comma_list(text)  # each one checked by the run's plan, in a child
    for name in names:
        if os.path.isfile(os.path.join(name, "config.json")):
            _log(f"note: '{name}' is the built-in policy; for the checkpoint folder {name}/ use --policy-path {name}")
    return names


def config_from_args(args: argparse.Namespace) -> RunSettings:
    """The validated settings of ``run``, ``verify`` or a live ``realtime``, as the API builds them."""
    from policybench.api import build_config

    names = _policy_names(args)  # an unknown name is said before a bad --set
    return build_config(names, **cast(RunKeywords, _settings(args, "run")))


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
    from policybench.api import measure
    from policybench.diagnostics import diagnose
    from policybench.progress import RunOutput
    from policybench.report.run import render_run
    from policybench.results import OK, SKIPPED, RunResults

    cfg = config_from_args(args)
    stopped: Interrupted | NotWritten | None = None
    try:
        with RunOutput(quiet=args.quiet, verbose=args.verbose, policies=cfg.policies) as out:
            results = measure(cfg, log=out.info, warn=out.warn, progress=out.progress, isolate=not args.in_process)
    except (Interrupted, NotWritten) as exc:  # the table of what was measured all the same
        if not isinstance(exc.partial, RunResults):  # measure's partial is always its results
            raise
        stopped, results = exc, exc.partial
    width = output_width()
    _print(
        render_run(
            results, cfg.resolved_baseline(), width=width, hz=args.hz, choose=cfg.auto_variant, source=cfg.json_path
        )
    )
    if stopped is not None:
        raise stopped
    if not args.quiet:
        for note in diagnose(results):
            for part in wrapped(f"warning: {note}", output_width(sys.stderr)):
                _log(part)
    return 0 if all(r.status in (OK, SKIPPED) for r in results.results) else 1


def realtime_settings(args: argparse.Namespace) -> RealtimeSettings:
    """The validated settings of ``realtime``: a replay of ``--simulate``'s file, or a live run."""
    import dataclasses

    settings = RealtimeSettings(**_settings(args, "realtime"))
    if "guidance_pairs" in args.given and "rtc" not in settings.modes:
        raise UsageError(
            f"--guidance-pairs times RTC's plain and guided chunks: it needs --mode rtc or all, not {args.mode}"
        )
    if args.simulate:
        given = [o.flag for o in options("realtime") if o.live_only and o.field in args.given]
        if given:
            raise UsageError(f"--simulate replays a results file; {given[0]} applies to live runs only")
        return settings
    return dataclasses.replace(settings, run=config_from_args(args))


def cmd_realtime(args: argparse.Namespace) -> int:
    from policybench.resultsfile import ResultsFile

    settings = realtime_settings(args)
    with ResultsFile(args.json_path, _log) as out:
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
        results = measure_realtime(settings, log=_log, isolate=not args.in_process)
    except Interrupted as exc:  # what was measured is shown and written all the same
        stopped, results = exc, cast(RunResults, exc.partial)  # measure_realtime's partial: the results so far
    configs = results.run.get("configs")
    _print(
        render_realtime(
            results.realtime,
            highest_rates(results.realtime),
            live_budgets(results.realtime, configs if isinstance(configs, dict) else None),
            width=output_width(),
        )
    )
    out.save(results)
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
        raise UsageError(
            f"{args.results}: nothing to plot: no policy with samples to plot and no live realtime run; "
            "'policybench run --json FILE' or 'policybench realtime --json FILE' writes them"
        )
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
    from policybench.report.run import several_nodes
    from policybench.results import read_results

    files = [(path, read_results(path)) for path in args.results]
    if len(files) > 1 or args.labels or several_nodes(files[0][1]):  # the fleet view
        return _emit(_fleet_outputs(args, files), args.results)
    source, results = files[0]
    if not results.results and not results.realtime:
        raise UsageError(
            f"{source}: no results to report; 'policybench run --json FILE' or "
            "'policybench realtime --json FILE' writes them"
        )
    notes = diagnose(results)
    if args.format == "table":
        from policybench.report.run import render_run

        if not results.results:
            raise UsageError(f"{source}: holds realtime entries only; --format table is run's table: use --format md")
        choose = bool(results.run.get("auto_variant"))
        outputs = {
            args.output: render_run(results, _recorded_baseline(results), width=_width_of(args.output), choose=choose)
        }
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


def _fleet_outputs(args: argparse.Namespace, files: list[tuple[str, RunResults]]) -> dict[str | None, str]:
    """report of several files (or one fleet file): the fleet view in --format's rendering."""
    from policybench.report import fleet as report_fleet

    fleet = report_fleet.build_fleet(files, list(args.labels))
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
    from policybench.report.run import node_table, several_nodes
    from policybench.report.sweep import render_holding, render_sweep
    from policybench.results import OK, SKIPPED
    from policybench.scaling.axes import fixed_settings, parse_axes
    from policybench.scaling.fit import fits
    from policybench.orchestrate.sweep import estimate_seconds
    from policybench.scaling.verdict import holding

    axes, fixed = parse_axes(args.cameras, args.image_size, args.threads, list(args.overrides))
    cfg = build_config(
        _policy_names(args),
        **_settings(args, "run"),
        **fixed_settings(args.cameras, args.image_size, args.threads),
        overrides=fixed,
    )
    settings = sweep_settings(cfg, axes, policy_paths=args.policy_paths, hz=args.hz)
    estimate = estimate_seconds(cfg, list(settings.axes))
    if estimate > 600:
        _log(
            f"warning: this sweep can take up to {estimate / 60:.0f} min (--max-seconds {cfg.max_seconds:g} for each "
            f"point of each policy, builds not counted): lower --max-seconds or --refills, or use fewer values"
        )
    with RunOutput(quiet=False, verbose=False, policies=cfg.policies) as out:
        results = measure_sweep(settings, log=out.info, warn=out.warn, progress=out.progress, said=_said)
    several = several_nodes(results)  # --on: each point on several nodes, a column per node (no fit across them)
    text = (
        node_table(results, cfg.json_path, output_width())
        if several
        else render_sweep(results, fits(results, list(settings.axes)), width=output_width())
    )
    if args.hz is not None and not several:
        text += "".join(
            "\n" + render_holding(holding(results, a, list(settings.axes), args.hz), args.hz, a.name)
            for a in settings.axes
        )
    _print(text)
    return 0 if all(r.status in (OK, SKIPPED) for r in results.results) else 1


def cmd_list(args: argparse.Namespace) -> int:
    from policybench.orchestrate.launch import launcher
    from policybench.report.listing import render_list

    _print(render_list(launcher(True)("list", {}, log=_log, warn=_log), output_width()))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from policybench.api import run_context

    cfg = config_from_args(args)
    with run_context(cfg) as ctx:
        print(f"Using device: {ctx.device}")
        failed = 0
        for name in cfg.policies:
            answer = ctx.launch(
                "verify", {"name": name, "cfg": cfg.to_json(), "device": ctx.device}, log=_log, warn=_log
            )
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
        args = parse_args(argv)
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
