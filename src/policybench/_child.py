"""The child process of isolation.py: measure one policy, report on the pipe the parent gave.

Reads {"name", "cfg", "device"} as JSON on stdin; writes JSON lines to the file descriptor in
$POLICYBENCH_CHILD_FD. Not a command for users.
"""

from __future__ import annotations

import json
import os
import sys
import warnings


def main() -> int:
    payload = json.loads(sys.stdin.read())
    out = os.fdopen(int(os.environ["POLICYBENCH_CHILD_FD"]), "w", buffering=1)

    def send(kind: str, **fields) -> None:
        out.write(json.dumps({"kind": kind, **fields}) + "\n")

    warnings.filterwarnings("ignore")  # this process is ours alone: LeRobot's and torch's chatter
    import logging

    logging.getLogger().setLevel(logging.ERROR)

    from policybench.clock import clock_for
    from policybench.config import RunConfig
    from policybench.runner import measure_policy

    cfg = RunConfig.from_json(payload["cfg"])
    if cfg.threads is not None:
        import torch

        torch.set_num_threads(cfg.threads)
    device = payload["device"]
    results = measure_policy(
        payload["name"], cfg, device, clock_for(device),
        log=lambda text: send("log", text=text),
        warn=lambda text: send("warn", text=text),
        progress=lambda name, done, target: send("progress", done=done, target=target),
    )
    send("results", results=[r.to_json() for r in results])
    return 0


if __name__ == "__main__":
    sys.exit(main())
