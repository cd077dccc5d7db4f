"""Serving sandboxes over real HTTP: the testing kit's names for :mod:`orderstatus.asgi`.

``with serve(sandbox.asgi()) as url:`` runs a sandbox (any ASGI app) on loopback in a
background thread; it needs the ``server`` extra (uvicorn).
"""

from __future__ import annotations

from orderstatus.asgi import Abort, ASGIApp, asgi_app, serve

__all__ = ["ASGIApp", "Abort", "asgi_app", "serve"]
