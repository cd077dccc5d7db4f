"""The ``orderstatus`` command.

Commands::

    orderstatus providers [--json]                  installed plugins, capabilities, failures
    orderstatus lifecycle [--format table|mermaid|json]
    orderstatus mappings [PROVIDER] [--format table|json]
    orderstatus fetch REF... [--from FILE] [--json] [--no-progress] [--track]
    orderstatus update REF --to STATE [--dry-run] [--json]
    orderstatus watch [--interval S] [--once] [--store PATH] [--json]
    orderstatus serve [--host H] [--port P] [--store PATH]
    orderstatus sandbox [PROVIDER...]
    orderstatus new-provider NAME [--dir DIR]
    orderstatus demo

``REF`` is ``provider:order_id``. Providers are configured from ``ORDERSTATUS_<PROVIDER>_<FIELD>``
environment variables (``Client.from_env``), or from ``--config FILE`` (JSON, or TOML on
Python 3.11+ or with ``tomli`` installed): a mapping of provider name to its settings.
``ORDERSTATUS_STORE`` names the tracker's SQLite file (default: in the user's data directory);
``ORDERSTATUS_DISABLE_PLUGINS`` blocks plugins; ``ORDERSTATUS_DEBUG=1`` shows tracebacks.

Exit codes: 0 ok; 1 some orders failed, or an update was refused; 2 usage error (bad
arguments, malformed order reference or id, unreadable input file); 3 configuration error
(missing or invalid settings, unknown provider, credentials refused, missing uvicorn);
4 provider error (unavailable, rate limited, unreadable answer, outcome unknown);
130 interrupted. Long-running commands (``watch``, ``serve``, ``sandbox``) stop with 0 on
Ctrl-C or SIGTERM. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    from .client import AsyncClient, Client, OrderRef
    from .errors import OrderStatusError
    from .models import OrderStatus, StatusChange
    from .tables import Table
    from .tracking import Tracker

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROVIDER",
    "EXIT_USAGE",
    "CommandError",
    "build_parser",
    "change_line",
    "exit_code_for",
    "main",
    "status_record",
    "status_table",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_PROVIDER = 4
EXIT_INTERRUPTED = 130

PROGRESS_THRESHOLD = 20
"""A progress bar is shown on stderr (a terminal) when fetching more orders than this."""


class CommandError(Exception):
    """A failure the command reports as one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(error: OrderStatusError) -> int:
    """The documented exit code for a library error."""
    from . import errors as e

    if isinstance(error, (e.ConfigurationError, e.AuthenticationError)):
        return EXIT_CONFIG
    if isinstance(error, e.InvalidOrderIdError):
        return EXIT_USAGE
    if isinstance(error, (e.OrderNotFoundError, e.UpdateRejectedError)):
        return EXIT_FAILED
    if isinstance(error, (e.ProviderError, e.OutcomeUnknownError)):
        return EXIT_PROVIDER
    return EXIT_FAILED


# -- output helpers ---------------------------------------------------------------------------


def _say(text: str = "", *, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout, flush=True)


