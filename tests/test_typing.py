"""The clients' typed surface, as ``mypy --strict`` sees it from a user's code.

Keyword arguments are spelled out, so a misspelt one is an error, not a silent ``**kwargs``;
``from_env`` returns the class it is called on; each client takes its own kind of transport
and sleep. The snippet below marks every line mypy must refuse with ``# error: <code>``; every
other line must pass.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SNIPPET = '''
import httpx

from orderstatus import AsyncClient, Client


class MyClient(Client):
    pass


client: Client = Client.from_env()
mine: MyClient = MyClient.from_env(strict=True, timeout=5)
aclient: AsyncClient = AsyncClient.from_env(transport=httpx.AsyncHTTPTransport())
with MyClient({}) as entered:
    same: MyClient = entered
Client({}, timeout=5, strict=True, sleep=lambda seconds: None, limits={"gooten": 2})
Client({}, timout=5)  # error: call-arg
Client.from_env(timout=5)  # error: call-arg
wrong: AsyncClient = Client.from_env()  # error: assignment
Client({}, transport=httpx.AsyncHTTPTransport())  # error: arg-type
Client.from_env(transport=httpx.AsyncHTTPTransport())  # error: arg-type
AsyncClient({}, sleep=lambda seconds: None)  # error: arg-type
'''


def test_mypy_strict_accepts_the_documented_calls_and_refuses_the_rest(tmp_path: Path) -> None:
    source = tmp_path / "snippet.py"
    source.write_text(SNIPPET)
    expected = {
        (number, match[1])
        for number, line in enumerate(SNIPPET.splitlines(), start=1)
        if (match := re.search(r"# error: ([\w-]+)", line))
    }
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes",
         "--cache-dir", str(tmp_path / "cache"), str(source)],
        capture_output=True, text=True,
    )
    found = {
        (int(m[1]), m[2])
        for m in re.finditer(r"^.*snippet\.py:(\d+): error: .*\[([\w-]+)\]$", done.stdout, re.M)
    }
    refused_lines = {line for line, _ in found}
    assert found >= expected, done.stdout
    assert refused_lines == {line for line, _ in expected}, done.stdout  # nothing else refused
