"""What every command shares: the database options, running against a store, printing secrets."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from cee.admin.accounts import Credentials
from cee.domain.errors import CeeError
from cee.settings import Settings
from cee.storage import open_store

T = TypeVar("T")


def database_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--database",
        envvar="CEE_DATABASE_URL",
        default=None,
        help="Database URL (sqlite:///… or postgresql://…); default: SQLite in --data-dir.",
    )(fn)
    fn = click.option(
        "--data-dir",
        envvar="CEE_DATA_DIR",
        default="./var",
        show_default=True,
        help="Folder of the embedded SQLite database.",
    )(fn)
    return fn


def account_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--account", default=None, help="Account id or name (default: the first account)."
    )(fn)


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(fn)


def settings_from(data_dir: str, database: str | None, **extra: Any) -> Settings:
    return Settings.load(data_dir=data_dir, database=database or None, **extra)


def with_store(run: Callable[..., Awaitable[T]], settings: Settings, *, migrate: bool = False) -> T:
    """Open the store, run `run(store)`, close it; domain errors become a clean exit 1."""

    async def main() -> T:
        store = open_store(settings.database_url(), settings)
        await store.open(migrate=migrate)
        try:
            return await run(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except CeeError as exc:
        click.echo(f"error: {exc.details}", err=True)
        sys.exit(1)
    except FileNotFoundError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def admin_command(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """A command whose body is `async def fn(store, **options)` against the chosen database."""

    @database_options
    @functools.wraps(fn)
    def wrapper(data_dir: str, database: str | None, **options: Any) -> None:
        with_store(lambda store: fn(store, **options), settings_from(data_dir, database))

    return wrapper


def print_credentials(creds: Credentials, as_json: bool, database: str) -> None:
    if as_json:
        click.echo(json.dumps({**creds.as_dict(), "database": database}))
        return
    click.echo(
        f"account:        {creds.account_name} (id {creds.account_id}), "
        f"primary key {creds.primary_key}, API Mode on"
    )
    click.echo(f"admin user:     {creds.admin_user}")
    click.echo(f"admin password: {creds.admin_password}")
    click.echo(f"API key:        {creds.api_key}")
    click.echo("The password and key are shown once: store them now.")
