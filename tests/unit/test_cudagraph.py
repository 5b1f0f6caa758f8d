"""The cudagraph variant's bookkeeping, on the CPU: a fake capture stands in for torch.cuda.graph.

The fake records the refill once (its outputs become the "static" tensors) and, at each replay,
recomputes the refill from the static input buffers and writes the result into those same
tensors, as a CUDA graph replay does. What is tested is CudaGraphPolicy's part: the observation
copied into the static buffers, the queue restored after each replay, steps popped eagerly.
"""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest
import torch

from policybench.clock import Clock
from policybench.measure.loop import run_steady_state
from policybench.policies.lerobot_policies import FAMILIES, LeRobotPolicy
from policybench.variants import VARIANTS
from policybench.variants.cudagraph import CudaGraphPolicy

N = 4  # actions per chunk


class TinyChunkPolicy(torch.nn.Module):
    """LeRobot-shaped: a chunk of N actions from a linear map of the observation, an _action_queue."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(2, 2 * N)
        self.config = SimpleNamespace(n_action_steps=N, temporal_ensemble_coeff=None)
        self.refills = 0
        self.reset()

    def reset(self):
        self._action_queue = deque(maxlen=N)

    def select_action(self, batch):
        if not self._action_queue:
            self.refills += 1
            chunk = self.lin(batch["x"]).view(1, N, 2)
            self._action_queue.extend(chunk.transpose(0, 1))
        return self._action_queue.popleft()


def _fake_capture(adapter):
    captures = []

    def capture(fn, device, default_device):
        static_first = fn()
        static_rest = adapter.queue_contents()
        captures.append(device)

        def replay():
            fresh = fn()
            with torch.inference_mode():  # the outputs are inference tensors, as LeRobot's are
                static_first.copy_(fresh)
                for old, new in zip(static_rest, adapter.queue_contents()):
                    old.copy_(new)

        return replay

    return capture, captures


def _wrapped():
    policy = TinyChunkPolicy()
    adapter = LeRobotPolicy(FAMILIES["act"], policy, [])
    capture, captures = _fake_capture(adapter)
    return policy, adapter, CudaGraphPolicy(adapter, VARIANTS["cudagraph"], "cuda", capture=capture), captures


def _eager_chunk(policy, x):
    with torch.inference_mode():
        return policy.lin(x).view(N, 2)


def test_each_refill_replays_on_the_new_observation_and_refills_the_queue():
    policy, _, graph, captures = _wrapped()
    for value in (1.0, -2.0, 3.5):  # a new observation at each refill
        x = torch.full((1, 2), value)
        actions = [graph.select_action({"x": x}) for _ in range(N)]
        assert graph.queued_actions() == 0
        assert torch.allclose(torch.cat(actions), _eager_chunk(policy, x))
    assert captures == ["cuda"]  # captured once, at the first refill


def test_steps_pop_eagerly_and_refill_spacing_is_the_chunk():
    policy, _, graph, _ = _wrapped()
    graph.reset()
    x = torch.ones(1, 2)
    loop = run_steady_state(
        graph, {"x": x}, Clock(now=iter(range(10**6)).__next__), refills=3, warmup=1, max_seconds=60.0
    )
    refills = [s.i for s in loop.samples if s.phase == "refill"]
    assert len(refills) == 3 and {b - a for a, b in zip(refills, refills[1:])} == {N}
    assert all(s.phase == "step" for s in loop.samples if s.i not in refills)


def test_capture_keeps_the_rng_state_so_sampling_noise_matches_eager():
    _, _, graph, _ = _wrapped()
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    graph.select_action({"x": torch.ones(1, 2)})  # captures: the fake runs the refill twice
    assert torch.equal(torch.rand(3), expected)


def test_exit_frees_the_graph_and_the_next_refill_captures_again():
    _, _, graph, captures = _wrapped()
    with graph:
        graph.select_action({"x": torch.ones(1, 2)})
    graph.reset()
    graph.select_action({"x": torch.ones(1, 2)})
    assert len(captures) == 2


def test_a_failed_capture_is_a_skip_that_names_the_error():
    from policybench.variants.cudagraph import CaptureFailed

    policy = TinyChunkPolicy()
    adapter = LeRobotPolicy(FAMILIES["act"], policy, [])

    def capture(fn, device, default_device):
        raise RuntimeError("operation not permitted when stream is capturing\nmore")

    graph = CudaGraphPolicy(adapter, VARIANTS["cudagraph"], "cuda", capture=capture)
    with pytest.raises(
        CaptureFailed, match="^capture failed: RuntimeError: operation not permitted when stream is capturing$"
    ):
        graph.select_action({"x": torch.ones(1, 2)})


def test_the_queue_is_found_on_the_built_policy_action_queue_first():
    from policybench.policies.lerobot_policies import find_queue

    real, unused = deque([1]), deque()
    both = SimpleNamespace(config=SimpleNamespace(), _action_queue=real, _queues={"action": unused})
    assert find_queue(both) is real  # pi0/pi05/pi0_fast: _queues["action"] is always empty
    assert find_queue(SimpleNamespace(config=None, _queues={"action": unused})) is unused
    assert find_queue(SimpleNamespace(config=None)) is None  # no queue: every call computes
    ensembling = SimpleNamespace(config=SimpleNamespace(temporal_ensemble_coeff=0.01), _action_queue=real)
    assert find_queue(ensembling) is None


def test_pi0_pipeline_offline_says_it_needs_the_hub(monkeypatch):
    from policybench.policies import with_pipeline

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    adapter = LeRobotPolicy(FAMILIES["pi0"], TinyChunkPolicy(), [])
    with pytest.raises(
        RuntimeError, match="^--pipeline needs the PaliGemma tokenizer .* add --hub, or use --policy-path"
    ):
        with_pipeline(adapter, None, "cpu", "pick")


def test_tensors_made_from_python_numbers_in_the_warm_up_are_reused_by_the_capture():
    """What makes SmolVLA's and pi0's refills capturable in principle: their attention masks and
    flow-matching times are ``torch.tensor(python list or float, device=...)``, a host copy that
    capture forbids; the capture gets the warm-up's tensor back instead."""
    from policybench.variants.cudagraph import PythonConstants

    constants, original = PythonConstants(), torch.tensor
    source = torch.ones(2)

    def refill():
        return (
            torch.tensor([0, 0, 1], dtype=torch.bool),
            torch.tensor(0.9, dtype=torch.float32),
            torch.tensor(source),
            torch.tensor([source.sum().item()]),
        )

    with constants.recording():
        warm = refill()
    with constants.reusing():
        captured = refill()
    assert captured[0] is warm[0] and captured[1] is warm[1]  # Python numbers: the kept tensor
    assert captured[2] is not warm[2]  # from a tensor: made again (no host copy involved to avoid)
    assert constants.reused == 3  # the last one's data is a list of Python numbers too
    with constants.reusing():
        other = torch.tensor([1, 0, 0], dtype=torch.bool)
    assert other.tolist() == [True, False, False] and constants.reused == 3  # not seen in the warm-up: made
    assert torch.tensor is original  # put back


def test_torch_tensor_is_put_back_when_the_warm_up_raises():
    from policybench.variants.cudagraph import PythonConstants

    original = torch.tensor
    with pytest.raises(RuntimeError, match="boom"):
        with PythonConstants().recording():
            assert torch.tensor is not original
            raise RuntimeError("boom")
    assert torch.tensor is original
