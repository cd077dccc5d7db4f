"""Every distribution builds with its licence, one version, and the right dependencies.

Each distribution of the repository (and a plugin fresh from the scaffold) is built for real,
wheel and sdist, with hatchling's build hooks, and what was built is read back.
"""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import orderstatus_gooten
import orderstatus_printapi
import pytest
from packaging.requirements import Requirement

import orderstatus
from orderstatus.scaffold import core_requirement, new_provider

ROOT = Path(__file__).resolve().parents[1]
LICENSE = (ROOT / "LICENSE").read_text()
PLUGINS = ["plugins/orderstatus-printapi", "plugins/orderstatus-gooten",
           "examples/orderstatus-acme", "tests/fakeshop"]
RECIPES = ["examples/django-webhooks", "examples/celery-jobs"]
_BUILD = ("import sys, hatchling.build as b; print(b.build_sdist(sys.argv[1])); "
          "print(b.build_wheel(sys.argv[1]))")


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    file = archive.extractfile(member)
    assert file is not None
    return file.read()


class Built:
    """The files of the wheel and the sdist of one distribution."""

    def __init__(self, project: Path, out: Path) -> None:
        sdist, wheel = subprocess.run(
            [sys.executable, "-c", _BUILD, str(out)], cwd=project, check=True,
            capture_output=True, text=True,
        ).stdout.split()
        top = sdist.removesuffix(".tar.gz") + "/"
        with tarfile.open(out / sdist) as archive:
            self.sdist = {m.name.removeprefix(top): _read(archive, m)
                          for m in archive.getmembers() if m.isfile()}
        with zipfile.ZipFile(out / wheel) as archive:
            self.wheel = {name: archive.read(name) for name in archive.namelist()}
        info = next(n for n in self.wheel if n.endswith(".dist-info/METADATA"))
        self.info = info.removesuffix("METADATA")
        self.metadata: Message = email.message_from_bytes(self.wheel[info])

    def requires(self) -> dict[str, Requirement]:
        return {r.name: r for r in map(Requirement, self.metadata.get_all("Requires-Dist", ()))
                if r.marker is None}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    scaffolded = new_provider("shop", tmp_path_factory.mktemp("scaffold"))
    projects = {".": ROOT, **{p: ROOT / p for p in [*PLUGINS, *RECIPES]}, "scaffold": scaffolded}
    return {name: Built(path, tmp_path_factory.mktemp("dist")) for name, path in projects.items()}


def test_every_distribution_ships_the_mit_licence(built: dict[str, Built]) -> None:
    for name, dist in built.items():
        assert dist.metadata["License-Expression"] == "MIT", name
        assert dist.metadata["License-File"] == "LICENSE", name
        shipped = [dist.wheel[f"{dist.info}licenses/LICENSE"].decode(),
                   dist.sdist["LICENSE"].decode()]
        if name == "scaffold":  # the plugin's authors' own copyright line
            assert all("the orderstatus-shop authors" in text for text in shipped)
            assert all(text.split("\n", 3)[3] == LICENSE.split("\n", 3)[3] for text in shipped)
        else:
            assert shipped == [LICENSE, LICENSE], name


def test_the_core_sdist_holds_the_core_only(built: dict[str, Built]) -> None:
    files = list(built["."].sdist)
    assert [f for f in files if f.endswith("README.md")] == ["README.md"]
    assert not [f for f in files if f.startswith(("plugins/", "examples/", "tests/", "docs/"))]
    assert "src/orderstatus/scaffold_templates/LICENSE.tmpl" in files


def test_one_version_everywhere(built: dict[str, Built]) -> None:
    assert built["."].metadata["Version"] == orderstatus.__version__
    assert f"\nVersion: {orderstatus.__version__}\n" in built["."].sdist["PKG-INFO"].decode()
    assert built["plugins/orderstatus-gooten"].metadata["Version"] == orderstatus_gooten.__version__
    assert (built["plugins/orderstatus-printapi"].metadata["Version"]
            == orderstatus_printapi.__version__)


def test_plugins_and_recipes_pin_the_core_they_were_written_for(
    built: dict[str, Built]
) -> None:
    expected = Requirement(core_requirement())
    for name in [*PLUGINS, *RECIPES, "scaffold"]:
        assert built[name].requires()["orderstatus"].specifier == expected.specifier, name


def test_the_testing_extra_brings_the_kit(built: dict[str, Built]) -> None:
    metadata = built["."].metadata
    assert "testing" in metadata.get_all("Provides-Extra", ())
    testing = [Requirement(r) for r in metadata.get_all("Requires-Dist", ())
               if 'extra == "testing"' in r or "extra == 'testing'" in r]
    assert sorted(r.name for r in testing) == ["hypothesis", "pytest", "uvicorn"]
    test_extra = [Requirement(r) for r in built["examples/orderstatus-acme"].metadata.get_all(
        "Requires-Dist", ()) if "extra ==" in r]
    assert [(r.name, r.extras) for r in test_extra] == [("orderstatus", {"testing"})]


def test_the_core_and_the_plugins_say_where_they_live(built: dict[str, Built]) -> None:
    for name in [".", "plugins/orderstatus-printapi", "plugins/orderstatus-gooten"]:
        urls = dict(u.split(", ", 1) for u in built[name].metadata.get_all("Project-URL", ()))
        assert set(urls) == {"Homepage", "Documentation", "Source", "Issues", "Changelog"}, name
        assert all(url.startswith("https://") for url in urls.values())


def test_every_licence_file_in_the_repository_is_the_same() -> None:
    copies = [p for p in ROOT.glob("**/LICENSE") if ".venv" not in p.parts
              and "vendor" not in p.parts]
    assert len(copies) == 1 + len(PLUGINS) + len(RECIPES)
    assert all(p.read_text() == LICENSE for p in copies)
