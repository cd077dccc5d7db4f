"""What a provider plugin implements: a sans-I/O description of one provider.

A provider builds :class:`httpx.Request` objects and parses :class:`httpx.Response` objects; it
never sends anything. The client sends, retries, limits concurrency, maps HTTP failures to
errors and maps native statuses to canonical ones, so every provider works sync and async.
"""

from __future__ import annotations

import abc
import datetime as dt
import ipaddress
import json
import unicodedata
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote, urlencode

import attrs
import httpx

from .errors import (
    ConfigurationError,
    FeedNotSupportedError,
    InvalidOrderIdError,
    InvalidWebhookError,
    ResponseFormatError,
    UpdateNotSupportedError,
)
from .lifecycle import ActionReason, OrderState, PaymentState
from .models import RawPayload, Secret, Tracking
from .settings import secret_values

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "Capabilities",
    "NativeStatus",
    "ParsedItem",
    "ParsedOrder",
    "Provider",
    "QueryAuth",
    "UpdateRules",
    "UpdateVerdict",
    "check_base_url",
    "check_order_id",
    "excerpt",
]

T = TypeVar("T")

MAX_ORDER_ID_LENGTH = 128
MAX_JSON_DEPTH = 64
"""Deepest nesting of a JSON answer :meth:`Provider.json` accepts."""
MAX_EXCERPT = 300
"""Most characters of a provider's own words an error message quotes."""
_TOO_DEEP = object()


def excerpt(text: str, limit: int = MAX_EXCERPT) -> str:
    """``text`` on one line, cut to ``limit`` characters (a provider's words in a message)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether ``data`` nests containers more than ``limit`` deep (iteratively: no recursion)."""
    todo = [(data, 1)]
    while todo:
        value, depth = todo.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            todo.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            todo.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return False


_FORBIDDEN_IN_ID = frozenset("/?#\\%")
_PLAIN_ID = frozenset(map(chr, range(0x21, 0x7F))) - _FORBIDDEN_IN_ID
"""Printable ASCII but the forbidden characters: an id made of these alone (most are) needs
no per-character Unicode scan, since ASCII is its own NFKC form."""


@attrs.frozen
class NativeStatus:
    """Where one native status lands in the canonical lifecycle."""

    state: OrderState
    reason: ActionReason | None = None
    note: str = ""
    """Why this mapping was chosen (published in the docs)."""


def _same(native_status: str) -> str:
    return native_status


@attrs.frozen
class UpdateVerdict:
    """What a provider's rules say about one update (see :meth:`UpdateRules.decide`)."""

    target: OrderState
    native_target: str | None
    """The native status to send; ``None`` when the rules have no such target."""
    reached: bool
    """Every current status already is the target's: done without a request."""
    blocking: tuple[str, ...]
    """Current statuses outside the update sources, sorted (empty when none block)."""

    @property
    def allowed(self) -> bool:
        """Whether the update may go ahead (or is already done)."""
        return self.native_target is not None and (self.reached or not self.blocking)


@attrs.frozen
class UpdateRules:
    """A provider's rules for status updates, in its own words."""

    sources: frozenset[str]
    """Native statuses every item must be in for an update to be accepted."""
    targets: Mapping[OrderState, str]
    """Canonical target -> the native status to send."""

    def decide(
        self, target: OrderState, current: Iterable[str] = (), *,
        key: Callable[[str], str] = _same,
    ) -> UpdateVerdict:
        """Judge moving an order whose items show ``current`` native statuses to ``target``.

        The target must be one of ``targets``; then the update is done already if every
        current status is the target's native status, else allowed if every one is a
        source. With no ``current`` statuses only the target is judged. ``key`` is the
        provider's :meth:`Provider.native_key`: statuses are compared through it.
        """
        native = self.targets.get(target)
        statuses = tuple(current)
        if native is None or not statuses:
            return UpdateVerdict(target, native, reached=False, blocking=())
        sources = {key(s) for s in self.sources}
        return UpdateVerdict(
            target, native,
            reached=all(key(n) == key(native) for n in statuses),
            blocking=tuple(sorted({n for n in statuses if key(n) not in sources})),
        )


@attrs.frozen
class Capabilities:
    """What a provider can do."""

    fetch: bool = True
    update: bool = False
    webhook: bool = False
    feed: bool = False


@attrs.frozen
class ParsedItem:
    """One item as the provider described it, before mapping."""

    item_id: str
    native_status: str | None = None
    """The item's own status; ``None`` when items share the order's status."""
    tracking: tuple[Tracking, ...] = ()


