"""CSV rows from a stream of bytes, never holding more than one network chunk and one record.

The bytes are decoded incrementally (strict UTF-8: a file that is not text fails the job rather
than storing replacement characters), a BOM is dropped, and the text is cut into *complete*
records before the stdlib csv module parses them: a record ends at a newline outside quotes,
which is where the count of `"` on its lines is even (a quoted field with newlines spans lines
until its closing quote). Each batch of complete records then goes through one csv reader, whose
`line_num` gives the line on which every row starts. The delimiter (`,` `;` or tab) is sniffed
from the header line.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t")
# A record whose quotes stay open this long is not a CSV record: the job fails instead of
# buffering the rest of the file in search of the closing quote.
MAX_RECORD_CHARS = 1 << 20
_QUOTED = re.compile(r'"[^"]*"')


class NotCsv(Exception):
    """The file cannot be read as CSV; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Row:
    index: int  # 0-based data row: the header is not counted, nor are blank lines
    line: int  # 1-based line of the file on which the row starts (the header is line 1)
    fields: list[str]


def sniff_delimiter(line: str) -> str:
    """The delimiter the header line uses most (outside quotes); `,` when it has none."""
    bare = _QUOTED.sub("", line)
    counts = [(bare.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","


class CsvStream:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._started = False
        self._pending = ""  # text after the last newline, not yet a whole line
        self._record: list[str] = []  # lines of a record whose quotes are still open
        self._open_quotes = False
        self._lines_seen = 0
        self._next_index = 0
        self.bytes_read = 0
        self.delimiter = ","
        self.header: list[str] | None = None
        self.header_line = 0

    def feed(self, data: bytes) -> list[Row]:
        """The data rows completed by this piece of the file (the header is kept apart)."""
        try:
            text = self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise NotCsv(
                f"not UTF-8 text (byte {self.bytes_read + exc.start}): is it a CSV file?"
            ) from None
        self.bytes_read += len(data)
        return self._take(text, final=False)

    def close(self) -> list[Row]:
        """The last rows, once the whole file has been fed."""
        try:
            text = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise NotCsv("the file ends inside a UTF-8 character: is it a CSV file?") from None
        rows = self._take(text, final=True)
        if self.header is None:
            raise NotCsv("the file is empty: no header row")
        return rows

    def _take(self, text: str, *, final: bool) -> list[Row]:
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if "\x00" in text:
            raise NotCsv("the file holds NUL bytes: is it a CSV file?")
        body = self._pending + text
        cut = len(body) if final else body.rfind("\n") + 1
        self._pending, complete = body[cut:], body[:cut]
        parts = complete.split("\n")
        last = parts.pop()  # "" after a final newline, or the file's last line without one
        lines = [part + "\n" for part in parts]
        if last:
            lines.append(last)
        first_line = self._lines_seen + 1 - len(self._record)
        self._lines_seen += len(lines)
        # Counted over the whole piece in C: when the quotes balance at its end (nearly always),
        # every line of it ends a record and no line needs looking at one by one.
        if final or (self._open_quotes + complete.count('"')) % 2 == 0:
            records, self._record, self._open_quotes = self._record + lines, [], False
            return self._parse(first_line, records)
        # A quoted field runs on past this piece: hold back the lines from the last record end.
        boundary, open_quotes = -1, self._open_quotes
        for i, line in enumerate(lines):
            if line.count('"') % 2:
                open_quotes = not open_quotes
            if not open_quotes:
                boundary = i
        if boundary >= 0:
            records, self._record = self._record + lines[: boundary + 1], lines[boundary + 1 :]
        else:  # no record ends in this piece at all
            records, self._record = [], self._record + lines
        self._open_quotes = True
        if sum(len(line) for line in self._record) > MAX_RECORD_CHARS:
            raise NotCsv(
                f"line {self._lines_seen + 1 - len(self._record)}: a quoted field is not closed "
                f"within {MAX_RECORD_CHARS} characters"
            )
        return self._parse(first_line, records)

    def _parse(self, first_line: int, lines: list[str]) -> list[Row]:
        """The rows of `lines`, whole records that start on line `first_line` of the file."""
        if not lines:
            return []
        if self.header is None:
            self.delimiter = sniff_delimiter(lines[0])
        reader = csv.reader(lines, delimiter=self.delimiter, strict=False)
        rows: list[Row] = []
        consumed = 0
        try:
            for fields in reader:
                start = first_line + consumed
                consumed = reader.line_num
                if not fields or fields == [""]:
                    continue  # a blank line
                if self.header is None:
                    self.header, self.header_line = [f.strip() for f in fields], start
                    continue
                rows.append(Row(self._next_index, start, fields))
                self._next_index += 1
        except csv.Error as exc:
            raise NotCsv(f"line {first_line + consumed}: {exc}") from None
        return rows
