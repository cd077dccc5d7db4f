"""``demo``: every sandbox, the webhook receiver and a tracker, end to end."""

from __future__ import annotations

import re
from pathlib import Path

from orderstatus.plugins import default_registry

from .conftest import clean_env, run


def test_demo_walks_every_sandbox_and_exits_0() -> None:
    done = run("demo", env=clean_env(), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    names = [n for n in default_registry().names if default_registry().registration(n).sandbox]
    assert "fakeshop" in names
    assert out.startswith(f"orderstatus demo: {len(names)} provider sandboxes, ")
    for name in names:
        assert f"  {name:<10} sandbox   http://127.0.0.1:" in out
    assert "One order per provider, walked through its lifecycle" in out
    assert ("  fakeshop order 'F-1': new (payment paid) -> making (one item first) -> sent -> "
            "arrived\n") in out
    assert ("  refused: fakeshop order 'F-1': cannot move from delivered to cancelled (void)"
            in out)
    assert "  allowed: fakeshop order 'F-2': created (new) -> cancelled (void)\n" in out
    assert "Unified view: every tracked order" in out
    view = out.split("Unified view: every tracked order")[1].split("Changes recorded")[0]
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in view.splitlines()[4:] if line}
    assert rows[("fakeshop", "F-1")][:3] == ["shipped", "sent", "paid"]  # moved back a step
    assert rows[("printapi", "11410411")][:3] == ["in_production", "Processing", "paid"]
    for line in ("fakeshop order 'F-1': first seen created (new)",
                 "fakeshop order 'F-1': payment open -> paid",
                 "fakeshop order 'F-1': items F-1-0 in_production, F-1-1 created",
                 "fakeshop order 'F-1': created -> in_production (making); items F-1-0 "
                 "in_production, F-1-1 in_production",
                 "fakeshop order 'F-1': shipped -> delivered (arrived)",
                 "fakeshop order 'F-2': created -> cancelled (void)",
                 "fakeshop order 'F-1': delivered -> shipped (sent); anomaly: not a lifecycle "
                 "move, applied anyway",
                 "printapi order '11410411': payment open -> paid",
                 "gooten order '1-e3e70682-c209-4cac-a29f-6fbed82c07cd': items 100 "
                 "in_production, 101 created"):
        assert f"  {line}\n" in out, line
    assert re.search(r"printapi order '11410411': in_production -> shipped \(Shipped\); "
                     r"tracking https://", out)
    work = out.split("The tracker at work")[1].split("Webhooks:")[0]
    for name in names:  # the tracker's own outcomes, for every provider
        assert re.search(rf"  {name} order '[^']+', notified again: duplicate \(", work)
        assert re.search(rf"  {name} order '[^']+', moved from \w+ back to \w+: anomaly \(", work)
        assert re.search(rf"  {name} order '[^']+', a fetch sent before that move and answered "
                         r"after it \(\w+\): stale \(", work)
    recorded = int(re.search(r"Changes recorded \((\d+)\):", out)[1])  # type: ignore[index]
    kinds = re.search(r"By kind \(a change may be of several\): state (\d+), payment (\d+), "
                      r"tracking (\d+), items (\d+)\n", out)
    assert kinds is not None and all(int(n) >= 1 for n in kinds.groups())
    summary = re.search(r"Observations: (\d+) changes, (\d+) anomalies, (\d+) duplicates, "
                        r"(\d+) stale, 0 unknown \(", out)
    assert summary is not None
    changes, anomalies, duplicates, stale = map(int, summary.groups())
    assert changes + anomalies == recorded
    assert (anomalies, stale) == (len(names), len(names)) and duplicates >= len(names)
    assert "demo failed" not in out
    assert done.stderr == ""


def _shape(text: str) -> list[str]:
    """The demo's output without what changes from run to run: ports and its duration."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return re.sub(r"done in \d+\.\d s", "done in N s", text).splitlines()


def test_the_demo_the_docs_show_is_the_demo_with_the_built_in_plugins() -> None:
    """``docs/cli.md`` shows the demo's output with Print API and Gooten, line for line (the
    output's shape is deterministic: ids, steps and counts; ports and the time aside)."""
    page = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    shown = re.search(r"### `demo`.*?```console\n\$ orderstatus demo\n(.*?)```", page, re.S)
    assert shown is not None
    done = run("demo", env=clean_env(ORDERSTATUS_DISABLE_PLUGINS="acme,fakeshop"), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _shape(done.stdout) == _shape(shown[1])


def test_plurals_in_the_summary() -> None:
    from orderstatus.cli.output import counted

    assert [counted(1, "change"), counted(2, "change"), counted(0, "change")] == [
        "1 change", "2 changes", "0 changes"]
    assert [counted(1, "anomaly", "anomalies"), counted(3, "anomaly", "anomalies")] == [
        "1 anomaly", "3 anomalies"]


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
    assert ("  fakeshop order 'F-1': new (payment paid) -> making (one item first) -> sent -> "
            "arrived\n") in done.stdout
    assert done.stdout.rstrip().endswith("demo failed for broken")
    assert "Traceback" not in done.stderr
