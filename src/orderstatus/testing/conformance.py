"""The conformance suite every provider plugin runs against its own sandbox.

One line in a plugin's tests::

    from orderstatus.testing import conformance

    TestConformance = conformance.suite("acme")

The returned :class:`unittest.TestCase` (pytest collects it) finds the provider and its
sandbox through the plugin's registration and runs five tests:

- ``test_tables``: every native status maps to a canonical state, capabilities and update
  rules agree, update targets map back to their state, no rule leaves a terminal state.
- ``test_statuses``: every native status of the table, set in the sandbox, is fetched as the
  state the table gives it.
- ``test_update_rules``: from every native status, every update target is allowed or refused
  exactly as the rules say; refused updates raise
  :class:`~orderstatus.TransitionNotAllowedError` without sending a request, and the sandbox
  refuses them too when sent directly (it must be as strict as the real provider); providers
  without updates raise :class:`~orderstatus.UpdateNotSupportedError` without a request.
- ``test_errors``: an unknown order, wrong credentials, every injected fault and bad order ids
  raise the right orderstatus errors, none showing a credential (raw or URL-encoded, in
  ``str``, ``repr``, ``url``, any text attribute or a chained error).
- ``test_lifecycle``: a Hypothesis state machine that creates orders, moves them (and single
  items, for per-item providers) along legal transitions, updates them, delivers the
  sandbox's webhooks and reads its feed, checking after every step that the client shows the
  mapped state (the aggregate, for per-item providers), that a
  :class:`~orderstatus.Tracker` fed by every fetch and webhook never goes back, that terminal
  states stay terminal, and that no error shows a credential.

Each failure names the provider and what is wrong, e.g. ``printapi: sandbox status
'Processing' fetched as created, table says in_production``.
"""

from __future__ import annotations

import contextlib
import unittest
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, cast

import attrs
from hypothesis import HealthCheck
from hypothesis import settings as Settings
from hypothesis.stateful import run_state_machine_as_test

from orderstatus.errors import OrderStatusError
from orderstatus.lifecycle import OrderState
from orderstatus.plugins import Registry, default_registry

from ._machine import ConformanceMachine
from ._session import BAD_IDS, FAULTS, GOALS, Config, Session, sandbox_moves_items
from .sandbox import Sandbox
from .tables_check import table_problems

__all__ = ["ConformanceMachine", "ConformanceTestCase", "DEFAULT_SETTINGS", "suite",
           "table_problems"]

DEFAULT_SETTINGS = Settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
"""A few seconds per provider in-process; pass ``settings=`` to ``suite`` to go further."""


