"""The orderstatus pytest plugin: sandboxes, loopback servers and configured clients as fixtures.

Installed with orderstatus (``pytest11`` entry point ``orderstatus``); disable it with
``-p no:orderstatus``. Importing it imports nothing but pytest: orderstatus, httpx and uvicorn
are imported by the fixtures that need them.

Fixtures:
    orderstatus_registry: where providers and sandboxes come from (the installed plugins);
        override it in a ``conftest.py`` to test with your own registry.
    orderstatus_sandboxes: ``{provider: Sandbox}``, a fresh sandbox per registered provider
        (or per provider named by the marker) for every test, faults from the marker injected.
    orderstatus_served: ``{provider: base_url}``, this test's sandboxes served on loopback by a
        real server. Servers live for the whole session (one per provider, started on first
        use); each test's fresh sandboxes answer behind them, so no state leaks across tests.
    orderstatus_client: a :class:`~orderstatus.Client` configured for those sandboxes,
        in-process by default, over loopback HTTP with ``http=True`` on the marker. Retry
        waits are skipped (the sleeps asked for are in ``client.sleeps``).
    orderstatus_async_client: the same as an :class:`~orderstatus.AsyncClient`; use it inside
        ``asyncio.run(...)`` (no async test plugin needed).

Marker::

    @pytest.mark.orderstatus(providers=["gooten"], faults={"gooten": [{"kind": "status"}]},
                             http=True)

``providers`` chooses the sandboxes (default: all); ``faults`` maps a provider (or ``"*"``
for all) to one fault or a list of faults, each the keyword arguments of
:meth:`Faults.inject <orderstatus.testing.sandbox.Faults.inject>`; ``http`` serves the
sandboxes on loopback and points the clients there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from orderstatus import AsyncClient, Client, Registry
    from orderstatus.testing.sandbox import Sandbox

__all__ = [
    "orderstatus_async_client",
    "orderstatus_client",
    "orderstatus_registry",
    "orderstatus_sandboxes",
    "orderstatus_served",
]

MARKER = "orderstatus"
_OPTIONS = frozenset({"providers", "faults", "http"})


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``orderstatus`` marker."""
    config.addinivalue_line(
        "markers",
        "orderstatus(providers=None, faults=None, http=False): choose the orderstatus "
        "sandboxes, inject faults into them, and serve them over loopback http",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise pytest.UsageError("@pytest.mark.orderstatus takes keyword arguments only")
    unknown = set(options) - _OPTIONS
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.orderstatus: unknown options {sorted(unknown)}; "
            f"known: {sorted(_OPTIONS)}"
        )
    return options


