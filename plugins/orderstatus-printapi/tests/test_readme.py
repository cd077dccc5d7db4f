"""The README's sandbox example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from orderstatus import OrderState

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_sandbox_example():
    blocks = re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.S | re.M)
    (example,) = [b for b in blocks if "PrintApiSandbox()" in b]
    namespace: dict[str, object] = {}
    exec(compile(example, str(README), "exec"), namespace)
    client = namespace["client"]
    assert client.fetch("printapi", namespace["order_id"]).state is OrderState.IN_PRODUCTION
    client.close()
