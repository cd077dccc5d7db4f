#!/usr/bin/env bash
# The lowest pytest each extra allows really works: the repository's suite collects with the
# `dev` floor, and a plugin project's tests (the pytest plugin's fixtures, served sandboxes
# included) pass with the `testing` floor. Each floor is installed alone into a temporary
# directory put ahead of the environment's own pytest; the environment is left as it was.
# Usage: bash .ci/pytest-floor.sh [PYTHON]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-.venv/bin/python}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

floor() {  # the highest ">=" bound on pytest that installing orderstatus[$1] applies
    "$python" - "$1" <<'PY'
import sys
from importlib.metadata import requires

from packaging.requirements import Requirement

pins = [Requirement(r) for r in requires("orderstatus") or ()]
print(max(
    (spec.version for r in pins if r.name == "pytest" and r.marker is not None
     and r.marker.evaluate({"extra": sys.argv[1]}) for spec in r.specifier
     if spec.operator == ">="),
    key=lambda v: tuple(int(p) for p in v.split(".")),
))
PY
}

with_pytest() {  # with_pytest VERSION COMMAND...: run COMMAND with that pytest first on the path
    local version=$1; shift
    [ -d "$work/$version" ] || "$python" -m pip install -q --no-deps --target "$work/$version" "pytest==$version"
    PYTHONPATH="$work/$version" "$@"
}

dev=$(floor dev)
testing=$(floor testing)
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")

echo "dev extra: pytest>=$dev; the suite collects with pytest $dev"
with_pytest "$dev" "$python" -m pytest --version
with_pytest "$dev" "$python" -m pytest --collect-only -q | tail -1

echo "testing extra: pytest>=$testing; the example plugin's own tests with pytest $testing"
cd examples/orderstatus-acme
with_pytest "$testing" "$python" -m pytest --version
with_pytest "$testing" "$python" -m pytest -q tests/test_acme.py | tail -1
