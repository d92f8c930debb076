"""The writer socket's frames: plain values in JSON (orjson), never code.

A frame is a 4-byte length and one JSON document. Domain values cross as plain arrays in a
fixed order (a contact record, a write context, a journal entry) and are rebuilt on the other
side by their constructors; an error crosses as `[name, details]` and comes back as the domain
error of that name. Nothing a peer sends can name a function or a type to build: what a frame
may ask for is the closed job table in `jobs.py`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from cee.domain import errors
from cee.domain.contacts import ContactRecord
from cee.domain.errors import CeeError, Internal
from cee.domain.journal import JournalEntry
from cee.domain.outcomes import Outcome
from cee.domain.writes import ContactOp, WriteContext
from cee.storage.bulk import BulkJob, Chunk, Reject
from cee.storage.ops import KeptAnswer

LENGTH = struct.Struct("!I")
# A frame can carry a 1,000-contact array and its outcomes; far below this.
MAX_FRAME_BYTES = 256 * 1024 * 1024


class BadFrame(ValueError):
    """A frame that is not one of ours: oversized, not JSON, or not of the expected shape."""


def frame(value: Any) -> bytes:
    payload = orjson.dumps(value)
    return LENGTH.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = LENGTH.unpack(await reader.readexactly(LENGTH.size))
    if size > MAX_FRAME_BYTES:
        raise BadFrame(f"frame of {size} bytes; the limit is {MAX_FRAME_BYTES}")
    payload = await reader.readexactly(size)
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise BadFrame(f"frame is not JSON: {exc}") from None


# -- errors -------------------------------------------------------------------------------------

# Every named domain error but RateLimited (which needs a retry time the writer never sets).
_ERRORS: dict[str, type[CeeError]] = {
    cls.name: cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, CeeError) and cls not in (CeeError, errors.RateLimited)
}


def error_out(exc: BaseException) -> list[str]:
    """`[name, details]`; anything but a domain error is an Internal that names only its type."""
    if isinstance(exc, CeeError):
        return [exc.name, exc.details]
    return [Internal.name, f"the writer failed: {type(exc).__name__}"]


def error_in(value: Any) -> CeeError:
    name, details = value
    cls = _ERRORS.get(name, Internal)
    return cls(str(details))


# -- domain values ------------------------------------------------------------------------------


def context_out(ctx: WriteContext) -> list[Any]:
    return [ctx.account_id, ctx.requestid, ctx.key_prefix, ctx.activity]


def context_in(value: Any) -> WriteContext:
    account_id, requestid, key_prefix, activity = value
    return WriteContext(int(account_id), str(requestid), str(key_prefix), str(activity))


def record_out(record: ContactRecord) -> list[Any]:
    return [record.key, record.key_display, record.attributes]


def record_in(value: Any) -> ContactRecord:
    key, display, attributes = value
    if not isinstance(attributes, dict):
        raise BadFrame("a contact's attributes must be an object")
    return ContactRecord(str(key), str(display), attributes)


def records_in(value: Any) -> list[ContactRecord]:
    return [record_in(v) for v in value]


def judged_out(item: ContactRecord | CeeError) -> dict[str, Any]:
    """A record the worker judged: valid (to write) or already failed."""
    if isinstance(item, CeeError):
        return {"error": error_out(item)}
    return {"record": record_out(item)}


def judged_in(value: Any) -> ContactRecord | CeeError:
    if "error" in value:
        return error_in(value["error"])
    return record_in(value["record"])


def entry_out(entry: JournalEntry) -> list[Any]:
    return [
        entry.id,
        entry.requestid,
        entry.account_id,
        entry.user_id,
        entry.key_prefix,
        entry.activity,
        entry.payload,
        entry.attempts,
    ]


def entry_in(value: Any) -> JournalEntry:
    id_, requestid, account_id, user_id, key_prefix, activity, payload, attempts = value
    if not isinstance(payload, dict):
        raise BadFrame("a journal entry's payload must be an object")
    return JournalEntry(
        int(id_),
        str(requestid),
        int(account_id),
        int(user_id),
        str(key_prefix),
        str(activity),
        payload,
        int(attempts),
    )


def outcomes_out(outcomes: list[Outcome]) -> list[Any]:
    return [None if o is None else error_out(o) for o in outcomes]


def outcomes_in(value: Any) -> list[Outcome]:
    return [None if v is None else error_in(v) for v in value]


def optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


# -- a job's arguments and result ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Codec:
    """How one job's arguments (or result) become plain values and back."""

    out: Callable[[Any], Any]
    into: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


