"""The parts of --ray and --on that need no cluster (cluster.py): naming and choosing nodes,
what a finished, failed or interrupted task becomes (a fake ``ray`` module), the one-line errors,
and that a run without --ray never imports Ray. tests/integration/test_ray.py runs a real one."""

import dataclasses
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from fakes import assert_one_error_line

from policybench.orchestrate import cluster
from policybench.api import build_config
from policybench.cli import main
from policybench.errors import UsageError
from policybench.interrupt import Interrupted
from policybench.results import OK, PolicyResult, RunResults, read_results, write_results
from policybench.samples import Sample

DATA = Path(__file__).resolve().parents[1] / "data"


def _node(name: str, node_id: str, resource: float | None = 1, alive: bool = True) -> dict:
    resources = {"CPU": 2.0, **({"policybench": resource} if resource is not None else {})}
    return {"NodeID": node_id, "NodeName": name, "NodeManagerAddress": name, "Alive": alive, "Resources": resources}


def _ray(nodes: list[dict]) -> SimpleNamespace:
    return SimpleNamespace(nodes=lambda: nodes)


def test_nodes_with_the_resource_are_named_by_name_then_id():
    ray = _ray(
        [
            _node("gpu-box", "a" * 40),
            _node("10.0.0.2", "b" * 40),
            _node("10.0.0.2", "c" * 40),
            _node("no-res", "d" * 40, resource=None),
            _node("dead", "e" * 40, alive=False),
        ]
    )
    assert [n.label for n in cluster.measuring_nodes(ray, "auto")] == [
        "gpu-box",
        "10.0.0.2:bbbbbbbb",
        "10.0.0.2:cccccccc",
    ]


def test_a_cluster_without_the_resource_says_how_to_add_it():
    with pytest.raises(
        UsageError,
        match=r"--ray auto: no node of the cluster has the resource 'policybench'.*"
        r"ray start \.\.\. --resources='\{\"policybench\": 1\}'",
    ):
        cluster.measuring_nodes(_ray([_node("head", "a" * 40, resource=None)]), "auto")


def test_on_chooses_nodes_by_name_id_or_all():
    nodes = [cluster.Node("gpu-box", "a" * 40), cluster.Node("nuc", "b" * 40)]
    assert cluster.chosen_nodes(nodes, []) == [None]
    assert cluster.chosen_nodes(nodes, ["all"]) == nodes
    assert cluster.chosen_nodes(nodes, ["nuc", "a" * 8]) == [nodes[1], nodes[0]]
    with pytest.raises(
        UsageError,
        match="--on jetson: no node with the resource 'policybench' is called so; the nodes are: gpu-box, nuc",
    ):
        cluster.chosen_nodes(nodes, ["jetson"])


def test_a_node_task_measures_its_policies_only_with_no_file_and_no_cluster():
    cfg = build_config(
        ["act", "noop"],
        overrides={"act.chunk_size": 3, "noop.chunk_size": 4},
        baseline="act",
        json_path="r.json",
        ray="auto",
        on=["all"],
    )
    node_cfg = cluster.on_node(cfg, ["noop"])
    assert (node_cfg.policies, node_cfg.baseline, node_cfg.json_path, node_cfg.ray, node_cfg.on) == (
        ["noop"],
        None,
        None,
        None,
        [],
    )
    assert [(o.policy, o.field) for o in node_cfg.overrides] == [("noop", "chunk_size")]


class _RayError(Exception):
    def __init__(self, message: str, cause: BaseException | None = None):
        super().__init__(message)
        self.cause = cause


def _fake_ray(outcomes: dict[str, object], interrupt_after: int | None = None) -> SimpleNamespace:
    """A ray module whose tasks (refs are the jobs' first policy) finish in order with ``outcomes``:
    (node id, RunResults), or an exception ray.get raises; ``interrupt_after`` tasks, Ctrl-C."""
    cancelled: list[str] = []
    waited = []

    def wait(refs, num_returns):
        if interrupt_after is not None and len(waited) == interrupt_after:
            raise KeyboardInterrupt
        waited.append(refs[0])
        return [refs[0]], refs[1:]

    def get(ref):
        outcome = outcomes[ref]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return SimpleNamespace(
        wait=wait,
        get=get,
        cancel=lambda ref, force: cancelled.append(ref),
        cancelled=cancelled,
        exceptions=SimpleNamespace(RayError=_RayError),
    )


class _Remote:
    def remote(self, cfg, isolate, work=None):
        return cfg.policies[0]


class _Saved:
    def __init__(self):
        self.saves: list[list[str]] = []

    def save(self, results):
        self.saves.append([f"{r.name} {r.status}" for r in results.results])


