"""Cold start: ``import orderstatus`` and the first ``Client()`` against ``import httpx`` and
``httpx.Client()``, each in a fresh interpreter, interleaved.

The first client is what a program pays before it can fetch: orderstatus's is configured for
both providers, so it loads the installed plugins (entry points, the plugins' modules, cattrs).
The goal is held to a user's installation, where the plugins are Print API's and Gooten's: the
test set-up's two test-only plugins (``acme``, ``fakeshop``) are blocked with
``ORDERSTATUS_DISABLE_PLUGINS``, which skips them before they are imported. The figure with
them loaded, as in this checkout, is printed beside. The baseline is a hand-written client's
start: ``import httpx`` and one ``httpx.Client()``.

``httpx.Client()`` builds its TLS context (the certificate bundle) when it is made, while
orderstatus builds its HTTP clients, one per provider, at their first request. So the figure a
program pays before its first request is printed too: orderstatus's ``Client()`` with its HTTP
clients made (``_client_for`` each provider), against the same baseline.
Each child times itself in CPU seconds (``time.process_time``, so other processes on a shared
machine do not count) from before the import to after the client; the import alone is printed
beside. Interpreter start-up itself is left out of both.

Both sides import compiled bytecode, as from an installation (pip compiles what it installs):
the children may write it even where ``PYTHONDONTWRITEBYTECODE`` is set (CI, containers), and
the unrecorded warm-up round writes this checkout's, which an editable install never compiles.
"""

from __future__ import annotations

from ._common import Result, at_most, interleaved, median, ratios, run_python

TARGET = at_most(1.3)

_CHILD = """
import time
start = time.process_time()
{code}
imported = time.process_time()
{client}
print(imported - start, time.process_time() - start)
"""
_SETTINGS = (
    '{"printapi": {"client_id": "bench", "client_secret": "bench-secret"},'
    ' "gooten": {"recipe_id": "bench", "partner_billing_key": "bench-key"}}'
)
_OURS = _CHILD.format(code="import orderstatus", client=f"orderstatus.Client({_SETTINGS})")
_READY = _CHILD.format(code="import orderstatus", client=(
    f"client = orderstatus.Client({_SETTINGS})\n"
    "[client._client_for(name) for name in client.providers]"
))
_BYTECODE = {"PYTHONDONTWRITEBYTECODE": ""}  # empty: bytecode is written (and then read)
_USERS = {**_BYTECODE, "ORDERSTATUS_DISABLE_PLUGINS": "acme,fakeshop"}
CHILDREN = {
    "orderstatus": (_OURS, _USERS),
    "httpx": (_CHILD.format(code="import httpx", client="httpx.Client()"), _BYTECODE),
    "checkout": (_OURS, _BYTECODE),
    "ready": (_READY, _USERS),
}


def run(smoke: bool) -> list[Result]:
    """Fresh-interpreter CPU time of each, over interleaved rounds."""
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in CHILDREN}

    def child(name: str) -> None:
        code, environ = CHILDREN[name]
        imported, total = run_python(code, environ=environ).split()
        found[name].append((float(imported), float(total)))

    interleaved({name: lambda name=name: child(name) for name in CHILDREN}, 1 if smoke else 15)
    ours, base, checkout, ready = ([total for _, total in found[n][1:]] for n in CHILDREN)
    ours_import, base_import = ([imported for imported, _ in found[n][1:]] for n in ("orderstatus",
                                                                                      "httpx"))
    return [Result(
        "import + first Client()", "-", ratios(ours, base), "import httpx + httpx.Client()",
        TARGET,
        f"{median(ours) * 1e3:.0f} ms CPU vs {median(base) * 1e3:.0f} ms; the import alone "
        f"{median(ours_import) * 1e3:.0f} ms vs {median(base_import) * 1e3:.0f} ms "
        f"({ratios(ours_import, base_import)}); with the test-only plugins loaded too "
        f"{median(checkout) * 1e3:.0f} ms ({ratios(checkout, base)}); with its HTTP clients "
        f"made, ready to send: {median(ready) * 1e3:.0f} ms ({ratios(ready, base)})",
    )]
