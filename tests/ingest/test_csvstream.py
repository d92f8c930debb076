"""CsvStream reads a CSV fed in arbitrary pieces exactly as the csv module reads it whole: the
same rows, each with the line it starts on, whatever the pieces cut through (a quoted field, a
CRLF, a UTF-8 character)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cee.ingest.imports.csvstream import CsvStream, NotCsv, sniff_delimiter

# No bare CR in a field: Python 3.11's csv.writer leaves such a field unquoted when the line
# terminator is "\n", which no reader takes back (CsvStream refuses it as not CSV).
FIELD = st.text(alphabet=st.sampled_from('a é,;"\n\n\n\t€'), max_size=16)


def whole(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(start line, fields) of every non-blank row after the header, read in one go. Lines are
    counted at each newline (a CR alone, inside a quoted field, starts none)."""
    lines = _newline_lines(text)
    reader = csv.reader(lines, delimiter=delimiter)
    out, consumed = [], 0
    for fields in reader:
        start, consumed = consumed + 1, reader.line_num
        if fields and fields != [""]:
            out.append((start, fields))
    # The same fields as the csv module reading the text as a file.
    as_file = [f for f in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    assert [f for _, f in out] == [f for f in as_file if f and f != [""]]
    return out[1:]


def _newline_lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def streamed(data: bytes, cuts: list[int]) -> tuple[CsvStream, list[tuple[int, list[str]]]]:
    stream, rows, last = CsvStream(), [], 0
    for cut in [*sorted(set(cuts)), len(data)]:
        rows += stream.feed(data[last:cut])
        last = cut
    rows += stream.close()
    assert [r.index for r in rows] == list(range(len(rows)))
    return stream, [(r.line, r.fields) for r in rows]


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(FIELD, min_size=2, max_size=2), max_size=8),
    crlf=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=40),
)
def test_any_pieces_give_the_rows_of_the_whole_file(
    rows: list[list[str]], crlf: bool, cuts: list[int]
) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if crlf else "\n").writerows([["EMAIL", "NAME"], *rows])
    text = out.getvalue()
    stream, got = streamed(("\ufeff" + text).encode(), [c for c in cuts if c < len(text)])
    assert stream.header == ["EMAIL", "NAME"] and stream.delimiter == ","
    assert got == whole(text, ",")


def test_delimiters_are_sniffed_from_the_header() -> None:
    assert sniff_delimiter("EMAIL;NAME;CITY\r\n") == ";"
    assert sniff_delimiter("EMAIL\tNAME\n") == "\t"
    assert sniff_delimiter('"A;B",EMAIL\n') == ","  # a delimiter inside quotes does not count
    assert sniff_delimiter("EMAIL\n") == ","


def test_what_is_not_csv_text_is_refused() -> None:
    with pytest.raises(NotCsv, match="not UTF-8 text"):
        CsvStream().feed(b"EMAIL\n\xff\xfe\n")
    with pytest.raises(NotCsv, match="NUL"):
        CsvStream().feed(b"EMAIL\na\x00b\n")
    with pytest.raises(NotCsv, match="empty"):
        CsvStream().close()
    stream = CsvStream()
    stream.feed(b'EMAIL\n"never closed')
    with pytest.raises(NotCsv, match="not closed within"):
        for _ in range(20):
            stream.feed(b"x" * 100_000 + b"\n")
