"""The plugin-author guide's example plugin runs as written."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from orderstatus import ActionReason, Client, OrderState
from orderstatus.plugins import Registry

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", page.read_text(), re.S | re.M)


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> ModuleType:
    """Every Python block of the guide, run in order as the module ``orderstatus_acme.plugin``."""
    package, module = ModuleType("orderstatus_acme"), ModuleType("orderstatus_acme.plugin")
    package.plugin = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "orderstatus_acme", package)
    monkeypatch.setitem(sys.modules, "orderstatus_acme.plugin", module)
    for block in _python_blocks(GUIDE):
        # the guide splits the plugin into modules; here it is one
        code = re.sub(r"^from \.\w+ import .*$", "", block, flags=re.M)
        exec(compile(code, str(GUIDE), "exec"), module.__dict__)
    module.printed = capsys.readouterr().out  # type: ignore[attr-defined]
    return module


def test_the_guide_has_the_whole_plugin() -> None:
    blocks = _python_blocks(GUIDE)
    assert len(blocks) >= 8
    assert any("class AcmeSandbox(Sandbox)" in b for b in blocks)
    assert any("registry.add_plugin(orderstatus_acme.plugin" in b for b in blocks)


def test_the_example_plugin_works_and_its_map_hook_overrides(acme: ModuleType) -> None:
    assert acme.client.fetch("acme", acme.order_id).state is OrderState.CANCELLED
    assert acme.printed.startswith(
        "acme order 'A-2': cannot move from created to cancelled (cancelled): items in printing; "
        "updates need every item in bad_address, new\n"
    )
    registry = Registry()
    registry.add_plugin(acme, "acme")
    assert registry.failures == []
    make_sandbox = registry.registration("acme").sandbox
    assert make_sandbox is not None
    sandbox = make_sandbox()
    order_id = sandbox.create_order()
    with Client({"acme": sandbox.settings("http://127.0.0.1/")},
                transport=sandbox.transport(), registry=registry) as client:
        assert client.update("acme", order_id, "on_hold").state is OrderState.ACTION_REQUIRED
        status = client.fetch("acme", order_id)
    assert (status.native_status, status.reason) == ("hold", ActionReason.OTHER)


@pytest.mark.parametrize("page", sorted(GUIDE.parent.glob("*.md")), ids=lambda p: p.name)
def test_every_python_example_is_valid_python(page: Path) -> None:
    for block in _python_blocks(page):
        compile(block, str(page), "exec")


def test_the_lifecycle_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}  # a page is read top to bottom
    for block in _python_blocks(GUIDE.parent / "lifecycle.md"):
        exec(compile(block, "lifecycle.md", "exec"), namespace)
    assert capsys.readouterr().out.startswith("stateDiagram-v2\n")
