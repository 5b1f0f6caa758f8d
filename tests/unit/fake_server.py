"""Stands in for policybench.realtime.server in the unit tests: the same binding, marker and
parent watch around a gRPC server with no service (LeRobot is not imported). Like LeRobot's
PolicyServer, it writes a log under ./logs and leaves a temporary file where TMPDIR says."""

import os
import tempfile

from policybench.realtime import server


def add_nothing(grpc_server) -> None:
    os.makedirs("logs", exist_ok=True)
    with open("logs/fake_server.log", "w") as f:
        f.write("started\n")
    tempfile.NamedTemporaryFile(suffix=".json", delete=False).close()


if __name__ == "__main__":
    server.main(add_nothing)
