"""`cee import FILE`: a CSV or NDJSON file into a CEE (or Netcore's hosts) over the API.

Built on the Python client (`cee_client`), like any program outside the server would be: the
import needs only a URL and a key, never the database.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import click

from cee.transfer import importer, sources


def _client(url: str | None, region: str | None, key: str) -> Any:
    try:
        from cee_client import AsyncClient, Retries
    except ImportError:  # the server can run without it; only this command needs it
        raise click.ClickException(
            "cee import needs the Python client: pip install ./clients/python"
        ) from None
    try:
        return AsyncClient(
            api_key=key,
            base_url=None if region else url,
            region=region,
            retries=Retries(attempts=6),
            timeout=120.0,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--url",
    envvar="CEE_URL",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="Base URL of the CEE (the part before /apiv2).",
)
@click.option(
    "--region",
    type=click.Choice(["us", "in", "eu"]),
    default=None,
    help="Send to Netcore's hosts of this region instead of --url.",
)
@click.option("--key", envvar="CEE_API_KEY", required=True, help="API key (or CEE_API_KEY).")
@click.option("--list", "listid", type=int, default=None, help="Add every contact to this list.")
@click.option(
    "--mode",
    type=click.Choice(["sync", "async"]),
    default="sync",
    show_default=True,
    help="sync: addsync (an existing contact is a 302 reject); async: add (upsert), waiting "
    "for each request's outcome.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sources.FORMATS),
    default=None,
    help="csv or ndjson (default: from the file name).",
)
@click.option(
    "--resume", is_flag=True, help="Continue an interrupted import of FILE where it stopped."
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Contacts a request (1 for Netcore's hosts, whose /apiv2 takes one contact).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Requests in flight at once.",
)
@click.option("--progress/--no-progress", default=True, help="Show the progress bar on stderr.")
def import_command(
    file: Path,
    url: str,
    region: str | None,
    key: str,
    listid: int | None,
    mode: str,
    fmt: str | None,
    resume: bool,
    chunk_size: int,
    concurrency: int,
    progress: bool,
) -> None:
    """Import contacts from a CSV (header row = attribute names) or NDJSON file.

    Rows the server refuses go to FILE.rejects.csv with their line number and the error. An
    interrupted import (Ctrl-C) stops after the requests in flight; --resume continues it
    without sending any row twice.
    """
    from tqdm import tqdm

    try:
        source = sources.Source(file, sources.format_of(file, fmt))
        state = importer.prepare(file, mode, listid, resume)
    except (sources.SourceError, importer.ImportRefused) as exc:
        raise click.ClickException(str(exc)) from None
    total = source.count()
    bar = tqdm(
        total=total,
        initial=len(state.done),
        unit=" rows",
        unit_scale=True,
        file=sys.stderr,
        disable=not progress,
        mininterval=0.25,
        smoothing=0.1,
    )
    rejected = state.rejected

    def advance(rows: int, refused: int) -> None:
        nonlocal rejected
        rejected += refused
        bar.update(rows)
        if refused:
            bar.set_postfix(rejected=rejected, refresh=False)

    async def main() -> importer.Outcome:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def interrupt() -> None:
            # First Ctrl-C: stop reading, let the requests in flight finish and record them.
            # A second one is Python's default: stop at once. --resume still works: the chunks
            # that were in flight are sent again under the same Idempotency-Keys, which a CEE
            # answers from the first time (a server without them would see them twice).
            stop.set()
            loop.remove_signal_handler(signal.SIGINT)
            bar.write("interrupted: finishing the requests in flight...", file=sys.stderr)

        loop.add_signal_handler(signal.SIGINT, interrupt)
        async with _client(url, region, key) as client:
            return await importer.run(
                client,
                source,
                state,
                listid=listid,
                mode=mode,
                chunk_size=chunk_size,
                concurrency=concurrency,
                stopping=stop.is_set,
                progress=advance,
            )

    from cee_client import CeeError

    try:
        outcome = asyncio.run(main())
    except CeeError as exc:
        bar.close()
        click.echo(f"error: {exc}", err=True)
        click.echo(f"stopped; `cee import {file} --resume` continues after the fix", err=True)
        sys.exit(1)
    bar.close()
    rate = outcome.imported / outcome.seconds if outcome.seconds > 0 else 0.0
    click.echo(
        f"{outcome.imported} imported, {outcome.rejected} rejected"
        f"{f' (see {outcome.rejects})' if outcome.rejected else ''}; "
        f"{outcome.total_done} of {total} rows done in {outcome.seconds:.1f}s "
        f"({rate:,.0f} rows/s this run)",
        err=True,
    )
    if outcome.interrupted:
        click.echo(f"interrupted: `cee import {file} --resume` continues", err=True)
        sys.exit(130)
