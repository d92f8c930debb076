"""`cee init`: create the database and its bootstrap account."""

from __future__ import annotations

import sys

import click

from cee.admin import accounts
from cee.cli.common import (
    database_options,
    json_option,
    print_credentials,
    settings_from,
    with_store,
)
from cee.domain.attributes import PRIMARY_KEY_CHOICES


@click.command()
@database_options
@json_option
@click.option(
    "--primary-key",
    type=click.Choice(PRIMARY_KEY_CHOICES, case_sensitive=False),
    default="EMAIL",
    show_default=True,
    help="The attribute that identifies a contact in the bootstrap account.",
)
def init(data_dir: str, database: str | None, as_json: bool, primary_key: str) -> None:
    """Create the database, a bootstrap account, its admin user and an API key."""
    settings = settings_from(data_dir, database)
    creds = with_store(
        lambda store: accounts.initialise(store, primary_key), settings, migrate=True
    )
    if creds is None:
        click.echo(
            f"{settings.database_url()} is already initialised; nothing changed. The API key "
            "is not shown again: `cee key rotate admin` makes a new one.",
            err=True,
        )
        sys.exit(1)
    if not as_json:
        click.echo(f"initialised {settings.database_url()}")
    print_credentials(creds, as_json, settings.database_url())
