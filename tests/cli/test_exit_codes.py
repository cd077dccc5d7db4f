"""The exit codes ``docs/cli.md`` documents, command by command, against real runs.

Each row runs the command as a subprocess in a situation the documentation names, and checks
its exit code and its one error line; the codes the table covers are the documented ones.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

from orderstatus.cli.common import EXIT_CODES, EXIT_INTERRUPTED, SEVERITY
from orderstatus.testing.asgi import serve

from .conftest import clean_env, run

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


@attrs.frozen
class World:
    """A fakeshop sandbox served for the whole module, and what the rows need of it."""

    sandbox: FakeshopSandbox
    url: str
    tmp: Path
    busy_port: int

    def env(self, key: str = API_KEY, **extra: str) -> dict[str, str]:
        return clean_env(ORDERSTATUS_FAKESHOP_API_KEY=key,
                         ORDERSTATUS_FAKESHOP_BASE_URL=self.url + "v1/",
                         ORDERSTATUS_STORE=str(self.tmp / "store.sqlite3"),
                         HOME=str(self.tmp), **extra)

    def order(self, status: str = "new") -> str:
        order = self.sandbox.create_order()
        if status != "new":
            self.sandbox.set_status(order, status)
        return order


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sandbox = FakeshopSandbox()
    with serve(sandbox.asgi()) as url, socket.create_server(("127.0.0.1", 0)) as busy:
        yield World(sandbox, url, tmp_path_factory.mktemp("exit-codes"),
                    busy.getsockname()[1])


Args = Callable[[World], "tuple[tuple[str, ...], dict[str, str]]"]


@attrs.frozen
class Row:
    command: str
    situation: str
    code: int
    args: Args
    message: str = ""
    """Text the one error line on stderr holds (rows exiting 0 print none)."""

    def __str__(self) -> str:
        return f"{self.command}: {self.situation}"


def _in(world: World, *args: str, key: str = API_KEY) -> tuple[tuple[str, ...], dict[str, str]]:
    return args, world.env(key)


def _not_json(world: World) -> tuple[tuple[str, ...], dict[str, str]]:
    order = world.order()
    world.sandbox.faults.inject("not_json", path=order, times=10)  # past every retry
    return ("fetch", f"fakeshop:{order}"), world.env()


def _tracked(world: World, key: str) -> tuple[tuple[str, ...], dict[str, str]]:
    done = run("fetch", "--track", f"fakeshop:{world.order()}", env=world.env())
    assert done.returncode == 0, done.stderr
    return ("watch", "--once"), world.env(key)


ROWS = [
    Row("providers", "listed", 0, lambda w: _in(w, "providers")),
    Row("lifecycle", "an unknown format", 2, lambda w: _in(w, "lifecycle", "--format", "png"),
        "invalid choice: 'png'"),
    Row("mappings", "an unknown provider", 3, lambda w: _in(w, "mappings", "nosuch"),
        "no provider named 'nosuch' is installed"),
    Row("fetch", "every order fetched", 0, lambda w: _in(w, "fetch", f"fakeshop:{w.order()}")),
    Row("fetch", "an order not found", 1, lambda w: _in(w, "fetch", "fakeshop:F-404"),
        "no such order"),
    Row("fetch", "an id with a forbidden character", 2,
        lambda w: _in(w, "fetch", f"fakeshop:{w.order()}", "fakeshop:a/b"),
        "forbidden character '/'"),
    Row("fetch", "a malformed reference", 2, lambda w: _in(w, "fetch", "fakeshop"),
        "invalid order reference 'fakeshop'"),
    Row("fetch", "an unreadable input file", 2, lambda w: _in(w, "fetch", "--from", "/nonexistent"),
        "cannot read '/nonexistent'"),
    Row("fetch", "credentials refused", 3,
        lambda w: _in(w, "fetch", f"fakeshop:{w.order()}", key="wrong-key"), "credentials"),
    Row("fetch", "an unknown provider", 3, lambda w: _in(w, "fetch", "nosuch:1"),
        "no provider named 'nosuch'"),
    Row("fetch", "the provider not configured", 3,
        lambda w: (("fetch", "fakeshop:F-1"), clean_env(HOME=str(w.tmp))),
        "fakeshop is not configured"),
    Row("fetch", "an unreadable answer", 4, _not_json, "fakeshop order "),
    Row("fetch", "not found and malformed: the malformed id decides", 2,
        lambda w: _in(w, "fetch", "fakeshop:F-404", "fakeshop:a/b"), "no such order"),
    Row("update", "moved", 0,
        lambda w: _in(w, "update", f"fakeshop:{w.order()}", "--to", "on_hold")),
    Row("update", "refused by the rules", 1,
        lambda w: _in(w, "update", f"fakeshop:{w.order('making')}", "--to", "cancelled"),
        "cannot move from in_production to cancelled"),
    Row("update", "a malformed reference", 2,
        lambda w: _in(w, "update", "fakeshop", "--to", "cancelled"), "invalid order reference"),
    Row("update", "credentials refused", 3,
        lambda w: _in(w, "update", f"fakeshop:{w.order()}", "--to", "on_hold", key="wrong-key"),
        "credentials refused"),
    Row("watch", "a sweep with nothing failing", 0, lambda w: _tracked(w, API_KEY)),
    Row("watch", "a sweep with credentials refused", 3, lambda w: _tracked(w, "wrong-key"),
        "credentials refused"),
    Row("watch", "an interval of no time", 2, lambda w: _in(w, "watch", "--interval", "0"),
        "must be more than 0"),
    Row("changes", "read", 0, lambda w: _in(w, "changes")),
    Row("changes", "a negative id", 2, lambda w: _in(w, "changes", "--after", "-1"),
        "is less than 0"),
    Row("serve", "a port in use", 3, lambda w: _in(w, "serve", "--port", str(w.busy_port)),
        "cannot listen on 127.0.0.1:"),
    Row("sandbox", "a port in use", 3, lambda w: _in(w, "sandbox", "--port", str(w.busy_port)),
        "cannot listen on 127.0.0.1:"),
    Row("sandbox", "a provider without a sandbox or plugin", 3,
        lambda w: _in(w, "sandbox", "--port", "0", "nosuch"), "no provider named 'nosuch'"),
    Row("new-provider", "written", 0,
        lambda w: _in(w, "new-provider", "acme_exit", "--dir", str(w.tmp))),
    Row("new-provider", "an invalid name", 2, lambda w: _in(w, "new-provider", "Bad-Name"),
        "provider name 'Bad-Name' must be"),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_exit_code(world: World, row: Row) -> None:
    args, env = row.args(world)
    try:
        done = run(*args, env=env)
    finally:
        world.sandbox.faults.clear()
    assert done.returncode == row.code, (done.stdout, done.stderr)
    if row.code == 0:
        assert "error" not in done.stderr
        return
    [line] = done.stderr.splitlines()[-1:]
    assert line.startswith("orderstatus: error: ") and row.message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_fetch_json_gives_the_code_the_process_exits_with(world: World) -> None:
    order = world.order()
    for key, code, error in (("wrong-key", 3, "AuthenticationError"),
                             (API_KEY, 1, "OrderNotFoundError")):
        ref = f"fakeshop:{order}" if key != API_KEY else "fakeshop:F-404"
        done = run("fetch", "--json", ref, env=world.env(key))
        [record] = map(json.loads, done.stdout.splitlines())
        assert (record["error_type"], record["exit_code"], done.returncode) == (error, code, code)


def _documented_codes() -> list[int]:
    table = DOCS.read_text().split("## Exit codes", 1)[1].split("\n\n", 2)[1]
    return [int(code) for code in re.findall(r"^\| `(\d+)` \|", table, re.M)]


def test_the_documented_codes_are_the_commands_and_each_is_run() -> None:
    documented = _documented_codes()
    assert documented == list(EXIT_CODES)
    assert set(SEVERITY) | {0, EXIT_INTERRUPTED} == set(EXIT_CODES)
    # 130 (interrupted) is run in test_signals.py, signal by signal
    assert {r.code for r in ROWS} == set(EXIT_CODES) - {EXIT_INTERRUPTED}
    assert {r.command for r in ROWS} >= {"providers", "lifecycle", "mappings", "fetch", "update",
                                         "watch", "changes", "serve", "sandbox", "new-provider"}
