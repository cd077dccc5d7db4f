"""Long-running and tooling commands: ``watch``, ``serve``, ``sandbox``, ``new-provider``,
``demo``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import threading
from pathlib import Path

from . import stopping
from .common import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, CommandError
from .inputs import make_client, make_tracker, require
from .output import change_printer, error_line, quiet, say

__all__ = ["SERVE_GRACE", "cmd_demo", "cmd_new_provider", "cmd_sandbox", "cmd_serve", "cmd_watch"]

SERVE_GRACE = 1
"""Seconds ``serve`` gives notifications in flight to finish once stopped; the ones still
running then are cut off (answered 500 where uvicorn still can), so their providers send them
again."""


def cmd_watch(args: argparse.Namespace) -> int:
    """Check the tracked orders that are due (or read feeds); print changes as they happen.

    A stop signal cancels the sweep in flight: what it recorded stays, the rest stays due.
    """
    from orderstatus.stores import store_location
    from orderstatus.watch import Watcher

    tracker = make_tracker(args, on_change=change_printer(args.json))

    async def run() -> int:
        async with make_client(args, asynchronous=True) as client:
            require(client)
            watcher = Watcher(client, tracker, interval=args.interval,
                              concurrency=args.concurrency)
            open_orders = tracker.count(non_terminal=True)
            say(f"watching {open_orders} open tracked orders of {', '.join(client.providers)}"
                f" (store: {store_location(tracker.store)})", err=True)
            if not args.once:
                await watcher.run()  # sweeps until the stop signal cancels it
                return EXIT_OK
            with quiet("orderstatus.watch"):  # failures are reported below, once
                report = await watcher.sweep()
            for failure in watcher.failures:
                error_line(f"fetch failed: {failure.error}")
            if report.failed > len(watcher.failures):
                error_line(f"... and {report.failed - len(watcher.failures)} more failures")
            return EXIT_FAILED if report.failed else EXIT_OK

    try:
        return stopping.run(run)
    finally:
        tracker.close()


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the webhook receiver on ``--host``/``--port`` with uvicorn."""
    import socket

    from orderstatus.errors import ConfigurationError
    from orderstatus.stores import store_location

    try:
        import uvicorn
    except ImportError:
        raise ConfigurationError(
            "serve needs uvicorn: pip install 'orderstatus[server]'"
        ) from None
    from orderstatus.webhooks import WebhookReceiver, webhook_app

    client = make_client(args, asynchronous=True)
    require(client)
    try:
        family = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((args.host, args.port), family=family)
    except (OSError, OverflowError) as err:
        detail = getattr(err, "strerror", None) or err
        raise ConfigurationError(
            f"cannot listen on {args.host}:{args.port}: {detail}"
        ) from None
    tracker = make_tracker(args, on_change=change_printer(False))
    app = webhook_app(WebhookReceiver(client, tracker))
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    say(f"receiving webhooks at http://{shown}:{port}/webhooks/{{provider}} for "
        f"{', '.join(client.providers)} (store: {store_location(tracker.store)}); Ctrl-C stops",
        err=True)
    config = uvicorn.Config(app, lifespan="off", log_level="info" if args.verbose else "warning",
                            access_log=args.verbose, timeout_graceful_shutdown=SERVE_GRACE)
    logging.getLogger("uvicorn.error").addFilter(_not_cancelled)
    try:  # uvicorn takes the stop signals while it serves, and passes them on once it stopped
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        tracker.close()
    return EXIT_OK


def _not_cancelled(record: logging.LogRecord) -> bool:
    """A log filter keeping uvicorn from logging, with a traceback, each request it cancelled
    because serve stopped (past :data:`SERVE_GRACE`): not an error of the app. Its one line
    saying how many it cancelled stays."""
    import asyncio

    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Serve registered sandboxes on loopback; print their URLs and settings as env lines."""
    import shlex
    import socket

    from orderstatus.asgi import serve
    from orderstatus.plugins import default_registry
    from orderstatus.settings import env_names

    registry = default_registry()
    names = args.providers or [n for n in registry.names if registry.registration(n).has_sandbox]
    try:
        socket.getaddrinfo(args.host, 0, type=socket.SOCK_STREAM)
    except OSError as err:
        raise CommandError(f"cannot serve on {args.host}: {err.strerror or err}",
                           EXIT_CONFIG) from None
    with contextlib.ExitStack() as stack:
        for name in names:
            reg = registry.registration(name)
            make_sandbox = reg.sandbox
            if make_sandbox is None:
                raise CommandError(f"{name} has no sandbox", EXIT_CONFIG)
            sandbox = make_sandbox()
            try:
                url = stack.enter_context(serve(sandbox.asgi(), host=args.host))
            except RuntimeError as err:
                raise CommandError(f"cannot serve the {name} sandbox: {err}",
                                   EXIT_CONFIG) from None
            variables = env_names(name, reg.provider.settings_class)
            say(f"# {reg.provider.title} sandbox at {url} (control api: {url}_sandbox/)")
            for field, value in sandbox.settings(url).items():
                say(f"export {variables[field]}={shlex.quote(str(value))}")
        if not names:
            raise CommandError("no installed provider has a sandbox", EXIT_CONFIG)
        say("# serving until Ctrl-C", err=True)
        threading.Event().wait()  # until the stop signal interrupts it
        return EXIT_OK


def cmd_new_provider(args: argparse.Namespace) -> int:
    """Write a provider plugin skeleton."""
    from orderstatus.scaffold import new_provider

    try:
        created = new_provider(args.name, Path(args.dir))
    except ValueError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        detail = str(err) if err.strerror is None else f"{err.filename}: {err.strerror}"
        raise CommandError(f"cannot write the plugin: {detail}") from None
    say(f"created {created}")
    say(f"next: pip install -e '{created}[test]' && pytest {created}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Sandboxes, webhooks and the tracker, end to end (see :mod:`orderstatus.cli.demo`)."""
    from .demo import run_demo

    return run_demo(say)
