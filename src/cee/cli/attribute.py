"""`cee attribute ...`: contact attributes."""

from __future__ import annotations

import click

from cee.admin import accounts, attributes
from cee.cli.common import account_option, admin_command
from cee.domain.attributes import Datatype
from cee.storage import Store


@click.group()
def attribute() -> None:
    """Contact attributes."""


@attribute.command("create")
@click.argument("name")
# A Choice, so an unknown datatype (`Boolean`) is a usage error, exit 2, listing the datatypes.
@click.argument(
    "datatype",
    type=click.Choice([d.value for d in Datatype], case_sensitive=False),
    metavar="DATATYPE",
)
@account_option
@admin_command
async def attribute_create(store: Store, name: str, datatype: str, account: str | None) -> None:
    """Define an attribute: textline, longtext, integer, decimal, date, url, email, mobile."""
    row = await accounts.find_account(store, account)
    upper, kind = await attributes.create_attribute(store, row.id, name, datatype)
    click.echo(f"{upper}\t{kind.value}")


@attribute.command("list")
@account_option
@admin_command
async def attribute_list(store: Store, account: str | None) -> None:
    """List the account's attributes, built-ins included."""
    row = await accounts.find_account(store, account)
    for a in await attributes.list_attributes(store, row.id):
        suffix = "\tbuilt-in" if a.builtin else ""
        click.echo(f"{a.name}\t{a.datatype.value}{suffix}")
