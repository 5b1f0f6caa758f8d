"""The parent process orchestrates and children measure: a run's parent never loads torch or
LeRobot (the import contracts in pyproject.toml check the code; this checks a real run)."""

from __future__ import annotations

import json
import subprocess
import sys

PARENT = """
import json, sys
from policybench.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "torch": "torch" in sys.modules, "lerobot": "lerobot" in sys.modules}))
"""


def test_a_runs_parent_loads_neither_torch_nor_lerobot(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PARENT,
            "run",
            "--policies",
            "noop",
            "--profile",
            "pusht",
            "--refills",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {"code": 0, "torch": False, "lerobot": False}, proc.stderr
    written = json.loads(out.read_text())
    assert written["environment"]["torch"] and written["results"][0]["status"] == "ok"  # what the child knew


def test_a_live_realtime_runs_parent_loads_neither_either(tmp_path):
    out = tmp_path / "rt.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PARENT,
            "realtime",
            "--policies",
            "noop",
            "--profile",
            "pusht",
            "--ticks",
            "20",
            "--hz",
            "100",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {"code": 0, "torch": False, "lerobot": False}, proc.stderr
    assert [e["status"] for e in json.loads(out.read_text())["realtime"]] == ["ok", "ok"]


def test_importing_the_library_loads_no_torch():
    code = "import sys, policybench, policybench.cli; print('torch' in sys.modules or 'lerobot' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