class ConformanceTestCase(unittest.TestCase):
    """Base of the classes :func:`suite` returns; not collected itself."""

    __test__ = False
    provider_name: ClassVar[str]
    registry: ClassVar[Registry | None] = None
    over_http: ClassVar[bool] = False
    settings: ClassVar[Settings] = DEFAULT_SETTINGS

    def _registry(self) -> Registry:
        return self.registry or default_registry()

    def _config(self, *, per_item: bool = False, base_url: str | None = None,
                serving: Callable[[Sandbox], None] | None = None) -> Config:
        """What a run needs: the provider, its sandbox (imported now) and the registry."""
        registry = self._registry()
        registration = registry.registration(self.provider_name)
        if not registration.has_sandbox:
            self.fail(f"{self.provider_name}: no sandbox is registered; call "
                      'register(Provider, sandbox="package.module:SandboxClass") in '
                      "orderstatus_register_providers")
        make_sandbox = registration.sandbox
        assert make_sandbox is not None
        return Config(self.provider_name, registration.provider, make_sandbox, registry,
                      per_item=per_item, base_url=base_url, serving=serving)

    def test_tables(self) -> None:
        """The provider's tables and rules are coherent."""
        config = self._config()
        problems = table_problems(config.provider, config.registry)
        if problems:
            self.fail(f"{self.provider_name}: " + f"\n{self.provider_name}: ".join(problems))
        sandbox = config.make_sandbox()
        if getattr(sandbox, "provider", None) != self.provider_name:
            self.fail(f"{self.provider_name}: the registered sandbox fakes "
                      f"{getattr(sandbox, 'provider', None)!r}")

    def test_statuses(self) -> None:
        """Every native status, set in the sandbox, is fetched as the table's state."""
        with self._session() as session:
            for native in sorted(session.config.provider.native_statuses):
                order_id = session.new_order(1)
                session.move_to(order_id, native)

    def test_update_rules(self) -> None:
        """From every native status, every update target is allowed or refused as the rules
        say, by the client (no request when refused) and by the sandbox."""
        with self._session() as session:
            provider = session.config.provider
            rules = provider.update_rules
            goals = sorted(rules.targets) if rules else []
            others = [g for g in OrderState if g not in goals and g is not OrderState.UNKNOWN]
            for native in sorted(provider.native_statuses):
                for goal in goals + others[:1]:
                    order_id = session.new_order(1)
                    session.move_to(order_id, native)
                    session.try_update(order_id, goal)

    def test_errors(self) -> None:
        """Unknown orders, wrong credentials, every fault and bad ids: the right error, no
        credential in it, and no request for a refused id."""
        with self._session() as session:
            order_id = session.new_order(1)
            session.fetch_missing()
            for fault in FAULTS:
                session.fetch_failing(order_id, fault)
            for bad in BAD_IDS:
                session.bad_order_id(bad)
            if session.checks.secrets:
                for goal in GOALS:
                    session.with_wrong_credentials(order_id, goal)

    @contextlib.contextmanager
    def _session(self) -> Iterator[Session]:
        """One session, outside Hypothesis, for the exhaustive checks."""
        with _serving(self.over_http) as (base_url, serving):
            session = Session(self._config(base_url=base_url, serving=serving))
            try:
                yield session
            finally:
                session.close()

    def test_lifecycle(self) -> None:
        """The sandbox and the client agree with the table and rules, step after step."""
        with _serving(self.over_http) as (base_url, serving):
            probe = self._config(base_url=base_url, serving=serving)
            try:
                per_item = sandbox_moves_items(probe)
            except OrderStatusError as err:
                self.fail(f"{self.provider_name}: fetching a new sandbox order failed: {err}")
            config = attrs.evolve(probe, per_item=per_item)
            factory = cast("type[ConformanceMachine]", lambda: ConformanceMachine(config))
            run_state_machine_as_test(factory, settings=self.settings)


@contextlib.contextmanager
def _serving(over_http: bool) -> Iterator[tuple[str | None, Callable[[Sandbox], None] | None]]:
    """Serve one app on loopback for the whole run, answering with the current sandbox."""
    if not over_http:
        yield None, None
        return
    from orderstatus.testing.asgi import asgi_app, serve

    current: list[Sandbox] = []

    def handle(request: Any) -> Any:
        return current[-1].handle(request)

    def switch(sandbox: Sandbox) -> None:
        current[:] = [sandbox]

    with serve(asgi_app(handle)) as url:
        yield url, switch


def suite(
    provider: str, *, registry: Registry | None = None, over_http: bool = False,
    settings: Settings | None = None,
) -> type[unittest.TestCase]:
    """The conformance tests of ``provider``, as a test case class to assign in a test module.

    Args:
        provider: the provider's registered name.
        registry: where the provider and its sandbox are registered (default: the
            installed plugins).
        over_http: serve the sandbox on loopback with a real server (needs uvicorn)
            instead of answering in-process.
        settings: Hypothesis settings for the state machine (default
            :data:`DEFAULT_SETTINGS`).
    """
    name = f"Conformance_{provider}" + ("_http" if over_http else "")
    attributes: dict[str, Any] = {
        "__test__": True,
        "__module__": ConformanceTestCase.__module__,
        "provider_name": provider,
        "registry": registry,
        "over_http": over_http,
        "settings": settings or DEFAULT_SETTINGS,
    }
    return cast("type[unittest.TestCase]", type(name, (ConformanceTestCase,), attributes))
