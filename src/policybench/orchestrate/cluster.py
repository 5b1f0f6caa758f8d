"""Runs spread over a Ray cluster (``--ray``, ``--on``): the only module that imports Ray.

Each policy (each sweep point) is one Ray task that needs the node resource ``policybench``,
which the user gives each node that may measure (``ray start ... --resources='{"policybench": 1}'``):
a node holds one such task at a time, so two measurements never share a machine. The node
measures with the normal machinery (api.measure: child processes, machine facts) and sends its
results back; they stream into the one results file as tasks finish, each result carrying the
node's name and its own environment (``PolicyResult.machine``). A task whose worker or node dies
becomes a failed result naming the cause; Ctrl-C cancels the tasks still running and keeps what
finished. Ray is an optional extra (``pip install -e ".[cluster]"``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from policybench.errors import UsageError, describe_error
from policybench.results import FAILED, INTERRUPTED, PolicyResult, RunResults
from policybench.settings import RunSettings, SweepSettings

RESOURCE = "policybench"
EXTRA = 'pip install -e ".[cluster]"'
CONNECT_TIMEOUT_S = 3.0  # an address that does not answer in this long is said to, not waited on
START_HEAD = f"ray start --head --resources='{{\"{RESOURCE}\": 1}}'"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Node:
    """A cluster node that may measure (it holds the resource): its name in results, its Ray id."""

    label: str
    node_id: str


@dataclass(frozen=True)
class Job:
    """One Ray task: the settings of what it measures (one policy, or a sweep point's policies),
    the node it must run on (``--on``; None: any node with the resource), its sweep point as shown."""

    cfg: RunSettings
    node: Node | None = None
    point: dict[str, str] = dataclasses.field(default_factory=dict)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray needs Ray, which policybench's 'cluster' extra installs: {EXTRA}") from None
    return ray


def bootstrap_address(ray: Any, address: str) -> str:
    """host:port of the cluster ``address`` names ("auto": the one ``ray start`` started here),
    checked to answer within CONNECT_TIMEOUT_S (ray.init itself retries for a minute)."""
    from ray._private.services import canonicalize_bootstrap_address_or_die  # the "auto" lookup ray.init does

    if address.startswith("ray://"):
        target = address
    else:
        try:
            target = canonicalize_bootstrap_address_or_die(address)
        except (ConnectionError, ValueError) as exc:
            raise UsageError(
                f"--ray {address}: no Ray cluster found ({_first_line(exc)}); start one with {START_HEAD}"
            ) from None
    # The address as given, not as Ray rewrites it (127.0.0.1 becomes this machine's network address).
    host, _, port = (target if address == "auto" else address).removeprefix("ray://").rpartition(":")
    try:
        sock = socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"--ray {address}: no Ray cluster answers at {host}:{port} within {CONNECT_TIMEOUT_S:g} s "
            f"({getattr(exc, 'strerror', None) or exc}); start one with {START_HEAD}"
        ) from None
    with sock:
        other = not_grpc(sock, CONNECT_TIMEOUT_S)
    if other:
        raise UsageError(
            f"--ray {address}: {host}:{port} answers, but not as a Ray cluster ({other}); "
            f"give the address `ray start --head` printed, or start one with {START_HEAD}"
        )
    return target


# HTTP/2's client preface and an empty SETTINGS frame: a gRPC server (Ray's GCS, its client
# server) answers with a SETTINGS frame of its own; anything else (an HTTP/1 server, a database)
# answers otherwise or not at all, where ray.init would retry for minutes.
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def not_grpc(sock: socket.socket, timeout: float) -> str | None:
    """None when the server on ``sock`` answers HTTP/2's preface with a SETTINGS frame, as a
    gRPC server does, within ``timeout`` seconds; otherwise what it did instead, in words."""
    head = b""
    try:
        sock.settimeout(timeout)
        sock.sendall(_HTTP2_PREFACE)
        while len(head) < 9 and (chunk := sock.recv(9 - len(head))):
            head += chunk
    except TimeoutError:
        return f"it sent nothing back within {timeout:g} s" if not head else "it stopped answering"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if len(head) == 9 and head[3] == 0x04 and head[5:9] == bytes(4):  # a SETTINGS frame on stream 0
        return None
    if not head:
        return "it closed the connection"
    if head.startswith(b"HTTP/"):
        return "it speaks HTTP/1, not gRPC"
    return "it answered, but not in gRPC's HTTP/2"


@contextmanager
def connected(address: str) -> Iterator[Any]:
    """Ray connected to the cluster at ``address`` (this process a driver of it) while inside."""
    ray = import_ray()
    target = bootstrap_address(ray, address)
    try:
        with _retries(CONNECT_TIMEOUT_S), _stderr_dropped():  # Ray's C++ client logs each retry there
            ray.init(address=target, logging_level=logging.ERROR, log_to_driver=False)
    except (ConnectionError, RuntimeError) as exc:
        raise UsageError(f"--ray {address}: {target} answers, but not as a Ray cluster ({_first_line(exc)})") from None
    try:
        yield ray
    finally:
        ray.shutdown()


@contextmanager
def _retries(seconds: float) -> Iterator[None]:
    """ray.init tries to reach the cluster about once a second for this long (20 s by default)."""
    key = "RAY_gcs_server_port_wait_time_s"
    before = os.environ.get(key)
    os.environ[key] = str(max(1, round(seconds)))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


@contextmanager
def _stderr_dropped() -> Iterator[None]:
    """File descriptor 2 sent to a temporary file while inside, then restored (its text dropped:
    what went wrong is raised)."""
    import sys
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def measuring_nodes(ray: Any, address: str) -> list[Node]:
    """The live nodes that hold the resource, named by their node name (told apart by their id
    where two share one, as nodes on one machine do)."""
    alive = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get(RESOURCE, 0) >= 1]
    if not alive:
        raise UsageError(
            f"--ray {address}: no node of the cluster has the resource '{RESOURCE}' that holds a node "
            f"while it measures: start each node that may measure with "
            f"ray start ... --resources='{{\"{RESOURCE}\": 1}}'"
        )
    names = [str(n.get("NodeName") or n.get("NodeManagerAddress")) for n in alive]
    return [
        Node(name if names.count(name) == 1 else f"{name}:{n['NodeID'][:8]}", n["NodeID"])
        for name, n in zip(names, alive)
    ]


def chosen_nodes(nodes: list[Node], on: list[str]) -> list[Node | None]:
    """The nodes ``--on`` names (a label, or a node id or its start; "all": every one); [None]
    (any node) without --on."""
    if not on:
        return [None]
    if on == ["all"]:
        return list(nodes)
    out: list[Node | None] = []
    for name in on:
        found = [n for n in nodes if name in (n.label, n.node_id) or (len(name) >= 8 and n.node_id.startswith(name))]
        if len(found) != 1:
            listed = ", ".join(n.label for n in nodes)
            raise UsageError(
                f"--on {name}: {'no' if not found else 'more than one'} node with the resource "
                f"'{RESOURCE}' is called so; the nodes are: {listed} (or all)"
            )
        out += found
    return out


# ----------------------------------------------------------------------------- on the node


Work = Callable[..., RunResults]  # work(cfg, isolate=...): what a node runs (api.measure), handed down


def measure_on_node(cfg: RunSettings, isolate: bool, work: Work) -> tuple[str, RunResults]:
    """A Ray task's body, run on a node: ``cfg``'s policies measured by ``work`` as ``policybench
    run`` measures them there (no results file: the caller writes it); the node's Ray id beside."""
    import ray

    ray_threads = os.environ.get("OMP_NUM_THREADS")
    if cfg.threads is None:  # Ray sets OMP_NUM_THREADS=1 for its workers: torch then picks its own default
        os.environ.pop("OMP_NUM_THREADS", None)
    try:
        return ray.get_runtime_context().get_node_id(), work(cfg, isolate=isolate)
    finally:  # the worker is Ray's, and may run other tasks after this one
        if ray_threads is not None:
            os.environ["OMP_NUM_THREADS"] = ray_threads


# ----------------------------------------------------------------------------- the caller


def run_jobs(
    cfg: RunSettings,
    record: dict[str, object],
    jobs: Callable[[list[Node | None]], list[Job]],
    isolate: bool,
    log: Log,
    work: Work,
) -> RunResults:
    """Connect to ``cfg.ray``, send ``jobs(targets)`` as tasks, and stream their results into
    one RunResults (``record`` its run settings) and ``cfg.json_path`` as each finishes."""
    from policybench.resultsfile import ResultsFile

    with ResultsFile(cfg.json_path, log) as out, connected(cfg.ray or "auto") as ray:
        nodes = measuring_nodes(ray, cfg.ray or "auto")
        targets = chosen_nodes(nodes, cfg.on)
        tasks = jobs(targets)
        labels = {n.node_id: n.label for n in nodes}
        record = {**record, "cluster": {"address": cfg.ray, "on": [n.label for n in targets if n is not None]}}
        log(f"policybench: {len(tasks)} tasks on the Ray cluster at {cfg.ray}, {len(nodes)} nodes with '{RESOURCE}'")
        remote = ray.remote(num_cpus=0, resources={RESOURCE: 1}, max_retries=0)(measure_on_node)
        results = RunResults({}, record)
        _stream(ray, remote, tasks, labels, isolate, results, out, log, work)
    return results


def _submit(ray: Any, remote: Any, job: Job, isolate: bool, work: Work | None) -> Any:
    if job.node is None:
        return remote.remote(job.cfg, isolate, work)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    strategy = NodeAffinitySchedulingStrategy(job.node.node_id, soft=False)
    return remote.options(scheduling_strategy=strategy).remote(job.cfg, isolate, work)


def _stream(
    ray: Any,
    remote: Any,
    tasks: list[Job],
    labels: dict[str, str],
    isolate: bool,
    results: RunResults,
    out: Any,
    log: Log,
    work: Work | None = None,
) -> None:
    """Each finished task's results appended and saved; on Ctrl-C the running tasks cancelled
    and marked interrupted, what finished kept and saved, and Interrupted raised."""
    from policybench.interrupt import Interrupted

    pending = {_submit(ray, remote, job, isolate, work): job for job in tasks}
    try:
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ref)
            finished = _finished(ray, ref, job, labels)
            results.environment = results.environment or {k: v for k, v in finished[0].machine.items() if k != "node"}
            results.results.extend(finished)
            log(f"{_where(job)}: {', '.join(f'{r.name} {r.status}' for r in finished)}")
            out.save(results)
    except KeyboardInterrupt as exc:
        for ref in pending:
            ray.cancel(ref, force=True)
        stop = Interrupted.wrap(exc, results)
        results.results.extend(
            PolicyResult(policy=n, status=INTERRUPTED, error=str(stop), point=job.point)
            for job in pending.values()
            for n in job.cfg.policies
        )
        out.save(results)
        raise stop from None