def _faults_for(faults: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    chosen: list[dict[str, Any]] = []
    for key in ("*", name):
        value = faults.get(key, [])
        chosen.extend([dict(value)] if isinstance(value, Mapping) else list(value))
    return [dict(f) for f in chosen]


@pytest.fixture
def orderstatus_registry() -> Registry:
    """The registry whose sandboxes the fixtures use: the installed plugins."""
    from orderstatus import default_registry

    return default_registry()


@pytest.fixture
def orderstatus_sandboxes(
    request: pytest.FixtureRequest, orderstatus_registry: Registry
) -> dict[str, Sandbox]:
    """A fresh sandbox per provider (all with a sandbox, or the marker's), faults injected."""
    options = _options(request)
    registry = orderstatus_registry
    available = [n for n in registry.names if registry.registration(n).has_sandbox]
    chosen = options.get("providers") or available
    if isinstance(chosen, str):
        chosen = [chosen]  # providers="gooten" means the one provider, not its letters
    names = list(chosen)
    missing = sorted(set(names) - set(available))
    if missing:
        raise pytest.UsageError(
            f"@pytest.mark.orderstatus: no sandbox for {missing}; "
            f"sandboxes: {', '.join(available) or 'none'}"
        )
    faults: Mapping[str, Any] = options.get("faults") or {}
    stray = sorted(set(faults) - set(names) - {"*"})
    if stray:
        raise pytest.UsageError(f"@pytest.mark.orderstatus: faults for unchosen providers {stray}")
    sandboxes: dict[str, Sandbox] = {}
    for name in names:
        factory = registry.registration(name).sandbox
        assert factory is not None
        sandbox = factory()
        for fault in _faults_for(faults, name):
            try:
                sandbox.faults.inject(fault.pop("kind"), **fault)
            except (KeyError, TypeError, ValueError) as err:
                raise pytest.UsageError(
                    f"@pytest.mark.orderstatus: bad fault for {name}: {err}; a fault is "
                    '{"kind": …} plus options of orderstatus.testing.sandbox.Fault'
                ) from None
        sandboxes[name] = sandbox
    return sandboxes


class _Servers:
    """One loopback server per provider for the whole session, answering with the sandbox
    the current test gave it."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._urls: dict[str, str] = {}
        self._current: dict[str, Sandbox] = {}
        self._lock = threading.Lock()

    def serve(self, name: str, sandbox: Sandbox) -> str:
        from orderstatus.testing.asgi import asgi_app, serve

        with self._lock:
            self._current[name] = sandbox
            if name not in self._urls:

                def handle(request: Any, name: str = name) -> Any:
                    return self._current[name].handle(request)

                self._urls[name] = self._stack.enter_context(serve(asgi_app(handle)))
            return self._urls[name]

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def _orderstatus_servers() -> Iterator[_Servers]:
    servers = _Servers()
    yield servers
    servers.close()


@pytest.fixture
def orderstatus_served(
    orderstatus_sandboxes: dict[str, Sandbox], _orderstatus_servers: _Servers
) -> dict[str, str]:
    """``{provider: base_url}``: this test's sandboxes behind real loopback servers."""
    return {name: _orderstatus_servers.serve(name, sandbox)
            for name, sandbox in orderstatus_sandboxes.items()}


def _client_options(
    request: pytest.FixtureRequest, sandboxes: dict[str, Sandbox], registry: Registry, *,
    asynchronous: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Settings and client keyword arguments for the chosen sandboxes."""
    if _options(request).get("http"):
        served: dict[str, str] = request.getfixturevalue("orderstatus_served")
        settings = {n: s.settings(served[n]) for n, s in sandboxes.items()}
        if not asynchronous:
            return settings, {"registry": registry}
        import httpx

        # No idle connections: the test's event loop ends before the fixture's teardown.
        idle = httpx.Limits(max_keepalive_connections=0)
        return settings, {"registry": registry,
                          "transport": {n: httpx.AsyncHTTPTransport(limits=idle)
                                        for n in sandboxes}}
    settings = {n: s.settings("http://127.0.0.1/") for n, s in sandboxes.items()}
    return settings, {"registry": registry,
                      "transport": {n: s.transport() for n, s in sandboxes.items()}}


@pytest.fixture
def orderstatus_client(
    request: pytest.FixtureRequest, orderstatus_sandboxes: dict[str, Sandbox],
    orderstatus_registry: Registry,
) -> Iterator[Client]:
    """A :class:`~orderstatus.Client` for this test's sandboxes (retry waits skipped)."""
    from orderstatus import Client

    settings, options = _client_options(request, orderstatus_sandboxes, orderstatus_registry)
    sleeps: list[float] = []
    client = Client(settings, sleep=sleeps.append, **options)
    client.sleeps = sleeps  # type: ignore[attr-defined]
    yield client
    client.close()


@pytest.fixture
def orderstatus_async_client(
    request: pytest.FixtureRequest, orderstatus_sandboxes: dict[str, Sandbox],
    orderstatus_registry: Registry,
) -> Iterator[AsyncClient]:
    """An :class:`~orderstatus.AsyncClient` for this test's sandboxes (retry waits skipped).

    Use it inside ``asyncio.run(...)``; it is closed after the test. Over HTTP it keeps no
    idle connections, since the test's event loop ends before the fixture's teardown.
    """
    from orderstatus import AsyncClient

    settings, options = _client_options(
        request, orderstatus_sandboxes, orderstatus_registry, asynchronous=True
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = AsyncClient(settings, sleep=sleep, **options)
    client.sleeps = sleeps  # type: ignore[attr-defined]
    yield client
    asyncio.run(client.aclose())
