"""What the client's methods return: plain frozen dataclasses read from the wire shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Contact:
    """A contact as `view` answers it."""

    primary_key: str
    attributes: dict[str, Any]
    lists: list[int]
    blacklisted: dict[str, bool]
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_wire(cls, result: dict[str, Any]) -> Contact:
        return cls(
            primary_key=str(result["primary_key"]),
            attributes=dict(result.get("attributes") or {}),
            lists=[int(i) for i in result.get("lists") or []],
            blacklisted={k: bool(v) for k, v in (result.get("blacklisted") or {}).items()},
            created_at=result.get("created_at"),
            updated_at=result.get("updated_at"),
        )


@dataclass(frozen=True)
class ListInfo:
    """One list of `lists()`: its id, name and member count."""

    listid: int
    listname: str
    count: int


@dataclass(frozen=True)
class Attribute:
    """One attribute of the account; `builtin` for EMAIL, MOBILE and the other built-ins."""

    name: str
    datatype: str
    builtin: bool = False


@dataclass(frozen=True)
class RecordResult:
    """The outcome of one record of a request: `ok`, or its error_code and details."""

    index: int
    ok: bool
    error_code: int | None = None
    details: str | None = None
    # Anything else the server said of the record (a bulk upload's line number, say).
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, entry: dict[str, Any]) -> RecordResult:
        known = {"index", "result", "status", "error_code", "details"}
        extra = {k: v for k, v in entry.items() if k not in known}
        if entry.get("status") == "error":
            code = entry.get("error_code")
            return cls(
                index=int(entry["index"]),
                ok=False,
                error_code=int(code) if code is not None else None,
                details=str(entry.get("details", "")),
                extra=extra,
            )
        return cls(index=int(entry["index"]), ok=True, extra=extra)


@dataclass(frozen=True)
class Status:
    """What became of an async request: `state` queued|running|done; `result` once done."""

    requestid: str
    state: str
    result: str | None
    records: list[RecordResult] | None
    # The whole `result` object as answered (a bulk upload adds total/succeeded/failed).
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state == "done"

    @classmethod
    def from_wire(cls, result: dict[str, Any]) -> Status:
        records = result.get("records")
        return cls(
            requestid=str(result["requestid"]),
            state=str(result["state"]),
            result=result.get("result"),
            records=None if records is None else [RecordResult.from_wire(r) for r in records],
            raw=result,
        )


@dataclass(frozen=True)
class UserSummary:
    """`user_summary`: the contact's attributes and its recorded activity in the range."""

    primary_key: str
    attributes: dict[str, Any]
    activity: list[dict[str, Any]]


@dataclass(frozen=True)
class Failure:
    """One record of a batch that failed; `index` is its position in the input."""

    index: int
    error_code: int | None
    details: str


@dataclass(frozen=True)
class BatchRequest:
    """One request of an async batch: its requestid and the input positions it carried."""

    requestid: str
    start: int
    count: int


@dataclass
class BatchReport:
    """The merged per-record truth of `add_many`, indexed by position in the input.

    In sync mode every record's outcome is known. In async mode `succeeded` counts the records
    the server accepted (journaled); their final outcomes are under `requests`' requestids, and
    `settle` (on the client) waits for them and moves the records that failed into `failures`.
    """

    total: int = 0
    succeeded: int = 0
    failures: list[Failure] = field(default_factory=list)
    requests: list[BatchRequest] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def requestids(self) -> list[str]:
        return [r.requestid for r in self.requests]

    def merge(self, chunk: ChunkResult) -> None:
        self.total += chunk.count
        self.succeeded += chunk.count - len(chunk.failures)
        self.failures.extend(chunk.failures)
        if chunk.requestid is not None:
            self.requests.append(BatchRequest(chunk.requestid, chunk.start, chunk.count))

    def sort(self) -> None:
        """Failures in input order (chunks finish in any order)."""
        self.failures.sort(key=lambda f: f.index)
        self.requests.sort(key=lambda r: r.start)


@dataclass(frozen=True)
class ChunkResult:
    """One chunk of `add_many`, as `on_progress` sees it when its answer arrives."""

    start: int
    count: int
    failures: list[Failure]
    # In async mode, the requestid under which the server reports the records' outcomes.
    requestid: str | None = None
    # In async mode with `wait=True`: the failures are the records' final outcomes.
    settled: bool = False
