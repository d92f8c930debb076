"""The write plans: the rules both stores carry out, checked without a database.

The stores' own tests (tests/storage) show each backend writes what a plan says; these show
what the plans say: which record creates a contact, what is a 302 or a 404, which history
entries are written and which of them mention a list, and what a journal report holds.
"""

from __future__ import annotations

from cee.domain.contacts import ContactRecord
from cee.domain.errors import Duplicate, InvalidContact, NotFound
from cee.domain.journal import applied
from cee.domain.writes import (
    ContactOp,
    Stored,
    WriteContext,
    plan_creates,
    plan_merge,
)

A = WriteContext(1, "a" * 32, "cee_a", "addsync")
B = WriteContext(2, "b" * 32, "cee_b", "addsync")


def record(email: str, **attributes: object) -> ContactRecord:
    return ContactRecord(email.strip().lower(), email, {"EMAIL": email, **attributes})


def test_creates_first_of_a_key_302s_the_rest_and_refuses_another_accounts_list() -> None:
    jobs = [
        (A, [record("x@example.com", NAME="X"), record("X@Example.com")], 7),
        (B, [record("x@example.com")], 7),  # list 7 is account 1's: not B's
        (B, [record("y@example.com")], None),
    ]
    plan = plan_creates(jobs, {7: 1})
    assert [(c.ctx.account_id, c.record.key) for c in plan.new] == [
        (1, "x@example.com"),
        (2, "y@example.com"),
    ]
    first = plan.new[0]
    assert first.listid == 7
    assert first.creation() == {
        "EMAIL": [None, "x@example.com"],
        "NAME": [None, "X"],
        "_list_joined": 7,
    }
    missing = plan.results[1]
    assert isinstance(missing, NotFound) and "list 7 does not exist" in missing.details
    # The insert created only B's contact: A's existed already.
    results = plan.settle({(2, "y@example.com")})
    a_outcomes = results[0]
    assert isinstance(a_outcomes, list)
    assert [type(o) for o in a_outcomes] == [Duplicate, Duplicate]
    assert a_outcomes[0].details == "Duplicate entry 'x@example.com' for key 'uniqid'"
    assert a_outcomes[1].details == "Duplicate entry 'X@Example.com' for key 'uniqid'"
    assert results[2] == [None]


def test_update_of_an_absent_contact_is_a_404_and_plans_nothing() -> None:
    plan = plan_merge(A, ContactOp.UPDATE, [record("gone@example.com", NAME="N")], None, {})
    [outcome] = plan.outcomes
    assert isinstance(outcome, NotFound) and "gone@example.com" in outcome.details
    assert plan.new == [] and plan.updated == [] and plan.history(set()) == []


def test_upsert_merges_in_record_order_and_mentions_the_list_once_per_joining_contact() -> None:
    stored = {
        "old@example.com": Stored(10, {"EMAIL": "old@example.com", "CITY": "Agra"}),
        "member@example.com": Stored(11, {"EMAIL": "member@example.com"}),
    }
    records = [
        record("new@example.com", NAME="New"),
        record("old@example.com", NAME="Renamed"),
        record("member@example.com"),  # no change, already in the list: no entry
        record("NEW@example.com", NAME=None),  # merged into the contact the first one creates
        record("old@example.com", NAME="Renamed"),  # no change the second time
    ]
    plan = plan_merge(A, ContactOp.UPSERT, records, 5, stored)
    assert plan.outcomes == [None] * 5
    [new] = plan.new
    assert new.record.key_display == "new@example.com"  # the creating record's value
    assert new.attributes == {"EMAIL": "NEW@example.com"}  # NAME cleared by the later record
    assert plan.updated == [(10, {"EMAIL": "old@example.com", "CITY": "Agra", "NAME": "Renamed"})]
    assert sorted(plan.members) == [10, 11]
    history = plan.history({10})  # the store found 11 a member already
    assert history == [
        (
            "new@example.com",
            {"EMAIL": [None, "new@example.com"], "NAME": [None, "New"], "_list_joined": 5},
        ),
        ("old@example.com", {"NAME": [None, "Renamed"], "_list_joined": 5}),
        (
            "new@example.com",
            {"EMAIL": ["new@example.com", "NEW@example.com"], "NAME": ["New", None]},
        ),
    ]


def test_a_journal_report_keeps_judged_errors_and_spreads_a_gone_list() -> None:
    bad = InvalidContact("AGE: expected an integer")
    records = [record("a@example.com"), bad, record("b@example.com")]
    result, report = applied(records, [None, Duplicate.entry("b@example.com", "uniqid")])
    assert result == "Partial"
    assert report == [
        {"index": 0},
        {"index": 1, "error": "invalid_contact", "details": "AGE: expected an integer"},
        {
            "index": 2,
            "error": "duplicate",
            "details": "Duplicate entry 'b@example.com' for key 'uniqid'",
        },
    ]
    gone = NotFound("listid: list 9 does not exist in this account")
    result, report = applied(records, gone)
    assert result == "Failed"
    assert [r.get("error") for r in report] == ["not_found", "invalid_contact", "not_found"]
