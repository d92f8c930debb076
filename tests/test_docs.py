"""The docs keep up with the code: every CLI command and option, every setting, every activity."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from cee.cli import main
from cee.settings import SETTINGS, Setting

DOCS = Path(__file__).parents[1] / "docs"


def commands(group: click.Group, path: str = "cee") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        full = f"{path} {name}"
        if isinstance(command, click.Group):
            yield from commands(command, full)
        else:
            yield full, command


COMMANDS = dict(commands(main))


def section(text: str, heading: str) -> str:
    """The text under `### heading` up to the next heading of any level."""
    match = re.search(rf"^### {re.escape(heading)}\n(.*?)(?=^#|\Z)", text, re.M | re.S)
    assert match, f"docs/cli.md has no section '### {heading}'"
    return match.group(1)


def test_the_cli_has_commands_to_document() -> None:
    assert {"cee init", "cee serve", "cee key rotate", "cee user create"} <= set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_cli_command_and_its_options_are_documented(path: str) -> None:
    text = section((DOCS / "cli.md").read_text(), path)
    shared = {"--data-dir", "--database", "--account", "--help"}  # documented once, at the top
    for param in COMMANDS[path].params:
        if isinstance(param, click.Option):
            for opt in [*param.opts, *param.secondary_opts]:
                if opt not in shared:
                    assert opt in text, f"{path}: option {opt} is not in docs/cli.md"


def test_the_shared_options_are_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for opt in ("--data-dir", "--database", "--account"):
        assert f"`{opt}" in text


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: Setting) -> None:
    text = (DOCS / "settings.md").read_text()
    name, env = setting.name, setting.env
    row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), None)
    assert row is not None, f"docs/settings.md has no row for {name}"
    assert f"`{env}`" in row


def test_every_activity_has_a_section_in_the_api_docs() -> None:
    from cee.web.apiv2.routes import ROUTES

    # `## type=contact&activity=blacklist and unblacklist` documents two activities at once.
    headings = re.findall(
        r"^## type=(\w+)&activity=(\w+)(?: and (\w+))?", (DOCS / "api.md").read_text(), re.M
    )
    documented = {(k.lower(), a.lower()) for k, *acts in headings for a in acts if a}
    assert ("contact", "addsync") in ROUTES
    for route in ROUTES:
        assert route in documented, (
            f"docs/api.md has no section for type={route[0]}&activity={route[1]}"
        )
