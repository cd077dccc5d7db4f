"""``providers``, ``lifecycle`` and ``mappings``: reference data, as tables and as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from orderstatus import lifecycle

from .conftest import clean_env, run


def test_providers_lists_capabilities_plugin_and_sandbox() -> None:
    done = run("providers", env=clean_env())
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("fakeshop"))
    assert row.split() == ["fakeshop", "Fakeshop", "yes", "yes", "yes", "yes", "4", "fakeshop",
                           "yes"]


def test_providers_shows_blocked_plugins_and_failures(tmp_path: Path) -> None:
    done = run("providers", env=clean_env(ORDERSTATUS_DISABLE_PLUGINS="fakeshop"))
    assert done.returncode == 0
    assert not any(line.startswith("fakeshop ") for line in done.stdout.splitlines())
    assert "Blocked by ORDERSTATUS_DISABLE_PLUGINS: fakeshop" in done.stdout
    data = json.loads(run("providers", "--json",
                          env=clean_env(ORDERSTATUS_DISABLE_PLUGINS="fakeshop")).stdout)
    assert data["blocked"] == ["fakeshop"]
    assert "fakeshop" not in [p["name"] for p in data["providers"]]


def test_providers_reports_a_broken_plugin_with_its_reason(tmp_path: Path) -> None:
    # a distribution whose entry point cannot be imported, found through PYTHONPATH
    info = tmp_path / "broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[orderstatus]\nbroken = no_such_module_xyz\n")
    done = run("providers", env=clean_env(PYTHONPATH=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "Plugins that failed to load:" in done.stdout
    assert "broken: import failed: ModuleNotFoundError" in done.stdout
    assert done.stderr == ""
    data = json.loads(run("providers", "--json", env=clean_env(PYTHONPATH=str(tmp_path))).stdout)
    assert [f["plugin"] for f in data["failures"]] == ["broken"]
    assert "fakeshop" in [p["name"] for p in data["providers"]]


def test_providers_shows_each_plugin_with_its_distribution_and_version(tmp_path: Path) -> None:
    done = run("providers", env=clean_env())
    assert done.returncode == 0, done.stderr
    plugins = done.stdout.split("\nPlugins\n", 1)[1].splitlines()
    assert ["fakeshop", "orderstatus-fakeshop", "0.1.0", "fakeshop"] in [
        line.split() for line in plugins]
    data = json.loads(run("providers", "--json", env=clean_env()).stdout)
    assert {"name": "fakeshop", "distribution": "orderstatus-fakeshop", "version": "0.1.0",
            "providers": ["fakeshop"]} in data["plugins"]
    assert next(p for p in data["providers"] if p["name"] == "fakeshop")["version"] == "0.1.0"
    info = tmp_path / "broken_plugin-1.0.dist-info"  # a failed plugin names its version too
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[orderstatus]\nbroken = no_such_module_xyz\n")
    broken = run("providers", env=clean_env(PYTHONPATH=str(tmp_path))).stdout
    assert "(broken-plugin 1.0)" in broken.split("Plugins that failed to load:")[1]
    data = json.loads(run("providers", "--json", env=clean_env(PYTHONPATH=str(tmp_path))).stdout)
    assert (data["failures"][0]["distribution"], data["failures"][0]["version"]) == (
        "broken-plugin", "1.0")


def test_lifecycle_table_mermaid_and_json() -> None:
    table = run("lifecycle", env=clean_env())
    assert table.returncode == 0
    assert "Observed transitions" in table.stdout
    assert "Moves that skip states" in table.stdout
    assert any(line.split()[:2] == ["shipped", "delivered"] for line in table.stdout.splitlines())
    mermaid = run("lifecycle", "--format", "mermaid", env=clean_env())
    assert mermaid.stdout.strip() == lifecycle.to_mermaid()
    data = json.loads(run("lifecycle", "--format", "json", env=clean_env()).stdout)
    assert data["transitions"] == {
        s.value: sorted(t.value for t in targets) for s, targets in lifecycle.TRANSITIONS.items()
    }
    assert data["main_line"] == ["created", "in_production", "shipped", "delivered"]
    assert sorted(data["terminal"]) == ["cancelled", "delivered", "test"]


def test_mappings_of_one_provider_as_table_and_json() -> None:
    done = run("mappings", "fakeshop", env=clean_env())
    assert done.returncode == 0
    assert "Fakeshop native statuses" in done.stdout
    assert any(line.split()[:3] == ["bad_address", "action_required", "address"]
               for line in done.stdout.splitlines())
    assert "Fakeshop update targets" in done.stdout
    data = json.loads(run("mappings", "fakeshop", "--format", "json", env=clean_env()).stdout)
    assert data["native_statuses"]["making"] == {"state": "in_production", "reason": None,
                                                 "note": ""}
    assert data["payment_statuses"] == {"due": "open", "paid": "paid"}
    assert data["update_rules"] == {
        "sources": ["bad_address", "new"],
        "targets": {"cancelled": "void", "on_hold": "held", "created": "new"},
    }


def test_mappings_of_every_provider_gives_one_json_line_each() -> None:
    done = run("mappings", "--format", "json", env=clean_env())
    names = [json.loads(line)["provider"] for line in done.stdout.splitlines()]
    assert "fakeshop" in names
    assert names == sorted(names)


def test_mappings_of_an_unknown_provider_is_a_configuration_error() -> None:
    done = run("mappings", "nosuch", env=clean_env())
    assert done.returncode == 3
    [line] = done.stderr.splitlines()
    assert line.startswith("orderstatus: error: no provider named 'nosuch' is installed")
    assert "fakeshop" in line


def test_usage_errors_exit_2_with_one_line() -> None:
    for args, message in [
        ((), "the following arguments are required: COMMAND"),
        (("nonsense",), "argument COMMAND: invalid choice: 'nonsense'"),
        (("lifecycle", "--format", "png"), "argument --format: invalid choice: 'png'"),
        (("serve", "--port", "99999"), "argument --port: 99999 is not a port number"),
        (("watch", "--interval", "nan"), "argument --interval: nan seconds: must be more than 0"),
        (("watch", "--concurrency", "x"), "argument --concurrency: 'x' is not a whole number"),
    ]:
        done = run(*args, env=clean_env())
        assert done.returncode == 2, args
        [line] = done.stderr.splitlines()
        assert line.startswith(f"orderstatus: error: {message}"), line
        assert line.endswith(" --help)"), line
    version = run("--version", env=clean_env())
    assert version.returncode == 0
    assert version.stdout.startswith("orderstatus ")


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "orderstatus"
    done = subprocess.run([str(script), "lifecycle", "--format", "nonsense"],
                          capture_output=True, text=True, env=clean_env(), check=False)
    assert done.returncode == 2
    assert "invalid choice: 'nonsense'" in done.stderr
