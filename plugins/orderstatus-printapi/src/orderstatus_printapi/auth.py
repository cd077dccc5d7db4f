"""OAuth 2 client credentials for Print API, as an :class:`httpx.Auth`.

One token serves every request until shortly before it expires; concurrent requests wait for
a single token fetch instead of each fetching their own; a ``401`` renews the token once and
then gives up (the client turns the final ``401`` into :class:`AuthenticationError`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import attrs
import httpx

from orderstatus import Secret
from orderstatus.errors import AuthenticationError, ProviderError, ResponseFormatError

__all__ = ["ClientCredentialsAuth", "renew_margin"]

log = logging.getLogger("orderstatus.printapi")

DEFAULT_LIFETIME = 300.0
"""Seconds a token is trusted when the token endpoint leaves out ``expires_in``."""
_FIRST: Any = None
"""The first reply sent into a flow (typed ``Any``: later replies are responses or tokens)."""
_OAUTH_ERROR = re.compile(r"[a-z_]{1,40}")
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]{1,4096}")


def renew_margin(lifetime: float) -> float:
    """Seconds before expiry a token is renewed: 60, or a tenth of a short lifetime."""
    return min(60.0, lifetime / 10)


@attrs.frozen
class _Token:
    value: str = attrs.field(repr=False)
    renew_at: float


@attrs.frozen
class _Renew:
    """Step of the shared flow: get a token that is not ``stale`` (under the lock)."""

    stale: str | None = attrs.field(repr=False)
    request: httpx.Request = attrs.field(repr=False)
    """The request waiting for the token (its timeouts apply to the token request)."""



class ClientCredentialsAuth(httpx.Auth):
    """Signs requests with a bearer token from ``POST {base}oauth`` (client credentials).

    Args:
        token_url: the token endpoint.
        client_id: the OAuth client id.
        client_secret: the OAuth client secret; only ever sent in the token request's body.
        provider: the provider name errors carry.
        clock: a monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self, token_url: httpx.URL | str, client_id: str, client_secret: Secret, *,
        provider: str = "printapi", clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = httpx.URL(str(token_url))
        self._client_id = client_id
        self._client_secret = client_secret
        self._provider = provider
        self._clock = clock
        self._token: _Token | None = None
        self._thread_lock = threading.Lock()
        self._async_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self.tokens_fetched = 0
        """How many tokens this object obtained (diagnostics)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.token_url}>"

    # -- the flow shared by sync and async --------------------------------------------------

    def _flow(self, request: httpx.Request) -> Generator[Any, Any, None]:
        """Yield requests to send (reply: response) or :class:`_Renew` (reply: token or None)."""
        stale: str | None = None
        for _ in range(2):
            token = self._usable(stale)
            if token is None:
                token = yield _Renew(stale, request)
                if token is None:
                    return  # the token endpoint's own answer (429, 5xx) goes back to the client
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code != 401:
                return
            log.debug("%s: access token refused (401)", self._provider)
            stale = token
        self._forget(stale)

    def _usable(self, stale: str | None) -> str | None:
        """The cached token unless missing, ``stale``, or about to expire."""
        token = self._token
        if token is None or token.value == stale or self._clock() >= token.renew_at:
            return None
        return token.value

    def _forget(self, stale: str | None) -> None:
        if self._token is not None and self._token.value == stale:
            self._token = None

    def _token_request(self, waiting: httpx.Request) -> httpx.Request:
        # The body carries the secret: it is never logged and never put in an error.
        # Requests an auth flow yields skip the client's defaults: copy the waiting one's timeouts.
        timeout = waiting.extensions.get("timeout")
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret.reveal(),
        }
        return httpx.Request(
            "POST", self.token_url, data=form, headers={"accept": "application/json"},
            extensions={"timeout": timeout} if timeout is not None else None,
        )

    def _accept(self, response: httpx.Response) -> str | None:
        """Cache the token of a token response; ``None`` hands a retryable answer back."""
        status = response.status_code
        common: dict[str, Any] = {
            "provider": self._provider, "status_code": status, "url": str(self.token_url),
        }
        if status in (400, 401, 403):
            code = _oauth_error(response)
            raise AuthenticationError(
                f"token endpoint refused the client credentials ({status}{code})", **common
            )
        if status == 429 or status >= 500:
            return None
        if not response.is_success:
            raise ProviderError(f"token endpoint answered {status}", retryable=False, **common)
        value, lifetime = _parse_token(response, common)
        self._token = _Token(value, self._clock() + lifetime - renew_margin(lifetime))
        self.tokens_fetched += 1
        log.debug("%s: obtained an access token valid for %.0f s", self._provider, lifetime)
        return value

    # -- drivers ----------------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        flow, reply = self._flow(request), _FIRST
        while (step := _step(flow, reply)) is not None:
            if isinstance(step, httpx.Request):
                reply = yield step
                continue
            with self._thread_lock:  # one token fetch for every waiting thread
                reply = self._usable(step.stale)
                if reply is None:
                    answer = yield self._token_request(step.request)
                    answer.read()
                    reply = self._accept(answer)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow, reply = self._flow(request), _FIRST
        while (step := _step(flow, reply)) is not None:
            if isinstance(step, httpx.Request):
                reply = yield step
                continue
            async with self._lock_for_loop():  # one token fetch for every waiting task
                reply = self._usable(step.stale)
                if reply is None:
                    answer = yield self._token_request(step.request)
                    await answer.aread()
                    reply = self._accept(answer)

    def _lock_for_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._async_lock is None or self._async_lock[0] is not loop:
            self._async_lock = (loop, asyncio.Lock())
        return self._async_lock[1]


def _step(flow: Generator[Any, Any, None], reply: Any) -> Any:
    """The flow's next step after ``reply``, or ``None`` when it is done."""
    try:
        return flow.send(reply)
    except StopIteration:
        return None


def _body(response: httpx.Response) -> Any:
    """The token endpoint's JSON answer; ``None`` for anything that is not JSON (too deep
    included), so every answer is read inside the typed-error boundary."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _oauth_error(response: httpx.Response) -> str:
    """``": invalid_client"`` from an OAuth error body, when it is a plain error code."""
    data = _body(response)
    code = data.get("error") if isinstance(data, dict) else None
    return f": {code}" if isinstance(code, str) and _OAUTH_ERROR.fullmatch(code) else ""


def _lifetime(value: object) -> float | None:
    """``expires_in`` in seconds: a positive, finite number (or its text); the default when
    it is left out; ``None`` for anything else."""
    if value is None:
        return DEFAULT_LIFETIME
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return seconds if 0 < seconds < math.inf else None


def _parse_token(response: httpx.Response, common: dict[str, Any]) -> tuple[str, float]:
    """``(access token, lifetime in seconds)``; the body is never echoed (it holds the token)."""
    data = _body(response)
    fields: dict[str, Any] = data if isinstance(data, dict) else {}
    value, kind = fields.get("access_token"), fields.get("token_type", "bearer")
    lifetime = _lifetime(fields.get("expires_in"))
    if not (
        isinstance(value, str) and _TOKEN_CHARS.fullmatch(value) is not None
        and isinstance(kind, str) and kind.lower() == "bearer" and lifetime is not None
    ):
        raise ResponseFormatError(
            "token endpoint answered without a usable bearer token and lifetime", **common
        )
    return value, lifetime
