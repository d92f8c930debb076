"""The async journal: one accepted request, as the worker sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One accepted async request, as the worker sees it."""

    id: int
    requestid: str
    account_id: int
    user_id: int
    key_prefix: str
    activity: str
    payload: dict[str, Any]
    attempts: int = 0  # how many times it was claimed, this claim included
