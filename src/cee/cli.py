"""The `cee` command: serve, worker, init, and the operator's administration tasks."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from cee import bootstrap
from cee.domain.attributes import PRIMARY_KEY_CHOICES, normalise_name, parse_datatype
from cee.domain.errors import CeeError
from cee.domain.keys import hash_password, new_password
from cee.logs import configure_logging
from cee.settings import Settings
from cee.storage import Store, open_store

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


def print_credentials(creds: bootstrap.Credentials, as_json: bool, database: str) -> None:
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


@click.group()
@click.version_option(package_name="cee")
def main() -> None:
    """CEE: a self-hosted contact engine that speaks Netcore CE's /apiv2 contact API."""
    configure_logging()


# -- first start and serving ------------------------------------------------------------------


@main.command()
@database_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
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
        lambda store: bootstrap.initialise(store, primary_key), settings, migrate=True
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


@main.command()
@database_options
@click.option("--host", envvar="CEE_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="CEE_PORT", default=8080, show_default=True, type=int)
@click.option(
    "--worker/--no-worker",
    envvar="CEE_WORKER",
    default=True,
    show_default=True,
    help="Run the async worker in this process.",
)
@click.option(
    "--processes",
    envvar="CEE_PROCESSES",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="HTTP processes; above 1, the worker and the SQLite writer get a process of their own.",
)
@click.option(
    "--ceiling",
    is_flag=True,
    help="Benchmark aid: answer every request with a constant JSON (the HTTP ceiling).",
)
def serve(
    data_dir: str,
    database: str | None,
    host: str,
    port: int,
    worker: bool,
    processes: int,
    ceiling: bool,
) -> None:
    """Serve the API (initialising a new data dir first, printing its credentials once)."""
    from cee.server import run_server

    logging.getLogger("cee").setLevel(logging.INFO)
    settings = settings_from(
        data_dir, database, host=host, port=port, worker=worker, processes=processes
    )
    creds = None
    if not ceiling:
        creds = with_store(lambda store: bootstrap.initialise(store), settings, migrate=True)
        if creds is not None:
            click.echo(f"initialised {settings.database_url()}")
            print_credentials(creds, False, settings.database_url())
    key = creds.api_key if creds else "YOUR_API_KEY"
    click.echo(f"CEE serving on http://{host}:{port}/apiv2")
    click.echo("Try:")
    click.echo(
        f"  curl -s -X POST 'http://{host}:{port}/apiv2?type=contact&activity=addsync"
        f'&apikey={key}\' --data-urlencode \'data={{"EMAIL":"mike@example.com",'
        f'"FIRST_NAME":"Mike"}}\''
    )
    sys.stdout.flush()
    run_server(settings, ceiling=ceiling)


@main.command()
@database_options
def worker(data_dir: str, database: str | None) -> None:
    """Apply journaled async requests (beside `cee serve --no-worker`, or on other hosts)."""
    from cee.ingest.worker import run_standalone

    logging.getLogger("cee").setLevel(logging.INFO)
    settings = settings_from(data_dir, database)
    try:
        asyncio.run(run_standalone(settings))
    except (FileNotFoundError, RuntimeError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@admin_command
async def status_command(store: Store, as_json: bool) -> None:
    """Show the async journal: requests not yet applied and the age of the oldest."""
    depth, age = await store.journal_depth()
    if as_json:
        click.echo(json.dumps({"journal_depth": depth, "oldest_age_seconds": round(age, 3)}))
    else:
        click.echo(f"journal depth:  {depth} requests not yet applied")
        click.echo(f"oldest waiting: {age:.1f}s")


# -- administration ---------------------------------------------------------------------------


@main.group()
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@admin_command
async def account_create(store: Store, name: str, primary_key: str, as_json: bool) -> None:
    """Create an account with an admin user and an API key (shown once)."""
    creds = await bootstrap.create_account(store, name, primary_key)
    print_credentials(creds, as_json, "")


@account.command("list")
@admin_command
async def account_list(store: Store) -> None:
    """List accounts."""
    for row in await store.accounts():
        mode = "on" if row.api_mode else "off"
        click.echo(f"{row.id}\t{row.name}\tprimary key {row.primary_key}\tAPI Mode {mode}")


@account.command("api-mode")
@click.argument("state", type=click.Choice(["on", "off"]))
@account_option
@admin_command
async def account_api_mode(store: Store, state: str, account: str | None) -> None:
    """Turn API Mode on or off: with it off, every key of the account gets 403."""
    row = await bootstrap.find_account(store, account)
    await store.set_api_mode(row.id, state == "on")
    click.echo(f"API Mode {state} for account {row.name}")


@account.command("primary-key")
@click.argument("attribute", type=click.Choice(PRIMARY_KEY_CHOICES, case_sensitive=False))
@account_option
@admin_command
async def account_primary_key(store: Store, attribute: str, account: str | None) -> None:
    """Choose the primary-key attribute (only while the account has no contacts)."""
    row = await bootstrap.find_account(store, account)
    if await store.count_contacts(row.id):
        raise CeeError("the account has contacts; its primary key can no longer change")
    await store.set_primary_key(row.id, attribute.upper())
    click.echo(f"primary key of account {row.name} is now {attribute.upper()}")


@main.group()
def user() -> None:
    """Panel users ("Sub Admins"): create, list, disable, enable."""


@user.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="An account admin rather than a sub admin.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@account_option
@admin_command
async def user_create(
    store: Store, username: str, admin: bool, as_json: bool, account: str | None
) -> None:
    """Create a user with a password and an API key (both shown once)."""
    row = await bootstrap.find_account(store, account)
    password = new_password()
    user_id = await store.create_user(row.id, username, hash_password(password), admin)
    key = await bootstrap.issue_key(store, user_id)
    out = {"account_id": row.id, "user": username, "password": password, "api_key": key}
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(f"user {username} in account {row.name}\npassword: {password}\nAPI key:  {key}")


@user.command("list")
@account_option
@admin_command
async def user_list(store: Store, account: str | None) -> None:
    """List users with their role, state and key prefix."""
    row = await bootstrap.find_account(store, account)
    for u in await store.users(row.id):
        role = "admin" if u.is_admin else "sub admin"
        state = "active" if u.active else "disabled"
        click.echo(f"{u.username}\t{role}\t{state}\tkey {u.key_prefix or '-'}…")


@user.command("disable")
@click.argument("username")
@admin_command
async def user_disable(store: Store, username: str) -> None:
    """Disable a user: their key is refused at once."""
    row = await bootstrap.find_user(store, username)
    await store.set_user_active(row.id, False)
    click.echo(f"user {username} disabled")


@user.command("enable")
@click.argument("username")
@admin_command
async def user_enable(store: Store, username: str) -> None:
    """Enable a disabled user again."""
    row = await bootstrap.find_user(store, username)
    await store.set_user_active(row.id, True)
    click.echo(f"user {username} enabled")


@main.group()
def key() -> None:
    """API keys."""


@key.command("rotate")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@admin_command
async def key_rotate(store: Store, username: str, as_json: bool) -> None:
    """Give the user a new key (shown once); the old one stops working at once."""
    row = await bootstrap.find_user(store, username)
    new_key = await bootstrap.issue_key(store, row.id)
    click.echo(json.dumps({"user": username, "api_key": new_key}) if as_json else new_key)


@main.group("list")
def list_group() -> None:
    """Contact lists."""


@list_group.command("create")
@click.argument("name")
@account_option
@admin_command
async def list_create(store: Store, name: str, account: str | None) -> None:
    """Create a list; prints its listid."""
    row = await bootstrap.find_account(store, account)
    click.echo(await store.create_list(row.id, name.strip()))


@list_group.command("list")
@account_option
@admin_command
async def list_list(store: Store, account: str | None) -> None:
    """List lists: id, name, members."""
    row = await bootstrap.find_account(store, account)
    for item in await store.lists(row.id):
        click.echo(f"{item.id}\t{item.name}\t{item.members}")


@main.group()
def attribute() -> None:
    """Contact attributes."""


@attribute.command("create")
@click.argument("name")
@click.argument("datatype")
@account_option
@admin_command
async def attribute_create(store: Store, name: str, datatype: str, account: str | None) -> None:
    """Define an attribute: textline, longtext, integer, decimal, date, url, email, mobile."""
    row = await bootstrap.find_account(store, account)
    upper, kind = normalise_name(name), parse_datatype(datatype)
    await store.create_attribute(row.id, upper, kind)
    click.echo(f"{upper}\t{kind.value}")


@attribute.command("list")
@account_option
@admin_command
async def attribute_list(store: Store, account: str | None) -> None:
    """List the account's attributes, built-ins included."""
    row = await bootstrap.find_account(store, account)
    for a in await store.attributes(row.id):
        suffix = "\tbuilt-in" if a.builtin else ""
        click.echo(f"{a.name}\t{a.datatype.value}{suffix}")
