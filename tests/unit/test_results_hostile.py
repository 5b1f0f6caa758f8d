"""A results file from elsewhere (issue 22): every field that reports, plots, compare and simulate
use is checked for its type as it is read (one UsageError naming it); the file's size and
nesting are bounded before it is parsed; what only a renderer can tell (a $ in a name, too many
panels, a chunk too long to replay) is one line too; compare draws nothing at random: its
intervals are order statistics of the samples, so a large file costs one sort."""

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import assert_one_error_line, rich_json, sweep_json

from policybench import regression
from policybench import results as results_module
from policybench.cli import main
from policybench.errors import UsageError
from policybench.results import MAX_DEPTH, RunResults, json_depth, read_results

DATA = Path(__file__).resolve().parents[1] / "data"


def seed(name: str) -> dict:
    """'rich' (variants, --pipeline, memory, realtime) or 'sweep' (cameras x image_size)."""
    if name == "rich":
        return rich_json(json.loads((DATA / "mixed_results.json").read_text()))
    return sweep_json(json.loads((DATA / "small_results.json").read_text()))


def _set(path, value):
    def change(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return change


def _delete(path):
    def change(data):
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return change


SWEEP_POINT = "act[cameras=1,image_size=224x224]"
RT = "realtime[0] (act, sync)"

# a change to seed(file); the start of the one-line message naming the field
WRONG_TYPES = {
    "environment a string": ("rich", _set(["environment"], "abc"), "environment is 'abc'; must be an object"),
    "cpu flags a number": ("rich", _set(["environment", "cpu_flags"], 5), "environment.cpu_flags is 5; must be a list"),
    "a cpu flag a list": (
        "rich",
        _set(["environment", "cpu_flags", 1], ["avx"]),
        "environment.cpu_flags[1] is ['avx']; must be a string",
    ),
    "device a list": (
        "rich",
        _set(["environment", "device"], ["cpu"]),
        "environment.device is ['cpu']; must be a string",
    ),
    "threads as text": (
        "rich",
        _set(["environment", "threads"], "2"),
        "environment.threads is '2'; must be a whole number",
    ),
    "run a number": ("rich", _set(["run"], 3.5), "run is 3.5; must be an object"),
    "profile a list": ("rich", _set(["run", "profile"], [1]), "run.profile is [1]; must be an object"),
    "profile name a number": ("rich", _set(["run", "profile", "name"], 7), "run.profile.name is 7; must be a string"),
    "baseline a list": ("rich", _set(["run", "baseline"], ["act"]), "run.baseline is ['act']; must be a string"),
    "overrides a string": ("rich", _set(["run", "overrides"], "act.x=1"), "run.overrides is 'act.x=1'; must be a list"),
    "results an object": ("rich", _set(["results"], {"a": 1}), "results is {'a': 1}; must be a list"),
    "a result a string": ("rich", _set(["results", 0], "act"), "results[0] is 'act'; must be an object"),
    "policy name of 5000 characters": (
        "rich",
        _set(["results", 1, "policy"], "x" * 5000),
        "a result's policy is 'xxxxxxxx",
    ),
    "config a list": ("rich", _set(["results", 1, "config"], [1, "x"]), "act: config is [1, 'x']; must be an object"),
    "n_action_steps as text": (
        "rich",
        _set(["results", 1, "config", "n_action_steps"], "abc"),
        "act: config.n_action_steps is 'abc'; must be a whole number",
    ),
    "complete as text": (
        "rich",
        _set(["results", 1, "complete"], "yes"),
        "act: complete is 'yes'; must be true or false",
    ),
    "params of 400 digits": ("rich", _set(["results", 1, "params"], 10**400), "act: params is 1000"),
    "memory a list": ("rich", _set(["results", 1, "memory"], [1]), "act: memory is [1]; must be an object"),
    "weight bytes as text": (
        "rich",
        _set(["results", 1, "memory", "weight_bytes"], "4 kB"),
        "act: memory.weight_bytes is '4 kB'; must be a number",
    ),
    "peak RSS of 400 digits": (
        "rich",
        _set(["results", 1, "memory", "peak_rss_mb"], 10**400),
        "act: memory.peak_rss_mb is 1000",
    ),
    "equivalence a string": (
        "rich",
        _set(["results", 2, "equivalence"], "yes"),
        "act+bf16: equivalence is 'yes'; must be an object",
    ),
    "tolerance as text": (
        "rich",
        _set(["results", 2, "equivalence", "tolerance"], "1%"),
        "act+bf16: equivalence.tolerance is '1%'; must be a number",
    ),
    "no equivalent": (
        "rich",
        _delete(["results", 2, "equivalence", "equivalent"]),
        "act+bf16: equivalence.equivalent is missing",
    ),
    "equivalent a number": (
        "rich",
        _set(["results", 2, "equivalence", "equivalent"], 1),
        "act+bf16: equivalence.equivalent is 1; must be true or false",
    ),
    "roofline a list": ("rich", _set(["results", 1, "roofline"], [2]), "act: roofline is [2]; must be an object"),
    "flops as text": (
        "rich",
        _set(["results", 1, "roofline", "flops"], "many"),
        "act: roofline.flops is 'many'; must be a number",
    ),
    "floor without its terms": (
        "rich",
        _delete(["results", 1, "roofline", "peak_flops"]),
        "act: roofline.peak_flops is missing",
    ),
    "export a list": ("rich", _set(["results", 2, "export"], [1]), "act+bf16: export is [1]; must be an object"),
    "samples an object": (
        "rich",
        _set(["results", 1, "samples"], {"i": 0}),
        "act: samples is {'i': 0}; must be a list",
    ),
    "a sample a string": ("rich", _set(["results", 1, "samples", 0], "x"), "act: samples[0] is 'x'; must be an object"),
    "a sample without latency": (
        "rich",
        _delete(["results", 1, "samples", 1, "latency_ms"]),
        "act: samples[1].latency_ms is None; a latency must be",
    ),
    "a sample without index": ("rich", _delete(["results", 1, "samples", 1, "i"]), "act: samples[1].i is None"),
    "stages a list": (
        "rich",
        _set(["results", 0, "samples", 0, "stages_ms"], [1]),
        "smolvla: samples[0].stages_ms is [1]; must be an object",
    ),
    "stages that differ": (
        "rich",
        _set(["results", 0, "samples", 1, "stages_ms"], {"prepare": 1.0}),
        "smolvla: samples[1].stages_ms names ['prepare']; the samples before it name "
        "['prepare', 'preprocess', 'select_action']",
    ),
    "sweep a list": ("sweep", _set(["run", "sweep"], [1]), "run.sweep is [1]; must be an object"),
    "sweep hz as text": (
        "sweep",
        _set(["run", "sweep", "hz"], "30"),
        "run.sweep.hz is '30'; must be a rate in Hz above 0",
    ),
    "axes an object": ("sweep", _set(["run", "sweep", "axes"], {}), "run.sweep.axes is {}; must be a list"),
    "axis values a string": (
        "sweep",
        _set(["run", "sweep", "axes", 0, "values"], "1,2"),
        "run.sweep.axes[0].values is '1,2'; must be a list",
    ),
    "axis value abc": (
        "sweep",
        _set(["run", "sweep", "axes", 0, "values", 0], "abc"),
        "run.sweep.axes[0].values[0] is 'abc'; must be a number from -1e+12 to 1e+12",
    ),
    "axis value 1e300": (
        "sweep",
        _set(["run", "sweep", "axes", 0, "values", 0], "1e300"),
        "run.sweep.axes[0].values[0] is '1e300'",
    ),
    "axis value a number": (
        "sweep",
        _set(["run", "sweep", "axes", 0, "values", 0], 1),
        "run.sweep.axes[0].values[0] is 1; must be a string",
    ),
    "image size big": (
        "sweep",
        _set(["run", "sweep", "axes", 1, "values", 0], "big"),
        "run.sweep.axes[1].values[0] is 'big'; must be an image size HEIGHTxWIDTH",
    ),
    "axis name a number": (
        "sweep",
        _set(["run", "sweep", "axes", 0, "name"], 3),
        "run.sweep.axes[0].name is 3; must be a string",
    ),
    "point off its axis": (
        "sweep",
        _set(["results", 0, "config", "sweep_point", "cameras"], "3"),
        f"{SWEEP_POINT}: config.sweep_point.cameras is '3'; the sweep's cameras values are ['1', '2']",
    ),
    "point value a number": (
        "sweep",
        _set(["results", 0, "config", "sweep_point", "cameras"], 1),
        f"{SWEEP_POINT}: config.sweep_point.cameras is 1; must be a string",
    ),
    "point without its policy": (
        "sweep",
        _delete(["results", 0, "config", "sweep_policy"]),
        f"{SWEEP_POINT}: config.sweep_policy is missing",
    ),
    "realtime an object": ("rich", _set(["realtime"], {"a": 1}), "realtime is {'a': 1}; must be a list"),
    "realtime entry a string": ("rich", _set(["realtime", 0], "x"), "realtime[0] is 'x'; must be an object"),
    "realtime without policy": (
        "rich",
        _delete(["realtime", 0, "policy"]),
        "realtime[0].policy is None; must be a string",
    ),
    "realtime mode unknown": (
        "rich",
        _set(["realtime", 0, "mode"], "fast"),
        "realtime[0].mode is 'fast'; known: sync, async, remote",
    ),
    "realtime error a number": ("rich", _set(["realtime", 0, "error"], 3), f"{RT}: error is 3; must be a string"),
    "realtime summary a list": (
        "rich",
        _set(["realtime", 0, "summary"], [1]),
        f"{RT}: summary is [1]; must be an object",
    ),
    "realtime ticks a string": ("rich", _set(["realtime", 0, "ticks"], "abc"), f"{RT}: ticks is 'abc'; must be a list"),
    "a tick a number": ("rich", _set(["realtime", 0, "ticks", 0], 5), f"{RT}: ticks[0] is 5; must be an object"),
    "a tick without its end": (
        "rich",
        _delete(["realtime", 0, "ticks", 0, "end_ms"]),
        f"{RT}: ticks[0].end_ms is None",
    ),
    "missed as text": (
        "rich",
        _set(["realtime", 0, "ticks", 0, "missed"], "no"),
        f"{RT}: ticks[0].missed is 'no'; must be true or false",
    ),
    "chunk latencies a number": (
        "rich",
        _set(["realtime", 1, "chunk_latencies_ms"], 3),
        "realtime[1] (act, async): chunk_latencies_ms is 3; must be a list",
    ),
    "a name with a line break": ("rich", _set(["results", 1, "policy"], "act\nrm -rf"), "act\\nrm -rf: samples"),
}


def _hostile(tmp_path, case: str) -> Path:
    name, change, _ = WRONG_TYPES[case]
    data = seed(name)
    change(data)
    if case == "a name with a line break":
        data["results"][1]["samples"][0]["latency_ms"] = -1
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_a_field_of_the_wrong_type_is_named_on_reading(tmp_path, case):
    path = _hostile(tmp_path, case)
    with pytest.raises(UsageError) as err:
        read_results(str(path))
    assert str(err.value).startswith(f"{path}: {WRONG_TYPES[case][2]}")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "case, argv",
    [
        ("config a list", ["report", "{f}", "--format", "html"]),
        ("memory a list", ["report", "{f}", "--format", "html"]),
        ("environment a string", ["report", "{f}"]),
        ("cpu flags a number", ["compare", "{f}", "{f}"]),
        ("equivalence a string", ["realtime", "--simulate", "{f}", "--ticks", "20"]),
        ("sweep hz as text", ["plot", "{f}", "-o", "{tmp}"]),
        ("axis value abc", ["plot", "{f}", "-o", "{tmp}"]),
        ("baseline a list", ["report", "{f}", "--format", "html"]),
    ],
)
def test_the_cli_names_the_field_in_one_line(tmp_path, capsys, case, argv):
    path = _hostile(tmp_path, case)
    code = main([a.format(f=path, tmp=tmp_path / "plots") for a in argv])
    assert_one_error_line(capsys, code, WRONG_TYPES[case][2])


