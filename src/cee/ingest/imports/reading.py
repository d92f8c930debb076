"""An import's reading: fetch the file, cut it into rows, judge them, in a process of its own.

Reading and judging a row is ~6 µs of Python (the CSV module, then every cell through its
attribute's converter, as `add` judges it). On the serving process's event loop that was a
million rows' worth of 3 ms stretches that every API request waited behind (addsync's p99 was
30-40 times its idle figure during an import), and it held the GIL that the SQLite writer's
thread needs between statements. Here it runs beside the server, on the other core: the
server's side (`Reader`) only receives finished chunks, each one the records as a JSON array
(which the SQLite store inserts as it is, without a Python object per row), their row indexes
and the rejected rows, and hands them to the store.

The child is `python -m cee.ingest.imports.reading`: its spec (the URL, the allow list, the
limits, the account's schema, where to start) is one frame on stdin; its answers are frames on
stdout (`C` a chunk, `E` the error that ended the file, `D` the end). A chunk is due at
`chunk_rows` rows, or once `FLUSH_SECONDS` have passed with rows waiting (a slow download
still shows progress). The child blocks on a full pipe while the server writes, so memory
stays at one chunk being read, one in the pipe and one being written.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from cee.domain.attributes import Datatype, default_phone_region, set_phone_region
from cee.domain.contacts import ContactRecord, Schema
from cee.domain.errors import InvalidContact
from cee.ingest.imports.csvstream import CsvStream, NotCsv, Row
from cee.ingest.imports.fetch import FetchFailed, Limits, open_url
from cee.ingest.imports.guard import AllowList, Refused
from cee.ingest.imports.rows import Columns, judge
from cee.storage.bulk import Chunk, Reject, pieces_of

FLUSH_SECONDS = 1.0
# kind (C, E, D), then the lengths of the JSON header and of the rows' pieces, one after another.
_HEAD = struct.Struct("!cII")
_ERRORS: dict[str, type[Exception]] = {
    "refused": Refused,
    "fetch": FetchFailed,
    "notcsv": NotCsv,
}


@dataclass(frozen=True, slots=True)
class Spec:
    url: str
    allow: str  # the bulk_allow_hosts setting
    max_bytes: int
    seconds: float
    schema: Schema
    skip_below: int  # rows already committed by an earlier attempt
    chunk_rows: int

    def out(self) -> bytes:
        return orjson.dumps(
            {
                "url": self.url,
                "allow": self.allow,
                "max_bytes": self.max_bytes,
                "seconds": self.seconds,
                "attributes": {n: d.value for n, d in self.schema.attributes.items()},
                "primary_key": self.schema.primary_key,
                "phone_region": self.schema.phone_region,
                "default_phone_region": default_phone_region(),
                "skip_below": self.skip_below,
                "chunk_rows": self.chunk_rows,
            }
        )

    @classmethod
    def read(cls, data: bytes) -> Spec:
        v = orjson.loads(data)
        set_phone_region(v["default_phone_region"])
        schema = Schema(
            {n: Datatype(d) for n, d in v["attributes"].items()},
            v["primary_key"],
            v["phone_region"],
        )
        return cls(
            v["url"],
            v["allow"],
            int(v["max_bytes"]),
            float(v["seconds"]),
            schema,
            int(v["skip_below"]),
            int(v["chunk_rows"]),
        )


# -- the server's side ----------------------------------------------------------------------


class Reader:
    """The child reading one import, and the chunks it sends."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Reader:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cee.ingest.imports.reading",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # A chunk frame is one read: larger than the default 64 KiB limit.
            limit=1 << 20,
        )
        assert self._proc.stdin is not None
        spec = self.spec.out()
        self._proc.stdin.write(struct.pack("!I", len(spec)) + spec)
        await self._proc.stdin.drain()
        self._proc.stdin.close()
        return self

    async def __aexit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        await proc.wait()

    async def chunks(self) -> AsyncIterator[Chunk]:
        """The file's chunks in order; the error that ended it raised as the child met it."""
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        while True:
            try:
                kind, head_size, rows_size = _HEAD.unpack(await out.readexactly(_HEAD.size))
                head = orjson.loads(await out.readexactly(head_size))
                rows = await out.readexactly(rows_size)
            except asyncio.IncompleteReadError:
                code = await self._proc.wait()
                raise RuntimeError(f"the import's reader exited ({code}) mid-file") from None
            if kind == b"D":
                return
            if kind == b"E":
                raise _ERRORS[head["kind"]](head["message"])
            pieces, at = [], 0
            for size in head["pieces"]:
                pieces.append(rows[at : at + size])
                at += size
            yield Chunk(
                pieces,
                [
                    Reject(i, line, InvalidContact(details), fields)
                    for i, line, details, fields in head["rejects"]
                ],
                head["rows_done"],
                head["bytes_done"],
                head["bytes_total"],
                head["indexes"],
                head["distinct"],
            )


