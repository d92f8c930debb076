"""Pages of rows: `?page=N`, a fixed page size, and whether there is a next page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.requests import Request

T = TypeVar("T")
PAGE_SIZE = 25


@dataclass(frozen=True)
class Paged(Generic[T]):
    rows: Sequence[T]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(int(raw), 1) if raw.isdigit() and len(raw) < 9 else 1


def offset(page: int, size: int = PAGE_SIZE) -> int:
    return (page - 1) * size


def from_fetched(rows: Sequence[T], page: int, size: int = PAGE_SIZE) -> Paged[T]:
    """`rows` fetched with LIMIT size + 1: the extra row only says a next page exists."""
    return Paged(rows[:size], page, len(rows) > size)


def slice_all(rows: Sequence[T], page: int, size: int = PAGE_SIZE) -> Paged[T]:
    """A page of rows already in memory (an account's lists or users)."""
    start = offset(page, size)
    return Paged(rows[start : start + size], page, len(rows) > start + size)
