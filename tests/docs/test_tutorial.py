"""The tutorial shows the example plugin whole, and what it says happens does happen."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from orderstatus.scaffold import new_provider

from .conftest import ROOT
from .test_sources import sources

TUTORIAL = ROOT / "docs" / "tutorial.md"
EXAMPLE = ROOT / "examples" / "orderstatus-acme"
_NOT_SHOWN = {"LICENSE", "py.typed"}  # named in the text: a licence, an empty marker file
_BUILT = re.compile(r"^(\..*|__pycache__|build|dist|.*\.egg-info)$")
_SHOWN = re.compile(r"^<!-- source: (?P<path>[^\s:]+)(?::(?P<part>[\w-]+))? -->$", re.M)


def _files(root: Path) -> list[Path]:
    return sorted(
        path for path in root.rglob("*")
        if path.is_file() and path.name not in _NOT_SHOWN
        and not any(_BUILT.match(part) for part in path.relative_to(root).parts)
    )


def _collected(directory: Path) -> int:
    """How many tests pytest finds in ``directory``, run there as a reader would."""
    found = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=directory, capture_output=True, text=True, check=True,
    )
    return int(re.search(r"^(\d+) tests? collected", found.stdout, re.M)[1])  # type: ignore[index]


def test_every_file_of_the_example_is_shown_whole_in_order_once() -> None:
    shown: dict[str, list[str]] = {}
    for match in _SHOWN.finditer(TUTORIAL.read_text()):
        shown.setdefault(match["path"], []).extend(sources.part(ROOT / match["path"],
                                                                match["part"]))
    expected = {path.relative_to(ROOT).as_posix(): path for path in _files(EXAMPLE)}
    assert sorted(shown) == sorted(expected)
    for name, path in expected.items():
        whole = sources.part(path, None)
        assert [line for line in shown[name] if line.strip()] == [
            line for line in whole if line.strip()
        ], f"{name}: the tutorial's parts, in order, are not the whole file"


def test_the_test_counts_are_what_pytest_finds(tmp_path: Path) -> None:
    text = TUTORIAL.read_text()
    example = _collected(EXAMPLE)
    assert f"The {example} tests " in text
    run = re.search(r"^\$ pytest -q\n(\.+) +\[100%\]\n(\d+) passed", text, re.M)
    assert run is not None
    assert (len(run[1]), int(run[2])) == (example, example)
    assert f"Its {_collected(new_provider('acme', tmp_path))} tests pass at once" in text


def test_the_try_it_example_prints_what_it_says(capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = [b for b in re.findall(r"^```python\n(.*?)^```$", TUTORIAL.read_text(),
                                      re.S | re.M) if "print(err)" in b]
    exec(compile(block, "tutorial.md", "exec"), {})
    said = " ".join(re.findall(r"# +(.*)$", block.split("print(err)")[1], re.M))
    assert capsys.readouterr().out.strip() == said.strip()
