"""--ray on a real local Ray cluster (ray.cluster_utils.Cluster): two nodes on this machine, each
with the node resource "policybench" and one CPU. A two-policy run and a 4-point sweep come back
complete, one task per node at a time; a task whose worker is killed mid-run becomes a failed
result naming the cause while the other node's survives. The cluster is shut down even when a
test fails, and no Ray process is left behind."""

import json
import os
import signal
import threading
import time

import psutil
import pytest

import policybench.api as api
from policybench.cli import main

ray_cluster_utils = pytest.importorskip("ray.cluster_utils", reason="Ray is not installed (the cluster extra)")

pytestmark = pytest.mark.slow
NODE = {"num_cpus": 1, "resources": {"policybench": 1}}
TINY_ACT = {
    "act.chunk_size": 3,
    "act.n_action_steps": 3,
    "act.dim_model": 32,
    "act.dim_feedforward": 64,
    "act.n_encoder_layers": 1,
    "act.n_decoder_layers": 1,
}


def _ray_processes() -> list[psutil.Process]:
    """Ray's own processes that this test session started (raylet, gcs_server, workers)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "ray" in " ".join(p.cmdline()[:3]).lower():
                out.append(p)
        except psutil.Error:  # gone meanwhile
            pass
    return out


@pytest.fixture(scope="module")
def cluster():
    c = ray_cluster_utils.Cluster(initialize_head=True, head_node_args={**NODE, "include_dashboard": False})
    try:
        c.add_node(**NODE)
        c.wait_for_nodes()
        yield c
    finally:
        c.shutdown()
        deadline = time.monotonic() + 30
        while _ray_processes() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _ray_processes(), "Ray processes left after the cluster was shut down"


def test_two_policies_run_one_per_node_into_one_file(cluster, tmp_path):
    out = tmp_path / "r.json"
    results = api.run(
        ["act", "noop"],
        ray=cluster.address,
        profile="pusht",
        overrides=TINY_ACT,
        refills=2,
        warmup=1,
        max_seconds=20,
        device="cpu",
        isolate=False,
        json_path=str(out),
    )
    assert sorted((m.name, m.ok) for m in results) == [("act", True), ("noop", True)]  # in the order they finished
    nodes = {m.raw.machine["node"] for m in results}
    assert len(nodes) == 2  # submitted together, each needing the node's one "policybench": a node each
    for m in results:
        assert m.raw.machine["cpu_model"] and m.raw.machine["torch"]  # the node's own facts
        assert m.refill.count == 2
    stored = json.loads(out.read_text())
    assert sorted(r["policy"] for r in stored["results"]) == ["act", "noop"]


def test_sweep_of_four_points_over_two_nodes(cluster, tmp_path):
    out = tmp_path / "s.json"
    assert (
        main(
            [
                "sweep",
                "--policies",
                "noop",
                "--set",
                "noop.chunk_size=2,4,6,8",
                "--refills",
                "2",
                "--warmup",
                "1",
                "--device",
                "cpu",
                "--ray",
                cluster.address,
                "--json",
                str(out),
            ]
        )
        == 0
    )
    stored = json.loads(out.read_text())["results"]
    assert sorted(r["point"]["noop.chunk_size"] for r in stored) == ["2", "4", "6", "8"]
    assert all(r["status"] == "ok" for r in stored)
    assert all(r["summary"]["refill"]["count"] == 2 for r in stored)
    assert {r["machine"]["node"] for r in stored} <= {n["label"] for n in _nodes(cluster)}


def _nodes(cluster) -> list[dict]:
    from policybench.orchestrate.cluster import connected, measuring_nodes

    with connected(cluster.address) as ray:
        return [{"label": n.label, "id": n.node_id} for n in measuring_nodes(ray, cluster.address)]


def _kill_first_task_worker(killed: list[int], timeout: float = 120) -> None:
    """SIGKILL the first Ray worker seen running a measurement (Ray titles it ray::measure_on_node)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in psutil.process_iter(["pid", "cmdline"]):
            if "ray::measure_on_node" in " ".join(p.info["cmdline"] or []):
                os.kill(p.info["pid"], signal.SIGKILL)
                killed.append(p.info["pid"])
                return
        time.sleep(0.05)


def test_a_killed_task_is_a_failed_entry_and_the_other_node_survives(cluster, tmp_path, capsys):
    """--on all: the same noop run on both nodes, each in a child process (seconds to start);
    one node's worker is killed while it measures."""
    out = tmp_path / "k.json"
    killed: list[int] = []
    killer = threading.Thread(target=_kill_first_task_worker, args=(killed,), daemon=True)
    killer.start()
    code = main(
        [
            "run",
            "--policies",
            "noop",
            "--refills",
            "2",
            "--warmup",
            "1",
            "--device",
            "cpu",
            "--ray",
            cluster.address,
            "--on",
            "all",
            "--json",
            str(out),
        ]
    )
    killer.join()
    assert killed, "no measuring Ray worker was seen"
    assert code == 1
    stored = json.loads(out.read_text())["results"]
    statuses = sorted(r["status"] for r in stored)
    assert statuses == ["failed", "ok"]
    failed = next(r for r in stored if r["status"] == "failed")
    assert failed["error"].startswith("on node ") and "Worker" in failed["error"]
    assert {r["machine"]["node"] for r in stored} == {n["label"] for n in _nodes(cluster)}  # one entry per node
    assert "FLEET: 2 machines" in capsys.readouterr().out


def test_on_a_missing_node_lists_the_nodes(cluster, capsys):
    code = main(["run", "--policies", "noop", "--ray", cluster.address, "--on", "nowhere"])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert "--on nowhere: no node with the resource 'policybench' is called so; the nodes are: " in err
    assert all(n["label"] in err for n in _nodes(cluster))


def test_a_cluster_without_the_resource_says_how_to_add_it(capsys):
    c = ray_cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        code = main(["run", "--policies", "noop", "--ray", c.address])
    finally:
        c.shutdown()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "no node of the cluster has the resource 'policybench'" in err
    assert "ray start ... --resources='{\"policybench\": 1}'" in err
