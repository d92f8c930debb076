"""`cee import`: send a file's rows over the API with the client, keeping a reject file and a
resume point.

Rows go through `AsyncClient.add_many` (chunks of up to 1,000, a few in flight). As each chunk's
answer arrives, its failed rows are appended to `FILE.rejects.csv` (line number, error, the row
as given) and the rows it covered are recorded as done in `FILE.import-state.json`, rejects
first, state second. An interrupted import (SIGINT, a lost connection, a refused key) leaves the
state behind; `--resume` skips every row recorded as done and cuts the reject file back to what
the state accounts for, so no row is sent twice and no reject is written twice.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cee.transfer.sources import Row, Source

REJECTS_SUFFIX = ".rejects.csv"
STATE_SUFFIX = ".import-state.json"


class ImportRefused(Exception):
    """The import cannot start (or resume) as asked; the message says why."""


class Ranges:
    """A set of row indexes kept as sorted, disjoint, half-open ranges (small when contiguous)."""

    def __init__(self, pairs: list[list[int]] | None = None) -> None:
        self.starts: list[int] = [a for a, _ in pairs or []]
        self.ends: list[int] = [b for _, b in pairs or []]

    def __contains__(self, index: int) -> bool:
        at = bisect.bisect_right(self.starts, index) - 1
        return at >= 0 and index < self.ends[at]

    def add(self, index: int) -> None:
        at = bisect.bisect_right(self.starts, index) - 1
        if at >= 0 and index < self.ends[at]:
            return
        joins_left = at >= 0 and self.ends[at] == index
        joins_right = at + 1 < len(self.starts) and self.starts[at + 1] == index + 1
        if joins_left and joins_right:
            self.ends[at] = self.ends[at + 1]
            del self.starts[at + 1], self.ends[at + 1]
        elif joins_left:
            self.ends[at] = index + 1
        elif joins_right:
            self.starts[at + 1] = index
        else:
            self.starts.insert(at + 1, index)
            self.ends.insert(at + 1, index + 1)

    def __len__(self) -> int:
        return sum(b - a for a, b in zip(self.starts, self.ends, strict=True))

    def pairs(self) -> list[list[int]]:
        return [[a, b] for a, b in zip(self.starts, self.ends, strict=True)]


@dataclass
class State:
    """What `--resume` needs: which rows are done and how much of the reject file is theirs."""

    path: Path
    source: dict[str, Any]
    done: Ranges = field(default_factory=Ranges)
    # Names this import in its chunks' Idempotency-Keys (see `chunk_key`).
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    imported: int = 0
    rejected: int = 0
    rejects_bytes: int = 0

    @classmethod
    def load(cls, path: Path) -> State:
        data = json.loads(path.read_text())
        return cls(
            path,
            data["source"],
            done=Ranges(data["done"]),
            id=data["id"],
            imported=data["imported"],
            rejected=data["rejected"],
            rejects_bytes=data["rejects_bytes"],
        )

    def save(self) -> None:
        data = {
            "source": self.source,
            "done": self.done.pairs(),
            "imported": self.imported,
            "rejected": self.rejected,
            "rejects_bytes": self.rejects_bytes,
            "id": self.id,
        }
        # Write aside, then rename: an import killed mid-write still has the previous state.
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)


def fingerprint(path: Path, mode: str, listid: int | None) -> dict[str, Any]:
    """What must not change between an interrupted import and its resumption."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "mode": mode, "list": listid}


@dataclass
class Outcome:
    total_done: int
    imported: int
    rejected: int
    interrupted: bool
    seconds: float
    rejects: Path
    state: Path


class Rejects:
    """FILE.rejects.csv: line, error_code, error, then the row's fields as given."""

    def __init__(self, path: Path, header: list[str], resume_at: int | None) -> None:
        self.path = path
        # Open for the whole import (closed by `close`), appending on a resume.
        self.file: TextIO = open(  # noqa: SIM115
            path, "w" if resume_at is None else "a", encoding="utf-8", newline=""
        )
        self.writer = csv.writer(self.file)
        if resume_at is None:
            self.writer.writerow(["line", "error_code", "error", *header])
        else:
            # Whatever was written after the last saved state belongs to rows not yet done.
            self.file.truncate(resume_at)

    def write(self, row: Row, code: int | None, details: str) -> None:
        self.writer.writerow([row.line, "" if code is None else code, details, *row.fields])

    def size(self) -> int:
        self.file.flush()
        return os.fstat(self.file.fileno()).st_size

    def close(self) -> None:
        self.file.close()


