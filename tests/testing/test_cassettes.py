"""``orderstatus.testing.cassettes``: recorded answers that name their source, replayed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from orderstatus.testing.cassettes import Cassette, Replay, json_shape, load_cassettes

SOURCE = {"repository": "owner/name", "path": "tests/answer.json", "commit": "0" * 40}


def write(folder: Path, name: str, **parts: object) -> Path:
    data = {"source": SOURCE, "request": {"method": "get", "path": "/v2/orders/1",
                                          "query": {"id": "1"}},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                         "body": "{\r\n  \"id\": \"1\"\r\n}"}}
    data.update(parts)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def test_a_cassette_replays_its_answer_byte_for_byte(tmp_path: Path) -> None:
    (cassette,) = load_cassettes(tmp_path, write(tmp_path, "order").stem)
    assert (cassette.name, cassette.method, cassette.path) == ("order", "GET", "/v2/orders/1")
    response = cassette.response()
    assert response.content == b"{\r\n  \"id\": \"1\"\r\n}"
    assert response.headers["content-type"] == "application/json"
    assert cassette.json() == {"id": "1"}


@pytest.mark.parametrize(("parts", "problem"), [
    ({"source": {"repository": "owner/name"}}, "source must give a url"),
    ({"source": {"url": 5}}, "source must map strings"),
    ({"request": []}, "request and response must be objects"),
    ({"response": {"status": "200", "body": ""}}, "integer status"),
    ({"response": {"status": 200, "body": {}}}, "text body"),
])
def test_a_cassette_must_name_its_source_and_be_well_formed(
    tmp_path: Path, parts: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        Cassette.load(write(tmp_path, "bad", **parts))


def test_a_url_is_source_enough(tmp_path: Path) -> None:
    path = write(tmp_path, "documented", source={"url": "https://provider.example/docs"})
    assert Cassette.load(path).source == {"url": "https://provider.example/docs"}


def test_replay_answers_matching_requests_and_records_the_rest(tmp_path: Path) -> None:
    replay = Replay(load_cassettes(tmp_path, write(tmp_path, "order").stem))
    with httpx.Client(transport=replay.transport(), base_url="https://api.example") as http:
        assert http.get("/v2/orders/1", params={"id": "1", "key": "k"}).json() == {"id": "1"}
        assert http.get("/v2/orders/1", params={"id": "2"}).status_code == 599
        assert http.post("/v2/orders/1", params={"id": "1"}).status_code == 599

    async def asynchronously() -> int:
        async with httpx.AsyncClient(transport=replay.transport()) as http:
            response = await http.get("https://api.example/v2/orders/1?id=1")
            return response.status_code

    assert asyncio.run(asynchronously()) == 200
    assert replay.played == ["order", "order"]
    assert [r.method for r in replay.unmatched] == ["GET", "POST"]
    assert len(replay.requests) == 4


def test_json_shape_keeps_keys_and_types() -> None:
    assert json_shape({"a": [1, 2.5], "b": None, "c": {"d": True, "e": "x"}, "f": []}) == {
        "a": ["number"], "b": "null", "c": {"d": "boolean", "e": "string"}, "f": []
    }
    assert json_shape([{"a": 1}, {"a": 2}, {"b": "x"}]) == [{"a": "number"}, {"b": "string"}]
    assert json_shape({"a": 1}) != json_shape({"a": "1"})
