"""LeRobot's PolicyServer as policybench starts it: ``python -P -m policybench.measure.server
ADDRESS PARENT_PID FOLDER``, run in FOLDER, with the run's secret as the first line of its stdin.

ADDRESS is ``unix:NAME`` (a socket NAME in FOLDER: only its owner can reach it when FOLDER is
mode 0700) or ``127.0.0.1:PORT``. The same server as LeRobot's own entry point
(``lerobot.async_inference.policy_server``: its PolicyServer servicer on a gRPC server with 4
worker threads), with these differences:

- every call must present the secret as gRPC metadata (SECRET_KEY); one that does not is refused
  with UNAUTHENTICATED before any servicer method runs: PolicyServer unpickles what its callers
  send (SendPolicyInstructions, SendObservations), so a caller that can reach the socket or port
  could otherwise run code here;
- a port is bound alone (``grpc.so_reuseport`` 0): with gRPC's default, a second server on the
  same port listens too and takes some of the connections meant for the first; here the second
  exits with PORT_IN_USE instead;
- what it creates is its owner's only (umask 077);
- it dies with the process that started it, whatever kills that one (on Linux by
  ``PR_SET_PDEATHSIG``, elsewhere by watching the parent's process id), and then removes FOLDER,
  which the parent, killed by SIGKILL, could not.
"""

from __future__ import annotations

import hmac
import os
import shutil
import signal
import sys
import threading
import time
from typing import Callable

import grpc

from policybench.lerobot_adapter.transport import add_policy_server
from policybench.child_process import ask_death_signal

PORT_IN_USE = 98  # exit code, as errno EADDRINUSE on Linux
PARENT_GONE = 3
NO_SECRET = 4
SERVING = "serving"  # written in the working folder once the address is bound and the server started
SECRET_KEY = "policybench-secret"  # gRPC metadata key of the run's secret
PARENT_DIED = signal.SIGUSR1  # asked of the kernel when the parent dies (Linux)


def die_with_parent(parent: int, folder: str) -> None:
    """Exit as soon as process ``parent`` does (it may be gone already), removing ``folder`` first.

    On Linux the kernel sends PARENT_DIED when the thread that started us exits, as it does when
    its process dies. A process killed by SIGKILL loses its threads one by one and another of them
    may become our parent for a moment: getppid() can still return ``parent`` then, so the signal,
    not getppid(), tells that the parent is gone. It is a signal of its own: SIGTERM is how the
    living parent stops us (default action), leaving the folder to it. The handler runs in the
    main thread, which only imports and then waits for the server's termination: at once."""

    def leave(signum=None, frame=None) -> None:
        remove_folder(folder)
        os._exit(PARENT_GONE)

    signal.signal(PARENT_DIED, leave)
    if not ask_death_signal(PARENT_DIED):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            leave()

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # it died before the signal was asked for
        leave()


def remove_folder(folder: str, tries: int = 100, pause: float = 0.02) -> None:
    """Remove ``folder`` and what it holds while this process's other threads may still write
    there: a worker thread in LeRobot's ``from_pretrained`` writes a copy of the config into
    TMPDIR (the folder), and a file made between rmtree's listing and its rmdir leaves the folder
    standing. Once the folder itself is gone, nothing more can be made in it."""
    for _ in range(tries):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.lexists(folder):
            return
        time.sleep(pause)


class RequireSecret(grpc.ServerInterceptor):
    """Refuses every call that does not present ``secret`` under SECRET_KEY: such a call gets
    UNAUTHENTICATED from a handler of the same kind as its method's (unary or streaming), which
    does not even parse the request; the servicer never sees it."""

    def __init__(self, secret: str):
        self._secret = secret.encode()

    def intercept_service(self, continuation, handler_call_details):
        presented = dict(handler_call_details.invocation_metadata or ()).get(SECRET_KEY, "")
        if isinstance(presented, str) and hmac.compare_digest(presented.encode(), self._secret):
            return continuation(handler_call_details)
        handler = continuation(handler_call_details)  # looked up, not called: for its kind only
        kind = (handler.request_streaming, handler.response_streaming) if handler else (False, False)
        make = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[kind]
        return make(refuse)


def refuse(request, context) -> None:
    context.abort(
        grpc.StatusCode.UNAUTHENTICATED, "this policy server answers the policybench run that started it only"
    )


def serve(address: str, secret: str, add_service: Callable[[object], None] | None = None) -> int:
    """Serve on ``address`` until terminated, to callers that present ``secret``; PORT_IN_USE
    when a port cannot be bound. The file SERVING says the server that answers there is this
    one: a port is bound alone, a socket is in a folder of its own. ``add_service(grpc_server)``
    adds the service (default: LeRobot's PolicyServer)."""
    from concurrent import futures

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        interceptors=[RequireSecret(secret)],
        options=[("grpc.so_reuseport", 0)],
    )
    (add_service or add_policy_server)(server)
    try:
        bound = server.add_insecure_port(address)  # 0 on failure in older grpcio
    except RuntimeError:
        bound = 0
    if not bound:
        if address.startswith("unix:"):
            print(f"cannot listen on {address}", file=sys.stderr)
            return 1
        print(f"port {address.rpartition(':')[2]} is in use on 127.0.0.1", file=sys.stderr)
        return PORT_IN_USE
    server.start()
    with open(SERVING, "w"):
        pass
    server.wait_for_termination()
    return 0


def main(add_service: Callable[[object], None] | None = None) -> None:
    """argv: ADDRESS PARENT_PID FOLDER; stdin: the secret, on one line."""
    address, parent, folder = sys.argv[1], int(sys.argv[2]), os.path.abspath(sys.argv[3])
    os.umask(0o077)
    die_with_parent(parent, folder)
    secret = sys.stdin.readline().strip()
    if not secret:
        print("no secret on stdin: the policy server is started by policybench", file=sys.stderr)
        sys.exit(NO_SECRET)
    sys.exit(serve(address, secret, add_service))


if __name__ == "__main__":
    main()
