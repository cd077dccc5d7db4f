"""The ``orderstatus`` argument parser."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from .changes import cmd_changes
from .common import EXIT_CODES, EXIT_USAGE
from .orders import cmd_fetch, cmd_update
from .reference import cmd_lifecycle, cmd_mappings, cmd_providers
from .running import cmd_demo, cmd_new_provider, cmd_serve, cmd_watch
from .sandboxes import DEFAULT_PORT, cmd_sandbox

__all__ = ["build_parser"]

T = TypeVar("T")


class _Help(argparse.HelpFormatter):
    """Shows each option's default after its help, unless the help already speaks of it, or
    the default is "not given" (``None``, ``False``, nothing)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help = action.help or ""
        default = action.default
        if ("default" in help or default in (None, False, argparse.SUPPRESS)
                or default == [] or not isinstance(default, (str, int, float))):
            return help
        shown = f"{default:g}" if isinstance(default, float) else str(default)
        return f"{help} (default: {shown.replace('%', '%%')})"


class _Parser(argparse.ArgumentParser):
    """Reports a usage error as one line, like every other error of the command; shows
    defaults in ``--help``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"orderstatus: error: {message} (see: {self.prog} --help)\n")


def _checked(
    convert: Callable[[str], T], what: str, ok: Callable[[T], bool], rule: str
) -> Callable[[str], T]:
    """An argparse ``type``: ``convert`` the text, then refuse values that are not ``ok``."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text} {rule}")
        return value

    return parse


_count = _checked(int, "a whole number", lambda n: n >= 1, "is less than 1")
_port = _checked(int, "a port number", lambda n: 0 <= n <= 65535,
                 "is not a port number (0 to 65535)")
_seconds = _checked(float, "a number of seconds", lambda s: math.isfinite(s) and s > 0,
                    "seconds: must be more than 0")
_change_id = _checked(int, "a change id", lambda n: n >= 0, "is less than 0")


def build_parser() -> argparse.ArgumentParser:
    """The ``orderstatus`` argument parser."""
    from orderstatus import __version__
    from orderstatus.lifecycle import OrderState
    from orderstatus.models import Secret

    states = [s.value for s in OrderState if s is not OrderState.UNKNOWN]
    parser = _Parser(
        prog="orderstatus",
        description="One canonical order lifecycle over print-on-demand providers.",
        epilog="Exit codes: " + ", ".join(f"{c} {m}" for c, m in EXIT_CODES.items()) + ".",
    )
    parser.add_argument("--version", action="version", version=f"orderstatus {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    config = _Parser(add_help=False)
    config.add_argument("--config", metavar="FILE",
                        help="provider settings (JSON, or TOML) instead of the environment")
    store = _Parser(add_help=False)
    store.add_argument("--store", metavar="URL", type=Secret,
                       help="where the tracker keeps orders: sqlite:///PATH (or a file path), "
                       "postgresql://..., memory: (default: $ORDERSTATUS_STORE, or a file in "
                       "the user's data directory)")
    json_flag = _Parser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="JSON output")
    concurrency = _Parser(add_help=False)
    concurrency.add_argument("--concurrency", type=_count, default=32, metavar="N",
                             help="requests in flight at most")

    def add(name: str, run: Callable[[argparse.Namespace], int], help: str,
            *parents: _Parser, serving: bool = False) -> argparse.ArgumentParser:
        """A command; a ``serving`` one runs until stopped by SIGINT or SIGTERM (exit 0)."""
        sub = commands.add_parser(name, help=help, description=help, parents=list(parents))
        sub.set_defaults(run=run, serving=serving)
        return sub

    add("providers", cmd_providers, "installed providers, capabilities and plugin failures",
        json_flag)
    sub = add("lifecycle", cmd_lifecycle, "the canonical lifecycle")
    sub.add_argument("--format", choices=("table", "mermaid", "json"), default="table",
                     help="a table of transitions, a Mermaid state diagram, or JSON")
    sub = add("mappings", cmd_mappings, "native statuses, payments and update rules")
    sub.add_argument("provider", nargs="?", help="one provider (default: all installed)")
    sub.add_argument("--format", choices=("table", "json"), default="table",
                     help="tables, or one JSON object per provider")

    sub = add("fetch", cmd_fetch, "fetch orders' statuses", config, store, json_flag,
              concurrency)
    sub.add_argument("refs", nargs="*", metavar="REF", help="provider:order_id")
    sub.add_argument("--from", dest="sources", metavar="FILE", action="append", default=[],
                     help="references from a file (- for stdin; repeatable): CSV with "
                     "provider,order_id columns, or provider:order_id lines")
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

    sub = add("watch", cmd_watch, "check due tracked orders and print their changes",
              config, store, json_flag, concurrency, serving=True)
    sub.add_argument("--interval", type=_seconds, default=60.0, metavar="SECONDS",
                     help="time between sweeps; each order is checked when it is due")
    sub.add_argument("--once", action="store_true",
                     help="one sweep, then exit (interrupted: 130, like any one-off command)")

    sub = add("changes", cmd_changes, "print the tracker's stored changes, oldest first",
              store, json_flag, serving=True)
    start = sub.add_mutually_exclusive_group()
    start.add_argument("--after", type=_change_id, default=0, metavar="ID",
                       help="only changes with ids above ID (default: every stored change)")
    start.add_argument("--consumer", metavar="NAME",
                       help="as the named consumer: its unacknowledged changes, acknowledged "
                       "once printed")
    sub.add_argument("--follow", action="store_true",
                     help="keep printing new changes until interrupted (then exit 0)")
    sub.add_argument("--interval", type=_seconds, default=1.0, metavar="SECONDS",
                     help="with --follow: time between looks for new changes")

    def listening(sub: argparse.ArgumentParser, port: int) -> None:
        """``--host`` and ``--port``, for a command that serves."""
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on")
        sub.add_argument("--port", type=_port, default=port,
                         help="port to listen on; 0 picks a free one")

    sub = add("serve", cmd_serve, "serve the webhook receiver", config, store, serving=True)
    listening(sub, 8000)

    sub = add("sandbox", cmd_sandbox, "serve the providers' sandboxes, each under /PROVIDER/ "
              "of one port, seeded with the documented example orders", serving=True)
    sub.add_argument("providers", nargs="*", metavar="PROVIDER",
                     help="the sandboxes to serve (default: every installed one)")
    listening(sub, DEFAULT_PORT)
    sub.add_argument("--webhooks", metavar="URL",
                     help="send each sandbox's webhooks to URL/PROVIDER, e.g. "
                     "http://127.0.0.1:8000/webhooks/ for orderstatus serve")
    sub.add_argument("--no-examples", action="store_true",
                     help="start empty, without the example orders")

    sub = add("new-provider", cmd_new_provider, "write a provider plugin skeleton")
    sub.add_argument("name", metavar="NAME",
                     help="the provider's name: lowercase letters, digits and _, starting with a "
                     "letter (writes orderstatus-NAME)")
    sub.add_argument("--dir", default=".", help="where to create it (default: here)")

    add("demo", cmd_demo, "sandboxes + webhooks + tracker, end to end, in seconds")
    return parser
