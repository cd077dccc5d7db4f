"""``sandbox``: the providers' sandboxes on one port, seeded with the documented examples.

Every sandbox is served under ``/{provider}/`` of one address (:func:`orderstatus.asgi.mount`),
so a provider's URL stays the same whichever others are installed or named, and one port is
all there is to forward or open. With a fixed ``--port`` (the default), what the command
prints is the same on every run: the credentials are the sandboxes' own constants.

Its standard output is a shell script, comments and ``export`` lines, so that
``orderstatus sandbox > sandbox.env &`` then ``. sandbox.env`` works. Served this way, a
sandbox's clock runs with this machine's, and its due webhooks are sent every
:data:`TICK` seconds, as a provider sends them, without moving the clock.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shlex
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import attrs

from .common import EXIT_CONFIG, EXIT_OK, CommandError
from .output import say

if TYPE_CHECKING:
    from orderstatus.plugins import Registration
    from orderstatus.testing.sandbox import Example, Sandbox

__all__ = ["DEFAULT_PORT", "TICK", "banner", "cmd_sandbox"]

DEFAULT_PORT = 8111
"""``orderstatus sandbox``'s port unless told another; ``serve``'s 8000 stays free."""
TICK = 1.0
"""Seconds between two rounds of a served sandbox's due webhooks."""

log = logging.getLogger("orderstatus.sandbox")


@attrs.frozen
class Served:
    """One sandbox, served under ``/{name}/`` of the command's address."""

    registration: Registration
    sandbox: Sandbox
    url: str
    examples: Sequence[Example]

    @property
    def name(self) -> str:
        return self.registration.provider.name

    def control(self, action: str) -> str:
        return f"{self.url}_sandbox/{action}"


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Serve the sandboxes; print the settings that reach them and how to drive them."""
    from orderstatus.asgi import base_url, listen, mount, serve
    from orderstatus.plugins import default_registry

    registry = default_registry()
    names = args.providers or [n for n in registry.names if registry.registration(n).has_sandbox]
    if not names:
        raise CommandError("no installed provider has a sandbox", EXIT_CONFIG)
    webhooks = _webhooks_base(args.webhooks)
    sock = listen(args.host, args.port)
    root = base_url(sock)
    served = []
    with contextlib.ExitStack() as stack:
        stack.callback(sock.close)
        for name in dict.fromkeys(names):
            reg = registry.registration(name)  # UnknownProviderError: exit 3
            make_sandbox = reg.sandbox
            if make_sandbox is None:
                raise CommandError(f"{name} has no sandbox", EXIT_CONFIG)
            sandbox = make_sandbox()
            examples = [] if args.no_examples else sandbox.seed_examples()
            if webhooks is not None:
                sandbox.subscribe(webhooks + name)
            served.append(Served(reg, sandbox, f"{root}{name}/", examples))
        stack.enter_context(serve(mount({s.name: s.sandbox.asgi() for s in served}), sock=sock))
        stack.enter_context(_ticking([s.sandbox for s in served]))
        for line in banner(root, served, webhooks):
            say(line)
        threading.Event().wait()  # until the stop signal interrupts it
    return EXIT_OK


def _webhooks_base(url: str | None) -> str | None:
    """``--webhooks URL`` as the base each provider's name is appended to."""
    if url is None:
        return None
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as err:
        raise CommandError(f"--webhooks {url!r} is not a url: {err}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host or parsed.query:
        raise CommandError(f"--webhooks {url!r} must be an http(s) url without a query")
    return url if url.endswith("/") else url + "/"


@contextlib.contextmanager
def _ticking(sandboxes: Sequence[Sandbox]) -> Iterator[None]:
    """Every :data:`TICK` seconds, let each sandbox's clock catch up with time (expiring
    what it expires) and send its due webhooks."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(TICK):
            for sandbox in sandboxes:
                try:
                    sandbox.advance(0)
                except Exception:  # one sandbox's failure must not stop the others' webhooks
                    log.exception("the %s sandbox failed to send its webhooks", sandbox.provider)

    thread = threading.Thread(target=tick, name="orderstatus-sandbox-ticks", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _curl(url: str, body: object) -> str:
    return f"curl -s -X POST {url} -d {shlex.quote(json.dumps(body))}"


def banner(root: str, served: Sequence[Served], webhooks: str | None) -> list[str]:
    """What ``orderstatus sandbox`` prints: shell comments, and ``export`` lines."""
    from orderstatus.lifecycle import OrderState
    from orderstatus.settings import env_names

    from .demo import lifecycle_walk

    lines = [f"# orderstatus sandboxes at {root}, one path per provider"]
    moves: list[tuple[Served, str]] = []
    for s in served:
        provider = s.registration.provider
        lines += ["#", f"# {provider.title} sandbox: {s.url} (control api: {s.control('')})"]
        if s.examples:
            lines.append(f"#   example orders: {', '.join(str(e) for e in s.examples)}")
        variables = env_names(s.name, provider.settings_class)
        lines += [f"export {variables[field]}={shlex.quote(str(value))}"
                  for field, value in s.sandbox.settings(s.url).items()]
        new = next((e for e in s.examples if provider.native_statuses.get(e.status)
                    and provider.native_statuses[e.status].state is OrderState.CREATED), None)
        walk = lifecycle_walk(provider)
        if new is not None and walk:
            moves.append((s, _curl(s.control(f"orders/{new.order_id}/status"),
                                   {"status": walk[0][1]})))
    lead = moves[0][0] if moves else served[0]
    refs = [f"{s.name}:{e.order_id}" for s in served for e in s.examples]
    lines += ["#", "# With these exported, every orderstatus command and Client.from_env() "
              "use the sandboxes:"]
    if refs:
        lines.append(f"#   orderstatus fetch {' '.join(refs)}")
    lines += ["# Create an order, move one, and run a sandbox's clock an hour on:",
              f"#   {_curl(lead.control('orders'), {'items': 2})}",
              *(f"#   {move}" for _, move in moves),
              f"#   {_curl(lead.control('clock'), {'advance': 3600})}"]
    if webhooks is None:
        lines += ["# Webhooks are sent every second once subscribed (--webhooks URL subscribes "
                  "every sandbox; `orderstatus serve` takes them):",
                  f"#   {_curl(lead.control('webhooks'), {'url': _receiver(lead.name)})}"]
    else:
        lines.append(f"# Webhooks go to {webhooks}{{provider}}, every second.")
    lines.append("# Serving until Ctrl-C.")
    return lines


def _receiver(name: str) -> str:
    """Where ``orderstatus serve``, with its defaults, takes ``name``'s webhooks."""
    return f"http://127.0.0.1:8000/webhooks/{name}"
