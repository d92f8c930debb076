"""`cee serve`: initialise a new database if needed, then serve the API."""

from __future__ import annotations

import sys

import click

from cee.admin import accounts
from cee.cli.common import (
    apply_log_level,
    database_options,
    print_credentials,
    setting_option,
    settings_from,
    with_store,
)


@click.command()
@database_options
@setting_option("host")
@setting_option("port")
@setting_option("worker", "--worker/--no-worker")
# The table's int, bounded here: past 64 processes the machine is the limit, not CEE.
@setting_option("processes", type=click.IntRange(1, 64))
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

    settings = settings_from(
        data_dir, database, host=host, port=port, worker=worker, processes=processes
    )
    apply_log_level(settings)
    creds = None
    if not ceiling:
        creds = with_store(lambda store: accounts.initialise(store), settings, migrate=True)
        if creds is not None:
            click.echo(f"initialised {settings.database_url()}")
            print_credentials(creds, False, settings.database_url())
    if not worker and not ceiling:
        # Said at start: otherwise `add` answers Success and nothing seems to happen.
        click.echo(
            "The async worker is off (--no-worker): add, update and other async requests "
            "requests are accepted and stay queued until a `cee worker` runs on this database."
        )
    key = creds.api_key if creds else "YOUR_API_KEY"
    click.echo(f"CEE serving on http://{host}:{port}/apiv2")
    click.echo("Try:")
    click.echo(
        f"  curl -s -X POST 'http://{host}:{port}/apiv2?type=contact&activity=addsync"
        f'&apikey={key}\' --data-urlencode \'data={{"EMAIL":"mike@example.com",'
        f'"FIRST_NAME":"Mike"}}\''
    )
    if creds is not None:
        login = f"user {creds.admin_user}, password {creds.admin_password}"
    else:
        login = (
            "the admin user and password `cee init` printed (`cee user password admin` resets it)"
        )
    click.echo(f"Panel: http://{host}:{port}/ (log in as {login})")
    sys.stdout.flush()
    run_server(settings, ceiling=ceiling)
