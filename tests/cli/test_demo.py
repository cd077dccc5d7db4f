"""``demo``: every sandbox, the webhook receiver and a tracker, end to end."""

from __future__ import annotations

from pathlib import Path

from orderstatus.plugins import default_registry

from .conftest import clean_env, run


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
