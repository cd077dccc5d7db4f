"""``new-provider``: the skeleton, written once, and next steps that are the tutorial's."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .conftest import COMMAND, clean_env, run

TUTORIAL = Path(__file__).parents[2] / "docs" / "tutorial.md"


def test_new_provider_writes_a_skeleton_once(tmp_path: Path) -> None:
    done = run("new-provider", "acme_print", "--dir", str(tmp_path), env=clean_env())
    assert done.returncode == 0, done.stderr
    project = tmp_path / "orderstatus-acme-print"
    assert done.stdout.splitlines() == [
        f"created {project}", "next:", f"  cd {project}", '  pip install -e ".[test]"',
        "  pytest",
    ]
    assert (project / "pyproject.toml").is_file()
    assert (project / "src" / "orderstatus_acme_print" / "provider.py").is_file()
    again = run("new-provider", "acme_print", "--dir", str(tmp_path), env=clean_env())
    assert again.returncode == 2
    assert again.stderr == (
        f"orderstatus: error: cannot write the plugin: {project} exists and is not empty\n"
    )
    bad = run("new-provider", "Acme-Print", "--dir", str(tmp_path), env=clean_env())
    assert bad.returncode == 2
    assert "provider name 'Acme-Print' must be" in bad.stderr


def test_the_next_steps_printed_are_the_tutorials(tmp_path: Path) -> None:
    """Run where the tutorial runs it (no --dir): the steps printed are the commands the
    tutorial gives right after it, in its "Start from the scaffold" block."""
    block = re.search(r"## Start from the scaffold\s+```console\n(.*?)```", TUTORIAL.read_text(),
                      re.S)
    assert block is not None
    commands = [line.removeprefix("$ ") for line in block[1].splitlines()]
    assert commands[0] == "orderstatus new-provider acme"
    done = subprocess.run([*COMMAND, "new-provider", "acme"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    created, heading, *steps = done.stdout.splitlines()
    assert (created, heading) == ("created orderstatus-acme", "next:")
    assert [s.strip() for s in steps] == commands[1:]
