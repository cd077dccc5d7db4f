"""The landing page, each provider's page and each plugin's README install the same way."""

from __future__ import annotations

import re

from .conftest import ROOT

PLUGINS = sorted(p.name.removeprefix("orderstatus-") for p in (ROOT / "plugins").iterdir()
                 if (p / "pyproject.toml").is_file())
_COMMAND = re.compile(r"pip install (?!-)([^`\n]+)")


def _commands(text: str) -> set[str]:
    return {command.strip() for command in _COMMAND.findall(text)}


def test_the_landing_page_installs_the_core_and_every_plugin() -> None:
    commands = [set(c.split()) for c in _commands((ROOT / "docs" / "index.md").read_text())]
    assert {"orderstatus", *(f"orderstatus-{n}" for n in PLUGINS)} in commands
    assert {".", *(f"plugins/orderstatus-{n}" for n in PLUGINS)} in commands


def test_each_provider_page_and_readme_install_as_the_landing_page_does() -> None:
    assert PLUGINS == ["gooten", "printapi"]
    for name in PLUGINS:
        page = _commands((ROOT / "docs" / "providers" / f"{name}.md").read_text())
        readme = _commands((ROOT / "plugins" / f"orderstatus-{name}" / "README.md").read_text())
        assert page == {f"orderstatus orderstatus-{name}", f". plugins/orderstatus-{name}"}, name
        assert readme == {f"orderstatus orderstatus-{name}"}, name
