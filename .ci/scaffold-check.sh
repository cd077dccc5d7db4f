#!/usr/bin/env bash
# Generate a provider plugin with the scaffold, install it, and run its own tests.
# Usage: bash .ci/scaffold-check.sh [PYTHON]   (default: $VIRTUAL_ENV/bin/python, else python3)
# The plugin is installed into that Python's environment and uninstalled again afterwards.
set -euo pipefail
python="${1:-${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}}"
python="${python:-python3}"
# the script changes directory below: make a relative path to the interpreter absolute
if [[ $python == */* ]]; then python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"; fi
work=$(mktemp -d)
cleanup() {
    "$python" -m pip uninstall -y -q orderstatus-demoprov >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

project=$("$python" - "$work" <<'PY'
import sys
from pathlib import Path

from orderstatus.scaffold import new_provider

print(new_provider("demoprov", Path(sys.argv[1])))
PY
)
echo "generated $project"
"$python" -m pip install -q "$project[test]"
cd "$project"
"$python" -m pytest -q -p no:cacheprovider