PLAIN = Codec(_same, _same)
OUTCOMES = Codec(outcomes_out, outcomes_in)
ENTRIES = Codec(lambda es: [entry_out(e) for e in es], lambda v: [entry_in(e) for e in v])


def arguments(*fields: Codec) -> Codec:
    """A tuple of arguments, each with its own codec; a frame of another length is refused."""

    def out(args: tuple[Any, ...]) -> list[Any]:
        return [f.out(a) for f, a in zip(fields, args, strict=True)]

    def into(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or len(value) != len(fields):
            raise BadFrame(f"expected {len(fields)} arguments")
        return tuple(f.into(v) for f, v in zip(fields, value, strict=True))

    return Codec(out, into)


CONTEXT = Codec(context_out, context_in)
RECORD = Codec(record_out, record_in)
RECORDS = Codec(lambda rs: [record_out(r) for r in rs], records_in)
JUDGED = Codec(lambda rs: [judged_out(r) for r in rs], lambda v: [judged_in(r) for r in v])
ENTRY = Codec(entry_out, entry_in)
OP = Codec(lambda op: op.value, ContactOp)
LISTID = Codec(_same, optional_int)


def _plain_into(value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise BadFrame("arguments must be an array")
    return tuple(value)


# Arguments that are plain values already (text, numbers, booleans).
PLAIN_ARGS = Codec(list, _plain_into)


# -- bulk imports -------------------------------------------------------------------------------

_BULK_FIELDS = [f.name for f in dataclasses.fields(BulkJob)]


def bulk_job_out(job: BulkJob) -> list[Any]:
    return [getattr(job, name) for name in _BULK_FIELDS]


def bulk_job_in(value: Any) -> BulkJob:
    if not isinstance(value, list) or len(value) != len(_BULK_FIELDS):
        raise BadFrame("a bulk job has the fields of BulkJob, in order")
    job = BulkJob(*value)
    if not isinstance(job.notes, dict):
        raise BadFrame("a bulk job's notes must be an object")
    return job


def chunk_out(chunk: Chunk) -> list[Any]:
    rejects = [[r.index, r.line, error_out(r.error), r.fields] for r in chunk.rejects]
    # The pieces' JSON arrays as they are: the frame embeds them without an object per row.
    return [
        [orjson.Fragment(piece) for piece in chunk.pieces],
        rejects,
        chunk.rows_done,
        chunk.bytes_done,
        chunk.bytes_total,
        chunk.indexes,
        chunk.distinct,
    ]


def chunk_in(value: Any) -> Chunk:
    pieces, rejects, rows_done, bytes_done, bytes_total, indexes, distinct = value
    if not isinstance(pieces, list) or not all(isinstance(p, list) for p in pieces):
        raise ValueError("a chunk's pieces are JSON arrays")
    return Chunk(
        [orjson.dumps(piece) for piece in pieces],
        [Reject(int(i), int(line), error_in(e), list(f)) for i, line, e, f in rejects],
        int(rows_done),
        int(bytes_done),
        optional_int(bytes_total),
        [int(i) for i in indexes],
        bool(distinct),
    )


BULK_JOB = Codec(bulk_job_out, bulk_job_in)
BULK_JOBS = Codec(lambda js: [bulk_job_out(j) for j in js], lambda v: [bulk_job_in(j) for j in v])
CHUNK = Codec(chunk_out, chunk_in)


# -- rate limits and Idempotency-Key answers ------------------------------------------------------


def kept_out(kept: KeptAnswer | None) -> list[Any] | None:
    if kept is None:
        return None
    return [kept.fingerprint, kept.requestid, kept.status, kept.answer]


def kept_in(value: Any) -> KeptAnswer | None:
    if value is None:
        return None
    fingerprint, requestid, status, answer = value
    return KeptAnswer(str(fingerprint), str(requestid), optional_int(status), answer)


KEPT = Codec(kept_out, kept_in)
