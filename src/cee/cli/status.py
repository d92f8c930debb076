"""`cee status`: how far behind the async journal is."""

from __future__ import annotations

import json

import click

from cee.cli.common import admin_command, json_option
from cee.storage import Store


@click.command("status")
@json_option
@admin_command
async def status_command(store: Store, as_json: bool) -> None:
    """Show the async journal: requests not yet applied and the age of the oldest."""
    depth, age = await store.journal_depth()
    if as_json:
        click.echo(json.dumps({"journal_depth": depth, "oldest_age_seconds": round(age, 3)}))
    else:
        click.echo(f"journal depth:  {depth} requests not yet applied")
        click.echo(f"oldest waiting: {age:.1f}s")
