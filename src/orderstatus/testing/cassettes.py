"""Provider answers recorded (or documented) in public, replayed through a real client.

A cassette is one JSON file holding one exchange and where it comes from::

    {"source": {"repository": "owner/name", "path": "…", "commit": "…", "license": "MIT"},
     "request": {"method": "GET", "path": "/v2/orders/11410410", "query": {"id": "…"}},
     "response": {"status": 200, "headers": {"Content-Type": "…"}, "body": "…"}}

``source`` must name a public origin: a ``url``, or a ``repository`` with the ``path`` and
``commit`` of the recorded file. ``body`` is the answer's text exactly as recorded (scrub
tokens before committing one, and say so in ``source``). :class:`Replay` answers a client's
requests with the cassettes they match, so a provider's parsers meet the provider's own words
through the public :class:`~orderstatus.Client`::

    replay = Replay(load_cassettes(FIXTURES, "oauth", "order-download-failed"))
    with Client({"printapi": settings}, transport=replay.transport()) as client:
        client.fetch("printapi", "11410410")
    assert replay.unmatched == []
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import httpx

__all__ = ["Cassette", "Replay", "json_shape", "load_cassettes"]


def _text_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"{what} must map strings to strings")
    return dict(value)


@attrs.frozen
class Cassette:
    """One recorded exchange: the request it answers and the response, with its source."""

    name: str
    source: Mapping[str, str]
    method: str
    path: str
    """The request path it answers (exactly)."""
    query: Mapping[str, str]
    """Query parameters the request must carry (others are allowed)."""
    status: int
    headers: Mapping[str, str]
    body: str

    @classmethod
    def load(cls, file: str | Path) -> Cassette:
        """Read a cassette file; ``ValueError`` if it is malformed or names no public source."""
        path = Path(file)
        data = json.loads(path.read_text(encoding="utf-8"))
        source = _text_map(data.get("source"), f"{path.name}: source")
        if "url" not in source and not {"repository", "path", "commit"} <= set(source):
            raise ValueError(f"{path.name}: source must give a url, or a repository with the "
                             "path and commit of the recorded file")
        request, response = data.get("request"), data.get("response")
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise ValueError(f"{path.name}: request and response must be objects")
        status, body = response.get("status"), response.get("body")
        if not isinstance(status, int) or not isinstance(body, str):
            raise ValueError(f"{path.name}: response needs an integer status and a text body")
        return cls(
            name=path.stem, source=source, method=str(request.get("method", "GET")).upper(),
            path=str(request.get("path", "")),
            query=_text_map(request.get("query", {}), f"{path.name}: request.query"),
            status=status,
            headers=_text_map(response.get("headers", {}), f"{path.name}: response.headers"),
            body=body,
        )

    def matches(self, request: httpx.Request) -> bool:
        """Whether ``request`` is the one this cassette answers."""
        params = request.url.params
        return (request.method == self.method and request.url.path == self.path
                and all(params.get(k) == v for k, v in self.query.items()))

    def response(self) -> httpx.Response:
        """The recorded answer, as a fresh :class:`httpx.Response`."""
        return httpx.Response(self.status, headers=dict(self.headers),
                              content=self.body.encode("utf-8"))

    def json(self) -> Any:
        """The recorded body, parsed."""
        return json.loads(self.body)


def load_cassettes(folder: str | Path, *names: str) -> tuple[Cassette, ...]:
    """The cassettes ``{folder}/{name}.json``, in the order given."""
    return tuple(Cassette.load(Path(folder) / f"{name}.json") for name in names)


class Replay:
    """Answers requests with the first cassette that matches; any other request is recorded
    in :attr:`unmatched` and answered ``599`` (so a test cannot pass on an unplanned call)."""

    def __init__(self, cassettes: Iterable[Cassette]) -> None:
        self.cassettes = tuple(cassettes)
        self.requests: list[httpx.Request] = []
        """Every request received, in order."""
        self.played: list[str] = []
        """Names of the cassettes played, in order."""
        self.unmatched: list[httpx.Request] = []
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        cassette = next((c for c in self.cassettes if c.matches(request)), None)
        with self._lock:
            self.requests.append(request)
            if cassette is None:
                self.unmatched.append(request)
                return httpx.Response(599, text="no cassette answers this request")
            self.played.append(cassette.name)
        return cassette.response()

    def transport(self) -> httpx.MockTransport:
        """An in-process transport (sync and async) answering through :meth:`handle`."""
        return httpx.MockTransport(self.handle)


def json_shape(value: Any) -> Any:
    """The shape of a JSON value, to compare a sandbox's answers with recorded ones: objects
    keep their keys (each mapped to its value's shape), lists the sorted distinct shapes of
    their entries, other values their JSON type name (``null`` for ``None``)."""
    if isinstance(value, dict):
        return {key: json_shape(v) for key, v in value.items()}
    if isinstance(value, list):
        shapes = {json.dumps(json_shape(v), sort_keys=True) for v in value}
        return [json.loads(s) for s in sorted(shapes)]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__
