"""The outcome of a multi-record request: a result word and one entry per record.

Stored (in the journal) in domain terms, an error's stable name rather than an HTTP code; the
web layer turns each entry into the contract's wire shape when it answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cee.domain.errors import CeeError

Outcome = CeeError | None


def result_word(outcomes: list[Outcome]) -> str:
    """Success when every record succeeded, Failed when none did, else Partial."""
    failed = sum(1 for o in outcomes if o is not None)
    if failed == 0:
        return "Success"
    return "Failed" if failed == len(outcomes) else "Partial"


def stored_report(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [
        {"index": i} if o is None else {"index": i, "error": o.name, "details": o.details}
        for i, o in enumerate(outcomes)
    ]


def merge_outcomes(checked: Sequence[object], written: Iterable[Outcome]) -> list[Outcome]:
    """One outcome per checked record, in order: a record judged invalid before the write keeps
    its error; each of the others takes the next outcome of the write (made of those only)."""
    results = iter(written)
    return [c if isinstance(c, CeeError) else next(results) for c in checked]
