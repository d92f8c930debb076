"""`cee export`: every contact of an account (or one list), as CSV or NDJSON, streamed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click

from cee.admin import accounts, lists
from cee.cli.common import account_option, admin_command
from cee.storage import Store
from cee.transfer import exporter


@click.command("export")
@click.option("--list", "listid", type=int, default=None, help="Only the members of this list.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ndjson"]),
    default="csv",
    show_default=True,
    help="csv: a column per attribute, as `cee import` reads it; ndjson: one object a line.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: stdout).",
)
@click.option("--progress/--no-progress", default=True, help="Show the progress bar on stderr.")
@account_option
@admin_command
async def export_command(
    store: Store,
    listid: int | None,
    fmt: str,
    output: Path | None,
    progress: bool,
    account: str | None,
) -> None:
    """Export contacts from the database, page by page (never all in memory)."""
    from tqdm import tqdm

    row = await accounts.find_account(store, account)
    if listid is None:
        total = await accounts.count_contacts(store, row)
    else:
        total = (await lists.find_list(store, row.id, listid)).members
    # A file is closed below; stdout is left open for the shell.
    out: TextIO = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    bar = tqdm(
        total=total,
        unit=" contacts",
        unit_scale=True,
        file=sys.stderr,
        disable=not progress,
        mininterval=0.25,
    )
    try:
        count = await exporter.export(store, row.id, row.primary_key, listid, fmt, out, bar.update)
    finally:
        bar.close()
        if output:
            out.close()
        else:
            out.flush()
    click.echo(f"{count} contacts exported", err=True)