@attrs.frozen
class ParsedOrder:
    """One order as the provider described it, before mapping.

    Give ``native_status`` for providers with an order-level status, or per-item statuses in
    ``items`` (the core aggregates them). Either way the core maps and checks every string.
    """

    order_id: str
    native_status: str | None = None
    items: tuple[ParsedItem, ...] = ()
    native_payment: str | None = None
    tracking: tuple[Tracking, ...] = ()
    provider_time: dt.datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


def check_order_id(order_id: object, *, provider: str | None = None,
                   max_length: int = MAX_ORDER_ID_LENGTH) -> str:
    """Return ``order_id`` if it is safe to put in a URL, else raise :class:`InvalidOrderIdError`.

    Ids are opaque, but empty or over-long ids, ``/ ? # \\ %``, ``..``, whitespace and control
    characters are refused before any request is built, and so are their Unicode look-alikes
    (characters whose NFKC form holds one: U+FF0F FULLWIDTH SOLIDUS, U+2025 TWO DOT LEADER, …),
    which a server or proxy that normalizes paths would read as the real thing.
    """
    if not isinstance(order_id, str):
        raise InvalidOrderIdError(
            f"order id must be a string, not {type(order_id).__name__}", provider=provider
        )
    shown = order_id if len(order_id) <= 40 else order_id[:40] + "…"
    if not order_id or len(order_id) > max_length:
        raise InvalidOrderIdError(
            f"order id must be 1 to {max_length} characters, got {len(order_id)}",
            provider=provider,
        )
    plain = order_id.isascii() and _PLAIN_ID.issuperset(order_id)
    bad = None if plain else next((c for c in order_id if not _allowed_in_id(c)), None)
    if bad is not None:
        folded = unicodedata.normalize("NFKC", bad)
        alike = "" if folded == bad else f" (read as {folded!r})"
        raise InvalidOrderIdError(
            f"order id {shown!r} holds a forbidden character {bad!r}{alike}", provider=provider
        )
    folded = order_id if plain else unicodedata.normalize("NFKC", order_id)
    if ".." in folded or folded == ".":
        alike = "" if ".." in order_id or order_id == "." else " once normalized (NFKC)"
        raise InvalidOrderIdError(f"order id {shown!r} holds '..'{alike}", provider=provider)
    return order_id


def _allowed_in_id(char: str) -> bool:
    """Whether ``char``, and every character of its NFKC form, may appear in an order id."""
    return not any(
        c in _FORBIDDEN_IN_ID or c.isspace() or unicodedata.category(c)[0] in "CZ"
        for c in {char, *unicodedata.normalize("NFKC", char)}
    )


