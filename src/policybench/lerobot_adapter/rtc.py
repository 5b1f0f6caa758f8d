"""LeRobot's Real-Time Chunking engine (``lerobot.rollout.inference.rtc``, LeRobot 0.6 and later),
driven as ``lerobot-rollout --inference.type=rtc`` drives it, with a virtual robot.

Nothing of LeRobot is patched: what the engine does is observed through the objects handed to
it or owned by it, each wrapped on the instance and unwrapped when the run ends: the policy's
``predict_action_chunk`` (the delay it is given, guided or not, its time) and the engine's
``ActionQueue`` (``get_action_index``, the engine's first step of an inference, right after it
starts its latency clock; ``merge``, right after it stops it: the delay it merges with, the
queue before and after, the actions skipped).
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
from dataclasses import dataclass

from policybench.results import Inference
from policybench.lerobot_adapter.transport import _dataset_features
from policybench.lerobot_adapter.version import lerobot_version

ENGINE_MODULE = "lerobot.rollout.inference.rtc"
ENGINE_SINCE = "0.6"
STOP_TIMEOUT_S = 600.0  # a chunk in flight when the loop ends (pi0 on a CPU: about 20 s)
ROBOT_TYPE = "policybench_virtual"  # what the virtual robot calls itself to LeRobot


def rtc_problem() -> str | None:
    """Why LeRobot's RTC engine cannot run here (a LeRobot without it), or None."""
    try:
        found = importlib.util.find_spec(ENGINE_MODULE) is not None
    except ImportError:
        found = False
    if found:
        return None
    return (
        f"Real-Time Chunking (--mode rtc) needs LeRobot {ENGINE_SINCE} or later, whose RTCInferenceEngine it "
        f"drives; this is LeRobot {lerobot_version()}"
    )


def supports_rtc(policy) -> bool:
    """LeRobot's own check: the policy says it supports RTC and takes the RTC call shape."""
    from lerobot.rollout.inference.rtc import supports_rtc_inference

    return bool(supports_rtc_inference(policy))


def chunk_length(policy) -> int:
    """Actions per chunk of ``predict_action_chunk``: the config's chunk_size."""
    return int(policy.config.chunk_size)


@contextlib.contextmanager
def rtc_enabled(policy, execution_horizon: int, max_guidance_weight: float):
    """The policy with an enabled ``rtc_config`` (as lerobot-rollout sets it), its previous one back
    on exit: select_action refuses an enabled one."""
    from lerobot.policies.rtc.configuration_rtc import RTCConfig

    previous = policy.config.rtc_config
    policy.config.rtc_config = RTCConfig(
        enabled=True, execution_horizon=execution_horizon, max_guidance_weight=max_guidance_weight
    )
    policy.init_rtc_processor()
    try:
        yield policy.config.rtc_config
    finally:
        policy.config.rtc_config = previous
        policy.init_rtc_processor()


@dataclass(frozen=True)
class VirtualRobot:
    """What the engine reads of its robot: its type and its action features."""

    robot_type: str
    action_features: dict[str, type]


class _Probe:
    """The wrappers' records: one open inference at a time (the engine's thread runs one)."""

    def __init__(self) -> None:
        self.open: dict[str, object] = {}
        self.done: list[Inference] = []


