#!/usr/bin/env python
"""Harness overhead: the noop policy's step latency, i.e. what policybench itself adds per call.

A benchmark script, not a test: its output goes into the README with the machine named.
Target: noop step median <= 5 us on the project's 2-core CPU.
"""

from __future__ import annotations

import argparse
import sys

from policybench.measure.device import clock_for
from policybench.settings import PROFILES
from policybench.measure.device import describe_environment
from policybench.measure.loop import run_steady_state
from policybench.observations import synthetic_observation
from policybench.policies import build
from policybench.samples import STEP, latencies
from policybench.stats import summarize

TARGET_US = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--refills", type=int, default=2000, help="refill cycles of 50 calls (default 2000)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    policy = build("noop", PROFILES["so100"], {}, args.device)
    obs = synthetic_observation(policy.input_specs(), args.device)
    loop = run_steady_state(policy, obs, clock_for(args.device), refills=args.refills, warmup=2, max_seconds=120)
    s = summarize(latencies(loop.samples, STEP))
    env = describe_environment(args.device)
    print(f"machine: {env['device_name']}, {env['cpu_count']} cores, python {env['python']}, torch {env['torch']}")
    print(
        f"noop step over {s['count']} calls: median {s['median_ms'] * 1e3:.2f} us, "
        f"p99 {s['p99_ms'] * 1e3:.2f} us, mean {s['mean_ms'] * 1e3:.2f} us"
    )
    ok = s["median_ms"] * 1e3 <= TARGET_US
    print(f"target median <= {TARGET_US:g} us: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
