"""ColumnNormaliser (the CSV import's judge) accepts and refuses exactly what normalise_contact
does for the same names and values: the same records, the same messages, in the same order."""

from __future__ import annotations

from typing import Any

import pytest

from cee.domain.attributes import BUILTIN_ATTRIBUTES, Datatype
from cee.domain.contacts import ColumnNormaliser, Schema, normalise_contact
from cee.domain.errors import InvalidContact

SCHEMA = Schema({**BUILTIN_ATTRIBUTES, "JOINED": Datatype.DATE, "SITE": Datatype.URL}, "EMAIL")
NAMES = ["email", " Name", "AGE", "joined", "SITE"]
ROWS = [
    ["Ann@Example.com ", "Ann", "30", "2024-01-31", "https://example.com"],
    ["bob@example.com", "", "", "", ""],  # empty cells clear
    ["not-an-email", "Carl", "22", "", ""],
    ["dan@example.com", "Dan", "old", "31/01/2024", ""],  # AGE fails first, as in order
    ["", "Eve", "40", "", ""],  # no primary key
    ["fay@example.com", "x" * 300, "1", "", ""],  # NAME too long for a textline
    ["gus@example.com", "Gus", "1", "2024-13-01", "ftp://x"],
    ["hal@example.com", "Hal", "99999999999999999999999", "", ""],
]


def outcome(fn: Any) -> Any:
    try:
        record = fn()
        return (record.key, record.key_display, record.attributes)
    except InvalidContact as exc:
        return exc.details


@pytest.mark.parametrize("values", ROWS)
def test_each_row_is_judged_as_normalise_contact_judges_it(values: list[str]) -> None:
    columns = ColumnNormaliser(NAMES, SCHEMA)
    expected = outcome(lambda: normalise_contact(dict(zip(NAMES, values, strict=True)), SCHEMA))
    assert outcome(lambda: columns(values)) == expected


def test_an_undefined_column_fails_every_row_at_its_place() -> None:
    names = ["EMAIL", "PLAN", "AGE"]
    columns = ColumnNormaliser(names, SCHEMA)
    for values in (["a@example.com", "gold", "1"], ["bad", "gold", "1"]):
        expected = outcome(
            lambda v=values: normalise_contact(dict(zip(names, v, strict=True)), SCHEMA)
        )
        assert outcome(lambda v=values: columns(v)) == expected
    assert outcome(lambda: columns(["a@example.com", "gold", "1"])).startswith("PLAN:")
