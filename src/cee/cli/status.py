"""`cee status`: how far behind the async journal is."""

from __future__ import annotations

import json

import click

from cee.admin import requests
from cee.cli.common import admin_command, json_option
from cee.storage import Store


@click.command("status")
@json_option
@admin_command
async def status_command(store: Store, as_json: bool) -> None:
    """Show the async journal: requests not yet applied and the age of the oldest."""
    waiting = await requests.backlog(store)
    if as_json:
        out = {
            "journal_depth": waiting.depth,
            "oldest_age_seconds": round(waiting.oldest_age_seconds, 3),
        }
        click.echo(json.dumps(out))
    else:
        click.echo(f"journal depth:  {waiting.depth} requests not yet applied")
        click.echo(f"oldest waiting: {waiting.oldest_age_seconds:.1f}s")
