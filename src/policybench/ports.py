"""Ports on 127.0.0.1: a free one, and whether one is taken (leaf: the parent checks --port before
anything is built, the child binds the policy server there)."""

from __future__ import annotations

import socket

from policybench.errors import UsageError


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port_free(port: int) -> None:
    """Nothing listens on the port (connections closing there, as gRPC's server can bind, do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(f"--port {port} is in use on 127.0.0.1; pick another or leave --port out") from None
