"""scripts/cluster opens ports on 127.0.0.1 only, and --port (Settings.port) moves all of them: the
api-server on the port, the scheduler's health check on port + 8; no log server (they would bind
every interface)."""

from __future__ import annotations

import contextlib

import pytest

from .conftest import ClusterHandle

pytestmark = pytest.mark.cluster


def test_every_port_is_loopback_and_follows_the_port(cluster: ClusterHandle) -> None:
    import psutil

    stack = cluster.stack
    listening: set[tuple[str, int, str]] = set()
    for name in stack.procs:
        for pid in stack.family_of(name):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                for conn in psutil.Process(pid).net_connections(kind="tcp"):
                    if conn.status == psutil.CONN_LISTEN:
                        listening.add((conn.laddr.ip, conn.laddr.port, name))
    assert listening, "nothing listens: the stack is not up"
    assert {ip for ip, _, _ in listening} == {"127.0.0.1"}, listening
    port = stack.s.port
    assert {p for _, p, _ in listening} == {port, port + 8}, listening
