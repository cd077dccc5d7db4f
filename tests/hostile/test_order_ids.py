"""Order ids of any shape: refused before any request, or requested exactly where ids go."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given

from orderstatus import InvalidOrderIdError, OrderState, check_order_id
from tests.conftest import Api

from .conftest import HOSTILE, Guard, outcome
from .strategies import NASTY_IDS, not_strings, order_ids


@pytest.mark.parametrize("operation", ["fetch", "update"])
@HOSTILE
@given(order_id=order_ids)
def test_requests_go_only_where_ids_go(
    guarded: tuple[Api, Guard], provider: str, operation: str, order_id: str
) -> None:
    api, guard = guarded
    guard.expect(order_id)
    if operation == "fetch":
        error = outcome(lambda: api.fetch(provider, order_id))
    else:
        error = outcome(lambda: api.update(provider, order_id, OrderState.CANCELLED))
    if isinstance(error, InvalidOrderIdError):
        assert guard.seen == []
    elif operation == "fetch":
        assert guard.seen, "an accepted id is fetched"


@HOSTILE
@given(order_id=not_strings)
def test_ids_that_are_not_strings_are_refused(
    guarded: tuple[Api, Guard], provider: str, order_id: Any
) -> None:
    api, guard = guarded
    with pytest.raises(InvalidOrderIdError):
        api.fetch(provider, order_id)
    assert guard.seen == []


@pytest.mark.parametrize("order_id", NASTY_IDS)
def test_the_core_check_agrees_with_what_a_url_can_hold(order_id: str) -> None:
    error = outcome(lambda: check_order_id(order_id))
    if error != order_id:
        assert isinstance(error, InvalidOrderIdError)
        assert error.detail
        return
    assert 1 <= len(order_id) <= 128
    for form in (order_id, unicodedata.normalize("NFKC", order_id)):  # as a server may read it
        assert not {"/", "?", "#", "\\", "%"} & set(form)
        assert ".." not in form
        assert form.isprintable()
        assert " " not in form