def _finished(ray: Any, ref: Any, job: Job, labels: dict[str, str]) -> list[PolicyResult]:
    """The task's results, each stamped with its node's name and facts and its sweep point; a
    failed result per policy, naming the cause, when the task died or raised."""
    try:
        node_id, measured = ray.get(ref)
    except ray.exceptions.RayError as exc:
        cause = getattr(exc, "cause", None)  # RayTaskError: what the task raised
        why = describe_error(cause) if isinstance(cause, BaseException) else f"{type(exc).__name__}: {_first_line(exc)}"
        machine: dict[str, object] = {"node": job.node.label} if job.node else {}  # its facts died with it
        return [
            PolicyResult(policy=n, status=FAILED, error=f"on {_where(job)}: {why}", point=job.point, machine=machine)
            for n in job.cfg.policies
        ]
    node = labels.get(node_id, node_id)
    machine = {"node": node, **measured.environment}
    return [dataclasses.replace(r, machine=machine, point=job.point or r.point) for r in measured.results]


def _where(job: Job) -> str:
    return f"node {job.node.label}" if job.node else "the cluster"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


# ----------------------------------------------------------------------------- run and sweep


def on_node(cfg: RunSettings, names: list[str]) -> RunSettings:
    """``cfg`` for a task measuring ``names`` on a node: their overrides, no file, no cluster."""
    return dataclasses.replace(
        cfg,
        policies=names,
        baseline=None,
        json_path=None,
        ray=None,
        on=[],
        overrides=[o for o in cfg.overrides if o.policy in names],
    )


