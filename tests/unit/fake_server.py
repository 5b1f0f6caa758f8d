"""Stands in for policybench.measure.server in the unit tests: the same binding, secret check,
marker and parent watch around a light service (neither LeRobot nor torch is imported). Like
LeRobot's PolicyServer, it writes a log under ./logs, leaves a temporary file where TMPDIR says,
and unpickles what SendPolicyInstructions and SendObservations are sent (here the raw bytes of
the request: a pickle, not a LeRobot message); Ready answers an empty message."""

import os
import pickle
import tempfile

import grpc

from policybench.measure import server

SERVICE = "transport.AsyncInference"  # LeRobot's service name, so that its stub's Ready reaches Ready here


def unpickle(request: bytes, context) -> bytes:
    pickle.loads(request)  # noqa: S301 - what the tests check is whether this line is reached
    return b""


def unpickle_chunks(request_iterator, context) -> bytes:
    return unpickle(b"".join(request_iterator), context)


def add_unpickler(grpc_server) -> None:
    os.makedirs("logs", exist_ok=True)
    with open("logs/fake_server.log", "w") as f:
        f.write("started\n")
    tempfile.NamedTemporaryFile(suffix=".json", delete=False).close()
    grpc_server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "Ready": grpc.unary_unary_rpc_method_handler(lambda request, context: b""),  # an empty message
                    "SendPolicyInstructions": grpc.unary_unary_rpc_method_handler(unpickle),
                    "SendObservations": grpc.stream_unary_rpc_method_handler(unpickle_chunks),
                },
            ),
        )
    )


if __name__ == "__main__":
    server.main(add_unpickler)
