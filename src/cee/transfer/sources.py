"""The rows of a file to import: CSV (header row = attribute names) or NDJSON (one object a line).

Each row keeps what a reject file needs to give it back: its 0-based position among the data
rows, the line it starts on, and its fields exactly as given. A row this side can already see
is broken (a CSV row with the wrong number of fields, a line that is not a JSON object) carries
its error instead of a contact, and is never sent.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

FORMATS = ("csv", "ndjson")
_DELIMITERS = ",;\t"  # the separators Netcore's bulk upload takes


class SourceError(ValueError):
    """The file as a whole cannot be imported (no header, an unknown format)."""


@dataclass(frozen=True, slots=True)
class Row:
    index: int
    line: int
    fields: list[str]
    contact: dict[str, Any] | None
    # (error_code, details) of a row refused before sending: 400, as the server would say.
    error: tuple[int, str] | None = None


def format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("ndjson", "jsonl"):
        return "ndjson"
    if suffix in ("csv", "tsv", "txt"):
        return "csv"
    raise SourceError(f"{path.name}: cannot tell the format from the name; give --format")


def open_text(path: Path) -> TextIO:
    # utf-8-sig: a spreadsheet's byte-order mark must not end up in the first attribute's name.
    return open(path, encoding="utf-8-sig", newline="")


class Source:
    """A file's rows, read lazily; `header` is what a reject file puts after line and error."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.format = fmt
        self.dialect: type[csv.Dialect] | csv.Dialect = csv.excel
        self.names: list[str] = []
        self.header = self._csv_header() if fmt == "csv" else ["row"]

    def _dialect(self, first_line: str) -> type[csv.Dialect] | csv.Dialect:
        # Only the separator is guessed, from the header (the one line sure to have no quoted
        # values): csv.Sniffer's full guess also changes quoting rules, and a wrong guess there
        # silently corrupts every quoted value.
        counts = {d: first_line.count(d) for d in _DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","

        class Dialect(csv.excel):
            pass

        Dialect.delimiter = delimiter
        return Dialect

    def _csv_header(self) -> list[str]:
        with open_text(self.path) as f:
            first = f.readline()
        if not first.strip():
            raise SourceError(f"{self.path.name}: no header row (the attribute names)")
        self.dialect = self._dialect(first)
        header = next(csv.reader([first], self.dialect))
        names = [name.strip().upper() for name in header]
        if any(not name for name in names):
            raise SourceError(f"{self.path.name}: the header row has an empty column name")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise SourceError(f"{self.path.name}: header names {', '.join(twice)} more than once")
        self.names = names
        return header

    def rows(self) -> Iterator[Row]:
        return self._csv_rows() if self.format == "csv" else self._ndjson_rows()

    def count(self) -> int:
        """How many data rows there are (one quick pass; for the progress bar's total)."""
        if self.format == "ndjson":
            with open_text(self.path) as f:
                return sum(1 for line in f if line.strip())
        with open_text(self.path) as f:
            reader = csv.reader(f, self.dialect)
            next(reader, None)
            return sum(1 for fields in reader if fields)

    def _csv_rows(self) -> Iterator[Row]:
        width = len(self.names)
        with open_text(self.path) as f:
            reader = csv.reader(f, self.dialect)
            next(reader, None)
            index = 0
            # A quoted field may span lines: a row starts on the line after the last one read.
            start = reader.line_num + 1
            for fields in reader:
                line, start = start, reader.line_num + 1
                if not fields:
                    continue  # a blank line is no row
                if len(fields) != width:
                    error = f"the row has {len(fields)} fields; the header has {width}"
                    yield Row(index, line, fields, None, (400, error))
                else:
                    # An empty cell is left out rather than sent as "": for an existing contact
                    # "" would clear the attribute, which a blank spreadsheet cell rarely means.
                    contact = {n: v for n, v in zip(self.names, fields, strict=True) if v != ""}
                    yield Row(index, line, fields, contact)
                index += 1

    def _ndjson_rows(self) -> Iterator[Row]:
        with open_text(self.path) as f:
            index = 0
            for line_number, text in enumerate(f, 1):
                if not text.strip():
                    continue
                raw = text.rstrip("\r\n")
                try:
                    value = json.loads(raw)
                except ValueError as exc:
                    yield Row(index, line_number, [raw], None, (400, f"not JSON: {exc}"))
                else:
                    if isinstance(value, dict):
                        yield Row(index, line_number, [raw], value)
                    else:
                        yield Row(index, line_number, [raw], None, (400, "not a JSON object"))
                index += 1
