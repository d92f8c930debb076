"""`cee list ...`: contact lists."""

from __future__ import annotations

import click

from cee.admin import accounts, lists
from cee.cli.common import account_option, admin_command
from cee.storage import Store


@click.group("list")
def list_group() -> None:
    """Contact lists."""


@list_group.command("create")
@click.argument("name")
@account_option
@admin_command
async def list_create(store: Store, name: str, account: str | None) -> None:
    """Create a list; prints its listid."""
    row = await accounts.find_account(store, account)
    click.echo(await lists.create_list(store, row.id, name))


@list_group.command("list")
@account_option
@admin_command
async def list_list(store: Store, account: str | None) -> None:
    """List lists: id, name, members."""
    row = await accounts.find_account(store, account)
    for item in await lists.list_lists(store, row.id):
        click.echo(f"{item.id}\t{item.name}\t{item.members}")
