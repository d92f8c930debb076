"""One log format for every CEE process: the CLI, `cee serve` and the processes it spawns."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(cee_level: int = logging.WARNING) -> None:
    """Warnings from libraries; CEE's own messages from `cee_level` up."""
    logging.basicConfig(level=logging.WARNING, format=FORMAT)
    logging.getLogger("cee").setLevel(cee_level)
