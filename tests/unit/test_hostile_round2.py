"""Hostile inputs, second round (issue 29): an absurd flag, a checkpoint whose files are links,
FIFOs or devices or whose config declares absurd sizes, a lock file that is a link, a results
file without its run record, an address that is no Ray cluster, a bidi override in a name and a
--set of a field policybench sets itself. Each is refused with one line (or handled), fast, and
nothing outside the scratch folder changes. Nothing here builds a policy or starts many threads:
where a refusal is missing, the command is stopped before it would run."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from fakes import assert_one_error_line

import policybench.api
import policybench.cli
from policybench.cli import FLAGS, main
from policybench.errors import SettingsError, UsageError
from policybench.resultsfile import ResultsFile
from policybench.checkpoint_guard import CheckpointRefused, check_checkpoint, check_local_checkpoint
from policybench.profiles import PROFILES
from policybench.settings import MAX_LIVE_TICKS, MAX_THREADS, MIN_HZ, Override, RealtimeSettings, RunSettings

DATA = Path(__file__).resolve().parents[1] / "data"
STATE_FILE = "policy_preprocessor_step_0_normalizer_processor.safetensors"
PROCESSOR = {
    "name": "pre",
    "steps": [{"registry_name": "normalizer_processor", "config": {}, "state_file": STATE_FILE}],
}


@pytest.fixture
def no_run(monkeypatch):
    """A command that gets past its checks stops here instead of measuring (threads, ticks, builds)."""

    def reached(*args, **kwargs):
        raise AssertionError("the command was not refused: it went on to measure")

    monkeypatch.setattr(policybench.api, "run_context", reached)
    monkeypatch.setattr(policybench.cli, "_realtime_live", reached)


def said(exc: SettingsError) -> str:
    return exc.said_with(FLAGS)


# ----------------------------------------------------------------------------- 1. --threads


def test_threads_has_an_upper_bound_at_the_settings_and_the_command_line(no_run, capsys):
    with pytest.raises(SettingsError) as info:
        RunSettings(policies=["noop"], threads=100_000)
    assert said(info.value) == f"--threads must be at most {MAX_THREADS}, got 100000"
    RunSettings(policies=["noop"], threads=MAX_THREADS)  # the cap itself is accepted
    assert_one_error_line(
        capsys,
        main(["run", "--policies", "noop", "--profile", "pusht", "--threads", "100000", "--refills", "1"]),
        f"--threads must be at most {MAX_THREADS}, got 100000",
    )
    assert_one_error_line(
        capsys,
        main(["sweep", "--policies", "noop", "--threads", "1,100000"]),
        f"--threads values must be at most {MAX_THREADS}",
    )


# ----------------------------------------------------------------------------- checkpoint folders


def checkpoint(folder: Path, config: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config or {"type": "act", "chunk_size": 4}))
    (folder / "model.safetensors").write_bytes(b"")
    (folder / STATE_FILE).write_bytes(b"")
    (folder / "policy_preprocessor.json").write_text(json.dumps(PROCESSOR))
    return folder


def refused_fast(check, *args) -> str:
    """The message of ``check(*args)``'s CheckpointRefused, within 5 s; a check that blocks on
    a FIFO is released (a writer opened and closed) and fails the test."""
    outcome: dict[str, object] = {}

    def call():
        try:
            check(*args)
            outcome["error"] = "accepted"
        except CheckpointRefused as exc:
            outcome["message"] = str(exc)
        except BaseException as exc:  # noqa: BLE001 - reported below (MemoryError reading a device)
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():
        for fifo in [p for p in Path(args[0]).rglob("*") if p.is_fifo()]:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the blocked reader sees its end
        thread.join(5)
        pytest.fail("the check did not end within 5 s (blocked on a FIFO, or reading a device)")
    assert "error" not in outcome, outcome["error"]
    message = str(outcome["message"])
    assert "\n" not in message
    return message


def guard(folder: Path) -> None:
    check_checkpoint(folder, (), False)


# ----------------------------------------------------------------------------- 2. not regular files


def test_a_config_json_linked_to_a_device_is_refused_unread(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to("/dev/zero")
    for check in (guard, check_local_checkpoint):
        assert "config.json: a link to /dev/zero, outside the checkpoint folder" in refused_fast(check, folder)


def test_a_device_inside_the_folder_is_refused_as_a_device(tmp_path, monkeypatch):
    from policybench import checkpoint_guard

    folder = checkpoint(tmp_path / "ckpt")
    monkeypatch.setattr(checkpoint_guard, "_link_root", lambda root: Path("/"))  # as if /dev/zero were inside
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to("/dev/zero")
    assert refused_fast(guard, folder) == (
        "config.json: a device, not a regular file; a checkpoint holds regular files only"
    )


@pytest.mark.parametrize("name", ["config.json", "policy_preprocessor.json", "model.safetensors", STATE_FILE])
def test_a_fifo_in_the_checkpoint_is_refused_without_opening_it(tmp_path, name):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / name).unlink()
    os.mkfifo(folder / name)
    for check in (guard, check_local_checkpoint):
        assert refused_fast(check, folder).startswith(f"{name}: a FIFO, not a regular file")


def test_a_socket_or_a_folder_where_a_file_belongs_is_refused(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / "policy_preprocessor.json").unlink()
    (folder / "policy_preprocessor.json").mkdir()
    assert refused_fast(guard, folder).startswith("policy_preprocessor.json: a folder, not a regular file")
    (folder / "policy_preprocessor.json").rmdir()
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(folder / "policy_preprocessor.json"))
        assert refused_fast(guard, folder).startswith("policy_preprocessor.json: a socket, not a regular file")
    finally:
        sock.close()


def test_the_child_refuses_a_fifo_before_reading_the_config(tmp_path):
    from policybench.policies.checkpoint import CheckpointError, load_checkpoint

    folder = checkpoint(tmp_path / "ckpt")
    os.mkfifo(folder / "extra.json")
    with pytest.raises(CheckpointError, match="refused: extra.json: a FIFO, not a regular file"):
        load_checkpoint(str(folder), {}, "cpu")


def test_the_command_line_refuses_a_device_config_in_one_line(tmp_path, capsys, no_run):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to("/dev/zero")
    start = time.monotonic()
    line = assert_one_error_line(
        capsys,
        main(["run", "--policy-path", str(folder), "--refills", "1"]),
        f"--policy-path {folder}: refused: config.json: a link to /dev/zero",
    )
    assert "outside the checkpoint folder" in line and time.monotonic() - start < 10


def test_a_config_past_the_size_limit_is_refused_on_the_bytes_read(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / "config.json").write_text(json.dumps({"type": "act", "pad": "x" * (16 * 2**20)}))
    assert refused_fast(guard, folder) == "config.json: larger than 16 MB: not a LeRobot checkpoint file"


# ----------------------------------------------------------------------------- 3. the lock file


def test_the_results_lock_is_never_written_through_a_symbolic_link(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / ".r.json.lock").symlink_to(victim)
    with pytest.raises(UsageError, match="the results file's lock is a symbolic link; remove it"):
        ResultsFile(str(tmp_path / "dl" / "r.json"))
    assert victim.read_text() == "precious"


def test_the_results_lock_is_never_a_hard_link_or_a_fifo(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.link(victim, tmp_path / ".r.json.lock")
    with pytest.raises(UsageError, match=r"the results file's lock has 2 names \(a hard link\)"):
        ResultsFile(str(tmp_path / "r.json"))
    assert victim.read_text() == "precious"
    os.mkfifo(tmp_path / ".s.json.lock")
    with pytest.raises(UsageError, match="the results file's lock is not a regular file"):
        ResultsFile(str(tmp_path / "s.json"))


def test_the_lock_still_works_and_is_removed(tmp_path):
    with ResultsFile(str(tmp_path / "r.json")):
        assert json.loads((tmp_path / ".r.json.lock").read_text()) == {"pid": os.getpid()}
        with pytest.raises(UsageError, match="another policybench run"):
            ResultsFile(str(tmp_path / "r.json"))
    assert not (tmp_path / ".r.json.lock").exists()


# ----------------------------------------------------------------------------- 4. declared sizes


def _features(cameras: int = 1, side: int = 96, state: int = 2) -> dict:
    visual = {f"observation.images.c{i}": {"type": "VISUAL", "shape": [3, side, side]} for i in range(cameras)}
    return {
        "input_features": {**visual, "observation.state": {"type": "STATE", "shape": [state]}},
        "output_features": {"action": {"type": "ACTION", "shape": [2]}},
    }


@pytest.mark.parametrize(
    "config, fragment",
    [
        (
            _features(side=9000),
            "input_features.observation.images.c0.shape 3x9000x9000: a camera is CHANNELSxHEIGHTxWIDTH "
            "with at most 4 channels and sides of at most 8192 pixels, as --image-size",
        ),
        (_features(cameras=65), "65 cameras (visual input_features and empty_cameras): at most 64, as --cameras"),
        ({**_features(), "chunk_size": 20_000}, "chunk_size=20000: at most 10,000, as --set"),
        ({**_features(), "n_action_steps": 20_000}, "n_action_steps=20000: at most 10,000"),
        (_features(state=3_000_000_000), "input_features.observation.state.shape 3000000000: at most 10,000 numbers"),
        ({**_features(), "empty_cameras": 100}, "101 cameras"),
        (
            {"input_features": {"x": {"type": "STATE", "shape": [-1]}}},
            "input_features.x.shape must be a list of at most 4 positive whole numbers, got [-1]",
        ),
    ],
)
def test_sizes_a_checkpoint_declares_get_the_command_lines_limits(tmp_path, config, fragment):
    folder = checkpoint(tmp_path / "ckpt", {"type": "act", **config})
    for check in (guard, check_local_checkpoint):
        message = refused_fast(check, folder)
        assert message.startswith("config.json: ") and fragment in message


def test_a_checkpoint_within_the_limits_passes(tmp_path):
    folder = checkpoint(tmp_path / "ckpt", {"type": "act", **_features(cameras=4, side=480), "chunk_size": 100})
    guard(folder)
    check_local_checkpoint(str(folder))


def test_the_command_line_refuses_a_checkpoints_oversize_image_before_building(tmp_path, capsys, no_run):
    folder = checkpoint(tmp_path / "ckpt", {"type": "act", **_features(side=9000)})
    assert_one_error_line(
        capsys,
        main(["run", "--policy-path", str(folder)]),
        f"--policy-path {folder}: refused: config.json: input_features.observation.images.c0.shape",
    )


def test_state_and_action_dims_have_an_upper_bound(capsys, no_run):
    assert_one_error_line(
        capsys,
        main(["run", "--policies", "noop", "--state-dim", "3000000000"]),
        "--state-dim must be from 1 to 10,000, got 3000000000",
    )
    assert_one_error_line(
        capsys,
        main(["run", "--policies", "noop", "--action-dim", "10001"]),
        "--action-dim must be from 1 to 10,000, got 10001",
    )


# ----------------------------------------------------------------------------- 5. links out of the folder


@pytest.mark.parametrize("name", ["model.safetensors", "policy_preprocessor.json", STATE_FILE])
def test_a_link_that_leads_out_of_the_checkpoint_is_refused(tmp_path, name):
    elsewhere = tmp_path / "elsewhere" / name
    elsewhere.parent.mkdir()
    elsewhere.write_bytes((checkpoint(tmp_path / "source") / name).read_bytes())
    folder = checkpoint(tmp_path / "ckpt")
    (folder / name).unlink()
    (folder / name).symlink_to(elsewhere)
    for check in (guard, check_local_checkpoint):
        assert refused_fast(check, folder) == (
            f"{name}: a link to {elsewhere}, outside the checkpoint folder; a checkpoint may only hold its own files"
        )


def test_a_link_that_stays_inside_the_checkpoint_is_fine(tmp_path):
    folder = checkpoint(tmp_path / "ckpt")
    (folder / "weights").mkdir()
    (folder / "model.safetensors").rename(folder / "weights" / "model.safetensors")
    (folder / "model.safetensors").symlink_to("weights/model.safetensors")
    guard(folder)


def test_a_hub_cache_snapshot_may_link_to_its_own_blobs(tmp_path):
    repo = tmp_path / "hub" / "models--someone--policy"
    source = checkpoint(tmp_path / "source")
    snapshot = repo / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir()
    for n, path in enumerate(sorted(source.iterdir())):
        (repo / "blobs" / f"blob{n}").write_bytes(path.read_bytes())
        (snapshot / path.name).symlink_to(f"../../blobs/blob{n}")
    guard(snapshot)


# ----------------------------------------------------------------------------- 6. a run record that is null


def test_report_of_two_files_one_without_its_run_record(tmp_path, capsys):
    base = json.loads((DATA / "small_results.json").read_text())
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "run_null.json").write_text(json.dumps({**base, "run": None}))
    code = main(["report", str(tmp_path / "base.json"), str(tmp_path / "run_null.json")])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    assert "cameras 0 on machine 1; not recorded on machine 2" in out


# ----------------------------------------------------------------------------- 7. --ray at no Ray cluster


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_ray_at_a_plain_http_server_is_one_line_within_seconds_naming_the_address_given(capsys, host):
    pytest.importorskip("ray", reason="Ray is not installed (the cluster extra)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)  # loopback only
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"{host}:{server.server_address[1]}"
    try:
        start = time.monotonic()
        line = assert_one_error_line(
            capsys,
            main(["run", "--policies", "noop", "--ray", address]),
            f"--ray {address}: {address} answers, but not as a Ray cluster",
        )
        assert time.monotonic() - start < 10
        assert "ray start --head" in line
    finally:
        server.shutdown()
        server.server_close()


def test_a_grpc_server_passes_the_probe():
    grpc = pytest.importorskip("grpc", reason="grpcio comes with Ray (the cluster extra)")
    from concurrent import futures

    from policybench.orchestrate.cluster import not_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
            assert not_grpc(sock, 3) is None
    finally:
        server.stop(0)


def test_a_server_that_says_nothing_is_not_waited_on():
    from policybench.orchestrate.cluster import not_grpc

    listener = socket.create_server(("127.0.0.1", 0))
    try:
        with socket.create_connection(listener.getsockname(), timeout=1) as sock:
            start = time.monotonic()
            assert not_grpc(sock, 0.5) == "it sent nothing back within 0.5 s"
            assert time.monotonic() - start < 3
    finally:
        listener.close()


# ----------------------------------------------------------------------------- 8. realtime sizes


def _live(**kwargs) -> RealtimeSettings:
    return RealtimeSettings(run=RunSettings(policies=["noop"], profile=PROFILES["pusht"]), **kwargs)


def test_a_live_realtime_run_has_at_most_a_million_ticks():
    with pytest.raises(SettingsError) as info:
        _live(hz=(10_000,), seconds=100_000_000)
    assert said(info.value) == (
        f"a live run has at most {MAX_LIVE_TICKS:,} ticks per mode; --seconds 1e+08 at "
        "--hz 10000 is 1,000,000,000,000: lower either"
    )
    with pytest.raises(SettingsError, match="at most 1,000,000 ticks per mode; seconds 1e\\+308"):
        _live(hz=(10_000,), seconds=1e308)  # no integer: counted as a float
    with pytest.raises(SettingsError, match="ticks must be at most 1,000,000 for a live run, got 1,000,001"):
        _live(ticks=MAX_LIVE_TICKS + 1)
    _live(hz=(10_000,), seconds=100)  # exactly the limit
    RealtimeSettings(hz=(10_000,), seconds=100_000_000)  # a replay (--simulate) has its own limit


def test_a_rate_below_the_floor_is_refused():
    with pytest.raises(SettingsError) as info:
        RealtimeSettings(hz=(1e-7,))
    assert said(info.value) == f"--hz must be at least {MIN_HZ:g} (a period of 100 s), got 1e-07"
    RealtimeSettings(hz=(MIN_HZ,))


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["--hz", "10000", "--seconds", "100000000"],
            "a live run has at most 1,000,000 ticks per mode; --seconds 1e+08",
        ),
        (["--hz", "0.0000001"], "--hz must be at least 0.01"),
    ],
)
def test_realtime_sizes_on_the_command_line_are_one_line(capsys, no_run, argv, expected):
    assert_one_error_line(capsys, main(["realtime", "--policies", "noop", *argv]), expected)


# ----------------------------------------------------------------------------- 9. format characters, --set device


def _bidi_file(tmp_path) -> Path:
    data = json.loads((DATA / "small_results.json").read_text())
    data["results"][0]["policy"] = "act\u202e\u200bevil"
    path = tmp_path / "bidi.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("fmt", ["table", "md", "csv"])
def test_format_characters_in_names_are_shown_escaped(tmp_path, capsys, fmt):
    assert main(["report", str(_bidi_file(tmp_path)), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\u200b" not in out
    assert "act\\u202e\\u200bevil" in out


@pytest.mark.parametrize("fmt", ["md", "csv"])
def test_format_characters_are_escaped_in_files_too(tmp_path, capsys, fmt):
    out = tmp_path / f"out.{fmt}"
    assert main(["report", str(_bidi_file(tmp_path)), "--format", fmt, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "\u202e" not in text and "act\\u202e\\u200bevil" in text


def test_every_format_character_is_escaped():
    import sys
    import unicodedata

    from policybench.terminal import terminal_safe

    cf = "".join(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")
    shown = terminal_safe(cf)
    assert all(unicodedata.category(c) != "Cf" for c in shown)
    assert terminal_safe("é 名前 🤖 ± ✓") == "é 名前 🤖 ± ✓"  # other characters as they are


@pytest.mark.parametrize("field, flag", [("device", "--device"), ("input_features", "--profile")])
def test_a_set_of_a_field_policybench_sets_itself_names_the_flag(capsys, no_run, field, flag):
    with pytest.raises(SettingsError) as info:
        RunSettings(policies=["act"], overrides=[Override("act", field, "cuda")])
    assert said(info.value) == f"--set act.{field}: policybench sets {field} itself; use {flag} instead"
    assert_one_error_line(
        capsys,
        main(["run", "--policies", "act", "--set", f"act.{field}=cuda"]),
        f"--set act.{field}: policybench sets {field} itself; use {flag} instead",
    )


def test_a_results_file_that_is_a_fifo_without_a_writer_does_not_block(tmp_path, capsys):
    os.mkfifo(tmp_path / "r.json")
    outcome: dict[str, int] = {}
    thread = threading.Thread(
        target=lambda: outcome.update(code=main(["report", str(tmp_path / "r.json")])), daemon=True
    )
    thread.start()
    thread.join(10)
    if thread.is_alive():
        os.close(os.open(tmp_path / "r.json", os.O_WRONLY | os.O_NONBLOCK))  # the blocked reader sees its end
        thread.join(5)
        pytest.fail("report blocked on a FIFO")
    assert_one_error_line(capsys, outcome["code"], f"{tmp_path / 'r.json'}: not a JSON results file")