class LeRobotEngine:
    """LeRobot's RTCInferenceEngine for ``policy`` (its rtc_config enabled) with its processors,
    fed ``hw`` (a virtual robot's hardware features) observations for ``task`` at ``hz``."""

    def __init__(
        self,
        policy,
        preprocessor,
        postprocessor,
        hw: dict[str, object],
        action_dim: int,
        task: str,
        hz: float,
        device: str,
        queue_threshold: int,
    ):
        from lerobot.rollout.inference.rtc import RTCInferenceEngine

        robot = VirtualRobot(ROBOT_TYPE, {f"joint{i}.pos": float for i in range(action_dim)})
        self._policy, self._probe = policy, _Probe()
        self._engine = RTCInferenceEngine(
            policy=policy,
            preprocessor=preprocessor,
            postprocessor=postprocessor,
            robot_wrapper=robot,
            rtc_config=policy.config.rtc_config,
            hw_features=_dataset_features(hw),
            task=task,
            fps=hz,
            device=device,
            rtc_queue_threshold=queue_threshold,
        )
        self._queue = None

    def start(self) -> None:
        self._policy.predict_action_chunk = _timed_chunk(self._policy.predict_action_chunk, self._probe)
        self._engine.start()  # the thread idles until resume()
        self._queue = self._engine.action_queue
        _watch_queue(self._queue, self._probe)
        self._engine.resume()

    def notify(self, obs: dict) -> None:
        self._engine.notify_observation(obs)

    def get_action(self) -> bool:
        return self._engine.get_action(None) is not None

    def qsize(self) -> int:
        return 0 if self._queue is None else self._queue.qsize()

    def inferences(self) -> list[Inference]:
        return list(self._probe.done)

    def failed(self) -> bool:
        return bool(self._engine.failed)

    def stop(self) -> None:
        """Stop the engine and wait for its thread: LeRobot's stop() gives up after 3 s and leaves
        the thread (and its ``_rtc_thread``) running a chunk, which would overlap what is timed next."""
        try:
            self._engine.stop()
            thread = getattr(self._engine, "_rtc_thread", None)
            if thread is not None:
                thread.join(STOP_TIMEOUT_S)
        finally:
            vars(self._policy).pop("predict_action_chunk", None)


def _timed_chunk(predict, probe: _Probe):
    def predict_action_chunk(batch, *args, **kwargs):
        start = time.perf_counter()
        out = predict(batch, *args, **kwargs)
        probe.open.update(
            model_s=time.perf_counter() - start,
            delay_used=int(kwargs.get("inference_delay") or 0),
            guided=kwargs.get("prev_chunk_left_over") is not None,
        )
        return out

    return predict_action_chunk


def _watch_queue(queue, probe: _Probe) -> None:
    index, merge = queue.get_action_index, queue.merge

    def get_action_index() -> int:
        probe.open = {"start": time.perf_counter()}  # the engine read its clock just before
        value = index()
        probe.open["index"] = value
        return value

    def merged(original, processed, real_delay, action_index_before_inference=None):
        end = time.perf_counter()
        o, before, popped = probe.open, queue.qsize(), index() - int(probe.open["index"])
        merge(original, processed, real_delay, action_index_before_inference)
        skipped = max(0, min(int(real_delay), len(original)))
        probe.done.append(
            Inference(
                float(o["start"]),
                end,
                float(o["model_s"]),
                bool(o["guided"]),
                int(o["delay_used"]),
                int(real_delay),
                before,
                queue.qsize(),
                max(0, popped),
                skipped,
            )
        )

    queue.get_action_index, queue.merge = get_action_index, merged


def refill_pair(policy, batch: dict, delay: int, horizon: int, clock) -> tuple[float, float]:
    """(plain, guided) seconds of ``predict_action_chunk`` on the same preprocessed ``batch``: a
    chunk with no previous one, then one guided by the plain chunk's rest after ``delay``
    actions, ``horizon`` long (padded with zeros as the engine pads it)."""
    import torch

    start = clock.read()
    plain = policy.predict_action_chunk(batch, inference_delay=0, prev_chunk_left_over=None)
    middle = clock.read()
    rest = plain.squeeze(0)[delay : delay + horizon]
    prev = torch.zeros((horizon, rest.shape[-1]), dtype=rest.dtype, device=rest.device)
    prev[: len(rest)] = rest
    policy.predict_action_chunk(batch, inference_delay=delay, prev_chunk_left_over=prev)
    return middle - start, clock.read() - middle


def engine_batch(preprocessor, hw: dict[str, object], raw: dict, task: str, device: str) -> dict:
    """A raw observation as the engine turns it into the policy's input."""
    import torch
    from lerobot.policies.utils import prepare_observation_for_inference
    from lerobot.utils.feature_utils import build_dataset_frame

    frame = build_dataset_frame(_dataset_features(hw), raw, prefix="observation")
    batch = prepare_observation_for_inference(frame, torch.device(device), task, ROBOT_TYPE)
    batch["task"] = [task]
    return preprocessor(batch)
