"""``update``: allowed, refused, dry run, JSON, and the exit codes of its failures."""

from __future__ import annotations

import json

from orderstatus_fakeshop import FakeshopSandbox

from .conftest import Invoke, run


def test_allowed_update_prints_before_and_after(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    done = run("update", f"fakeshop:{order}", "--to", "cancelled", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"fakeshop order '{order}': created (new) -> cancelled (void)\n"
    assert sandbox.orders[order]["items"][0]["status"] == "void"


def test_refused_update_exits_1_with_the_rules_and_sends_nothing(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    sandbox.set_status(order, "making")
    done = run("update", f"fakeshop:{order}", "--to", "cancelled", env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"orderstatus: error: fakeshop order '{order}': cannot move from in_production to "
        "cancelled (void): items in making; updates need every item in bad_address, new\n"
    )
    assert [m for m, _ in sandbox.requests] == ["GET"]


def test_dry_run_checks_the_rules_without_sending(
    invoke: Invoke, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    done = invoke("update", f"fakeshop:{order}", "--to", "on_hold", "--dry-run")
    assert done.returncode == 0
    assert done.stdout == (
        f"dry run: fakeshop order '{order}' may move from created (new) to on_hold; "
        "nothing sent\n"
    )
    sandbox.set_status(order, "sent")
    refused = invoke("update", f"fakeshop:{order}", "--to", "on_hold", "--dry-run")
    assert refused.returncode == 1
    assert "cannot move from shipped to on_hold" in refused.stderr
    assert [m for m, _ in sandbox.requests] == ["GET", "GET"]
    assert sandbox.orders[order]["items"][0]["status"] == "sent"


def test_update_json_and_update_to_the_current_state(
    invoke: Invoke, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    done = invoke("update", f"fakeshop:{order}", "--to", "on_hold", "--json")
    assert done.returncode == 0
    record = json.loads(done.stdout)
    assert record["dry_run"] is False
    assert (record["before"]["state"], record["after"]["state"]) == ("created", "on_hold")
    again = invoke("update", f"fakeshop:{order}", "--to", "on_hold")
    assert again.stdout == f"fakeshop order '{order}' is already on_hold (held); nothing sent\n"
    assert [m for m, _ in sandbox.requests] == ["GET", "POST", "GET", "GET"]


def test_update_failures_map_to_documented_exit_codes(
    invoke: Invoke, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    cases: list[tuple[tuple[str, ...], int, str]] = [
        (("update", "fakeshop:F-404", "--to", "cancelled"), 1, "no such order"),
        (("update", "fakeshop:a/b", "--to", "cancelled"), 2, "forbidden character"),
        (("update", "fakeshop", "--to", "cancelled"), 2, "invalid order reference"),
        (("update", f"fakeshop:{order}", "--to", "teleported"), 2, "invalid choice"),
    ]
    for args, code, message in cases:
        done = invoke(*args)
        assert done.returncode == code, args
        assert message in done.stderr, done.stderr
    sandbox.faults.inject("status", status=400)
    provider_error = invoke("update", f"fakeshop:{order}", "--to", "cancelled")
    assert provider_error.returncode == 4
    assert provider_error.stderr.startswith(
        f"orderstatus: error: fakeshop order '{order}': provider answered 400"
    )


def test_refused_credentials_are_a_configuration_error(
    env: dict[str, str], sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    wrong = {**env, "ORDERSTATUS_FAKESHOP_API_KEY": "wrong-key"}
    done = run("update", f"fakeshop:{order}", "--to", "cancelled", env=wrong)
    assert done.returncode == 3
    assert "credentials refused" in done.stderr
    assert "wrong-key" not in done.stderr
