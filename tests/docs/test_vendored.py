"""The mermaid build served with the docs is the one its SOURCE.txt names, with its licence."""

from __future__ import annotations

import hashlib
import re

from .conftest import ROOT

VENDORED = ROOT / "docs" / "vendor" / "mermaid"


def test_the_bundled_mermaid_is_the_recorded_release() -> None:
    source = (VENDORED / "SOURCE.txt").read_text()
    version = re.match(r"mermaid (\d+\.\d+\.\d+) \(MIT", source)
    recorded = re.search(r"^sha256: +([0-9a-f]{64})$", source, re.M)
    assert version is not None
    assert recorded is not None
    script = (VENDORED / "mermaid.min.js").read_bytes()
    assert hashlib.sha256(script).hexdigest() == recorded[1]
    assert f'version:"{version[1]}"'.encode() in script
    assert f"mermaid-{version[1]}.tgz" in source
    assert "MIT License" in (VENDORED / "LICENSE").read_text()
