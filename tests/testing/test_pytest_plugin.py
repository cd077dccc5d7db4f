"""The pytest plugin, run the way users run it: in a separate pytest session (pytester)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

USAGE = '''
import asyncio

import httpx
import pytest

from orderstatus import OrderState, ProviderUnavailableError


@pytest.mark.orderstatus(providers=["fakeshop"])
def test_only_the_chosen_sandbox(orderstatus_sandboxes, orderstatus_client):
    assert list(orderstatus_sandboxes) == ["fakeshop"]
    assert orderstatus_client.providers == ("fakeshop",)


def test_every_sandbox_by_default(orderstatus_sandboxes, orderstatus_registry):
    with_sandbox = [n for n in orderstatus_registry.names
                    if orderstatus_registry.registration(n).sandbox is not None]
    assert sorted(orderstatus_sandboxes) == with_sandbox
    assert "fakeshop" in orderstatus_sandboxes


@pytest.mark.orderstatus(providers=["fakeshop"])
def test_client_in_process(orderstatus_sandboxes, orderstatus_client):
    sandbox = orderstatus_sandboxes["fakeshop"]
    order_id = sandbox.create_order(items=2)
    sandbox.set_status(order_id, "making")
    assert orderstatus_client.fetch("fakeshop", order_id).state is OrderState.IN_PRODUCTION
    assert sandbox.requests[-1][1].endswith(f"/orders/{order_id}")


@pytest.mark.orderstatus(providers=["fakeshop"], http=True)
def test_client_over_http(orderstatus_sandboxes, orderstatus_served, orderstatus_client):
    sandbox = orderstatus_sandboxes["fakeshop"]
    order_id = sandbox.create_order()
    url = orderstatus_served["fakeshop"]
    assert url.startswith("http://127.0.0.1:")
    assert httpx.get(url + "_sandbox/requests").json() == []
    assert orderstatus_client.fetch("fakeshop", order_id).state is OrderState.CREATED
    [(method, path)] = httpx.get(url + "_sandbox/requests").json()
    assert method == "GET"
    assert path.endswith(f"/orders/{order_id}")


@pytest.mark.parametrize("http", [False, True])
@pytest.mark.parametrize("closing", [False, True])
def test_async_client(request, http, closing, orderstatus_sandboxes):
    request.applymarker(pytest.mark.orderstatus(providers=["fakeshop"], http=http))
    client = request.getfixturevalue("orderstatus_async_client")
    order_id = orderstatus_sandboxes["fakeshop"].create_order()

    async def main():
        if closing:
            async with client:
                return await client.fetch("fakeshop", order_id)
        return await client.fetch("fakeshop", order_id)

    assert asyncio.run(main()).state is OrderState.CREATED


@pytest.mark.orderstatus(providers=["fakeshop"], faults={"fakeshop": {"kind": "status"}})
def test_one_fault_is_retried(orderstatus_sandboxes, orderstatus_client):
    sandbox = orderstatus_sandboxes["fakeshop"]
    order_id = sandbox.create_order()
    assert orderstatus_client.fetch("fakeshop", order_id).state is OrderState.CREATED
    assert sandbox.faults.injected == 1
    assert len(orderstatus_client.sleeps) == 1


@pytest.mark.orderstatus(providers=["fakeshop"], http=True,
                         faults={"*": [{"kind": "status", "status": 502, "times": 10}]})
def test_lasting_faults_fail(orderstatus_sandboxes, orderstatus_client):
    order_id = orderstatus_sandboxes["fakeshop"].create_order()
    with pytest.raises(ProviderUnavailableError, match="502"):
        orderstatus_client.fetch("fakeshop", order_id)


@pytest.mark.orderstatus(providers=["fakeshop"], http=True)
def test_first_test_leaves_an_order(orderstatus_sandboxes, orderstatus_served):
    orderstatus_sandboxes["fakeshop"].create_order()
    assert len(httpx.get(orderstatus_served["fakeshop"] + "_sandbox/requests").json()) == 0


@pytest.mark.orderstatus(providers=["fakeshop"], http=True)
def test_next_test_starts_fresh_on_the_same_server(orderstatus_sandboxes, orderstatus_client):
    sandbox = orderstatus_sandboxes["fakeshop"]
    assert sandbox.orders == {}
    assert sandbox.create_order() == "F-1"
'''


def test_fixtures_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_usage=USAGE)
    result = pytester.runpytest_subprocess("-W", "error::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=12)


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    assert "@pytest.mark.orderstatus(providers=None, faults=None, http=False)" in (
        result.stdout.str()
    )


MISTAKES = {
    'providers=["nope"]': r"no sandbox for \['nope'\]; sandboxes: .*fakeshop",
    'providers=["fakeshop"], faults={"gooten": {"kind": "status"}}':
        r"faults for unchosen providers \['gooten'\]",
    'speed="fast"': r"unknown options \['speed'\]; known: \['faults', 'http', 'providers'\]",
    'providers="fakeshop", faults={"fakeshop": {"status": 500}}':
        r"bad fault for fakeshop: 'kind'",
    'providers="fakeshop", faults={"fakeshop": {"kind": "meteor"}}':
        r"bad fault for fakeshop: unknown fault kind 'meteor'",
}


def test_marker_mistakes_are_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import pytest\n" + "".join(
        f"\n@pytest.mark.orderstatus({marker})\ndef test_{n}(orderstatus_client):\n    pass\n"
        for n, marker in enumerate(MISTAKES)
    ))
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=len(MISTAKES))
    for message in MISTAKES.values():
        assert re.search(message, result.stdout.str()), message


def test_a_conftest_can_bring_its_own_registry(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('''
import pytest
from orderstatus import Registry
from orderstatus_fakeshop import FakeshopProvider, FakeshopSandbox
import orderstatus


class Mine:
    @staticmethod
    @orderstatus.hookimpl
    def orderstatus_register_providers(register):
        register(FakeshopProvider, sandbox=FakeshopSandbox)


@pytest.fixture
def orderstatus_registry():
    registry = Registry()
    registry.add_plugin(Mine, "mine")
    return registry
''')
    pytester.makepyfile('''
def test_it(orderstatus_sandboxes, orderstatus_client):
    assert list(orderstatus_sandboxes) == ["fakeshop"]
''')
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_importing_the_plugin_is_light() -> None:
    code = (
        "import sys, orderstatus.testing.pytest_plugin\n"
        "heavy = {'uvicorn', 'hypothesis', 'orderstatus.testing.sandbox'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
