"""``sandbox`` (serve the sandboxes, print their settings) and ``demo`` (end to end)."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from orderstatus import Client, OrderState
from orderstatus.plugins import default_registry
from orderstatus.settings import settings_from_env

from .conftest import clean_env, run, start


def test_sandbox_serves_and_prints_working_settings() -> None:
    serving = start("sandbox", "fakeshop", env=clean_env())
    try:
        assert serving.stdout is not None
        header = serving.stdout.readline()
        assert header.startswith("# Fakeshop sandbox at http://127.0.0.1:")
        url = header.split(" at ")[1].split()[0]
        exports = dict(
            shlex.split(serving.stdout.readline())[1].split("=", 1) for _ in range(2)
        )
        assert set(exports) == {"ORDERSTATUS_FAKESHOP_API_KEY", "ORDERSTATUS_FAKESHOP_BASE_URL"}
        created = httpx.post(url + "_sandbox/orders", json={"items": 2})
        order = created.json()["id"]
        provider = default_registry().provider("fakeshop")
        settings = settings_from_env("fakeshop", provider.settings_class, exports)
        with Client({"fakeshop": settings}) as client:
            assert client.fetch("fakeshop", order).state is OrderState.CREATED
        serving.send_signal(signal.SIGINT)
        assert serving.wait(timeout=10) == 0
    finally:
        serving.kill()
        serving.communicate()


def test_sandbox_of_an_unknown_provider_is_a_configuration_error() -> None:
    done = run("sandbox", "nosuch", env=clean_env())
    assert done.returncode == 3
    assert "no provider named 'nosuch' is installed" in done.stderr


def test_sandbox_on_a_host_that_does_not_exist_is_one_line() -> None:
    done = run("sandbox", "--host", "256.1.1.1", "fakeshop", env=clean_env())
    assert done.returncode == 3
    [line] = done.stderr.splitlines()
    assert line.startswith("orderstatus: error: cannot serve on 256.1.1.1: ")
    assert done.stdout == ""


def test_demo_walks_every_sandbox_and_exits_0() -> None:
    done = run("demo", env=clean_env(), timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    names = [n for n in default_registry().names if default_registry().registration(n).sandbox]
    assert "fakeshop" in names
    for name in names:
        assert f"  {name:<10} sandbox   http://127.0.0.1:" in out
    assert "One order per provider, walked through its lifecycle" in out
    assert "  fakeshop order 'F-1': new -> making -> sent -> arrived\n" in out
    assert ("  refused: fakeshop order 'F-1': cannot move from delivered to cancelled (void)"
            in out)
    assert "  allowed: fakeshop order 'F-2': created (new) -> cancelled (void)\n" in out
    assert "Unified view: every tracked order" in out
    view = out.split("Unified view: every tracked order")[1].split("Changes recorded")[0]
    assert any(line.split()[:4] == ["fakeshop", "F-1", "delivered", "arrived"]
               for line in view.splitlines())
    for line in ("fakeshop order 'F-1': first seen created (new)",
                 "fakeshop order 'F-1': created -> in_production (making)",
                 "fakeshop order 'F-1': shipped -> delivered (arrived)",
                 "fakeshop order 'F-2': created -> cancelled (void)"):
        assert f"  {line}\n" in out
    assert "demo failed" not in out
    assert done.stderr == ""


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "orderstatus"
    done = subprocess.run([str(script), "lifecycle", "--format", "nonsense"],
                          capture_output=True, text=True, env=clean_env(), check=False)
    assert done.returncode == 2
    assert "invalid choice: 'nonsense'" in done.stderr


BROKEN_PLUGIN = '''
import httpx
import orderstatus
from orderstatus import NativeStatus, OrderState, Provider
from orderstatus_fakeshop import FakeshopSettings
from orderstatus.testing.sandbox import Sandbox


class Broken(Provider):
    name = "broken"
    title = "Broken"
    settings_class = FakeshopSettings
    default_base_url = "https://broken.invalid/"
    native_statuses = {"new": NativeStatus(OrderState.CREATED)}

    def build_fetch(self, order_id):
        return httpx.Request("GET", self.base_url.join(order_id))

    def parse_fetch(self, order_id, response):
        raise RuntimeError("this sandbox's provider is broken on purpose")


class BrokenSandbox(Sandbox):
    provider = "broken"

    def settings(self, base_url):
        return {"api_key": "k", "base_url": base_url}

    def route(self, request):
        return self.json_response(500, {})

    def create_order(self, **options):
        raise RuntimeError("this sandbox cannot create orders")

    def set_status(self, order_id, status, **details):
        raise KeyError(order_id)


@orderstatus.hookimpl
def orderstatus_register_providers(register):
    register(Broken, sandbox=BrokenSandbox)
'''


def test_demo_reports_a_broken_sandbox_and_still_walks_the_others(tmp_path: Path) -> None:
    (tmp_path / "brokenbox.py").write_text(BROKEN_PLUGIN)
    info = tmp_path / "brokenbox-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenbox\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[orderstatus]\nbrokenbox = brokenbox\n")
    done = run("demo", env=clean_env(PYTHONPATH=str(tmp_path)), timeout=60)
    assert done.returncode == 1
    assert ("  broken: demo failed: RuntimeError: this sandbox cannot create orders\n"
            in done.stdout)
    assert "  fakeshop order 'F-1': new -> making -> sent -> arrived\n" in done.stdout
    assert done.stdout.rstrip().endswith("demo failed for broken")
    assert "Traceback" not in done.stderr
