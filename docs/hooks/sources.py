"""Code blocks in the docs that show real files of the repository, kept in step with them.

A page shows a file, or a named part of it, as an ordinary fenced code block between two
comment lines, so that it reads the same on GitHub and on the site:

    <!-- source: examples/orderstatus-acme/src/orderstatus_acme/provider.py:settings -->
    ```python title="src/orderstatus_acme/provider.py"
    (the lines of the part, written here by this script)
    ```
    <!-- /source -->

The path is relative to the repository's root. ``PATH:NAME`` is the part between the file's
``--8<-- [start:NAME]`` and ``--8<-- [end:NAME]`` comment lines; such marker lines never show.
The title is the file's path in its own project (below the nearest ``pyproject.toml``).

``python docs/hooks/sources.py`` rewrites every block of every page from the files
(``--check`` only reports, and exits 1, when one is out of step). As an MkDocs hook it renders
the files as they are and warns, which fails ``mkdocs build --strict``, when a page is out of
step with them.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[2]
_OPEN = re.compile(r"^<!-- source: (?P<path>[^\s:]+)(?::(?P<part>[\w-]+))? -->$")
_CLOSE = "<!-- /source -->"
_PART = re.compile(r"--8<-- \[(?P<mark>start|end):(?P<name>[\w-]+)\]")
_LANGUAGES = {".py": "python", ".toml": "toml", ".md": "markdown", ".sh": "bash",
              ".txt": "text", ".cfg": "ini", ".yml": "yaml", ".yaml": "yaml"}
log = logging.getLogger("mkdocs.hooks.sources")


class SourceError(ValueError):
    """A source marker that cannot be rendered; the message says where and why."""


def part(path: Path, name: str | None) -> list[str]:
    """The lines of ``path`` (or of its part ``name``) as shown: marker lines left out."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as err:
        raise SourceError(f"cannot read {path}: {err.strerror}") from None
    if name is not None:
        marks = [(m["mark"], n) for n, line in enumerate(lines)
                 if (m := _PART.search(line)) and m["name"] == name]
        if [mark for mark, _ in marks] != ["start", "end"]:
            raise SourceError(f"{path} has no part {name!r} (one start, then one end marker)")
        lines = lines[marks[0][1] + 1:marks[1][1]]
    shown = [line for line in lines if not _PART.search(line)]
    while shown and not shown[0].strip():
        shown.pop(0)
    while shown and not shown[-1].strip():
        shown.pop()
    return shown


def _title(path: Path) -> str:
    project = next((p for p in path.parents if (p / "pyproject.toml").is_file()), path.parent)
    return path.relative_to(project).as_posix()


def render(spec: str, part_name: str | None, root: Path = ROOT) -> list[str]:
    """The fenced block that shows ``spec`` (a path below ``root``), or its part."""
    path = root / spec
    language = _LANGUAGES.get(path.suffix)
    if language is None:
        raise SourceError(f"{spec}: no code language known for {path.suffix!r} files")
    lines = part(path, part_name)
    longest = max((len(run) for line in lines for run in re.findall(r"`{3,}", line)), default=2)
    fence = "`" * (longest + 1)
    return [f'{fence}{language} title="{_title(path)}"', *lines, fence]


def sync(markdown: str, root: Path = ROOT, *, where: str = "page") -> str:
    """``markdown`` with every source block rewritten from its file.

    Raises:
        SourceError: naming the page and line of a marker that cannot be rendered.
    """
    lines = markdown.split("\n")
    out: list[str] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        out.append(line)
        number += 1
        opened = _OPEN.match(line)
        if opened is None:
            if line.startswith("<!-- source") or line == _CLOSE:
                raise SourceError(f"{where}:{number}: malformed source marker {line!r}")
            continue
        try:
            close = lines.index(_CLOSE, number)
        except ValueError:
            raise SourceError(f"{where}:{number}: {line} has no {_CLOSE} after it") from None
        try:
            out.extend(render(opened["path"], opened["part"], root))
        except SourceError as err:
            raise SourceError(f"{where}:{number}: {err}") from None
        out.append(_CLOSE)
        number = close + 1
    return "\n".join(out)


def pages(root: Path = ROOT) -> list[Path]:
    """Every Markdown page of the docs."""
    return sorted((root / "docs").rglob("*.md"))


def on_page_markdown(markdown: str, *, page: Any, config: Any, **kwargs: Any) -> str:
    """MkDocs event: show the files as they are; warn (strict: fail) if the page is stale."""
    where = page.file.src_uri
    try:
        synced = sync(markdown, Path(config["docs_dir"]).parent, where=where)
    except SourceError as err:
        raise PluginError(f"docs sources hook: {err}") from None
    if synced != markdown:
        log.warning("docs/%s shows files that changed since; run python docs/hooks/sources.py",
                    where)
    return synced


def main(argv: list[str], root: Path = ROOT) -> int:
    """Rewrite every page's source blocks (``--check``: only list the stale pages)."""
    check = argv == ["--check"]
    if argv and not check:
        print("usage: python docs/hooks/sources.py [--check]", file=sys.stderr)
        return 2
    stale = []
    for page in pages(root):
        text = page.read_text("utf-8")
        name = page.relative_to(root).as_posix()
        try:
            synced = sync(text, root, where=name)
        except SourceError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        if synced != text:
            stale.append(name)
            if not check:
                page.write_text(synced, "utf-8")
    for name in stale:
        print(f"{'out of step' if check else 'rewrote'}: {name}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
