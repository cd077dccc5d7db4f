"""The error tree: one lowercase line naming provider and order, retryable where it applies."""

from __future__ import annotations

import pytest

from orderstatus import errors


def _leaves() -> list[type[errors.OrderStatusError]]:
    return [getattr(errors, n) for n in errors.__all__]


def test_every_error_descends_from_the_base() -> None:
    assert all(issubclass(cls, errors.OrderStatusError) for cls in _leaves())
    provider_errors = {errors.AuthenticationError, errors.OrderNotFoundError,
                       errors.RateLimitedError, errors.ProviderUnavailableError,
                       errors.UpdateRejectedError, errors.ResponseFormatError}
    assert all(issubclass(cls, errors.ProviderError) for cls in provider_errors)


@pytest.mark.parametrize("cls", _leaves())
def test_messages_are_one_line_naming_provider_and_order(
    cls: type[errors.OrderStatusError],
) -> None:
    error = cls("something\n  went   wrong", provider="gooten", order_id="7-a")
    assert str(error) == "gooten order '7-a': something went wrong"
    assert repr(error) == f"{cls.__name__}(\"gooten order '7-a': something went wrong\")"
    assert str(cls("plain")) == "plain"


def test_retryable_where_it_applies() -> None:
    assert errors.ProviderUnavailableError("x").retryable
    assert errors.RateLimitedError("x", retry_after=2.0).retryable
    assert errors.OutcomeUnknownError("x").retryable
    assert not errors.OrderNotFoundError("x").retryable
    assert not errors.TransitionNotAllowedError("x").retryable
    assert not errors.ProviderError("x", retryable=False).retryable
    assert errors.ProviderError("x", retryable=True).retryable


def test_scrub_cleans_every_text_the_error_carries() -> None:
    error = errors.UpdateRejectedError(
        "refused key=SECRETVALUE", provider="gooten", order_id="1",
        url="https://x/?partnerBillingKey=SECRETVALUE", messages=["bad SECRETVALUE"],
    )
    error.scrub(lambda text: text.replace("SECRETVALUE", "***"))
    assert "SECRETVALUE" not in repr(vars(error)) + str(error) + repr(error.args)
    assert error.messages == ("bad ***",)


def test_scrub_drops_chained_exceptions_it_cannot_clean() -> None:
    import json

    try:
        try:
            json.loads("SECRETVALUE")
        except ValueError as err:
            raise errors.ResponseFormatError("answer is not json", provider="p") from err
    except errors.ResponseFormatError as caught:
        error = caught
    assert isinstance(error.__cause__, ValueError)
    error.scrub(lambda text: text.replace("SECRETVALUE", "***"))
    assert error.__cause__ is None
    assert error.__context__ is None