def _storable(text: str) -> bool:
    """Whether ``text`` can be kept as it is (no lone surrogates, which UTF-8 cannot hold)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_base_url(url: str | httpx.URL, *, provider: str) -> httpx.URL:
    """Return ``url`` as an :class:`httpx.URL` ending in ``/``; refuse unsafe ones.

    Plain ``http://`` is only accepted on loopback; credentials in the URL are refused.
    """
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError) as err:
        raise ConfigurationError(f"base_url is not a valid url: {err}", provider=provider) from err
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError("base_url must be an http(s) url with a host", provider=provider)
    if parsed.userinfo:
        raise ConfigurationError("base_url must not carry credentials", provider=provider)
    if parsed.scheme == "http" and not _is_loopback(parsed.host):
        raise ConfigurationError(
            "plain http is refused for a host that is not loopback; use https",
            provider=provider,
        )
    if not parsed.path.endswith("/"):
        parsed = parsed.copy_with(path=parsed.path + "/")
    return parsed


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _SignedRequest(httpx.Request):
    """A request carrying secret query parameters; its ``repr`` masks them."""

    masked: tuple[str, ...] = ()

    def __repr__(self) -> str:
        url = self.url
        for name in self.masked:
            url = url.copy_set_param(name, "***")
        return f"<Request({self.method!r}, '{url}')>"


class QueryAuth(httpx.Auth):
    """Adds secret query parameters (an API key in the URL) to requests as they are sent.

    A provider whose API takes a credential in the query string returns one from
    :meth:`Provider.auth` instead of putting it in the requests it builds: then no request
    the client holds, no URL an error carries and no frame an error passes through has the
    credential, only the copy handed to httpx to send (whose ``repr`` masks it).

    Args:
        params: query parameter name -> the secret it carries.
        when: which requests get them (default: all); e.g. those built with a marker in
            ``request.extensions``.
    """

    def __init__(self, params: Mapping[str, Secret], *,
                 when: Callable[[httpx.Request], bool] | None = None) -> None:
        self._params = dict(params)
        self._when = when

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {sorted(self._params)}>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._when is None or self._when(request):
            url = request.url
            for name, secret in self._params.items():
                url = url.copy_add_param(name, secret.reveal())
            request = _SignedRequest(request.method, url, headers=request.headers,
                                     stream=request.stream, extensions=request.extensions)
            request.masked = tuple(self._params)
        yield request


class Provider(abc.ABC):
    """Base class of every provider. Subclass it, fill in the class attributes, and register
    the class from an ``orderstatus_register_providers`` hook.

    Attributes a subclass sets:
        name: the provider's name, lowercase, e.g. ``"gooten"``.
        title: its display name.
        settings_class: an attrs class with the provider's settings; fields typed
            :class:`~orderstatus.Secret` never print. ``base_url`` is a recognised field.
        default_base_url: where the real provider lives (a ``str`` ending in ``/``).
        native_statuses: native status -> :class:`NativeStatus`.
        payment_statuses: native payment status -> :class:`PaymentState`.
        update_rules: :class:`UpdateRules`, or ``None`` when updates are not possible.
        capabilities: :class:`Capabilities`.
        concurrency: how many requests may be in flight to this provider at once.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    settings_class: ClassVar[type[Any]]
    default_base_url: ClassVar[str]
    native_statuses: ClassVar[Mapping[str, NativeStatus]]
    payment_statuses: ClassVar[Mapping[str, PaymentState]] = {}
    update_rules: ClassVar[UpdateRules | None] = None
    capabilities: ClassVar[Capabilities] = Capabilities()
    concurrency: ClassVar[int] = 16
    max_order_id_length: ClassVar[int] = MAX_ORDER_ID_LENGTH

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        configured = getattr(settings, "base_url", None)
        self.base_url = check_base_url(configured or self.default_base_url, provider=self.name)
        self._base = str(self.base_url)

    def __repr__(self) -> str:  # an error tracker may show one half built
        return f"<{type(self).__name__} {self.name} {getattr(self, 'base_url', '(no url)')}>"

    # -- statuses ---------------------------------------------------------------------------

    @classmethod
    def native_key(cls, native_status: str) -> str:
        """Normalise a native status for lookup; override to match variants as one status."""
        return native_status

    @classmethod
    def update_rules_in_force(cls) -> UpdateRules | None:
        """The rules updates follow; ``None`` when the provider cannot update at all."""
        return cls.update_rules if cls.capabilities.update else None

    def url(self, *segments: str, params: Mapping[str, str] | None = None,
            trailing_slash: bool = False) -> httpx.URL:
        """``base_url`` plus ``segments`` (each percent-encoded) and ``params`` as the query.

        ``self.url("orders", order_id, params={"key": …})`` parses one URL where
        ``base_url.join(…)`` with ``params=`` parses three, and a segment can never change the
        path: ``/``, ``?`` and ``#`` in it are encoded; empty, ``.`` and ``..`` are refused.
        ``trailing_slash`` ends the path with ``/`` (``orders/?id=…``).
        """
        if any(s in ("", ".", "..") for s in segments):
            raise ValueError("url segments must not be empty, '.' or '..'")
        text = self._base + "/".join(quote(s, safe="") for s in segments)
        if trailing_slash:
            text += "/"
        if params:
            text += "?" + urlencode(params, quote_via=quote)
        return httpx.URL(text)

    # -- credentials ------------------------------------------------------------------------

    def secrets(self) -> tuple[str, ...]:
        """Every credential value in the settings, so the client can scrub them everywhere."""
        return secret_values(self.settings)

    def auth(self) -> httpx.Auth | None:
        """Return the :class:`httpx.Auth` that signs this provider's requests, if any."""
        return None

    # -- order ids --------------------------------------------------------------------------

    def check_order_id(self, order_id: object) -> str:
        """Refuse ids that could change a URL; override to add provider-specific rules."""
        return check_order_id(order_id, provider=self.name, max_length=self.max_order_id_length)

    # -- fetch ------------------------------------------------------------------------------

    @abc.abstractmethod
    def build_fetch(self, order_id: str) -> httpx.Request:
        """Return the request that fetches one order."""

    @abc.abstractmethod
    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        """Parse a successful (2xx) fetch response; raise core errors for anything else."""

    # -- update -----------------------------------------------------------------------------

    def build_update(self, order_id: str, native_target: str) -> httpx.Request:
        """Return the request that sets ``order_id`` to ``native_target``."""
        raise UpdateNotSupportedError(
            f"{self.title} has no status update", provider=self.name, order_id=order_id
        )

    def parse_update(self, order_id: str, response: httpx.Response) -> None:
        """Check a 2xx update response; raise :class:`UpdateRejectedError` if it says no."""
        return

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(
        self, body: bytes, headers: httpx.Headers, query: httpx.QueryParams
    ) -> str:
        """Return the order id a webhook notification is about (never its status)."""
        raise InvalidWebhookError(f"{self.title} sends no webhooks", provider=self.name)

    # -- feed -------------------------------------------------------------------------------

    def build_feed(self, since: str | None) -> httpx.Request:
        """Return the request that reads the change feed from cursor ``since``."""
        raise FeedNotSupportedError(f"{self.title} has no change feed", provider=self.name)

    def parse_feed(
        self, since: str | None, response: httpx.Response
    ) -> tuple[tuple[ParsedOrder, ...], str | None]:
        """Parse a feed page into orders and the cursor to continue from."""
        raise FeedNotSupportedError(f"{self.title} has no change feed", provider=self.name)

    # -- errors -----------------------------------------------------------------------------

    def classify_error(self, order_id: str | None, response: httpx.Response) -> Exception | None:
        """Turn a provider-specific error answer into a core error, or return ``None``.

        Called for every non-2xx response before the generic status-code mapping.
        """
        return None

    # -- helpers for subclasses -------------------------------------------------------------

    def json(self, order_id: str | None, response: httpx.Response) -> Any:
        """Decode a JSON body or raise :class:`ResponseFormatError`.

        An object comes back as a :class:`~orderstatus.models.RawPayload` (a dict that keeps
        the body's text, which stores then keep as it arrived): pass it on as ``raw``.
        An undecodable body looks like a fault on the way (cut short, a proxy's HTML page), so
        the error is ``retryable``: the client tries a safe request again within its budget.
        """
        content = response.content
        try:
            text = content.decode(json.detect_encoding(content), "surrogatepass")  # as loads does
            data = json.loads(text)
        except RecursionError:
            data = _TOO_DEEP
        except (ValueError, UnicodeDecodeError) as err:
            raise ResponseFormatError(
                f"answer is not json ({response.headers.get('content-type', 'no content type')})",
                provider=self.name, order_id=order_id, status_code=response.status_code,
                retryable=True,
            ) from err
        # a document deeper than any answer breaks code that walks it (copies, stores, reprs):
        # refused; only one with that many brackets at all can be, so most are never walked
        if data is _TOO_DEEP or (
            content.count(b"[") + content.count(b"{") > MAX_JSON_DEPTH
            and _deeper_than(data, MAX_JSON_DEPTH)
        ):
            raise ResponseFormatError(
                f"answer is json nested deeper than {MAX_JSON_DEPTH} levels",
                provider=self.name, order_id=order_id, status_code=response.status_code,
            )
        return RawPayload(data, text) if type(data) is dict and _storable(text) else data

    def structure(self, order_id: str | None, data: Any, cls: type[T]) -> T:
        """Structure ``data`` into ``cls`` with this provider's converter.

        Unknown keys are tolerated; validation errors become :class:`ResponseFormatError`
        naming the path of the offending field.
        """
        import cattrs

        try:
            return self.converter().structure(data, cls)
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as err:
            problems = (
                cattrs.transform_error(err) if isinstance(err, cattrs.BaseValidationError)
                else [str(err)]
            )
            raise ResponseFormatError(
                f"unexpected answer: {excerpt('; '.join(problems))}",
                provider=self.name, order_id=order_id,
            ) from err

    _converter: ClassVar[cattrs.Converter | None] = None

    @classmethod
    def converter(cls) -> cattrs.Converter:
        """This provider's private converter; override :meth:`configure_converter` to add hooks."""
        if cls.__dict__.get("_converter") is None:
            import cattrs

            conv = cattrs.Converter(forbid_extra_keys=False)
            cls.configure_converter(conv)
            cls._converter = conv
        assert cls._converter is not None
        return cls._converter

    @classmethod
    def configure_converter(cls, converter: cattrs.Converter) -> None:
        """Register structure hooks for this provider's payloads."""
        return
