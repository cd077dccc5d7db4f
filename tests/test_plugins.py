"""Plugin discovery through real entry points, isolation of broken plugins, and the hooks."""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path

import orderstatus_fakeshop
import pytest
from orderstatus_fakeshop import FakeshopProvider, FakeshopSandbox

from orderstatus import (
    Client,
    ConfigurationError,
    OrderState,
    Registry,
    StatusChange,
    UnknownProviderError,
    hookimpl,
)

GOOD = '''
import orderstatus
from orderstatus_fakeshop import FakeshopProvider


class Twin(FakeshopProvider):
    name = "twin"


@orderstatus.hookimpl
def orderstatus_register_providers(register):
    register(Twin)
'''

MODULES = {
    "os_good": GOOD,
    "os_twin_again": GOOD,
    "os_import_fails": "raise RuntimeError('boom at import')\n",
    "os_register_fails": textwrap.dedent('''
        import orderstatus

        @orderstatus.hookimpl
        def orderstatus_register_providers(register):
            raise ValueError("cannot register today")
    '''),
    "os_not_a_provider": textwrap.dedent('''
        import orderstatus

        @orderstatus.hookimpl
        def orderstatus_register_providers(register):
            register(dict)
    '''),
    "os_bad_hook_signature": textwrap.dedent('''
        import orderstatus

        @orderstatus.hookimpl
        def orderstatus_register_providers(register, extra):
            pass
    '''),
    "os_misspelt_hook": textwrap.dedent('''
        import orderstatus

        @orderstatus.hookimpl
        def orderstatus_register_provider(register):
            raise AssertionError("a hook no specification knows is never called")
    '''),
    "os_lazy": textwrap.dedent('''
        import orderstatus
        from orderstatus_fakeshop import FakeshopProvider


        class Lazy(FakeshopProvider):
            name = "lazy"


        class Missing(FakeshopProvider):
            name = "missing"


        @orderstatus.hookimpl
        def orderstatus_register_providers(register):
            register(Lazy, sandbox="os_lazy_box:LazySandbox")
            register(Missing, sandbox="os_nowhere:Box")
    '''),
    "os_lazy_box": textwrap.dedent('''
        from orderstatus_fakeshop import FakeshopSandbox


        class LazySandbox(FakeshopSandbox):
            provider = "lazy"
    '''),
    "os_bad_sandbox": textwrap.dedent('''
        import orderstatus
        from orderstatus_fakeshop import FakeshopProvider


        class Bad(FakeshopProvider):
            name = "bad"


        @orderstatus.hookimpl
        def orderstatus_register_providers(register):
            register(Bad, sandbox="a sandbox, somewhere")
    '''),
}
ENTRY_POINTS = [m for m in MODULES if m != "os_lazy_box"]


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A distribution on sys.path whose entry points name the modules above."""
    for module, source in MODULES.items():
        (tmp_path / f"{module}.py").write_text(source)
    info = tmp_path / "orderstatus_testplugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: orderstatus-testplugins\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[orderstatus]\n" + "".join(f"{m.removeprefix('os_')} = {m}\n" for m in ENTRY_POINTS)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_installed_test_plugin_is_found_through_its_entry_point() -> None:
    registry = Registry.load(environ={})
    registration = registry.registration("fakeshop")
    assert registration.provider is FakeshopProvider
    assert registration.plugin == "fakeshop"
    assert registration.sandbox is FakeshopSandbox


def test_broken_plugins_are_isolated_and_reported(
    plugin_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    registry = Registry.load(environ={})
    assert "fakeshop" in registry.names
    failures = {f.plugin: f.reason for f in registry.failures}
    assert "boom at import" in failures["import_fails"]
    assert "cannot register today" in failures["register_fails"]
    assert "not a subclass of orderstatus.Provider" in failures["not_a_provider"]
    assert "invalid plugin" in failures["bad_hook_signature"]
    assert "'twin' is also registered by 'good'" in failures["twin_again"]
    assert any("import_fails" in r.getMessage() for r in caplog.records)


def test_duplicate_provider_names_are_a_clear_error(plugin_dir: Path) -> None:
    registry = Registry.load(environ={})
    assert "twin" not in registry.names
    with pytest.raises(ConfigurationError, match="registered by several plugins: good, twin_again"):
        Client({"twin": {"api_key": "k"}}, registry=registry)


def test_disable_plugins_blocks_by_name(plugin_dir: Path) -> None:
    registry = Registry.load(environ={"ORDERSTATUS_DISABLE_PLUGINS": "twin_again, import_fails"})
    assert registry.blocked == ("import_fails", "twin_again")
    assert "twin" in registry.names
    assert "import_fails" not in {f.plugin for f in registry.failures}
    blocked = Registry.load(environ={"ORDERSTATUS_DISABLE_PLUGINS": "fakeshop"})
    with pytest.raises(UnknownProviderError, match="no provider named 'fakeshop'"):
        blocked.registration("fakeshop")


def _registry_with(plugin: object) -> Registry:
    registry = Registry.load(environ={})
    registry.add_plugin(plugin, "host")
    return registry


def test_map_status_hook_overrides_one_mapping(sandbox: FakeshopSandbox) -> None:
    class Host:
        @hookimpl
        def orderstatus_map_status(self, provider: str, native_status: str) -> object:
            if (provider, native_status) == ("fakeshop", "held"):
                return (OrderState.ACTION_REQUIRED, "approval")
            return None

    registry = _registry_with(Host())
    order = sandbox.create_order()
    sandbox.set_status(order, "held")
    with Client({"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                transport=sandbox.transport(), registry=registry) as client:
        status = client.fetch("fakeshop", order)
        assert (status.state, status.reason) == (OrderState.ACTION_REQUIRED, "approval")
        sandbox.set_status(order, "making")
        assert client.fetch("fakeshop", order).state is OrderState.IN_PRODUCTION


def test_status_changed_hook_failures_are_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[StatusChange] = []

    class Loud:
        @hookimpl
        def orderstatus_status_changed(self, change: StatusChange) -> None:
            raise RuntimeError("observer crashed")

    class Quiet:
        @hookimpl
        def orderstatus_status_changed(self, change: StatusChange) -> None:
            heard.append(change)

    registry = _registry_with(Loud())
    registry.add_plugin(Quiet(), "quiet")
    from orderstatus import OrderStatus

    status = OrderStatus("fakeshop", "F-1", OrderState.CREATED, "new")
    change = StatusChange("fakeshop", "F-1", None, OrderState.CREATED, (), False, status)
    registry.notify(change)
    assert heard == [change]
    assert "observer crashed" in caplog.text


def test_every_hook_is_specified_typed_and_documented() -> None:
    import inspect

    from orderstatus import hookspecs

    specs = {n for n in dir(hookspecs) if n.startswith("orderstatus_")}
    assert specs == {"orderstatus_register_providers", "orderstatus_status_changed",
                     "orderstatus_map_status"}
    for name in specs:
        function = getattr(hookspecs, name)
        assert function.__doc__ and "Args:" in function.__doc__
        signature = inspect.signature(function)
        assert signature.return_annotation is not inspect.Signature.empty
        assert all(p.annotation is not inspect.Parameter.empty
                   for p in signature.parameters.values())


def test_a_misspelt_hook_fails_its_plugin_clearly_and_the_others_load(plugin_dir: Path) -> None:
    registry = Registry.load(environ={})
    failures = {f.plugin: f.reason for f in registry.failures}
    assert failures["misspelt_hook"] == (
        "unknown hook 'orderstatus_register_provider'; the hooks are orderstatus_map_status, "
        "orderstatus_register_providers, orderstatus_status_changed"
    )
    assert registry.pm.get_plugin("misspelt_hook") is None
    assert {"fakeshop", "lazy"} <= set(registry.names)


def test_a_sandbox_registered_by_import_path_is_imported_on_first_use(
    plugin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "os_lazy_box", raising=False)
    registry = Registry.load(environ={})
    registration = registry.registration("lazy")
    assert registration.has_sandbox
    assert registration.sandbox_ref == "os_lazy_box:LazySandbox"
    assert "os_lazy_box" not in sys.modules
    sandbox_class = registration.sandbox
    assert sandbox_class is sys.modules["os_lazy_box"].LazySandbox
    assert sandbox_class().provider == "lazy"


def test_a_sandbox_path_that_does_not_resolve_is_a_clear_error(plugin_dir: Path) -> None:
    registry = Registry.load(environ={})
    failures = {f.plugin: f.reason for f in registry.failures}
    assert failures["bad_sandbox"] == (
        "registration failed: TypeError: sandbox must be an import path "
        "'package.module:Class' or a callable without arguments"
    )
    missing = registry.registration("missing")
    assert missing.has_sandbox
    with pytest.raises(ConfigurationError, match=(
        r"^missing: the sandbox 'os_nowhere:Box' of plugin 'lazy' cannot be loaded: "
        r"ModuleNotFoundError: No module named 'os_nowhere'$")):
        missing.sandbox  # noqa: B018 (the property imports)


def test_blocked_names_are_blocked_in_the_plugin_manager_too() -> None:
    registry = Registry.load(environ={"ORDERSTATUS_DISABLE_PLUGINS": "fakeshop"})
    assert registry.pm.is_blocked("fakeshop")
    registry.add_plugin(orderstatus_fakeshop, "fakeshop")  # a blocked name stays out
    assert "fakeshop" not in registry.names
    assert registry.failures == []


def test_observers_are_called_through_the_hook_wrappers_and_tracing_see_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from orderstatus import OrderStatus

    calls: list[str] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def orderstatus_status_changed(self, change: StatusChange) -> object:
            calls.append("wrapper before")
            result = yield
            calls.append("wrapper after")
            return result

    class Loud:
        @hookimpl
        def orderstatus_status_changed(self, change: StatusChange) -> None:
            calls.append("loud")
            raise RuntimeError("observer crashed")

    class Quiet:
        @hookimpl
        def orderstatus_status_changed(self, change: StatusChange) -> None:
            calls.append("quiet")

    registry = Registry()
    for name, plugin in [("quiet", Quiet()), ("loud", Loud()), ("wrapper", Wrapper())]:
        registry.add_plugin(plugin, name)
    traced: list[str] = []
    registry.pm.add_hookcall_monitoring(
        lambda hook, impls, kwargs: traced.append(f"{hook} {len(impls)}"),
        lambda outcome, hook, impls, kwargs: traced.append(f"{hook} done"),
    )
    status = OrderStatus("fakeshop", "F-1", OrderState.CREATED, "new")
    registry.notify(StatusChange("fakeshop", "F-1", None, OrderState.CREATED, (), False, status))
    assert calls == ["wrapper before", "loud", "quiet", "wrapper after"]
    assert traced == ["orderstatus_status_changed 3", "orderstatus_status_changed done"]
    assert "orderstatus_status_changed hook of 'loud' failed" in caplog.text


def test_registrations_and_failures_name_their_distribution_and_version(
    plugin_dir: Path,
) -> None:
    registry = Registry.load(environ={})
    fakeshop = registry.registration("fakeshop")
    assert (fakeshop.distribution, fakeshop.version) == ("orderstatus-fakeshop", "0.1.0")
    failure = next(f for f in registry.failures if f.plugin == "import_fails")
    assert (failure.distribution, failure.version) == ("orderstatus-testplugins", "0.1")
    in_code = Registry()
    in_code.add_plugin(orderstatus_fakeshop, "fakeshop")
    assert in_code.registration("fakeshop").version is None
