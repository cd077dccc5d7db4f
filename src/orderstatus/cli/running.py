"""Long-running and tooling commands: ``watch``, ``serve``, ``new-provider``, ``demo``
(``sandbox`` is :mod:`.sandboxes`)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from . import stopping
from .common import EXIT_OK, CommandError, exit_code_for_all
from .inputs import make_client, make_tracker, require
from .output import change_printer, counted, error_line, quiet, say

__all__ = ["SERVE_GRACE", "cmd_demo", "cmd_new_provider", "cmd_serve", "cmd_watch"]

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
                more = counted(report.failed - len(watcher.failures), "more failure")
                error_line(f"... and {more}")
            # the failures kept (the first FAILURES_KEPT) decide, as in fetch
            return exit_code_for_all(f.error for f in watcher.failures)

    try:
        return stopping.run(run)
    finally:
        tracker.close()


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the webhook receiver on ``--host``/``--port`` with uvicorn."""
    from orderstatus.asgi import base_url, listen
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
    sock = listen(args.host, args.port)
    tracker = make_tracker(args, on_change=change_printer(False))
    app = webhook_app(WebhookReceiver(client, tracker))
    say(f"receiving webhooks at {base_url(sock)}webhooks/{{provider}} for "
        f"{', '.join(client.providers)} (store: {store_location(tracker.store)}); Ctrl-C stops",
        err=True)
    config = uvicorn.Config(app, lifespan="off", log_level="info" if args.verbose else "warning",
                            access_log=args.verbose, timeout_graceful_shutdown=SERVE_GRACE)
    logging.getLogger("uvicorn.error").addFilter(_not_cancelled)
    server = uvicorn.Server(config)
    try:  # uvicorn takes the stop signals while it serves, and passes them on once it stopped;
        # around that, stopping.run keeps a signal from interrupting the loop half built
        stopping.run(lambda: server.serve(sockets=[sock]))
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


def cmd_new_provider(args: argparse.Namespace) -> int:
    """Write a provider plugin skeleton; print the tutorial's next steps."""
    import shlex

    from orderstatus.scaffold import new_provider

    try:
        created = new_provider(args.name, Path(args.dir))
    except ValueError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        detail = str(err) if err.strerror is None else f"{err.filename}: {err.strerror}"
        raise CommandError(f"cannot write the plugin: {detail}") from None
    say(f"created {created}")
    say("next:")
    for step in (f"cd {shlex.quote(str(created))}", 'pip install -e ".[test]"', "pytest"):
        say(f"  {step}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Sandboxes, webhooks and the tracker, end to end (see :mod:`orderstatus.cli.demo`)."""
    from .demo import run_demo

    return run_demo(say)
