"""LeRobot's PolicyServer as policybench starts it: ``python -m policybench.realtime.server PORT PARENT_PID``.

The same server as LeRobot's own entry point (``lerobot.async_inference.policy_server``: its
PolicyServer servicer on a gRPC server with 4 worker threads), with two differences:

- the port is bound alone (``grpc.so_reuseport`` 0): with gRPC's default, a second server on the
  same port listens too and takes some of the connections meant for the first; here the second
  exits with PORT_IN_USE instead;
- it dies with the process that started it, whatever kills that one (on Linux by
  ``PR_SET_PDEATHSIG``, elsewhere by watching the parent's process id).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Callable

PORT_IN_USE = 98  # exit code, as errno EADDRINUSE on Linux
PARENT_GONE = 3
SERVING = "serving"  # written in the working folder once the port is bound and the server started


def die_with_parent(parent: int) -> None:
    """Exit as soon as process ``parent`` does (it may be gone already)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    else:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(PARENT_GONE)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # it died before the signal was asked for
        sys.exit(PARENT_GONE)


def serve(port: int, add_service: Callable[[object], None] | None = None) -> int:
    """Serve on 127.0.0.1:port until terminated; PORT_IN_USE when it cannot be bound. The file
    SERVING says the server that answers on the port is this one: the port is bound alone.
    ``add_service(grpc_server)`` adds the service (default: LeRobot's PolicyServer)."""
    from concurrent import futures

    import grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.so_reuseport", 0)])
    (add_service or add_policy_server(port))(server)
    try:
        bound = server.add_insecure_port(f"127.0.0.1:{port}")  # 0 on failure in older grpcio
    except RuntimeError:
        bound = 0
    if not bound:
        print(f"port {port} is in use on 127.0.0.1", file=sys.stderr)
        return PORT_IN_USE
    server.start()
    with open(SERVING, "w"):
        pass
    server.wait_for_termination()
    return 0


def add_policy_server(port: int) -> Callable[[object], None]:
    from lerobot.async_inference.configs import PolicyServerConfig
    from lerobot.async_inference.policy_server import PolicyServer
    from lerobot.transport import services_pb2_grpc

    config = PolicyServerConfig(host="127.0.0.1", port=port, inference_latency=0, obs_queue_timeout=30)
    return lambda server: services_pb2_grpc.add_AsyncInferenceServicer_to_server(PolicyServer(config), server)


def main(add_service: Callable[[object], None] | None = None) -> None:
    """argv: PORT PARENT_PID."""
    die_with_parent(int(sys.argv[2]))
    sys.exit(serve(int(sys.argv[1]), add_service))


if __name__ == "__main__":
    main()
