"""The scaffold writes a complete plugin skeleton that passes the conformance suite."""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path

import pytest

import orderstatus
from orderstatus import Registry
from orderstatus.scaffold import core_requirement, new_provider, project_names
from orderstatus.testing import conformance

FILES = [
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "src/orderstatus_shop_one/__init__.py",
    "src/orderstatus_shop_one/plugin.py",
    "src/orderstatus_shop_one/provider.py",
    "src/orderstatus_shop_one/py.typed",
    "src/orderstatus_shop_one/sandbox.py",
    "tests/test_conformance.py",
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return new_provider("shop_one", tmp_path)


def test_the_skeleton_has_every_file(project: Path, tmp_path: Path) -> None:
    assert project == tmp_path / "orderstatus-shop-one"
    written = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert written == FILES
    for path in project.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_the_pyproject_declares_the_entry_point(project: Path) -> None:
    text = (project / "pyproject.toml").read_text()
    for section, line in [
        ("[project]", 'name = "orderstatus-shop-one"'),
        ("[project.entry-points.orderstatus]", 'shop_one = "orderstatus_shop_one.plugin"'),
        ("[tool.hatch.build.targets.wheel]", 'packages = ["src/orderstatus_shop_one"]'),
    ]:
        assert line in text.split(section, 1)[1].split("\n[", 1)[0], (section, line)


def test_the_plugin_declares_the_core_it_was_made_for_and_its_licence(project: Path) -> None:
    pyproject = (project / "pyproject.toml").read_text()
    assert f'dependencies = ["{core_requirement(orderstatus.__version__)}", ' in pyproject
    assert '\nlicense = "MIT"' in pyproject
    licence = (project / "LICENSE").read_text()
    assert licence.startswith("MIT License\n\nCopyright (c) ")
    assert f"{dt.date.today().year} the orderstatus-shop-one authors" in licence


@pytest.mark.parametrize(("version", "requirement"), [
    ("0.1.0", "orderstatus>=0.1,<0.2"),
    ("0.12.3.dev1", "orderstatus>=0.12,<0.13"),
    ("1.4.2", "orderstatus>=1.4,<2"),
])
def test_the_core_range_is_one_minor_before_1_0_and_one_major_after(
    version: str, requirement: str
) -> None:
    assert core_requirement(version) == requirement


def test_names_are_derived_from_the_provider_name() -> None:
    assert project_names("shop_one") == {
        "name": "shop_one", "dist": "orderstatus-shop-one", "package": "orderstatus_shop_one",
        "cls": "ShopOne", "title": "Shop One",
    }


@pytest.mark.parametrize("name", ["", "Shop", "1shop", "shop-one", "shop one", "a" * 33, "../x"])
def test_bad_names_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be 1 to 32 lowercase letters"):
        new_provider(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_project_is_not_overwritten(project: Path, tmp_path: Path) -> None:
    (project / "pyproject.toml").write_text("mine")
    with pytest.raises(FileExistsError, match="exists and is not empty"):
        new_provider("shop_one", tmp_path)
    assert (project / "pyproject.toml").read_text() == "mine"


@pytest.fixture
def plugin(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.syspath_prepend(str(project / "src"))
    yield importlib.import_module("orderstatus_shop_one.plugin")
    for module in [m for m in sys.modules if m.startswith("orderstatus_shop_one")]:
        del sys.modules[module]


def test_the_generated_plugin_passes_the_conformance_suite(plugin: object) -> None:
    registry = Registry()
    registry.add_plugin(plugin, "shop_one")
    assert registry.names == ("shop_one",), registry.failures
    case = conformance.suite("shop_one", registry=registry)
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    assert result.testsRun == 5
    assert result.wasSuccessful(), result.failures + result.errors