def prepare(path: Path, mode: str, listid: int | None, resume: bool) -> State:
    """The state to run with: fresh, or the interrupted one (checked against the file)."""
    state_path = path.with_name(path.name + STATE_SUFFIX)
    now = fingerprint(path, mode, listid)
    if not resume:
        if state_path.exists():
            raise ImportRefused(
                f"{state_path.name} exists: an import of {path.name} was interrupted; "
                "run again with --resume to continue it, or delete that file to start over"
            )
        return State(state_path, now)
    if not state_path.exists():
        raise ImportRefused(f"nothing to resume: {state_path.name} does not exist")
    try:
        state = State.load(state_path)
    except (KeyError, TypeError, ValueError):
        raise ImportRefused(
            f"{state_path.name} is not a state cee import wrote; delete it to start over"
        ) from None
    if state.source != now:
        raise ImportRefused(
            f"{path.name} (or --mode/--list) changed since the interrupted import: resuming "
            f"would skip the wrong rows; delete {state_path.name} to start over"
        )
    return state


async def run(
    client: Any,
    source: Source,
    state: State,
    *,
    listid: int | None,
    mode: str,
    chunk_size: int,
    concurrency: int,
    stopping: Callable[[], bool],
    progress: Callable[[int, int], None],
) -> Outcome:
    """Import what is not done yet; `progress(rows, rejected)` after each step."""
    resuming = state.path.exists()
    rejects = Rejects(
        source.path.with_name(source.path.name + REJECTS_SUFFIX),
        source.header,
        state.rejects_bytes if resuming else None,
    )
    state.rejects_bytes = rejects.size()
    state.save()
    # Rows handed to add_many and not yet answered, by their position in what it was fed:
    # at most the chunks in flight, however large the file.
    pending: dict[int, Row] = {}
    interrupted = False
    started = time.monotonic()

    def feed() -> Iterator[dict[str, Any]]:
        nonlocal interrupted
        position = 0
        for row in source.rows():
            if stopping():
                interrupted = True
                return
            if row.index in state.done:
                continue
            if row.contact is None:
                code, details = row.error or (400, "unreadable row")
                rejects.write(row, code, details)
                state.done.add(row.index)
                state.rejected += 1
                progress(1, 1)
                continue
            pending[position] = row
            position += 1
            yield row.contact

    def answered(chunk: Any) -> None:
        rows = [pending.pop(p) for p in range(chunk.start, chunk.start + chunk.count)]
        for failure in chunk.failures:
            rejects.write(rows[failure.index - chunk.start], failure.error_code, failure.details)
        for row in rows:
            state.done.add(row.index)
        state.imported += chunk.count - len(chunk.failures)
        state.rejected += len(chunk.failures)
        state.rejects_bytes = rejects.size()
        state.save()
        progress(chunk.count, len(chunk.failures))

    def chunk_key(start: int, count: int) -> str:
        # The same rows of the same import get the same key in every run: a chunk whose answer
        # was lost to a hard stop (a second Ctrl-C, a kill) and that --resume sends again is
        # answered by a CEE from the first time instead of being applied twice. (A resumed run
        # cuts the same chunks: they start at the first row not done, and every earlier chunk
        # was whole.)
        first, last = pending[start].index, pending[start + count - 1].index
        return hashlib.sha256(f"{state.id}:{first}:{last}:{count}".encode()).hexdigest()[:32]

    try:
        await client.add_many(
            feed(),
            listid=listid,
            mode=mode,
            chunk_size=chunk_size,
            on_progress=answered,
            concurrency=concurrency,
            wait=mode == "async",
            chunk_key=chunk_key,
        )
    finally:
        # Rejects written since the last chunk (rows refused here) are saved with the state.
        state.rejects_bytes = rejects.size()
        state.save()
        rejects.close()
    if not interrupted:
        state.path.unlink()
    return Outcome(
        len(state.done),
        state.imported,
        state.rejected,
        interrupted,
        time.monotonic() - started,
        rejects.path,
        state.path,
    )
