"""Serving sandboxes over real HTTP: the testing kit's names for :mod:`orderstatus.asgi`.

``with serve(sandbox.asgi()) as url:`` runs a sandbox (any ASGI app) on loopback in a
background thread; it needs the ``server`` extra (uvicorn). ``serve(mount({"acme":
sandbox.asgi(), …}))`` serves several on one port, each under ``/{name}/``.
"""

from __future__ import annotations

from orderstatus.asgi import FORWARDED_PREFIX, Abort, ASGIApp, asgi_app, mount, serve

__all__ = ["FORWARDED_PREFIX", "ASGIApp", "Abort", "asgi_app", "mount", "serve"]