# -- the child ------------------------------------------------------------------------------


class _Batch:
    """The rows judged since the last chunk was sent."""

    def __init__(self, skip_below: int) -> None:
        self.skip_below = skip_below
        self.records: list[tuple[str, str, dict[str, Any]]] = []
        self.keys: set[str] = set()
        self.indexes: list[int] = []
        self.rejects: list[list[Any]] = []
        self.rows_done = skip_below
        self.since = time.monotonic()

    def judge(self, rows: list[Row], columns: Columns) -> None:
        for row in rows:
            if row.index < self.skip_below:
                continue
            judged = judge(row, columns)
            if isinstance(judged, ContactRecord):
                self.records.append((judged.key, judged.key_display, judged.attributes))
                self.keys.add(judged.key)
                self.indexes.append(row.index)
            else:
                self.rejects.append(
                    [judged.index, judged.line, judged.error.details, judged.fields]
                )
            self.rows_done = row.index + 1

    def due(self, chunk_rows: int) -> bool:
        pending = len(self.records) + len(self.rejects)
        if pending >= chunk_rows:
            return True
        return pending > 0 and time.monotonic() - self.since >= FLUSH_SECONDS

    def send(self, out: BinaryIO, stream: CsvStream, length: int | None) -> None:
        pieces = pieces_of(self.records)
        head = {
            "pieces": [len(piece) for piece in pieces],
            "indexes": self.indexes,
            "rejects": self.rejects,
            "rows_done": self.rows_done,
            "bytes_done": stream.bytes_read,
            "bytes_total": length,
            "distinct": len(self.keys) == len(self.records),
        }
        _send(out, b"C", head, b"".join(pieces))
        self.records, self.keys, self.indexes, self.rejects = [], set(), [], []
        self.since = time.monotonic()


def _send(out: BinaryIO, kind: bytes, head: Any, rows: bytes = b"") -> None:
    data = orjson.dumps(head)
    out.write(_HEAD.pack(kind, len(data), len(rows)) + data + rows)
    out.flush()


async def produce(spec: Spec, out: BinaryIO) -> None:
    """Read the file and send its chunks, then D; or E with the error that ended it."""
    stream = CsvStream()
    batch = _Batch(spec.skip_below)
    limits = Limits(max_bytes=spec.max_bytes, seconds=spec.seconds)
    try:
        async with open_url(spec.url, AllowList.parse(spec.allow), limits) as body:
            columns: Columns | None = None
            async for piece in body.chunks():
                rows = stream.feed(piece)
                if columns is None and stream.header is not None:
                    columns = Columns.of(stream.header, spec.schema)
                if columns is not None:
                    batch.judge(rows, columns)
                if batch.due(spec.chunk_rows):
                    batch.send(out, stream, body.length)
            rows = stream.close()
            if columns is None:
                assert stream.header is not None
                columns = Columns.of(stream.header, spec.schema)
            batch.judge(rows, columns)
            batch.send(out, stream, body.length)
    except Refused as exc:
        _send(out, b"E", {"kind": "refused", "message": str(exc)})
    except FetchFailed as exc:
        _send(out, b"E", {"kind": "fetch", "message": str(exc)})
    except NotCsv as exc:
        _send(out, b"E", {"kind": "notcsv", "message": str(exc)})
    else:
        _send(out, b"D", {})


def main() -> None:
    stdin = sys.stdin.buffer
    (size,) = struct.unpack("!I", stdin.read(4))
    spec = Spec.read(stdin.read(size))
    try:
        asyncio.run(produce(spec, sys.stdout.buffer))
    except BrokenPipeError:
        # The server went away (killed, or it gave the job up): its next attempt reads the file
        # again from the last committed row.
        os._exit(1)


if __name__ == "__main__":
    main()
