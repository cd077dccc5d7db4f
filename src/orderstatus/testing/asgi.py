"""Serve ASGI apps on loopback (the app plumbing itself lives in :mod:`orderstatus.asgi`)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

from orderstatus.asgi import Abort, ASGIApp, asgi_app

__all__ = ["ASGIApp", "Abort", "asgi_app", "serve"]


class _DropAborts(logging.Filter):
    """Keep uvicorn from logging a deliberate :class:`Abort` as an application error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], Abort))


_DROP_ABORTS = _DropAborts()


def _quiet_aborts() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _DROP_ABORTS not in logger.filters:
        logger.addFilter(_DROP_ABORTS)


@contextlib.contextmanager
def serve(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yield its base URL (``http://…/``).

    Requires the ``server`` extra (uvicorn).
    """
    try:
        import uvicorn
    except ImportError as err:  # pragma: no cover - depends on the install
        from orderstatus.errors import ConfigurationError

        raise ConfigurationError(
            "serving needs uvicorn: pip install 'orderstatus[server]'"
        ) from err
    _quiet_aborts()
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off",
        timeout_graceful_shutdown=1, access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"orderstatus-serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"could not serve on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}/"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