def _error_line(message: str) -> None:
    _say(f"orderstatus: error: {message}", err=True)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def status_record(status: OrderStatus) -> dict[str, Any]:
    """An order status as a JSON-ready mapping (the provider's raw payload left out)."""
    import datetime as dt
    import enum

    import attrs

    def plain(_: object, __: object, value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        return value.isoformat() if isinstance(value, dt.datetime) else value

    return attrs.asdict(
        status, filter=lambda a, _: a.name != "raw", value_serializer=plain
    )


def _state_text(status: OrderStatus) -> str:
    return f"{status.state} ({status.reason})" if status.reason else str(status.state)


def status_table(statuses: Iterable[OrderStatus], title: str = "Orders") -> Table:
    """One row per order: provider, order, state, native status, payment, tracking."""
    from .tables import Table

    rows = tuple(
        (
            s.provider, s.order_id, _state_text(s), s.native_status,
            (s.payment.value,) if s.payment else (),
            tuple(t.number or t.url or t.carrier or "?" for t in s.tracking),
        )
        for s in statuses
    )
    return Table(
        title=title,
        headers=("provider", "order", "state", "native status", "payment", "tracking"),
        rows=rows,
        empty="no orders",
    )


def change_line(change: StatusChange) -> str:
    """One readable line about a change: previous -> current, skipped states, anomalies."""
    native = change.status.native_status
    where = f"{change.provider} order {change.order_id!r}"
    if change.previous is None:
        return f"{where}: first seen {change.current} ({native})"
    text = f"{where}: {change.previous} -> {change.current} ({native})"
    if change.skipped:
        text += f"; skipped {', '.join(s.value for s in change.skipped)}"
    if change.anomaly:
        text += "; anomaly: not a lifecycle move, applied anyway"
    return text


def change_record(change: StatusChange) -> dict[str, Any]:
    """A change as a JSON-ready mapping."""
    return {
        "provider": change.provider, "order_id": change.order_id,
        "previous": change.previous.value if change.previous else None,
        "current": change.current.value, "skipped": [s.value for s in change.skipped],
        "anomaly": change.anomaly, "status": status_record(change.status),
    }


class _Progress:
    """A one-line progress bar on stderr, drawn at most ten times a second."""

    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.done, self.enabled, self.stream = total, 0, enabled, stream
        self._drawn = 0.0

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self._drawn > 0.1 or self.done == self.total):
            self._drawn = now
            filled = 30 * self.done // max(self.total, 1)
            self.stream.write(
                f"\rfetching [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
            )
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


# -- configuration ----------------------------------------------------------------------------


def _load_config(path: str) -> dict[str, Any]:
    """Provider settings from a JSON or TOML file: ``{provider: {field: value}}``."""
    from .errors import ConfigurationError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigurationError(f"cannot read config file {path!r}: {err.strerror}") from None
    try:
        data = _toml_loads(text) if path.endswith(".toml") else json.loads(text)
    except ValueError as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigurationError(f"config file {path!r} is not valid: {detail}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ConfigurationError(
            f"config file {path!r} must map provider names to settings tables"
        )
    return data


