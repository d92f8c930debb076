"""`cee account ...`: create, list, API Mode, primary key."""

from __future__ import annotations

import click

from cee.admin import accounts
from cee.cli.common import (
    account_option,
    admin_command,
    database_options,
    json_option,
    print_credentials,
    settings_from,
    with_store,
)
from cee.domain.attributes import PRIMARY_KEY_CHOICES
from cee.storage import Store


@click.group()
def account() -> None:
    """Accounts: create, list, API Mode, primary key."""


@account.command("create")
@click.argument("name")
@click.option(
    "--primary-key",
    type=click.Choice(PRIMARY_KEY_CHOICES, case_sensitive=False),
    default="EMAIL",
    show_default=True,
)
@json_option
@database_options
def account_create(
    data_dir: str, database: str | None, name: str, primary_key: str, as_json: bool
) -> None:
    """Create an account with an admin user and an API key (shown once)."""
    settings = settings_from(data_dir, database)
    creds = with_store(lambda store: accounts.create_account(store, name, primary_key), settings)
    # The database URL too, as `cee init --json` prints it: a script needs it for the next step.
    print_credentials(creds, as_json, settings.database_url())


@account.command("list")
@admin_command
async def account_list(store: Store) -> None:
    """List accounts."""
    for row in await accounts.list_accounts(store):
        mode = "on" if row.api_mode else "off"
        click.echo(f"{row.id}\t{row.name}\tprimary key {row.primary_key}\tAPI Mode {mode}")


@account.command("api-mode")
@click.argument("state", type=click.Choice(["on", "off"]))
@account_option
@admin_command
async def account_api_mode(store: Store, state: str, account: str | None) -> None:
    """Turn API Mode on or off: with it off, every key of the account gets 403."""
    row = await accounts.find_account(store, account)
    await accounts.set_api_mode(store, row, state == "on")
    click.echo(f"API Mode {state} for account {row.name}")


@account.command("primary-key")
@click.argument("attribute", type=click.Choice(PRIMARY_KEY_CHOICES, case_sensitive=False))
@account_option
@admin_command
async def account_primary_key(store: Store, attribute: str, account: str | None) -> None:
    """Choose the primary-key attribute (only while the account has no contacts)."""
    row = await accounts.find_account(store, account)
    chosen = await accounts.set_primary_key(store, row, attribute)
    click.echo(f"primary key of account {row.name} is now {chosen}")


@account.command("webhook-secret")
@click.option("--rotate", is_flag=True, help="Replace the secret (old signatures stop matching).")
@account_option
@admin_command
async def account_webhook_secret(store: Store, rotate: bool, account: str | None) -> None:
    """Print the secret that signs the account's bulkupload callbacks (made on first use)."""
    row = await accounts.find_account(store, account)
    click.echo(await accounts.webhook_secret(store, row, rotate=rotate))


@account.command("phone-region")
@click.argument("region")
@account_option
@admin_command
async def account_phone_region(store: Store, region: str, account: str | None) -> None:
    """Region (ISO 3166, e.g. IN, US, GB) for the account's mobile numbers given without a
    country code; `default` follows the phone_region setting."""
    row = await accounts.find_account(store, account)
    chosen = await accounts.set_phone_region(store, row, region)
    click.echo(f"phone region of account {row.name} is now {chosen or 'the default'}")
