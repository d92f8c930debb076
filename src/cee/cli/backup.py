"""`cee backup` and `cee restore`: a consistent copy of a live SQLite database, and back."""

from __future__ import annotations

import sys

import click

from cee.cli.common import database_options, settings_from
from cee.settings import Settings
from cee.storage import sqlite_path

PG_HINT = (
    "PostgreSQL is backed up with its own tools while CEE runs: "
    "`pg_dump -Fc DATABASE > cee.dump`, restored with `pg_restore -d NEW_DATABASE cee.dump` "
    "(see docs/operations.md)"
)


def _sqlite_path(settings: Settings) -> str:
    path = sqlite_path(settings.database_url())
    if path is None:
        click.echo(f"error: {PG_HINT}", err=True)
        sys.exit(1)
    return path


@click.command()
@database_options
@click.argument("out", type=click.Path(dir_okay=False))
def backup(data_dir: str, database: str | None, out: str) -> None:
    """Copy the SQLite database to OUT (a new file) while the server runs."""
    from cee.storage.sqlite.backup import BackupError
    from cee.storage.sqlite.backup import backup as take_backup

    path = _sqlite_path(settings_from(data_dir, database))
    try:
        size = take_backup(path, out)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"backed up {path} to {out} ({size} bytes)")


@click.command()
@database_options
@click.argument("backup_file", type=click.Path(dir_okay=False))
def restore(data_dir: str, database: str | None, backup_file: str) -> None:
    """Put BACKUP_FILE back as the SQLite database (stop the server first)."""
    from cee.storage.sqlite.backup import BackupError
    from cee.storage.sqlite.backup import restore as put_back

    path = _sqlite_path(settings_from(data_dir, database))
    try:
        put_back(backup_file, path)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored {backup_file} to {path}; start `cee serve` again")
