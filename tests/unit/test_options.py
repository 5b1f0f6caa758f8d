"""Each setting declared once (policybench.options): every command's parser is built from the
declaration, FLAGS comes from it, and the settings objects and the library's keywords default to
what it declares. What the library or the command line has that the other has not is listed here,
with the reason."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Sequence

import pytest

from policybench import api
from policybench.cli import FLAGS, build_parser, config_from_args, parse_args
from policybench.options import COMMANDS, DEFAULT_POLICIES, OPTIONS, REALTIME_POLICIES, option, options
from policybench.settings import RealtimeSettings, RunKeywords, RunSettings

LIBRARY = {"run": api.run, "sweep": api.sweep, "realtime": api.realtime}
# Settings of a command that are no keyword of its library function, and why.
NOT_KEYWORDS = {
    "run": {
        "policy_type": "a name goes in `policies`",
        "in_process": "isolate=False",
        "quiet": "the command line's output",
        "verbose": "the command line's output",
    },
    "sweep": {
        "policy_type": "a name goes in `policies`",
        "cameras": "an axis: axes={'cameras': [...]}",
        "image_size": "an axis",
        "threads": "an axis",
        "overrides": "a field's axis goes in `axes`",
    },
    "realtime": {
        "policy_type": "a name goes in `policies`",
        "simulate": "simulate_realtime() replays a file",
        "in_process": "isolate=False",
        "json_path": "the library returns the verdict; the command line writes the file",
    },
}
# Keywords of a library function that no flag sets.
LIBRARY_ONLY = {
    "run": {"seed", "inputs", "isolate", "log", "warn", "progress"},
    "sweep": {"axes", "log"},
    "realtime": {"isolate", "log"},
}
# A keyword whose library default None stands for the declared default.
NONE_IS_THE_DEFAULT = {"policies"}
# The positional arguments a command cannot be parsed without.
POSITIONALS = {"plot": ["r.json"], "report": ["r.json"], "compare": ["a.json", "b.json"]}


def _subparser(command: str) -> argparse.ArgumentParser:
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    return choices[command]


def _same(declared: object, other: object) -> bool:
    """The same default: equal, or the same items in a tuple and a list, or nothing either way."""

    def items(v: object) -> list | None:
        return list(v) if isinstance(v, Sequence) and not isinstance(v, str) else None

    if items(declared) is not None and items(other) is not None:
        return items(declared) == items(other)
    return declared == other or (not declared and not other and declared in (None, (), []) and other in (None, (), []))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_setting_and_a_flag_are_declared_once_per_command(command):
    fields = [o.field for o in options(command)]
    flags = [name for o in options(command) for name in o.names]
    assert len(fields) == len(set(fields)) and len(flags) == len(set(flags))


def test_a_field_has_one_flag_in_every_command_and_flags_is_made_from_them():
    for o in OPTIONS:
        assert {p.flag for p in OPTIONS if p.field == o.field} == {o.flag}, o.field
    assert FLAGS == {o.field: o.flag for o in OPTIONS if not o.positional}
    assert FLAGS["overrides"] == "--set" and FLAGS["output"] == "-o" and FLAGS["thresholds"] == "--threshold"


@pytest.mark.parametrize("command", [*COMMANDS, "list"])
def test_the_parser_of_a_command_is_its_declaration_and_nothing_else(command):
    actions = [a for a in _subparser(command)._actions if not isinstance(a, argparse._HelpAction)]
    declared = options(command)
    assert [a.dest for a in actions] == [o.field for o in declared]
    for a, o in zip(actions, declared):
        assert a.option_strings == ([] if o.positional else o.names), o.field
        assert (a.help, a.metavar, a.choices, a.type) == (o.help_text, o.metavar, o.choices, o.type), o.field
        assert o.positional or a.default == o.unset, o.field  # then parse_args puts the default in its place
        if o.action is None:  # a switch or a repeated flag has the nargs of its action
            assert (a.nargs, a.const) == (o.nargs, o.const), o.field


@pytest.mark.parametrize("command", COMMANDS)
def test_a_flag_not_given_is_its_declared_default(command):
    args = parse_args([command, *POSITIONALS.get(command, [])])
    assert args.given == frozenset()
    for o in options(command):
        if not o.positional:
            assert getattr(args, o.field) == o.default, o.field


def test_a_flag_given_at_its_default_is_given():
    args = parse_args(["realtime", "--device", "auto", "--warmup", "2", "--policies", "act"])
    assert args.given == {"device", "warmup", "policies"}


@pytest.mark.parametrize("command", sorted(LIBRARY))
def test_every_setting_of_a_command_is_a_keyword_of_its_library_function(command):
    keywords = inspect.signature(LIBRARY[command]).parameters
    missing = [
        o.api_keyword
        for o in options(command)
        if o.api_keyword not in keywords and o.field not in NOT_KEYWORDS[command]
    ]
    assert not missing, f"policybench.{command} lacks the keywords {missing}"
    stale = [f for f in NOT_KEYWORDS[command] if f not in {o.field for o in options(command)}]
    assert not stale, f"listed as settings of {command} that it no longer declares: {stale}"


@pytest.mark.parametrize("command", sorted(LIBRARY))
def test_every_keyword_of_a_library_function_is_a_declared_setting_or_listed(command):
    declared = {o.api_keyword for o in options(command)}
    extra = [k for k in inspect.signature(LIBRARY[command]).parameters if k not in declared | LIBRARY_ONLY[command]]
    assert not extra, f"policybench.{command}'s keywords {extra} are neither declared (options.py) nor listed here"


@pytest.mark.parametrize("command", sorted(LIBRARY))
def test_a_library_keyword_defaults_to_the_declared_default(command):
    keywords = inspect.signature(LIBRARY[command]).parameters
    for o in options(command):
        if o.api_keyword not in keywords:
            continue
        default = keywords[o.api_keyword].default
        if o.api_keyword in NONE_IS_THE_DEFAULT:
            assert default is None, o.field
            continue
        assert _same(o.default, default), f"policybench.{command}({o.api_keyword}={default!r}): declared {o.default!r}"


def test_the_settings_objects_default_to_the_declared_defaults():
    run, realtime = RunSettings(), RealtimeSettings()
    for o in options("run"):
        if o.into == "run" and hasattr(run, o.field):
            value = run.profile.name if o.field == "profile" else getattr(run, o.field)
            assert _same(o.value(o.default), value), f"RunSettings.{o.field} = {value!r}, declared {o.default!r}"
    for o in options("realtime"):
        if o.into == "realtime":
            assert _same(o.value(o.default), getattr(realtime, o.field)), f"RealtimeSettings.{o.field}"


def test_the_keywords_that_make_run_settings_are_the_declared_ones():
    declared = {o.field for o in options("run") if o.into == "run"} - {"policies"}
    assert set(RunKeywords.__optional_keys__) == declared | {"seed"}  # seed: the library's only


def test_the_default_policies_are_declared_once():
    assert RunSettings().policies == list(DEFAULT_POLICIES) == api.build_config().policies
    assert config_from_args(parse_args(["run"])).policies == list(DEFAULT_POLICIES)
    assert option("realtime", "policies").default == REALTIME_POLICIES
    assert config_from_args(parse_args(["verify", "--profile", "pusht"])).policies == list(DEFAULT_POLICIES)


def test_the_command_line_and_the_library_make_the_same_settings():
    args = parse_args(
        [
            "run",
            "--policies",
            "act",
            "--refills",
            "auto",
            "--precision",
            "0.05",
            "--variant",
            "bf16",
            "--set",
            "act.n_action_steps=5",
            "--on",
            "a,b",
            "--ray",
            "--cameras",
            "1",
        ]
    )
    asked = api.build_config(
        ["act"],
        refills="auto",
        precision=0.05,
        variants="bf16",
        ray="auto",
        on=["a", "b"],
        overrides={"act.n_action_steps": 5},
        cameras=1,
    )
    assert config_from_args(args) == asked
