"""CSV rows as contacts: the header read as attribute names, each row judged as `add` judges.

A row is judged as `normalise_contact` judges the object `add` would receive (header name ->
cell text), through `ColumnNormaliser`, which reads the header once for all rows; so the CSV
path accepts and refuses exactly what the API does. An empty cell is `""`, which clears the
attribute as it does in `add`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cee.domain.contacts import ColumnNormaliser, ContactRecord, Schema
from cee.domain.errors import InvalidContact
from cee.ingest.imports.csvstream import NotCsv, Row
from cee.storage.bulk import Reject


@dataclass(frozen=True, slots=True)
class Columns:
    names: list[str]  # upper-cased, as `add` stores them
    normalise: ColumnNormaliser

    @classmethod
    def of(cls, header: list[str], schema: Schema) -> Columns:
        """The header's names; NotCsv when it cannot name contacts' attributes."""
        names = [name.strip().upper() for name in header]
        for position, name in enumerate(names, 1):
            if not name:
                raise NotCsv(f"the header's column {position} has no name")
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise NotCsv(f"the header names {name} twice (names ignore case)")
            seen.add(name)
        if schema.primary_key not in seen:
            shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            raise NotCsv(
                f"the header has no {schema.primary_key} column (the account's primary key); "
                f"its columns: {shown}"
            )
        return cls(names, ColumnNormaliser(names, schema))


def judge(row: Row, columns: Columns) -> ContactRecord | Reject:
    names = columns.names
    if len(row.fields) != len(names):
        problem = InvalidContact(
            f"the row has {len(row.fields)} fields; the header has {len(names)}"
        )
        return Reject(row.index, row.line, problem, row.fields)
    try:
        return columns.normalise(row.fields)
    except InvalidContact as exc:
        return Reject(row.index, row.line, exc, row.fields)
