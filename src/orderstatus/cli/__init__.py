"""The ``orderstatus`` command.

Commands::

    orderstatus providers [--json]                  installed plugins, capabilities, failures
    orderstatus lifecycle [--format table|mermaid|json]
    orderstatus mappings [PROVIDER] [--format table|json]
    orderstatus fetch REF... [--from FILE] [--json] [--no-progress] [--track] [--store URL]
    orderstatus update REF --to STATE [--dry-run] [--json]
    orderstatus watch [--interval S] [--once] [--store URL] [--json]
    orderstatus changes [--after ID | --consumer NAME] [--follow] [--store URL] [--json]
    orderstatus serve [--host H] [--port P] [--store URL]
    orderstatus sandbox [PROVIDER...] [--port P] [--webhooks URL] [--no-examples]
    orderstatus new-provider NAME [--dir DIR]
    orderstatus demo

``REF`` is ``provider:order_id``. Providers are configured from ``ORDERSTATUS_<PROVIDER>_<FIELD>``
environment variables (``Client.from_env``), or from ``--config FILE`` (JSON, or TOML on
Python 3.11+ or with ``tomli`` installed): a mapping of provider name to its settings.
``ORDERSTATUS_STORE`` (or ``--store``) names the tracker's store: ``sqlite:///PATH`` or a file
path, ``postgresql://…``, ``memory:`` (default: a SQLite file in the user's data directory);
``ORDERSTATUS_DISABLE_PLUGINS`` blocks plugins; ``ORDERSTATUS_DEBUG=1`` shows tracebacks.

Exit codes (:data:`.common.EXIT_CODES`): 0 ok; 1 orders failed (not found) or an update was
refused; 2 usage error (bad arguments, malformed order reference or id, unreadable input
file); 3 configuration error (missing or invalid settings, unknown provider, credentials
refused, missing uvicorn, a port that cannot be used); 4 provider error (unavailable, rate
limited, unreadable answer, outcome unknown); a command working on several orders (``fetch``,
``watch --once``) exits with its most serious failure's (:func:`.common.exit_code_for_all`);
130 interrupted: Ctrl-C cancels the work in flight and stops a one-off command (``watch
--once`` included) at once. The serving commands (``watch``, ``changes --follow``, ``serve``,
``sandbox``) stop with 0 on Ctrl-C or SIGTERM, at any moment; signals while a command stops
are ignored (see :mod:`.stopping`). Errors are one line on stderr, never a traceback.

The package: :mod:`.common` (exit codes, errors), :mod:`.output` (lines, JSON, tables, progress),
:mod:`.inputs` (settings, store, order references), the commands in :mod:`.reference`,
:mod:`.orders`, :mod:`.running`, :mod:`.sandboxes`, :mod:`.demo` and :mod:`.changes`,
:mod:`.parser`, and :mod:`.stopping` (signals).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from . import common
from .common import *  # noqa: F403 (the exit codes, CommandError and exit_code_for)
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, CommandError, exit_code_for
from .inputs import parse_ref, read_refs
from .output import change_line, change_record, error_line, say, status_record, status_table
from .parser import build_parser
from .stopping import Stop

__all__ = [
    "build_parser",
    "change_line",
    "change_record",
    "main",
    "parse_ref",
    "read_refs",
    "status_record",
    "status_table",
]
__all__ += common.__all__


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
    from orderstatus.errors import OrderStatusError

    with Stop(signal.SIGINT) as stop:
        serving = False
        try:
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as done:  # --help, --version, usage errors
                return int(done.code or 0)
            # watch --once and changes without --follow end by themselves: one-off commands
            serving = (args.serving and not getattr(args, "once", False)
                       and getattr(args, "follow", True))
            if args.serving:
                stop.take(signal.SIGTERM)
            _setup_logging(args.verbose)
            return int(args.run(args))
        except CommandError as err:
            error_line(str(err))
            return err.code
        except OrderStatusError as err:
            error_line(str(err))
            return exit_code_for(err)
        except KeyboardInterrupt:
            if serving:  # how a serving command is stopped
                return EXIT_OK
            say("orderstatus: interrupted", err=True)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
        except Exception as err:
            if os.environ.get("ORDERSTATUS_DEBUG"):
                raise
            error_line(f"unexpected {type(err).__name__}: {err} (ORDERSTATUS_DEBUG=1 shows more)")
            return EXIT_FAILED
