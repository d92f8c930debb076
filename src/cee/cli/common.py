"""What every command shares: the database options, running against a store, printing secrets."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from cee import runtime
from cee.admin.accounts import Credentials
from cee.domain.errors import CeeError
from cee.settings import SETTINGS, Settings

T = TypeVar("T")
SETTING_BY_NAME = {setting.name: setting for setting in SETTINGS}


def setting_option(name: str, *decls: str, **overrides: Any) -> Callable[..., Any]:
    """A click option for a setting of `cee.settings.SETTINGS`: its environment variable,
    default and help come from that one table, so the CLI and docs/settings.md cannot drift."""
    setting = SETTING_BY_NAME[name]
    kwargs: dict[str, Any] = {
        "envvar": setting.env,
        "default": setting.default,
        "show_default": True,
        "help": setting.help,
    }
    if setting.kind is not bool:  # bool options are flags (--x/--no-x); click infers the type
        kwargs["type"] = setting.kind
    kwargs.update(overrides)
    return click.option(*(decls or (f"--{name.replace('_', '-')}",)), name, **kwargs)


def database_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    # The empty default means "SQLite in --data-dir" (Settings.database_url); None passes it on.
    fn = setting_option("database", default=None, show_default=False)(fn)
    fn = setting_option("data_dir")(fn)
    return fn


def account_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--account", default=None, help="Account id or name (default: the first account)."
    )(fn)


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(fn)


LOG_LEVELS = ("debug", "info", "warning", "error")


def apply_log_level(settings: Settings) -> None:
    """CEE's own messages from the `log_level` setting up (a serving process logs at info)."""
    level = str(settings.log_level).lower()
    if level not in LOG_LEVELS:
        raise click.UsageError(
            f"log level: '{settings.log_level}' is not one of {', '.join(LOG_LEVELS)}"
        )
    logging.getLogger("cee").setLevel(level.upper())


def settings_from(data_dir: str, database: str | None, **extra: Any) -> Settings:
    return Settings.load(data_dir=data_dir, database=database or None, **extra)


def with_store(run: Callable[..., Awaitable[T]], settings: Settings, *, migrate: bool = False) -> T:
    """Open the store, run `run(store)`, close it; domain errors become a clean exit 1."""

    async def main() -> T:
        store = runtime.store_for(settings)
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