def measure_on_cluster(cfg: RunSettings, work: Work, *, log: Log | None = None, isolate: bool = True) -> RunResults:
    """``policybench run --ray``: each policy one task (on each ``--on`` node), measured there by
    ``work`` (its names and ``--set`` values checked by the caller)."""

    def jobs(targets: list[Node | None]) -> list[Job]:
        return [Job(on_node(cfg, [name]), node) for node in targets for name in cfg.policies]

    return run_jobs(cfg, cfg.record(), jobs, isolate, log or (lambda line: None), work)


def sweep_on_cluster(
    settings: SweepSettings, work: Work, *, log: Log | None = None, isolate: bool = True
) -> RunResults:
    """``policybench sweep --ray``: each point of the grid one task (on each ``--on`` node)."""
    from policybench.scaling.axes import applies, grid, point_config, shown_point

    cfg, axes = settings.run, list(settings.axes)
    points = [(p, point_config(cfg, p)) for p in grid(axes)]  # structural mistakes stop the sweep before it starts

    def jobs(targets: list[Node | None]) -> list[Job]:
        return [
            Job(on_node(point_cfg, names), node, shown_point(p, axes))
            for node in targets
            for p, point_cfg in points
            if (names := [n for n in cfg.policies if applies(n, p)])
        ]

    sweep: dict[str, object] = {
        "axes": [a.record() for a in axes],
        **({"hz": settings.hz} if settings.hz is not None else {}),
    }
    return run_jobs(cfg, {**cfg.record(), "sweep": sweep}, jobs, isolate, log or (lambda line: None), work)
