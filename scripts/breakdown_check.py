"""An independent check of `--breakdown`: each component's time measured by calling its module
or method directly, outside policybench's anatomy code, on the inputs it got in a real refill.

For each policy: one refill runs with the component's callables wrapped only to record their
arguments; then each recorded call is replayed on its own (perf_counter around it, no nesting
subtracted) and a refill's total per component is the sum over its calls, median of 5 replays.
Components that call another (SmolVLA's denoising step holds its action projection) are printed
whole: compare them with the sum of `--breakdown`'s rows.

    .venv/bin/python scripts/breakdown_check.py act diffusion smolvla
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

from policybench import policies
from policybench.observations import synthetic_observation
from policybench.policies.lerobot_policies import FAMILIES
from policybench.profiles import PROFILES

OVERRIDES = {"diffusion": {"num_inference_steps": 10}}


def recorded_calls(adapter, obs) -> dict[str, list[tuple[object, tuple, dict]]]:
    """Per component, (callable, args, kwargs) of each call made in one refill."""
    calls: dict[str, list[tuple[object, tuple, dict]]] = {}
    undo = []
    for component in FAMILIES[adapter.name].components:
        for owner, attr in component.targets(adapter.policy):
            original = getattr(owner, attr)

            def record(*args, _name=component.name, _call=original, **kwargs):
                calls.setdefault(_name, []).append((_call, args, kwargs))
                return _call(*args, **kwargs)

            setattr(owner, attr, record)
            undo.append((owner, attr))
    try:
        adapter.reset()
        adapter.select_action(obs)
    finally:
        for owner, attr in undo:
            delattr(owner, attr)  # the instance attribute goes: the class's method shows again
    return calls


def replayed_ms(calls: list[tuple[object, tuple, dict]], repeats: int = 5) -> float:
    totals = []
    with torch.no_grad():
        for _ in range(repeats):
            total = 0.0
            for call, args, kwargs in calls:
                start = time.perf_counter()
                call(*args, **kwargs)
                total += time.perf_counter() - start
            totals.append(total * 1000)
    return statistics.median(totals)


def main(names: list[str]) -> None:
    torch.manual_seed(0)
    for name in names:
        adapter = policies.build(name, PROFILES["so100"], OVERRIDES.get(name, {}), "cpu")
        obs = synthetic_observation(adapter.input_specs(), "cpu", extra=adapter.extra_inputs(PROFILES["so100"].task))
        adapter.reset()
        adapter.select_action(obs)  # warm: the first call allocates
        for component, calls in recorded_calls(adapter, obs).items():
            try:
                figure = f"{replayed_ms(calls):10.2f} ms per refill"
            except RuntimeError as exc:  # calls that share state (a KV cache filled by the first) replay only in order
                figure = f"not replayable on its own: {str(exc).splitlines()[0][:60]}"
            print(f"{name:10s} {component:22s} {len(calls):3d} calls  {figure}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["act", "diffusion", "smolvla"])
