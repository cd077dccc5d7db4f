"""``--help``: every option of every command has help, and shows its default."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from orderstatus.cli import build_parser
from orderstatus.cli.common import EXIT_CODES

NOT_GIVEN = (None, False, [], argparse.SUPPRESS)
"""Defaults that mean "not given": nothing to show."""


def _commands() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The parser and each command's parser, by their usage name."""
    parser = build_parser()
    yield "orderstatus", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


COMMANDS = dict(_commands())


def _entries(help_text: str) -> dict[str, str]:
    """Each option or argument in a ``--help`` text, with its help text on one line."""
    entries: dict[str, str] = {}
    current = None
    for line in help_text.splitlines():
        start = re.match(r"^  (\S.*?)(?:  +(\S.*))?$", line)
        if start and not line.startswith("   "):
            current = start[1]
            entries[current] = start[2] or ""
        elif current is not None and line.startswith("   "):
            entries[current] = (entries[current] + " " + line.strip()).strip()
        else:
            current = None
    return entries


def test_every_command_is_walked() -> None:
    assert {"fetch", "update", "watch", "changes", "serve", "sandbox", "new-provider", "demo",
            "providers", "lifecycle", "mappings"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_help_and_shows_its_default(name: str) -> None:
    parser = COMMANDS[name]
    entries = _entries(parser.format_help())
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        shown = next((text for entry, text in entries.items()
                      if entry.split(",")[0].split()[0] in {*action.option_strings,
                                                            action.metavar, action.dest}),
                     None)
        label = "/".join(action.option_strings) or action.dest
        assert shown, f"{name} {label} has no help"
        if action.default in NOT_GIVEN:
            continue
        default = action.default
        text = f"{default:g}" if isinstance(default, float) else str(default)
        # the formatter shows "(default: VALUE)" unless the help already speaks of it
        assert f"(default: {text})" in shown or "default" in action.help, (
            f"{name} {label}: the default {default!r} is not shown: {shown!r}")


def test_numeric_defaults_are_shown_plainly() -> None:
    watch = _entries(COMMANDS["watch"].format_help())
    assert watch["--interval SECONDS"].endswith("(default: 60)")
    assert watch["--concurrency N"] == "requests in flight at most (default: 32)"
    assert _entries(COMMANDS["fetch"].format_help())["--concurrency N"].endswith("(default: 32)")
    assert _entries(COMMANDS["changes"].format_help())["--interval SECONDS"].endswith(
        "(default: 1)")


def test_the_epilog_lists_every_exit_code() -> None:
    epilog = " ".join(COMMANDS["orderstatus"].format_help().split())
    assert epilog.endswith("Exit codes: " + ", ".join(
        f"{code} {meaning}" for code, meaning in EXIT_CODES.items()) + ".")
