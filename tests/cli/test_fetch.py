"""``fetch``: references on the command line or from a file, table or JSON lines, failures."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

from orderstatus.stores import SQLiteStore

from .conftest import Invoke, clean_env, run


def _rows(stdout: str) -> list[list[str]]:
    lines = stdout.splitlines()
    assert lines[0] == "Orders"
    return [line.split() for line in lines[4:]]


def test_fetch_prints_a_table_in_the_order_given(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    first = sandbox.create_order(items=2, payment="due")
    second = sandbox.create_order()
    sandbox.set_status(second, "sent", tracking_url="https://track.example/1")
    done = run("fetch", f"fakeshop:{second}", f"fakeshop:{first}", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2].split() == [
        "provider", "order", "state", "native", "status", "payment", "tracking"
    ]
    assert _rows(done.stdout) == [
        ["fakeshop", second, "shipped", "sent", "—", "https://track.example/1"],
        ["fakeshop", first, "created", "new", "open", "—"],
    ]
    assert done.stderr == ""


def test_fetch_json_lines_and_per_order_failures(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    sandbox.set_status(order, "bad_address")
    done = run("fetch", "--json", f"fakeshop:{order}", "fakeshop:F-404", env=env)
    assert done.returncode == 1
    records = {r["order_id"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert records[order]["state"] == "action_required"
    assert records[order]["reason"] == "address"
    assert records[order]["items"][0]["native_status"] == "bad_address"
    assert "raw" not in records[order]
    failure = records["F-404"]
    assert failure["error_type"] == "OrderNotFoundError"
    assert failure["exit_code"] == 1
    assert "no such order" in failure["error"]


def test_failures_are_one_line_each_on_stderr(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    done = run("fetch", f"fakeshop:{order}", "fakeshop:F-404", "fakeshop:bad/id", env=env)
    assert done.returncode == 2  # the most serious failure: a malformed id (2) over not found
    assert [r[1] for r in _rows(done.stdout)] == [order]
    lines = done.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("orderstatus: error: fakeshop order 'F-404': ")
    assert "forbidden character '/'" in lines[1]
    assert API_KEY not in done.stderr


def test_fetch_from_a_csv_file_and_from_stdin_lines(
    env: dict[str, str], invoke: Invoke, sandbox: FakeshopSandbox, tmp_path: Path
) -> None:
    orders = [sandbox.create_order() for _ in range(3)]
    listing = tmp_path / "orders.csv"
    listing.write_text("Order_ID,provider,note\n"
                       + "".join(f"{o},fakeshop,x\n" for o in orders[:2]))
    done = run("fetch", "--from", str(listing), f"fakeshop:{orders[2]}", env=env)
    assert done.returncode == 0, done.stderr
    assert [r[1] for r in _rows(done.stdout)] == [orders[2], orders[0], orders[1]]
    lines = "# a comment\n\n" + "".join(f"fakeshop:{o}\n" for o in orders)
    piped = invoke("fetch", "--json", "--from", "-", stdin=lines)
    assert sorted(json.loads(r)["order_id"] for r in piped.stdout.splitlines()) == sorted(orders)
    second = tmp_path / "more.txt"
    second.write_text(f"fakeshop:{orders[2]}\n")
    both = run("fetch", "--from", str(listing), "--from", str(second), env=env)
    assert [r[1] for r in _rows(both.stdout)] == [orders[0], orders[1], orders[2]]


def test_bad_input_is_a_usage_error(invoke: Invoke, tmp_path: Path) -> None:
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("shop,id\nfakeshop,F-1\n")
    binary = tmp_path / "refs.bin"
    binary.write_bytes(b"\xd0\xff\x00fakeshop:F-1\n")
    for args, message in [
        ((), "no orders given"),
        (("F-1",), "invalid order reference 'F-1': expected provider:order_id"),
        (("--from", str(tmp_path / "missing.txt")), "cannot read"),
        (("--from", str(bad_csv)), "needs provider and order_id columns"),
        (("--from", str(binary)), "not utf-8 text"),
        (("--concurrency", "0", "fakeshop:F-1"), "argument --concurrency: 0 is less than 1"),
    ]:
        done = invoke("fetch", *args)
        assert done.returncode == 2, args
        assert done.stderr.startswith("orderstatus: error: "), done.stderr
        assert message in done.stderr
        assert len(done.stderr.splitlines()) == 1


def test_unconfigured_provider_names_the_variables_to_set(tmp_path: Path) -> None:
    done = run("fetch", "fakeshop:F-1", env=clean_env(HOME=str(tmp_path)))
    assert done.returncode == 3
    assert done.stderr == (
        "orderstatus: error: fakeshop is not configured: set ORDERSTATUS_FAKESHOP_API_KEY or "
        "pass --config\n"
    )
    unknown = run("fetch", "nosuch:1", env=clean_env(HOME=str(tmp_path)))
    assert unknown.returncode == 3
    assert "no provider named 'nosuch' is installed" in unknown.stderr


def test_a_misspelt_variable_stops_every_command_before_any_request(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    """Sandbox credentials with ``BASEURL`` for ``BASE_URL`` would otherwise go to production."""
    typo = {**env, "ORDERSTATUS_FAKESHOP_BASEURL": env.pop("ORDERSTATUS_FAKESHOP_BASE_URL")}
    for command in (["fetch", "fakeshop:F-1"], ["watch", "--once"], ["serve", "--port", "0"]):
        done = run(*command, env=typo)
        assert (done.returncode, done.stdout) == (3, ""), command
        assert done.stderr == (
            "orderstatus: error: fakeshop: unknown variable ORDERSTATUS_FAKESHOP_BASEURL "
            "(did you mean ORDERSTATUS_FAKESHOP_BASE_URL?)\n"
        )
    assert sandbox.requests == []


def test_settings_from_a_json_or_toml_config_file(
    served: str, sandbox: FakeshopSandbox, tmp_path: Path
) -> None:
    order = sandbox.create_order()
    as_json = tmp_path / "settings.json"
    as_json.write_text(json.dumps({"fakeshop": sandbox.settings(served)}))
    as_toml = tmp_path / "settings.toml"
    as_toml.write_text(f'[fakeshop]\napi_key = "{API_KEY}"\nbase_url = "{served}v1/"\n')
    for config in (as_json, as_toml):
        done = run("fetch", "--config", str(config), f"fakeshop:{order}", env=clean_env())
        assert done.returncode == 0, done.stderr
        assert _rows(done.stdout)[0][:3] == ["fakeshop", order, "created"]


def test_bad_config_files_are_configuration_errors(invoke: Invoke, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    shapeless = tmp_path / "list.json"
    shapeless.write_text("[1, 2]")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"fakeshop": {"api_key": "k", "colour": "red"}}))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"fakeshop": {"api_key": "\xd0\xff"}}')
    for path, message in [
        (binary, "is not utf-8 text"),
        (tmp_path / "missing.json", "cannot read config file"),
        (broken, "is not valid"),
        (shapeless, "must map provider names to settings tables"),
        (invalid, "fakeshop: invalid settings"),
    ]:
        done = invoke("fetch", "--config", str(path), "fakeshop:F-1")
        assert done.returncode == 3, path
        assert done.stderr.startswith("orderstatus: error: "), done.stderr
        assert message in done.stderr
        assert len(done.stderr.splitlines()) == 1


def test_track_records_the_statuses_in_the_store(
    env: dict[str, str], sandbox: FakeshopSandbox, store: Path
) -> None:
    order = sandbox.create_order()
    assert run("fetch", "--track", f"fakeshop:{order}", env=env).returncode == 0
    with SQLiteStore(store) as saved:
        current = saved.current("fakeshop", order)
    assert current is not None
    assert current.native_status == "new"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("count", "flags", "shown"), [
    (21, (), True), (21, ("--no-progress",), False), (20, (), False),
])
def test_progress_bar_on_a_terminal_for_long_runs(
    invoke: Invoke, sandbox: FakeshopSandbox, monkeypatch: pytest.MonkeyPatch,
    count: int, flags: tuple[str, ...], shown: bool,
) -> None:
    order = sandbox.create_order()
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    done = invoke("fetch", *flags, *[f"fakeshop:{order}"] * count)
    assert done.returncode == 0
    assert len(_rows(done.stdout)) == count
    bar = terminal.getvalue()
    assert (f"{count}/{count}" in bar) is shown
    assert bar.endswith("\r") is shown  # the bar is wiped at the end
