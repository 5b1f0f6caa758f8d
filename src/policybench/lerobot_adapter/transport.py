"""LeRobot's async inference: its PolicyServer, and what its robot client sends it over gRPC."""

from __future__ import annotations

import pickle
import time


def add_policy_server(grpc_server) -> None:
    """Add LeRobot's PolicyServer to ``grpc_server``. Its configuration's host and port are left
    at their defaults: only LeRobot's own entry point binds them."""
    from lerobot.async_inference.configs import PolicyServerConfig
    from lerobot.async_inference.policy_server import PolicyServer
    from lerobot.transport import services_pb2_grpc

    config = PolicyServerConfig(inference_latency=0, obs_queue_timeout=30)
    services_pb2_grpc.add_AsyncInferenceServicer_to_server(PolicyServer(config), grpc_server)


def stub(channel):
    """LeRobot's client stub of the PolicyServer over ``channel``."""
    from lerobot.transport import services_pb2_grpc

    return services_pb2_grpc.AsyncInferenceStub(channel)


def _dataset_features(hw: dict[str, object]) -> dict:
    """LeRobot's hw_to_dataset_features: in lerobot.utils.feature_utils from 0.6, lerobot.datasets.utils before."""
    try:
        from lerobot.utils.feature_utils import hw_to_dataset_features
    except ImportError:
        from lerobot.datasets.utils import hw_to_dataset_features
    return hw_to_dataset_features(hw, "observation", use_video=False)


class RobotClient:
    """What LeRobot's robot client sends a PolicyServer through ``server`` (a stub), and how."""

    def __init__(self, server):
        from lerobot.transport import services_pb2
        from lerobot.transport.utils import send_bytes_in_chunks

        self._server, self._messages, self._in_chunks = server, services_pb2, send_bytes_in_chunks

    def ready(self) -> None:
        """The client's first call: the server answers once it is ready."""
        self._server.Ready(self._messages.Empty())

    def send_policy(
        self, policy_type: str, folder: str, hw: dict[str, object], actions_per_chunk: int, device: str
    ) -> None:
        """Have the server load the policy saved in ``folder`` for a robot with hardware features ``hw``."""
        from lerobot.async_inference.helpers import RemotePolicyConfig

        spec = RemotePolicyConfig(
            policy_type=policy_type,
            pretrained_name_or_path=folder,
            lerobot_features=_dataset_features(hw),
            actions_per_chunk=actions_per_chunk,
            device=device,
        )
        self._server.SendPolicyInstructions(self._messages.PolicySetup(data=pickle.dumps(spec)))

    @staticmethod
    def observation(raw: dict[str, object], timestep: int):
        """A raw observation as the client stamps it (taken now; must be acted on)."""
        from lerobot.async_inference.helpers import TimedObservation

        return TimedObservation(timestamp=time.time(), observation=raw, timestep=timestep, must_go=True)

    def round_trip(self, observation) -> list:
        """Send ``observation`` in chunks and get the actions the server computed for it (empty when
        it returned none), pickling and unpickling included, as the client does."""
        self._server.SendObservations(self._in_chunks(pickle.dumps(observation), self._messages.Observation))
        reply = self._server.GetActions(self._messages.Empty())
        return pickle.loads(reply.data) if reply.data else []  # nosec - our own server
