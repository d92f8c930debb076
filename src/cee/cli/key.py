"""`cee key ...`: API keys."""

from __future__ import annotations

import json

import click

from cee.admin import keys, users
from cee.cli.common import admin_command, json_option
from cee.storage import Store


@click.group()
def key() -> None:
    """API keys."""


@key.command("rotate")
@click.argument("username")
@json_option
@admin_command
async def key_rotate(store: Store, username: str, as_json: bool) -> None:
    """Give the user a new key (shown once); the old one stops working at once."""
    new_key = await keys.rotate_key(store, await users.find_user(store, username))
    click.echo(json.dumps({"user": username, "api_key": new_key}) if as_json else new_key)


@key.command("limit")
@click.argument("username")
@click.option(
    "--per-minute",
    type=click.IntRange(min=0),
    required=True,
    help="Requests a minute the user's key may make (a burst of as many); 0: no limit.",
)
@admin_command
async def key_limit(store: Store, username: str, per_minute: int) -> None:
    """Limit the user's API key to N requests a minute; past it, 429 with Retry-After."""
    await keys.set_rate_limit(store, await users.find_user(store, username), per_minute)
    shown = f"{per_minute} requests a minute" if per_minute else "no limit"
    click.echo(f"key of {username}: {shown}")