def test_the_richer_files_are_read_and_rendered(tmp_path, capsys):
    for name in ("rich", "sweep"):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(seed(name)))
        assert main(["report", str(path), "--format", "html", "-o", str(tmp_path / f"{name}.html")]) == 0
    assert "Traceback" not in capsys.readouterr().err


# ----------------------------------------------------------------------------- size and nesting


def test_a_file_above_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(seed("rich")))
    monkeypatch.setattr(results_module, "MAX_RESULTS_BYTES", 1000)
    with pytest.raises(UsageError, match=r"r\.json: larger than .*MiB, too large for a results file"):
        read_results(str(path))


def test_an_endless_device_is_read_up_to_the_limit_only(capsys, monkeypatch):
    monkeypatch.setattr(results_module, "MAX_RESULTS_BYTES", 2**20)
    assert_one_error_line(capsys, main(["report", "/dev/zero"]), "/dev/zero: larger than 1 MiB, too large")


def test_the_real_size_limit_is_named_in_the_message():
    assert results_module.MAX_RESULTS_BYTES == 2**30
    assert (
        results_module._too_large("f.json", 2**30)
        == "f.json: larger than 1,024 MiB, too large for a results file policybench writes"
    )


def test_a_machine_with_little_free_memory_reads_smaller_files(tmp_path, monkeypatch):
    from policybench import sizes

    path = tmp_path / "r.json"
    path.write_text(json.dumps(seed("rich")))
    monkeypatch.setattr(sizes, "available_memory", lambda: 8 * 1000)  # an eighth: 1000 bytes
    assert results_module.read_limit() == 1000
    with pytest.raises(UsageError, match=r"r\.json: larger than 0 MiB, the most this machine reads \(an eighth"):
        read_results(str(path))


