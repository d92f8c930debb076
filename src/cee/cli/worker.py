"""`cee worker`: apply journaled async requests in a process of its own."""

from __future__ import annotations

import asyncio
import sys

import click

from cee.cli.common import apply_log_level, database_options, settings_from


@click.command()
@database_options
def worker(data_dir: str, database: str | None) -> None:
    """Apply journaled async requests (beside `cee serve --no-worker`, or on other hosts)."""
    from cee import runtime
    from cee.ingest.worker import run_standalone

    settings = settings_from(data_dir, database)
    apply_log_level(settings)
    try:
        asyncio.run(run_standalone(runtime.worker_engine(settings)))
    except (FileNotFoundError, RuntimeError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
