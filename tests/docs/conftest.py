"""The docs site, built once per session, served on loopback, and a headless Chromium to read it.

The browser is Debian's ``chromium`` with its ``chromedriver`` (``apt-get install chromium
chromium-driver``), driven by Selenium. Without them the browser tests skip, saying so, unless
``ORDERSTATUS_BROWSER_TESTS=required`` (``.ci/run`` sets it): then they fail.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderstatus.testing.wsgi import running

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1280
"""The window width every layout check runs at (a common laptop screen)."""


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs built exactly as CI builds them."""
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(  # never --quiet: it hides the warnings that --strict fails on
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    if build.returncode:
        pytest.fail(f"mkdocs build failed:\n{build.stdout}{build.stderr}")
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    """The built site behind a real HTTP server on loopback."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site))
    )
    with running(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/"


def _executables() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    reason = ("chromium and chromedriver are not installed "
              "(apt-get install chromium chromium-driver)")
    if os.environ.get("ORDERSTATUS_BROWSER_TESTS") == "required":
        pytest.fail(f"ORDERSTATUS_BROWSER_TESTS=required, but {reason}")
    pytest.skip(reason)


class Browser:
    """A headless Chromium that cannot reach anything but loopback, and logs what it asked for."""

    def __init__(self, chromium: str, driver: str, profile: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for argument in (
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", f"--window-size={WIDTH},900",
            # No network: every host name but loopback fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(driver))
        self.requested: list[str] = []

    def open(self, url: str) -> None:
        """Load a page (Material's scripts have run when this returns)."""
        self.driver.get(url)

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)

    def requests(self) -> list[str]:
        """Every URL the browser requested so far."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
        return self.requested

    def dom(self) -> dict[str, Any]:
        """The whole DOM, shadow roots included (Material draws diagrams in closed ones)."""
        tree: dict[str, Any] = self.driver.execute_cdp_cmd(
            "DOM.getDocument", {"depth": -1, "pierce": True}
        )
        return tree["root"]

    def quit(self) -> None:
        self.driver.quit()


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium, driver = _executables()
    browser = Browser(chromium, driver, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.quit()
