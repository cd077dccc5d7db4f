"""``sandbox``: every sandbox on one port, the same lines on every run, the documented example
orders seeded, and the banner's own commands working as printed."""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orderstatus.testing.asgi import asgi_app, serve

from .conftest import clean_env, run, start

ROOT = Path(__file__).parents[2]
LAST_LINE = "# Serving until Ctrl-C."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Banner:
    """A running ``orderstatus sandbox`` and what it printed before serving."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.process = process
        self.lines: list[str] = []
        while not self.lines or self.lines[-1] != LAST_LINE:
            line = process.stdout.readline()
            assert line, f"the sandbox stopped: {process.communicate()}"
            self.lines.append(line.rstrip("\n"))

    @property
    def exports(self) -> dict[str, str]:
        return dict(shlex.split(line)[1].split("=", 1)
                    for line in self.lines if line.startswith("export "))

    def commands(self, program: str) -> list[list[str]]:
        """The commands the banner suggests (``#   PROGRAM ...`` lines), split as a shell
        would."""
        return [shlex.split(line[4:]) for line in self.lines
                if line.startswith(f"#   {program} ")]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=10) == 0
        assert self.process.communicate() == ("", "")


@pytest.fixture
def sandbox_command() -> Iterator[list[Banner]]:
    """Start ``orderstatus sandbox ARGS`` and read its banner: ``started.append(...)``."""
    started: list[Banner] = []
    yield started
    for banner in started:
        banner.process.kill()
        banner.process.communicate()


def _start(started: list[Banner], *args: str) -> Banner:
    banner = Banner(start("sandbox", *args, env=clean_env()))
    started.append(banner)
    return banner


def _curl(command: list[str]) -> httpx.Response:
    """Do what a ``curl -s [-X METHOD] URL [-d BODY]`` line of the banner or the docs does."""
    assert command[:2] == ["curl", "-s"], command
    rest = command[2:]
    method = "GET"
    if rest[0] == "-X":
        method, rest = rest[1], rest[2:]
    url, *data = rest
    if not data:
        return httpx.request(method, url)
    assert len(data) == 2 and data[0] == "-d", command
    return httpx.request("POST" if method == "GET" else method, url, content=data[1])


def _fetch(env: dict[str, str], *refs: str) -> dict[str, dict[str, object]]:
    done = run("fetch", "--json", *refs, env=env)
    assert done.returncode == 0, done.stderr
    return {r["order_id"]: r for r in map(json.loads, done.stdout.splitlines())}


def test_the_same_lines_every_run_and_the_documented_orders_are_there(
    sandbox_command: list[Banner], tmp_path: Path
) -> None:
    port = str(_free_port())
    first = _start(sandbox_command, "--port", port)
    assert all(line.startswith(("# ", "export ")) or line == "#" for line in first.lines)
    assert first.lines[0] == (
        f"# orderstatus sandboxes at http://127.0.0.1:{port}/, one path per provider")
    exports = first.exports
    assert exports["ORDERSTATUS_PRINTAPI_BASE_URL"] == f"http://127.0.0.1:{port}/printapi/v2/"
    assert exports["ORDERSTATUS_GOOTEN_BASE_URL"] == f"http://127.0.0.1:{port}/gooten/"
    env = clean_env(**exports, ORDERSTATUS_STORE=str(tmp_path / "store.sqlite3"))

    [fetch] = first.commands("orderstatus")
    assert fetch[:2] == ["orderstatus", "fetch"]
    for ref in ("printapi:59802395", "printapi:83432183",
                "gooten:7-501853e1-8d78-4e1e-83a0-be9fb432efe1"):
        assert ref in fetch
    orders = _fetch(env, *fetch[2:])
    assert len(orders) == len(fetch) - 2
    assert (orders["59802395"]["state"], orders["59802395"]["native_status"]) == (
        "in_production", "Processing")
    assert (orders["83432183"]["state"], orders["83432183"]["payment"]) == ("shipped", "paid")
    readme = orders["7-501853e1-8d78-4e1e-83a0-be9fb432efe1"]
    assert (readme["state"], len(readme["items"])) == ("in_production", 2)  # type: ignore[arg-type]

    # the banner's own curl lines: create an order, move the new examples, run the clock
    curls = first.commands("curl")
    created = _curl(curls[0])
    assert created.status_code == 201
    moved = []
    for command in curls[1:-2]:
        answer = _curl(command)
        assert answer.status_code == 200, answer.text
        moved.append((command[4].split("/")[3], answer.json()["id"]))
    assert {p for p, _ in moved} == {"gooten", "printapi"}
    clock = _curl(curls[-2])
    assert clock.status_code == 200 and "now" in clock.json()
    after = _fetch(env, *(f"{p}:{o}" for p, o in moved))
    assert {o["state"] for o in after.values()} == {"in_production"}
    first.stop()

    again = _start(sandbox_command, "--port", port)
    assert again.lines == first.lines
    again.stop()


def test_an_order_created_and_moved_through_the_control_api_shows_its_new_state(
    sandbox_command: list[Banner], tmp_path: Path
) -> None:
    banner = _start(sandbox_command, "--port", "0", "printapi", "gooten")
    env = clean_env(**banner.exports, ORDERSTATUS_STORE=str(tmp_path / "store.sqlite3"))
    root = re.search(r"at (http://\S+/),", banner.lines[0])[1]  # type: ignore[index]
    for provider, status, state in (("printapi", "Shipped", "shipped"),
                                    ("gooten", "Delivered", "delivered")):
        control = f"{root}{provider}/_sandbox/"
        order = httpx.post(control + "orders", json={"items": 2}).json()["id"]
        assert _fetch(env, f"{provider}:{order}")[order]["state"] == "created"
        moved = httpx.post(f"{control}orders/{order}/status", json={"status": status})
        assert moved.status_code == 200, moved.text
        assert httpx.post(control + "clock", json={"advance": 3600}).status_code == 200
        shown = _fetch(env, f"{provider}:{order}")[order]
        assert (shown["state"], shown["native_status"]) == (state, status)
        assert shown["tracking"]
    banner.stop()


def test_webhooks_are_sent_by_themselves_once_subscribed(
    sandbox_command: list[Banner]
) -> None:
    """With ``--webhooks``, a move reaches the receiver within a tick or two, with no clock
    call: the served sandbox delivers what is due, as the provider does."""
    received: list[tuple[str, bytes]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append((request.url.path, request.content))
        return httpx.Response(200, json={})

    with serve(asgi_app(receiver)) as hooks:
        banner = _start(sandbox_command, "--port", "0", "--webhooks", hooks + "webhooks",
                        "printapi")
        assert f"# Webhooks go to {hooks}webhooks/{{provider}}, every second." in banner.lines
        control = banner.exports["ORDERSTATUS_PRINTAPI_BASE_URL"].replace("/v2/", "/_sandbox/")
        moved = httpx.post(control + "orders/59802395/status", json={"status": "Shipped"})
        assert moved.status_code == 200
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        banner.stop()
    assert received == [("/webhooks/printapi", b"orderId=59802395")]


def test_a_port_in_use_is_a_configuration_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = run("sandbox", "--port", str(port), env=clean_env())
    assert done.returncode == 3
    assert done.stderr.startswith(f"orderstatus: error: cannot listen on 127.0.0.1:{port}: ")
    assert done.stdout == ""


@pytest.mark.parametrize(("args", "code", "message"), [
    (("nosuch",), 3, "no provider named 'nosuch' is installed"),
    (("--host", "256.1.1.1", "fakeshop"), 3, "cannot listen on 256.1.1.1:0: "),
    (("--webhooks", "ftp://x/", "fakeshop"), 2, "--webhooks 'ftp://x/' must be an http(s) url"),
])
def test_sandbox_errors_are_one_line(args: tuple[str, ...], code: int, message: str) -> None:
    done = run("sandbox", "--port", "0", *args, env=clean_env())
    assert done.returncode == code
    [line] = done.stderr.splitlines()
    assert line.startswith(f"orderstatus: error: {message}"), line
    assert done.stdout == ""


def test_no_examples_starts_empty(sandbox_command: list[Banner]) -> None:
    banner = _start(sandbox_command, "--port", "0", "--no-examples", "printapi")
    assert not any("example orders" in line for line in banner.lines)
    assert banner.commands("orderstatus") == []
    base = banner.exports["ORDERSTATUS_PRINTAPI_BASE_URL"]
    created = httpx.post(base.replace("/v2/", "/_sandbox/") + "orders", json={})
    assert created.json() == {"id": "11410411"}
    banner.stop()


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "docs" / "providers").glob("*.md"))]
REFERENCES = (
    r'\(\s*"(?P<p1>printapi|gooten)",\s*"(?P<o1>[^"]+)"',  # fetch("gooten", "7-…"), tuples
    r"\b(?P<p2>printapi|gooten):(?P<o2>[\w-]+)\b(?![-\w]*…)",  # orderstatus fetch gooten:7-…
    r"\borderId=(?P<o3>\d+)\b",  # Print API's webhook body
)


def _documented_ids() -> set[tuple[str, str]]:
    found = set()
    for page in DOCS:
        if page.name == "changelog.md":
            continue
        for pattern in REFERENCES:
            for match in re.finditer(pattern, page.read_text()):
                groups = {k[0]: v for k, v in match.groupdict().items() if v}
                order = groups["o"]
                if "…" not in order and len(order) >= 6 and any(c.isdigit() for c in order):
                    found.add((groups.get("p", "printapi"), order))
    return found


def test_every_order_id_the_docs_show_is_an_example_order() -> None:
    """A reader trying an id from the README or the docs against ``orderstatus sandbox``
    finds that order."""
    from orderstatus_gooten import GootenSandbox
    from orderstatus_printapi import PrintApiSandbox

    seeded = {(s.provider, e.order_id)
              for s in (PrintApiSandbox(), GootenSandbox()) for e in s.seed_examples()}
    documented = _documented_ids()
    assert {("printapi", "59802395"), ("printapi", "83432183"),
            ("gooten", "7-501853e1-8d78-4e1e-83a0-be9fb432efe1")} <= documented
    assert documented <= seeded, documented - seeded


def test_the_docs_show_what_the_command_prints() -> None:
    """``docs/cli.md`` shows the banner of the two real providers' sandboxes, exactly."""
    from orderstatus.cli.sandboxes import Served, banner
    from orderstatus.plugins import default_registry

    page = (ROOT / "docs" / "cli.md").read_text()
    shown = re.search(r"```console\n\$ orderstatus sandbox\n(.*?)```", page, re.S)
    assert shown is not None
    root = "http://127.0.0.1:8111/"
    served = []
    for name in ("gooten", "printapi"):
        reg = default_registry().registration(name)
        assert reg.sandbox is not None
        sandbox = reg.sandbox()
        served.append(Served(reg, sandbox, f"{root}{name}/", sandbox.seed_examples()))
    assert shown[1].splitlines() == banner(root, served, None)


def test_the_control_api_examples_of_the_testing_guide_answer_as_shown(
    sandbox_command: list[Banner]
) -> None:
    page = (ROOT / "docs" / "testing.md").read_text()
    block = re.search(r"### The control API.*?```console\n(.*?)```", page, re.S)
    assert block is not None
    steps = re.findall(r"^\$ (curl .*)\n((?:[^$].*\n)*)", block[1], re.M)
    assert len(steps) >= 3
    banner = _start(sandbox_command, "--port", "0", "printapi")
    root = banner.exports["ORDERSTATUS_PRINTAPI_BASE_URL"].removesuffix("printapi/v2/")
    for command, shown in steps:
        answer = _curl(shlex.split(command.replace("http://127.0.0.1:8111/", root)))
        assert answer.is_success, (command, answer.text)
        assert answer.text == shown.strip(), command
    banner.stop()