def _toml_loads(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import importlib

    try:
        tomli = importlib.import_module("tomli")
    except ImportError:
        from .errors import ConfigurationError

        raise ConfigurationError(
            "toml config files need python 3.11+ or `pip install tomli`; use json"
        ) from None
    return tomli.loads(text)


def _client(args: argparse.Namespace, *, asynchronous: bool = False) -> Any:
    """A Client (or AsyncClient) from ``--config`` or the environment."""
    from .client import AsyncClient, Client

    cls = AsyncClient if asynchronous else Client
    if getattr(args, "config", None):
        return cls(_load_config(args.config))
    return cls.from_env()


def _require(client: Client | AsyncClient, providers: Iterable[str] = ()) -> None:
    """Refuse to go on when a needed provider (or any, without names) is not configured."""
    import attrs

    from .errors import ConfigurationError
    from .settings import env_names

    wanted = sorted(set(providers))
    if not wanted and not client.providers:
        raise ConfigurationError(
            "no provider is configured: set ORDERSTATUS_<PROVIDER>_* variables or pass --config"
        )
    for name in wanted:
        if name in client.providers:
            continue
        cls = client.registry.provider(name)  # UnknownProviderError when not installed
        names = env_names(name, cls.settings_class)
        needed = [names[f.name] for f in attrs.fields(cls.settings_class)
                  if f.default is attrs.NOTHING] or list(names.values())
        raise ConfigurationError(
            f"{name} is not configured: set {', '.join(needed)} or pass --config"
        )


def _store_path(args: argparse.Namespace) -> Path:
    from .stores import default_store_path

    given = getattr(args, "store", None) or os.environ.get("ORDERSTATUS_STORE")
    return Path(given) if given else default_store_path()


def _tracker(args: argparse.Namespace, **options: Any) -> Tracker:
    from .stores import SQLiteStore
    from .tracking import Tracker

    return Tracker(SQLiteStore(_store_path(args)), **options)


# -- order references -------------------------------------------------------------------------


def parse_ref(text: str) -> OrderRef:
    """``provider:order_id`` -> ``(provider, order_id)``."""
    provider, sep, order_id = text.strip().partition(":")
    if not sep or not provider or not order_id:
        raise CommandError(f"invalid order reference {text!r}: expected provider:order_id")
    return provider, order_id


def _read_source(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as err:
        raise CommandError(f"cannot read {source!r}: {err.strerror}") from None


def read_refs(source: str) -> list[OrderRef]:
    """References from a file (``-``: stdin): CSV with provider,order_id columns, or lines."""
    import csv

    lines = [
        line for line in _read_source(source).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        return []
    if "," not in lines[0]:
        return [parse_ref(line) for line in lines]
    reader = csv.DictReader(lines)
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or ()}
    if "provider" not in fields or "order_id" not in fields:
        raise CommandError(f"{source}: a csv file needs provider and order_id columns")
    refs = []
    for number, row in enumerate(reader, start=2):
        provider = (row.get(fields["provider"]) or "").strip()
        order_id = (row.get(fields["order_id"]) or "").strip()
        if not provider or not order_id:
            raise CommandError(f"{source}: line {number} lacks a provider or an order id")
        refs.append((provider, order_id))
    return refs


# -- commands: reference data -----------------------------------------------------------------


def _print_tables(tables: Iterable[Table]) -> None:
    from .tables import to_text

    _say("\n\n".join(to_text(t) for t in tables))


def cmd_providers(args: argparse.Namespace) -> int:
    """Installed providers, their capabilities, plugins that failed, plugins blocked."""
    import attrs

    from .plugins import default_registry
    from .tables import Table, capabilities_table

    with _quiet("orderstatus"):
        registry = default_registry()
    regs = [registry.registration(n) for n in registry.names]
    if args.json:
        _say(_dumps({
            "providers": [
                {"name": r.provider.name, "title": r.provider.title, "plugin": r.plugin,
                 "sandbox": r.sandbox is not None, "concurrency": r.provider.concurrency,
                 "capabilities": attrs.asdict(r.provider.capabilities)}
                for r in regs
            ],
            "failures": [attrs.asdict(f) for f in registry.failures],
            "blocked": list(registry.blocked),
        }))
        return EXIT_OK
    base = capabilities_table([r.provider for r in regs])
    table = Table(
        title="Installed providers",
        headers=(*base.headers, "plugin", "sandbox"),
        rows=tuple(
            (*row, r.plugin, "yes" if r.sandbox else "no")
            for row, r in zip(base.rows, regs, strict=True)
        ),
        empty=base.empty,
    )
    _print_tables([table])
    if registry.failures:
        _say("\nPlugins that failed to load:")
        for failure in registry.failures:
            _say(f"  {failure.plugin}: {failure.reason}")
    if registry.blocked:
        _say(f"\nBlocked by ORDERSTATUS_DISABLE_PLUGINS: {', '.join(registry.blocked)}")
    return EXIT_OK


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Silence a logger for a block (the command reports what it would have logged)."""
    import logging

    log = logging.getLogger(logger)
    before = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = before


def cmd_lifecycle(args: argparse.Namespace) -> int:
    """The canonical lifecycle: transitions table, Mermaid diagram or JSON."""
    from . import lifecycle
    from .tables import skipped_states_table, transitions_table

    if args.format == "mermaid":
        _say(lifecycle.to_mermaid())
    elif args.format == "json":
        _say(_dumps({
            "states": [s.value for s in lifecycle.OrderState],
            "terminal": sorted(s.value for s in lifecycle.TERMINAL),
            "main_line": [s.value for s in lifecycle.MAIN_LINE],
            "transitions": {
                s.value: sorted(t.value for t in targets)
                for s, targets in lifecycle.TRANSITIONS.items()
            },
            "reasons": [r.value for r in lifecycle.ActionReason],
            "payments": [p.value for p in lifecycle.PaymentState],
        }))
    else:
        _print_tables([transitions_table(), skipped_states_table()])
    return EXIT_OK


def cmd_mappings(args: argparse.Namespace) -> int:
    """Each provider's native statuses, payment statuses and update rules."""
    from .plugins import default_registry
    from .tables import native_statuses_table, payment_statuses_table, update_rules_tables

    registry = default_registry()
    names = [args.provider] if args.provider else list(registry.names)
    providers = [registry.provider(n) for n in names]
    if args.format == "json":
        for p in providers:
            rules = p.update_rules if p.capabilities.update else None
            _say(_dumps({
                "provider": p.name, "title": p.title,
                "native_statuses": {
                    native: {"state": m.state.value,
                             "reason": m.reason.value if m.reason else None, "note": m.note}
                    for native, m in p.native_statuses.items()
                },
                "payment_statuses": {n: s.value for n, s in p.payment_statuses.items()},
                "update_rules": None if rules is None else {
                    "sources": sorted(rules.sources),
                    "targets": {s.value: n for s, n in rules.targets.items()},
                },
            }))
        return EXIT_OK
    _print_tables(
        t for p in providers
        for t in (native_statuses_table(p), payment_statuses_table(p), *update_rules_tables(p))
    )
    return EXIT_OK


# -- commands: orders -------------------------------------------------------------------------


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch orders; a table or JSON lines on stdout, failures on stderr (or as JSON)."""
    from .models import FetchFailure

    refs = [parse_ref(r) for r in args.refs]
    if args.source:
        refs.extend(read_refs(args.source))
    if not refs:
        raise CommandError("no orders given: pass provider:order_id references or --from FILE")
    position = {ref: n for n, ref in reversed(list(enumerate(refs)))}
    progress = _Progress(
        len(refs),
        not args.no_progress and len(refs) > PROGRESS_THRESHOLD and sys.stderr.isatty(),
        sys.stderr,
    )
    tracker = _tracker(args) if args.track else None
    statuses: list[OrderStatus] = []
    failures: list[FetchFailure] = []
    with _client(args) as client:
        _require(client, (p for p, _ in refs))
        try:
            for result in client.fetch_many(refs, concurrency=args.concurrency,
                                            strict=args.strict or None):
                progress.step()
                if isinstance(result, FetchFailure):
                    failures.append(result)
                else:
                    statuses.append(result)
                    if tracker is not None:
                        tracker.observe(result)
                if args.json:
                    progress.close()  # redrawn at the next step
                    _say(_dumps(_result_record(result)))
        finally:
            progress.close()
            if tracker is not None:
                tracker.close()
    if not args.json:
        statuses.sort(key=lambda s: position.get((s.provider, s.order_id), 0))
        _print_tables([status_table(statuses)])
        for failure in sorted(failures, key=lambda f: position.get((f.provider, f.order_id), 0)):
            _error_line(str(failure.error))
    return EXIT_FAILED if failures else EXIT_OK


def _result_record(result: OrderStatus | Any) -> dict[str, Any]:
    from .models import FetchFailure

    if isinstance(result, FetchFailure):
        return {"provider": result.provider, "order_id": result.order_id,
                "error": str(result.error), "error_type": type(result.error).__name__,
                "exit_code": exit_code_for(result.error)}
    return status_record(result)


def cmd_update(args: argparse.Namespace) -> int:
    """Move one order to a canonical state, or only check the rules with ``--dry-run``."""
    provider, order_id = parse_ref(args.ref)
    with _client(args) as client:
        _require(client, [provider])
        # the dry run fetches and checks the rules (refusing before any request when the
        # provider cannot update); the real update then reuses that fetch
        before = client.update(provider, order_id, args.to, dry_run=True)
        after = before if args.dry_run else client.update(
            provider, order_id, args.to, current=before
        )
    where = f"{provider} order {order_id!r}"
    if args.json:
        _say(_dumps({"dry_run": args.dry_run, "before": status_record(before),
                     "after": None if args.dry_run else status_record(after)}))
    elif after is before and not args.dry_run:  # the client found the order already there
        _say(f"{where} is already {before.state} ({before.native_status}); nothing sent")
    elif args.dry_run:
        _say(f"dry run: {where} may move from {_state_text(before)} ({before.native_status})"
             f" to {args.to}; nothing sent")
    else:
        _say(f"{where}: {_state_text(before)} ({before.native_status}) -> "
             f"{_state_text(after)} ({after.native_status})")
    return EXIT_OK


# -- commands: long-running -------------------------------------------------------------------


def _stop_on_sigterm() -> None:
    """Make SIGTERM stop a long-running command like Ctrl-C does."""

    def interrupt(signum: int, frame: object) -> NoReturn:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not in the main thread
        signal.signal(signal.SIGTERM, interrupt)


def _change_printer(as_json: bool) -> Callable[[StatusChange], None]:
    def show(change: StatusChange) -> None:
        _say(_dumps(change_record(change)) if as_json else change_line(change))

    return show


def cmd_watch(args: argparse.Namespace) -> int:
    """Re-fetch (or read feeds of) non-terminal tracked orders; print changes as they happen."""
    import asyncio

    from .watch import Watcher

    if args.interval <= 0:
        raise CommandError("--interval must be more than 0 seconds")
    _stop_on_sigterm()
    tracker = _tracker(args, on_change=_change_printer(args.json))

    async def run() -> int:
        async with _client(args, asynchronous=True) as client:
            _require(client)
            watcher = Watcher(client, tracker, interval=args.interval,
                              concurrency=args.concurrency)
            open_orders = len(tracker.tracked(non_terminal=True))
            _say(f"watching {open_orders} open tracked orders of {', '.join(client.providers)}"
                 f" (store: {_store_path(args)})", err=True)
            if args.once:
                with _quiet("orderstatus.watch"):  # failures are reported below, once
                    await watcher.sweep()
                for failure in watcher.failures:
                    _error_line(f"fetch failed: {failure.error}")
                return EXIT_FAILED if watcher.failures else EXIT_OK
            await watcher.run()
            return EXIT_OK

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED if args.once else EXIT_OK
    finally:
        tracker.close()


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the webhook receiver on ``--host``/``--port`` with uvicorn."""
    import socket

    from .errors import ConfigurationError

    try:
        import uvicorn
    except ImportError:
        raise ConfigurationError(
            "serve needs uvicorn: pip install 'orderstatus[server]'"
        ) from None
    from .webhooks import WebhookReceiver, webhook_app

    client = _client(args, asynchronous=True)
    _require(client)
    try:
        family = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((args.host, args.port), family=family)
    except OSError as err:
        raise ConfigurationError(
            f"cannot listen on {args.host}:{args.port}: {err.strerror or err}"
        ) from None
    tracker = _tracker(args, on_change=_change_printer(False))
    app = webhook_app(WebhookReceiver(client, tracker))
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    _say(f"receiving webhooks at http://{shown}:{port}/webhooks/{{provider}} for "
         f"{', '.join(client.providers)} (store: {_store_path(args)}); Ctrl-C stops",
         err=True)
    config = uvicorn.Config(app, lifespan="off", log_level="info" if args.verbose else "warning",
                            access_log=args.verbose)
    _stop_on_sigterm()  # uvicorn re-raises the signal it stopped on, once it has shut down
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        tracker.close()
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Serve registered sandboxes on loopback; print their URLs and settings as env lines."""
    import shlex

    from .plugins import default_registry
    from .settings import env_names
    from .testing.asgi import serve

    registry = default_registry()
    names = args.providers or [n for n in registry.names if registry.registration(n).sandbox]
    _stop_on_sigterm()
    with contextlib.ExitStack() as stack:
        for name in names:
            reg = registry.registration(name)
            if reg.sandbox is None:
                raise CommandError(f"{name} has no sandbox", EXIT_CONFIG)
            sandbox = reg.sandbox()
            url = stack.enter_context(serve(sandbox.asgi(), host=args.host))
            variables = env_names(name, reg.provider.settings_class)
            _say(f"# {reg.provider.title} sandbox at {url} (control api: {url}_sandbox/)")
            for field, value in sandbox.settings(url).items():
                _say(f"export {variables[field]}={shlex.quote(str(value))}")
        if not names:
            raise CommandError("no installed provider has a sandbox", EXIT_CONFIG)
        _say("# serving until Ctrl-C", err=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return EXIT_OK


def cmd_new_provider(args: argparse.Namespace) -> int:
    """Write a provider plugin skeleton."""
    from .scaffold import new_provider

    try:
        created = new_provider(args.name, Path(args.dir))
    except ValueError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        detail = str(err) if err.strerror is None else f"{err.filename}: {err.strerror}"
        raise CommandError(f"cannot write the plugin: {detail}") from None
    _say(f"created {created}")
    _say(f"next: pip install -e {created} && pytest {created}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Sandboxes, webhooks and the tracker, end to end (see :mod:`orderstatus.demo`)."""
    from .demo import run_demo

    return run_demo(_say)


# -- the parser and main ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``orderstatus`` argument parser."""
    from . import __version__
    from .lifecycle import OrderState

    states = [s.value for s in OrderState if s is not OrderState.UNKNOWN]
    parser = argparse.ArgumentParser(
        prog="orderstatus",
        description="One canonical order lifecycle over print-on-demand providers.",
        epilog="Exit codes: 0 ok, 1 orders failed or update refused, 2 usage error, "
        "3 configuration error, 4 provider error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"orderstatus {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", metavar="FILE",
                        help="provider settings (JSON, or TOML) instead of the environment")
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", metavar="PATH",
                       help="tracker SQLite file (default: $ORDERSTATUS_STORE, or the user's "
                       "data directory)")
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="JSON output")

    def add(name: str, run: Callable[[argparse.Namespace], int], help: str,
            *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=list(parents))
        sub.set_defaults(run=run)
        return sub

    add("providers", cmd_providers, "installed providers, capabilities and plugin failures",
        json_flag)
    sub = add("lifecycle", cmd_lifecycle, "the canonical lifecycle")
    sub.add_argument("--format", choices=("table", "mermaid", "json"), default="table")
    sub = add("mappings", cmd_mappings, "native statuses, payments and update rules")
    sub.add_argument("provider", nargs="?", help="one provider (default: all installed)")
    sub.add_argument("--format", choices=("table", "json"), default="table")

    sub = add("fetch", cmd_fetch, "fetch orders' statuses", config, store, json_flag)
    sub.add_argument("refs", nargs="*", metavar="REF", help="provider:order_id")
    sub.add_argument("--from", dest="source", metavar="FILE",
                     help="references from a file (- for stdin): CSV with provider,order_id "
                     "columns, or provider:order_id lines")
    sub.add_argument("--concurrency", type=int, default=32, help="requests in flight at most")
    sub.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    sub.add_argument("--strict", action="store_true", help="fail orders with unmapped statuses")
    sub.add_argument("--track", action="store_true",
                     help="also record the statuses in the tracker store (for watch)")

    sub = add("update", cmd_update, "move an order to a canonical state", config, json_flag)
    sub.add_argument("ref", metavar="REF", help="provider:order_id")
    sub.add_argument("--to", required=True, metavar="STATE", choices=states,
                     help=f"target state: {', '.join(states)}")
    sub.add_argument("--dry-run", action="store_true",
                     help="fetch and check the provider's rules; send nothing")

    sub = add("watch", cmd_watch, "re-fetch open tracked orders and print their changes",
              config, store, json_flag)
    sub.add_argument("--interval", type=float, default=300.0, help="seconds between sweeps")
    sub.add_argument("--once", action="store_true", help="one sweep, then exit")
    sub.add_argument("--concurrency", type=int, default=32, help="requests in flight at most")

    sub = add("serve", cmd_serve, "serve the webhook receiver", config, store)
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8000, help="0 picks a free port")

    sub = add("sandbox", cmd_sandbox, "serve the providers' sandboxes on loopback")
    sub.add_argument("providers", nargs="*", metavar="PROVIDER", help="default: every sandbox")
    sub.add_argument("--host", default="127.0.0.1")

    sub = add("new-provider", cmd_new_provider, "write a provider plugin skeleton")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--dir", default=".", help="where to create it (default: here)")

    add("demo", cmd_demo, "sandboxes + webhooks + tracker, end to end, in seconds")
    return parser


def _setup_logging(verbose: bool) -> None:
    import logging

    def chatty(record: logging.LogRecord) -> bool:  # httpx logs every request at info
        return record.levelno >= logging.WARNING or not record.name.startswith("http")

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("orderstatus: %(levelname)s: %(message)s"))
    handler.addFilter(chatty)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code (see the module docstring)."""
    from .errors import OrderStatusError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, usage errors
        return int(done.code or 0)
    _setup_logging(args.verbose)
    try:
        return int(args.run(args))
    except CommandError as err:
        _error_line(str(err))
        return err.code
    except OrderStatusError as err:
        _error_line(str(err))
        return exit_code_for(err)
    except KeyboardInterrupt:
        _say("orderstatus: interrupted", err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as err:
        if os.environ.get("ORDERSTATUS_DEBUG"):
            raise
        _error_line(f"unexpected {type(err).__name__}: {err} (ORDERSTATUS_DEBUG=1 shows more)")
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
