"""Writing the skeleton of a new provider plugin (``orderstatus new-provider NAME``).

The skeleton is a complete, installable distribution: a pyproject with the ``orderstatus``
entry point, a provider, a sandbox, the plugin module, the conformance test and a README. It
passes its own tests as generated, against an invented API the author then replaces.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import sys
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["core_requirement", "new_provider", "project_names"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TEMPLATES = "scaffold_templates"
_SUFFIX = ".tmpl"


def project_names(name: str) -> dict[str, str]:
    """The names derived from a provider name: ``dist``, ``package``, ``cls`` and ``title``.

    Raises:
        ValueError: ``name`` is not 1 to 32 lowercase letters, digits or ``_``, starting
            with a letter (the rule every provider name follows).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"provider name {name!r} must be 1 to 32 lowercase letters, digits or _, "
            "starting with a letter"
        )
    words = [w for w in name.split("_") if w]
    return {
        "name": name,
        "dist": "orderstatus-" + name.replace("_", "-"),
        "package": f"orderstatus_{name}",
        "cls": "".join(w.capitalize() for w in words),
        "title": " ".join(w.capitalize() for w in words),
    }


def core_requirement(version: str = __version__) -> str:
    """The orderstatus versions a plugin written against ``version`` declares it works with.

    Before 1.0 a minor version may change the plugin interface, so the range is one minor
    version (``0.1.0`` gives ``orderstatus>=0.1,<0.2``); from 1.0, one major version.
    """
    major, minor = (int(part) for part in version.split(".")[:2])
    if major == 0:
        return f"orderstatus>=0.{minor},<0.{minor + 1}"
    return f"orderstatus>={major}.{minor},<{major + 1}"


def _walk(node: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            found += _walk(child, (*prefix, child.name))
        elif child.name.endswith(_SUFFIX):
            found.append(((*prefix, child.name[: -len(_SUFFIX)]), child.read_text("utf-8")))
    return found


def new_provider(name: str, directory: Path) -> Path:
    """Write the skeleton of plugin ``name`` into ``directory/orderstatus-NAME``; return it.

    Raises:
        ValueError: the name is not a valid provider name.
        FileExistsError: the project directory exists and is not empty.
    """
    names = project_names(name)
    project = Path(directory) / names["dist"]
    if project.exists() and any(project.iterdir()):
        raise FileExistsError(f"{project} exists and is not empty")
    values = {**names, "core": core_requirement(), "year": str(dt.date.today().year)}
    templates = _walk(files("orderstatus").joinpath(_TEMPLATES))
    for parts, text in templates:
        target = project.joinpath(*(names["package"] if p == "PACKAGE" else p for p in parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(string.Template(text).substitute(values), "utf-8")
    return project
