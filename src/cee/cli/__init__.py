"""The `cee` command: one module per command group; each parses, calls admin/, prints.

A new command group is a module here with its own click group or command, added to `main`
below; nothing in a command module holds a rule (those live in `cee.admin`).
"""

from __future__ import annotations

import click

from cee.cli import (
    account,
    attribute,
    backup,
    exports,
    imports,
    init,
    key,
    lists,
    serve,
    status,
    user,
    worker,
)
from cee.logs import configure_logging


@click.group()
@click.version_option(package_name="cee")
def main() -> None:
    """CEE: a self-hosted contact engine that speaks Netcore CE's /apiv2 contact API."""
    configure_logging()


for command in (
    init.init,
    serve.serve,
    worker.worker,
    status.status_command,
    account.account,
    user.user,
    key.key,
    lists.list_group,
    attribute.attribute,
    backup.backup,
    backup.restore,
    imports.import_command,
    exports.export_command,
):
    main.add_command(command)
