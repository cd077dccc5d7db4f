"""The mkdocs hook that expands ``<!-- orderstatus:... -->`` markers, alone and in a real build."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from mkdocs.exceptions import PluginError

from orderstatus import hookimpl, lifecycle, tables
from orderstatus.hookspecs import Register
from orderstatus.plugins import Registry

HERE = Path(__file__).resolve().parent
HOOK = HERE.parent / "docs" / "hooks" / "generate.py"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _load("orderstatus_docs_hook", HOOK)
_providers = _load("orderstatus_test_tables", HERE / "test_tables.py")  # Acme and Plain
Acme, Plain = _providers.Acme, _providers.Plain


class _Plugin:
    @staticmethod
    @hookimpl
    def orderstatus_register_providers(register: Register) -> None:
        register(Acme)
        register(Plain)


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    registry.add_plugin(_Plugin, "acme-plugin")
    assert registry.names == ("acme", "plain")
    return registry


def test_markers_become_generated_tables_and_the_diagram(registry: Registry) -> None:
    page = "\n".join([
        "# Acme", "",
        "<!-- orderstatus:native-statuses acme -->", "",
        "<!-- orderstatus:payment-statuses plain -->", "",
        "  <!--  orderstatus:update-rules acme  -->", "",
        "<!-- orderstatus:capabilities acme -->", "",
        "<!-- orderstatus:transitions -->", "",
        "<!-- orderstatus:skipped-states -->", "",
        "<!-- orderstatus:lifecycle-diagram -->", "",
        "The end.",
    ])
    out = hook.expand(page, registry, where="acme.md")
    assert "orderstatus:" not in out
    assert tables.to_markdown(tables.native_statuses_table(Acme)) in out
    assert "Plain reports no payment status" in out
    for table in tables.update_rules_tables(Acme):
        assert tables.to_markdown(table, title=True) in out
    assert tables.to_markdown(tables.capabilities_table([Acme])) in out
    assert tables.to_markdown(tables.transitions_table()) in out
    assert tables.to_markdown(tables.skipped_states_table()) in out
    assert f"```mermaid\n{lifecycle.to_mermaid()}\n```" in out
    assert out.startswith("# Acme\n")
    assert out.endswith("\nThe end.")


def test_markers_in_fenced_code_stay_as_written(registry: Registry) -> None:
    page = "\n".join([
        "```markdown", "<!-- orderstatus:native-statuses nobody -->", "```",
        "~~~~", "```", "<!-- orderstatus:bogus -->", "~~~~",
        "<!-- orderstatus:transitions -->",
    ])
    out = hook.expand(page, registry).split("\n")
    assert out[:7] == page.split("\n")[:7]
    assert out[7] == tables.to_markdown(tables.transitions_table()).split("\n")[0]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("<!-- orderstatus:native-statuses nobody -->",
         "no provider named 'nobody' is installed (installed: acme, plain)"),
        ("<!-- orderstatus:native-status acme -->", "unknown marker 'native-status'; known: "),
        ("<!-- orderstatus:update-rules -->", "marker 'update-rules' needs a provider name"),
        ("<!-- orderstatus:transitions acme -->", "marker 'transitions' takes no provider"),
        ("text <!-- orderstatus:transitions -->", "malformed marker"),
        ("<!-- orderstatus:transitions", "malformed marker"),
    ],
)
def test_a_bad_marker_names_the_page_and_line(
    registry: Registry, line: str, message: str
) -> None:
    with pytest.raises(hook.MarkerError) as caught:
        hook.expand(f"# Page\n\n{line}\n", registry, where="providers/x.md")
    assert str(caught.value).startswith("providers/x.md:3: ")
    assert message in str(caught.value)


def test_plugin_load_failures_are_part_of_the_message(registry: Registry) -> None:
    registry.add_plugin(_BadRegistration, "gooten")
    with pytest.raises(hook.MarkerError, match=r"plugins that failed to load: .*gooten: "):
        hook.expand("<!-- orderstatus:update-rules gooten -->", registry)


class _BadRegistration:
    @staticmethod
    @hookimpl
    def orderstatus_register_providers(register: Register) -> None:
        raise RuntimeError("settings class missing")


def test_on_page_markdown_fails_the_build_with_a_plugin_error(
    monkeypatch: pytest.MonkeyPatch, registry: Registry
) -> None:
    monkeypatch.setattr(hook, "default_registry", lambda: registry)
    page: Any = SimpleNamespace(file=SimpleNamespace(src_uri="providers/acme.md"))
    out = hook.on_page_markdown("<!-- orderstatus:native-statuses acme -->", page=page)
    assert "`BadAddress`" in out
    with pytest.raises(PluginError, match=r"providers/acme\.md:1: .*no provider named 'nope'"):
        hook.on_page_markdown("<!-- orderstatus:payment-statuses nope -->", page=page)


def test_sphinx_roles_left_in_docstrings_render_as_code() -> None:
    html = ("<p>See :class:<code>~orderstatus.Secret</code> and "
            ":meth:<code>Client.fetch</code>.</p>")
    assert hook.on_page_content(html) == (
        "<p>See <code>Secret</code> and <code>Client.fetch</code>.</p>"
    )


def _build(tmp_path: Path, page: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(page)
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\nstrict: true\nhooks:\n  - {HOOK}\n"
        "markdown_extensions:\n  - tables\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "s")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_real_build_expands_markers(tmp_path: Path) -> None:
    result = _build(tmp_path, "# Lifecycle\n\n<!-- orderstatus:transitions -->\n")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "s" / "index.html").read_text()
    assert "<td><code>in_production</code></td>" in html
    assert html.count("none (terminal)") == len(lifecycle.TERMINAL)


def test_a_real_build_fails_on_an_unknown_provider(tmp_path: Path) -> None:
    result = _build(tmp_path, "# X\n\n<!-- orderstatus:native-statuses no_such_provider -->\n")
    assert result.returncode != 0
    assert "index.md:3: " in result.stderr
    assert "no provider named 'no_such_provider' is installed" in result.stderr
