"""The listening socket :func:`orderstatus.asgi.listen` makes for ``serve`` and the commands.

uvicorn answers in two writes (the head, then the body). With Nagle's algorithm on, the body
waits for the client to acknowledge the head, which a keep-alive client delays by 40 ms or
more: every answer after a connection's first would come that late. asyncio only turns Nagle
off itself for sockets created with ``IPPROTO_TCP``, which ``socket.create_server``'s are not,
so ``listen`` turns it off on the listening socket, and every accepted connection inherits it.
"""

from __future__ import annotations

import socket

import pytest

from orderstatus.asgi import listen


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize("host", [
    "127.0.0.1",
    pytest.param("::1", marks=pytest.mark.skipif(not _has_ipv6_loopback(),
                                                 reason="no IPv6 loopback here")),
])
def test_accepted_connections_send_without_nagle_delays(host: str) -> None:
    with listen(host, 0) as server, socket.create_connection(server.getsockname()[:2], 5):
        accepted, _ = server.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