def _measured(name: str) -> RunResults:
    r = PolicyResult(policy=name, status=OK, samples=[Sample(0, "refill", 5.0)])
    return RunResults({"device": "cpu", "cpu_model": f"{name} CPU"}, {}, [r])


def _jobs(*names: str) -> list[cluster.Job]:
    cfg = build_config(list(names))
    return [cluster.Job(cluster.on_node(cfg, [n]), None, {"cameras": "2"}) for n in names]  # on any node


def test_results_stream_in_as_tasks_finish_each_stamped_with_its_node():
    ray = _fake_ray(
        {
            "act": ("b" * 40, _measured("act")),
            "noop": _RayError("worker died", _RayError("WorkerCrashedError: the worker died")),
        }
    )
    results, out, lines = RunResults({}, {}), _Saved(), []
    cluster._stream(ray, _Remote(), _jobs("act", "noop"), {"b" * 40: "nuc"}, True, results, out, lines.append)
    assert out.saves == [["act[cameras=2] ok"], ["act[cameras=2] ok", "noop[cameras=2] failed"]]
    act, noop = results.results
    assert act.machine == {"node": "nuc", "device": "cpu", "cpu_model": "act CPU"}
    assert results.environment == {"device": "cpu", "cpu_model": "act CPU"}  # the first node's, for one-file reports
    assert noop.error == "on the cluster: _RayError: WorkerCrashedError: the worker died"
    assert lines == ["the cluster: act[cameras=2] ok", "the cluster: noop[cameras=2] failed"]


def test_a_task_that_died_on_a_named_node_is_a_failed_entry_of_that_node():
    ray = _fake_ray({"act": _RayError("WorkerCrashedError: The worker died unexpectedly\nmore")})
    job = cluster.Job(cluster.on_node(build_config(["act"]), ["act"]), cluster.Node("nuc", "b" * 40))
    (failed,) = cluster._finished(ray, "act", job, {})
    assert (failed.status, failed.machine) == ("failed", {"node": "nuc"})
    assert failed.error == "on node nuc: _RayError: WorkerCrashedError: The worker died unexpectedly"


def test_ctrl_c_cancels_the_running_tasks_and_keeps_what_finished():
    ray = _fake_ray({"act": ("b" * 40, _measured("act"))}, interrupt_after=1)
    results, out = RunResults({}, {}), _Saved()
    with pytest.raises(Interrupted) as stop:
        cluster._stream(ray, _Remote(), _jobs("act", "noop", "diffusion"), {}, True, results, out, lambda line: None)
    assert ray.cancelled == ["noop", "diffusion"]
    assert out.saves[-1] == ["act[cameras=2] ok", "noop[cameras=2] interrupted", "diffusion[cameras=2] interrupted"]
    assert stop.value.partial is results


def test_on_without_ray_is_one_line(capsys):
    assert_one_error_line(
        capsys,
        main(["run", "--policies", "noop", "--on", "all"]),
        "--on names the cluster nodes to measure on: give --ray too",
    )


def test_ray_without_the_extra_names_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    assert_one_error_line(
        capsys,
        main(["run", "--policies", "noop", "--ray"]),
        "--ray needs Ray, which policybench's 'cluster' extra installs: pip install -e \".[cluster]\"",
    )


def test_an_address_that_does_not_answer_is_one_line_not_a_hang(capsys):
    pytest.importorskip("ray", reason="Ray is not installed (the cluster extra): the line without it is tested above")
    start = time.monotonic()
    line = assert_one_error_line(
        capsys, main(["run", "--policies", "noop", "--ray", "127.0.0.1:1"]), "--ray 127.0.0.1:1: "
    )
    assert "no Ray cluster answers at" in line and "ray start --head" in line
    assert time.monotonic() - start < 30  # ray.init alone would retry for a minute


def test_a_run_without_ray_never_imports_it():
    code = (
        "import sys; from policybench.cli import main; "
        "rc = main(['run', '--policies', 'noop', '--in-process', '--refills', '1', '--warmup', '0', '--quiet']); "
        "assert rc == 0, rc; assert 'ray' not in sys.modules, 'ray imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_report_of_a_fleet_file_is_a_column_per_node(tmp_path, capsys):
    data = read_results(str(DATA / "fleet_xeon.json"))
    data.run["cluster"] = {"address": "auto", "on": ["node-a", "node-b"]}
    data.results = [r for r in data.results if r.policy == "act"] * 2
    data.results = [
        dataclasses.replace(r, machine={"node": node, **data.environment})
        for r, node in zip(data.results, ("node-a", "node-b"))
    ]
    path = tmp_path / "fleet.json"
    write_results(data, str(path))
    assert main(["report", str(path), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Policy,Metric,node-a,node-b"
    assert "ACT,highest rate sync (Hz),40,40" in out
