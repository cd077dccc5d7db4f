"""Code blocks that show the repository's files are in step with them (docs/hooks/sources.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from mkdocs.exceptions import PluginError

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location("docs_sources", ROOT / "docs/hooks/sources.py")
assert _spec is not None
assert _spec.loader is not None
sources = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sources)


@pytest.mark.parametrize("page", sources.pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_page_is_in_step_with_the_files_it_shows(page: Path) -> None:
    text = page.read_text()
    assert sources.sync(text) == text, "run: python docs/hooks/sources.py"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    (tmp_path / "pkg" / "mod.py").write_text(
        "# --8<-- [start:head]\nimport os\n\n# --8<-- [end:head]\n"
        "class A:\n    # --8<-- [start:body]\n    x = '```'\n    # --8<-- [end:body]\n"
    )
    (tmp_path / "docs").mkdir()
    return tmp_path


def test_blocks_show_a_file_or_a_part_as_it_is(project: Path) -> None:
    page = ("text\n<!-- source: pkg/mod.py -->\nstale\n<!-- /source -->\n"
            "<!-- source: pkg/mod.py:head -->\n<!-- /source -->\nend")
    assert sources.sync(page, project).split("\n") == [
        "text",
        "<!-- source: pkg/mod.py -->",
        '````python title="mod.py"',  # the path in its project; a fence longer than the code's
        "import os", "", "class A:", "    x = '```'",  # marker lines never show
        "````",
        "<!-- /source -->",
        "<!-- source: pkg/mod.py:head -->",
        '```python title="mod.py"',
        "import os",  # a part's blank edges trimmed
        "```",
        "<!-- /source -->",
        "end",
    ]


@pytest.mark.parametrize(("page", "message"), [
    ("<!-- source: pkg/mod.py -->\n```", "page:1: <!-- source: pkg/mod.py --> has no"),
    ("<!-- source: pkg/mod.py:tail -->\n<!-- /source -->", "page:1: .*has no part 'tail'"),
    ("<!-- source: pkg/gone.py -->\n<!-- /source -->", "page:1: cannot read .*gone.py"),
    ("<!-- source: pkg/pyproject.toml:x -->\n<!-- /source -->", "no part 'x'"),
    ("<!-- source: pkg/LICENSE -->\n<!-- /source -->", "no code language known"),
    ("a\n<!-- source pkg/mod.py -->", "page:2: malformed source marker"),
    ("<!-- /source -->", "page:1: malformed source marker"),
])
def test_a_bad_marker_names_the_page_and_line(project: Path, page: str, message: str) -> None:
    with pytest.raises(sources.SourceError, match=message):
        sources.sync(page, project)


def test_the_script_rewrites_stale_pages_and_check_reports_them(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = project / "docs" / "page.md"
    page.write_text("<!-- source: pkg/mod.py:head -->\nold\n<!-- /source -->\n")
    assert sources.main(["--check"], project) == 1
    assert page.read_text().count("old") == 1
    assert sources.main([], project) == 0
    assert "import os" in page.read_text()
    assert sources.main(["--check"], project) == 0
    assert capsys.readouterr().out == "out of step: docs/page.md\nrewrote: docs/page.md\n"


def test_a_stale_page_fails_the_strict_build_and_a_broken_one_any_build(project: Path) -> None:
    (project / "mkdocs.yml").write_text(
        f"site_name: t\nhooks: [{ROOT / 'docs/hooks/sources.py'}]\n"
    )
    page = project / "docs" / "index.md"

    def build(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", *options, "-d", str(project / "s")],
            cwd=project, capture_output=True, text=True,
        )

    page.write_text("<!-- source: pkg/mod.py:head -->\nold\n<!-- /source -->\n")
    strict = build("--strict")
    assert strict.returncode == 1
    assert "docs/index.md shows files that changed since" in strict.stderr
    assert build().returncode == 0
    assert "import os" in (project / "s" / "index.html").read_text()
    page.write_text("<!-- source: pkg/mod.py:gone -->\n<!-- /source -->\n")
    broken = build()
    assert broken.returncode == 1
    assert "index.md:1: " in broken.stderr


def test_the_hook_raises_a_plugin_error_for_a_broken_marker(project: Path) -> None:
    page = SimpleNamespace(file=SimpleNamespace(src_uri="x.md"))
    with pytest.raises(PluginError, match=r"x\.md:1: .*no part 'gone'"):
        sources.on_page_markdown("<!-- source: pkg/mod.py:gone -->\n<!-- /source -->",
                                 page=page, config={"docs_dir": str(project / "docs")})
