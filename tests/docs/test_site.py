"""The built docs site in a real browser: the diagram draws offline, tables and code fit.

Headless Chromium at 1280 px, with every host name but loopback unresolvable, reads the site
served on loopback and checks the DOM: the lifecycle diagram is an SVG drawn by the bundled
mermaid, every table fits its column without breaking an identifier across lines, no code block
hides its ends past a scroll bar, and nothing was requested from anywhere else.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from orderstatus import lifecycle

from .conftest import WIDTH, Browser

# the first test also builds the site and reads every page in a real browser (its fixtures'
# set-up counts against its timeout): about 25 s on a loaded machine, minutes on an overloaded one
pytestmark = pytest.mark.timeout(600)

_LAYOUT = """
const article = document.querySelector('article');
const right = article.getBoundingClientRect().right;
const report = {width: window.innerWidth, tables: 0, codes: 0, wide: [], broken: [], cut: []};
const scrolls = (el) => el.scrollWidth > el.clientWidth + 1;
for (const table of article.querySelectorAll('table')) {
  report.tables++;
  const wrap = table.closest('.md-typeset__scrollwrap');
  if (scrolls(table) || (wrap && scrolls(wrap)) || table.getBoundingClientRect().right > right + 1)
    report.wide.push(table.rows[0].textContent.replace(/\\s+/g, ' ').trim());
  for (const code of table.querySelectorAll('code'))
    if (code.getClientRects().length > 1) report.broken.push(code.textContent);
}
for (const code of article.querySelectorAll('pre > code')) {
  report.codes++;
  if (scrolls(code)) report.cut.push(code.textContent.split('\\n')[0]);
}
return report;
"""


def _pages(site: Path) -> list[str]:
    return sorted(
        "" if page.parent == site else f"{page.parent.relative_to(site).as_posix()}/"
        for page in site.rglob("index.html")
    )


def _network(browser: Browser, site_url: str) -> list[str]:
    """What the browser asked the network for, beyond the site (``chrome://``, ``data:`` and
    ``blob:`` URLs never leave it)."""
    return [
        url for url in browser.requests()
        if url.startswith(("http:", "https:", "ws:", "wss:")) and not url.startswith(site_url)
    ]


@pytest.fixture(scope="module")
def layouts(site: Path, site_url: str, browser: Browser) -> dict[str, dict[str, Any]]:
    """The layout report of every page of the site, read once."""
    reports = {}
    for page in _pages(site):
        browser.open(site_url + page)
        reports[page or "index"] = browser.script(_LAYOUT)
    return reports


def test_every_page_is_read_at_1280_px(layouts: dict[str, dict[str, Any]]) -> None:
    assert len(layouts) >= 15
    assert {report["width"] for report in layouts.values()} == {WIDTH}
    assert sum(report["tables"] for report in layouts.values()) >= 40
    assert sum(report["codes"] for report in layouts.values()) >= 100


def test_tables_fit_the_column(layouts: dict[str, dict[str, Any]]) -> None:
    assert {page: r["wide"] for page, r in layouts.items() if r["wide"]} == {}


def test_no_identifier_in_a_table_breaks_across_lines(layouts: dict[str, dict[str, Any]]) -> None:
    assert {page: r["broken"] for page, r in layouts.items() if r["broken"]} == {}


def test_no_code_block_is_cut(layouts: dict[str, dict[str, Any]]) -> None:
    assert {page: r["cut"] for page, r in layouts.items() if r["cut"]} == {}


def test_no_page_asks_the_network_for_anything(
    layouts: dict[str, dict[str, Any]], site_url: str, browser: Browser
) -> None:
    assert _network(browser, site_url) == []


def test_the_checks_see_what_the_stylesheet_fixes(site_url: str, browser: Browser) -> None:
    """Without docs/stylesheets/extra.css, Material breaks identifiers and cuts output."""
    found = {}
    for page in ("providers/gooten/", "tutorial/"):
        browser.open(site_url + page)
        browser.script("document.querySelector('link[href$=\"stylesheets/extra.css\"]')"
                       ".disabled = true")
        found[page] = browser.script(_LAYOUT)
    assert "partner_billing_key" in found["providers/gooten/"]["broken"]
    assert any(line.startswith("acme: ") for line in found["tutorial/"]["cut"])


def test_only_pages_with_a_diagram_load_mermaid(site: Path) -> None:
    pages = {page: page.read_text() for page in site.rglob("*.html")}
    with_diagram = {page for page, html in pages.items() if 'class="mermaid"' in html}
    assert with_diagram == {page for page, html in pages.items() if "mermaid.min.js" in html}
    assert site / "lifecycle" / "index.html" in with_diagram


def _find(node: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Nodes called ``name`` under ``node``, through shadow roots."""
    found = [node] if node.get("nodeName", "").lower() == name else []
    for child in [*node.get("children", ()), *node.get("shadowRoots", ())]:
        found.extend(_find(child, name))
    return found


def _text(node: dict[str, Any]) -> str:
    own = node.get("nodeValue", "") if node.get("nodeType") == 3 else ""
    return own + " ".join(_text(c) for c in node.get("children", ()))


def test_the_lifecycle_diagram_is_an_svg_drawn_offline(site_url: str, browser: Browser) -> None:
    browser.open(site_url + "lifecycle/")
    deadline = time.monotonic() + 30
    hosts: list[dict[str, Any]] = []
    while not hosts and time.monotonic() < deadline:
        hosts = [
            node for node in _find(browser.dom(), "div")
            if "mermaid" in node.get("attributes", [])[1::2] and node.get("shadowRoots")
        ]
        time.sleep(0.2)
    assert len(hosts) == 1, "the diagram was not drawn (mermaid did not run)"
    (svg,) = _find(hosts[0], "svg")
    labels = _text(svg)
    assert "Syntax error" not in labels
    for state in lifecycle.TRANSITIONS:
        assert state.value in labels
    height = browser.script("return document.querySelector('div.mermaid')"
                            ".getBoundingClientRect().height")
    assert height > 300
    assert f"{site_url}vendor/mermaid/mermaid.min.js" in browser.requests()
    assert _network(browser, site_url) == []
