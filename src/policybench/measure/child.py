"""The child process's entry point: ``python -m policybench.measure.child`` reads a job as JSON
on stdin ({"job", ...}), runs it (measure/jobs.py), and writes child_process.Message lines to
the file descriptor in $POLICYBENCH_CHILD_FD: its log and progress as they happen, then RESULTS,
or USAGE_ERROR for the user's mistake."""

from __future__ import annotations

import json
import os
import sys

from policybench.child_process import CHILD_FD_ENV, Message, open_channel
from policybench.errors import UsageError
from policybench.interrupt import Interrupted


def child_main() -> int:
    payload = json.loads(sys.stdin.read())
    send = open_channel(int(os.environ[CHILD_FD_ENV]))
    from policybench.measure.jobs import run_job, said

    try:
        answer = run_job(payload.pop("job"), payload, send)
    except UsageError as exc:
        send(Message.USAGE_ERROR, **said(exc))
        return 2
    except Interrupted as stop:  # stopped by the parent (SIGTERM) or Ctrl-C: what the job measured, if it kept any
        if isinstance(stop.partial, dict):
            send(Message.RESULTS, **stop.partial)
        return stop.exit_code
    send(Message.RESULTS, **answer)
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
