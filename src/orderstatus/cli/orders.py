"""Commands on orders: ``fetch`` and ``update``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from . import stopping
from .common import EXIT_OK, CommandError, exit_code_for, exit_code_for_all
from .inputs import make_client, make_tracker, parse_ref, read_refs, require
from .output import (
    PROGRESS_THRESHOLD,
    Progress,
    dumps,
    error_line,
    print_tables,
    say,
    state_text,
    status_record,
    status_table,
)

if TYPE_CHECKING:
    from orderstatus.models import FetchFailure, OrderStatus

__all__ = ["cmd_fetch", "cmd_update", "result_record"]


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch orders; a table or JSON lines on stdout, failures on stderr (or as JSON); exit
    with the code of the most serious failure (:func:`.exit_code_for_all`).

    The fetches run on the async client, so that Ctrl-C cancels those in flight at once.
    """
    from orderstatus.models import FetchFailure

    refs = [parse_ref(r) for r in args.refs]
    for source in args.sources:
        refs.extend(read_refs(source))
    if not refs:
        raise CommandError("no orders given: pass provider:order_id references or --from FILE")
    position = {ref: n for n, ref in reversed(list(enumerate(refs)))}
    progress = Progress(
        len(refs),
        not args.no_progress and len(refs) > PROGRESS_THRESHOLD and sys.stderr.isatty(),
        sys.stderr,
    )
    tracker = make_tracker(args) if args.track else None
    statuses: list[OrderStatus] = []
    failures: list[FetchFailure] = []

    async def fetch_all() -> None:
        async with make_client(args, asynchronous=True) as client:
            require(client, (p for p, _ in refs))
            async for result in client.fetch_many(refs, concurrency=args.concurrency,
                                                  strict=args.strict or None):
                progress.step()
                if isinstance(result, FetchFailure):
                    failures.append(result)
                else:
                    statuses.append(result)
                    if tracker is not None:
                        await tracker.aobserve(result)
                if args.json:
                    progress.close()  # redrawn at the next step
                    say(dumps(result_record(result)))

    try:
        stopping.run(fetch_all)
    finally:
        progress.close()
        if tracker is not None:
            tracker.close()
    if not args.json:
        statuses.sort(key=lambda s: position.get((s.provider, s.order_id), 0))
        print_tables([status_table(statuses)])
        for failure in sorted(failures, key=lambda f: position.get((f.provider, f.order_id), 0)):
            error_line(str(failure.error))
    return exit_code_for_all(f.error for f in failures)


def result_record(result: OrderStatus | FetchFailure) -> dict[str, Any]:
    """A fetch result as a JSON-ready mapping; a failure carries its error and exit code."""
    from orderstatus.models import FetchFailure

    if isinstance(result, FetchFailure):
        return {"provider": result.provider, "order_id": result.order_id,
                "error": str(result.error), "error_type": type(result.error).__name__,
                "exit_code": exit_code_for(result.error)}
    return status_record(result)


def cmd_update(args: argparse.Namespace) -> int:
    """Move one order to a canonical state, or only check the rules with ``--dry-run``."""
    provider, order_id = parse_ref(args.ref)
    with make_client(args) as client:
        require(client, [provider])
        # the dry run fetches and checks the rules (refusing before any request when the
        # provider cannot update); the real update then reuses that fetch
        before = client.update(provider, order_id, args.to, dry_run=True)
        after = before if args.dry_run else client.update(
            provider, order_id, args.to, current=before
        )
    where = f"{provider} order {order_id!r}"
    if args.json:
        say(dumps({"dry_run": args.dry_run, "before": status_record(before),
                   "after": None if args.dry_run else status_record(after)}))
    elif after is before and not args.dry_run:  # the client found the order already there
        say(f"{where} is already {before.state} ({before.native_status}); nothing sent")
    elif args.dry_run:
        say(f"dry run: {where} may move from {state_text(before)} ({before.native_status})"
            f" to {args.to}; nothing sent")
    else:
        say(f"{where}: {state_text(before)} ({before.native_status}) -> "
            f"{state_text(after)} ({after.native_status})")
    return EXIT_OK
