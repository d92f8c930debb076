"""`cee user ...`: panel users ("Sub Admins")."""

from __future__ import annotations

import json

import click

from cee.admin import accounts, users
from cee.cli.common import account_option, admin_command, json_option
from cee.storage import Store


@click.group()
def user() -> None:
    """Panel users ("Sub Admins"): create, list, disable, enable, reset a password."""


@user.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="An account admin rather than a sub admin.")
@json_option
@account_option
@admin_command
async def user_create(
    store: Store, username: str, admin: bool, as_json: bool, account: str | None
) -> None:
    """Create a user with a password and an API key (both shown once)."""
    row = await accounts.find_account(store, account)
    made = await users.create_user(store, row.id, username, is_admin=admin)
    if as_json:
        out = {
            "account_id": row.id,
            "user_id": made.user_id,
            "user": username,
            "password": made.password,
            "api_key": made.api_key,
        }
        click.echo(json.dumps(out))
    else:
        click.echo(
            f"user {username} in account {row.name}\n"
            f"password: {made.password}\nAPI key:  {made.api_key}"
        )


@user.command("list")
@account_option
@admin_command
async def user_list(store: Store, account: str | None) -> None:
    """List users with their role, state and key prefix."""
    row = await accounts.find_account(store, account)
    for u in await users.list_users(store, row.id):
        role = "admin" if u.is_admin else "sub admin"
        state = "active" if u.active else "disabled"
        limit = f"\tlimit {u.rate_per_minute}/min" if u.rate_per_minute else ""
        click.echo(f"{u.username}\t{role}\t{state}\tkey {u.key_prefix or '-'}…{limit}")


@user.command("disable")
@click.argument("username")
@admin_command
async def user_disable(store: Store, username: str) -> None:
    """Disable a user: their key is refused at once."""
    await users.disable_user(store, await users.find_user(store, username))
    click.echo(f"user {username} disabled")


@user.command("enable")
@click.argument("username")
@admin_command
async def user_enable(store: Store, username: str) -> None:
    """Enable a disabled user again."""
    await users.enable_user(store, await users.find_user(store, username))
    click.echo(f"user {username} enabled")


@user.command("password")
@click.argument("username")
@json_option
@admin_command
async def user_password(store: Store, username: str, as_json: bool) -> None:
    """Reset a user's panel password to a new random one (shown once); their sessions end."""
    password = await users.reset_password(store, await users.find_user(store, username))
    click.echo(json.dumps({"user": username, "password": password}) if as_json else password)