def _nested(depth: int) -> dict:
    """The rich file, ``depth`` levels deep in all: its export holds nested lists."""
    data = seed("rich")
    value: object = 1
    for _ in range(depth - 4):  # the file's object, results, a result, export
        value = [value]
    data["results"][2]["export"] = {"x": value}
    return data


def test_nesting_up_to_the_limit_is_read_and_deeper_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_nested(MAX_DEPTH)))
    assert json_depth(path.read_bytes()) == MAX_DEPTH
    read_results(str(path))
    path.write_text(json.dumps(_nested(MAX_DEPTH + 1)))
    with pytest.raises(UsageError, match=f"r.json: JSON nested more than {MAX_DEPTH} deep"):
        read_results(str(path))


def test_a_file_nested_200000_deep_is_one_line_not_a_recursion_error(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text('{"schema_version": 1, "results": ' + "[" * 200_000 + "]" * 200_000 + "}")
    assert_one_error_line(capsys, main(["report", str(path)]), f"deep.json: JSON nested more than {MAX_DEPTH} deep")
    path.write_text("[" * 200_000)  # cut short too
    assert_one_error_line(capsys, main(["compare", str(path), str(path)]), "JSON nested more than")


def test_brackets_and_escapes_inside_strings_do_not_count(tmp_path):
    data = seed("rich")
    data["results"][1]["error"] = '\\"' + "[{" * 500 + '\\\\"' + "\\" + "[" * 100
    data["environment"]["platform"] = '"]]]]}}}}\\'
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    assert json_depth(path.read_bytes()) == 6  # results, a result, samples, a sample, stages_ms
    assert read_results(str(path)).results[1].error == data["results"][1]["error"]


@pytest.mark.parametrize(
    "text, depth",
    [
        (b"1", 0),
        (b"{}", 1),
        (b"[[]]", 2),
        (b'"[[["', 0),
        (b'["\\"[", 1]', 1),
        (b'["\\\\", [1]]', 2),
        (b'{"a": "}}}}", "b": [{}]}', 3),
        (b"[[[", 3),
        (b"]]][[", 0),
        (b'"\\\\\\"[[', 0),
        (b"[" * 3_000_000 + b"]" * 3_000_000, 3_000_000),  # across the 1 MiB chunks it scans
    ],
)
def test_json_depth(text, depth):
    assert json_depth(text) == depth


def test_json_depth_stops_once_past_the_limit():
    assert MAX_DEPTH < json_depth(b"[" * 5_000_000, stop=MAX_DEPTH) <= 2**20


def test_an_integer_of_thousands_of_digits_is_one_line(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"schema_version": 1, "results": [], "run": {"seed": ' + "7" * 5000 + "}}")
    with pytest.raises(UsageError) as err:
        read_results(str(path))
    assert str(err.value) == (
        f"{path}: not a JSON results file (Exceeds the limit (4300 digits) for integer string "
        "conversion: value has 5000 digits)"
    )


# ----------------------------------------------------------------------------- what only a renderer can tell


def _results(data: dict) -> RunResults:
    return RunResults.from_json(json.loads(json.dumps(data)))


def test_a_dollar_in_a_name_is_drawn_as_a_dollar():
    from policybench.report.plots import figure_bars, figure_cdf, figure_realtime, figure_timeline, png_bytes

    data = seed("rich")
    data["results"][1]["policy"] = data["realtime"][0]["policy"] = "$\\foo$ 10$"
    data["environment"]["device_name"] = "$^$"
    results = _results(data)
    for figure in (figure_timeline, figure_cdf, figure_bars, figure_realtime):
        assert png_bytes(figure(results)).startswith(b"\x89PNG")


def test_more_panels_than_a_figure_holds_is_one_line(monkeypatch):
    from policybench.report import plots, pngs

    monkeypatch.setattr(plots, "MAX_PANELS", 2)
    with pytest.raises(UsageError, match="^4 policies with samples to plot, one panel each; a figure holds at most 2$"):
        pngs.render_pngs(_results(seed("rich")))


def test_a_sweep_value_shown_otherwise_is_left_out_not_a_key_error():
    from policybench.report.plots import figure_sweep, png_bytes

    data = seed("sweep")
    data["run"]["sweep"]["axes"][0]["values"] = ["1", "02"]
    for r in data["results"]:
        point = r["config"]["sweep_point"]
        point["cameras"] = {"2": "02"}.get(point["cameras"], point["cameras"])
    assert png_bytes(figure_sweep(_results(data), 30.0)).startswith(b"\x89PNG")


def test_sweep_values_too_close_to_fit_get_no_line():
    from policybench.scaling.axes import Axis
    from policybench.scaling.fit import fits

    data = seed("sweep")
    data["run"]["sweep"]["axes"] = [{"name": "cameras", "values": ["1e-300", "2e-300"]}]
    for r, value in zip(data["results"], ["1e-300", "2e-300", "1e-300", "2e-300"]):
        r["config"]["sweep_point"] = {"cameras": value}
    assert fits(_results(data), [Axis("cameras", ("1e-300", "2e-300"))]) == []


def test_a_chunk_too_long_to_replay_is_one_line(tmp_path, capsys):
    data = seed("rich")
    for s in data["results"][1]["samples"]:  # act: refills at 0 and 2 become 0 and 20,000
        s["i"] += 19_998 if s["i"] >= 2 else 0
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    code = main(["realtime", "--simulate", str(path), "--policies", "act", "--ticks", "20"])
    assert_one_error_line(
        capsys, code, "act: a chunk of 20,000 actions (calls per refill); a simulation replays at most 10,000"
    )


# ----------------------------------------------------------------------------- compare on large files


def test_compare_of_a_large_file_draws_nothing_at_random(monkeypatch):
    """300,000 refills against 10: the medians' intervals are order statistics (no resampling,
    no memory that grows with resamples x samples), and the same on every call."""
    from policybench.results import OK, PolicyResult
    from policybench.samples import REFILL, Sample

    def refusing(*args, **kwargs):
        raise AssertionError("compare drew random numbers")

    monkeypatch.setattr(np.random, "default_rng", refusing)
    rng_values = [1.0 + (i % 1000) / 1000 for i in range(300_000)]  # 1.000 .. 1.999, median 1.4995
    base = RunResults(
        run={},
        environment={},
        results=[PolicyResult("act", OK, samples=[Sample(i, REFILL, v) for i, v in enumerate(rng_values)])],
    )
    new = RunResults(
        run={},
        environment={},
        results=[PolicyResult("act", OK, samples=[Sample(i, REFILL, 2.0 + i / 100) for i in range(10)])],
    )
    first, second = regression.compare_results(base, new), regression.compare_results(base, new)
    assert first == second and len(first) == 1
    (c,) = first
    assert c.base_median_ms == pytest.approx(1.4995) and c.new_median_ms == pytest.approx(2.045)
    assert c.verdict == regression.SLOWER  # the new interval (2.01, 2.08) lies far above the base's
