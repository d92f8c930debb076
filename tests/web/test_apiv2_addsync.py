"""type=contact&activity=addsync against a real server: single contacts, arrays, storage."""

from __future__ import annotations

import json
import uuid

from tests.conftest import Database, Server, run_cli, unique_email
from tests.web.util import (
    addsync,
    assert_error,
    assert_records,
    assert_success,
    create_attribute,
    list_counts,
    new_list,
    stored_contact,
)


def test_a_new_contact_is_stored_with_its_values_as_sent(shared_server: Server) -> None:
    email = unique_email("seed")
    data = {"FIRST_NAME": "Mike", "EMAIL": email, "MOBILE": 9999999999, "CUSTOMER_ID": "00000132"}
    assert_success(addsync(shared_server, data))
    stored = stored_contact(shared_server, email)
    assert stored is not None
    display, attributes = stored
    assert display == email
    assert attributes["FIRST_NAME"] == "Mike"
    assert attributes["CUSTOMER_ID"] == "00000132"  # the zeros kept
    assert str(attributes["MOBILE"]) == "9999999999"  # no country code needed


def test_the_same_contact_again_is_the_seeds_302(shared_server: Server) -> None:
    email = unique_email("dup")
    assert_success(addsync(shared_server, {"EMAIL": email, "NAME": "First"}))
    resp = addsync(shared_server, {"EMAIL": email, "NAME": "Second"})
    body = assert_error(resp, 302)
    assert body["details"] == f"Duplicate entry '{email}' for key 'uniqid'"
    # The duplicate changed nothing.
    stored = stored_contact(shared_server, email)
    assert stored is not None and stored[1]["NAME"] == "First"


def test_email_case_and_whitespace_make_no_new_contact(shared_server: Server) -> None:
    local = f"Mike.{uuid.uuid4().hex[:8]}"
    first = f"{local}@Example.com"
    assert_success(addsync(shared_server, {"EMAIL": first}))
    for variant in (first.lower(), first.upper(), f"  {first.lower()} ", f"\t{first}\n"):
        assert_error(addsync(shared_server, {"EMAIL": variant}), 302, "uniqid")
    # One contact, shown as first given.
    stored = stored_contact(shared_server, first.lower())
    assert stored is not None and stored[0] == first


def test_values_are_converted_to_their_attribute_types(shared_server: Server) -> None:
    email = unique_email("types")
    data = {"EMAIL": email, "AGE": "24", "CITY": "Mumbai", "MOBILE": "9999999999"}
    assert_success(addsync(shared_server, data))
    stored = stored_contact(shared_server, email)
    assert stored is not None
    assert stored[1]["AGE"] == 24
    assert stored[1]["MOBILE"] == "9999999999"


def test_an_empty_value_stores_no_attribute(shared_server: Server) -> None:
    email = unique_email("empty")
    assert_success(addsync(shared_server, {"EMAIL": email, "CITY": "", "NAME": "N"}))
    stored = stored_contact(shared_server, email)
    assert stored is not None and "CITY" not in stored[1] and stored[1]["NAME"] == "N"


def test_sql_looking_strings_are_stored_verbatim(shared_server: Server) -> None:
    email = unique_email("sql")
    nasty = {
        "NAME": "Robert'); DROP TABLE contacts;--",
        "CITY": "x' OR '1'='1",
        "LAST_NAME": '"; DELETE FROM lists; --',
        "CUSTOMER_ID": "1; UPDATE accounts SET api_mode=0",
    }
    assert_success(addsync(shared_server, {"EMAIL": email, **nasty}))
    stored = stored_contact(shared_server, email)
    assert stored is not None
    for name, value in nasty.items():
        assert stored[1][name] == value
    # Everything still works afterwards.
    assert_success(addsync(shared_server, {"EMAIL": unique_email("after-sql")}))


def test_unicode_is_stored_as_sent(shared_server: Server) -> None:
    email = unique_email("uni")
    data = {"EMAIL": email, "NAME": "José Müller 山田 🎉"}
    # Percent-encoded (the documented form) ...
    assert_success(addsync(shared_server, data))
    # ... and raw UTF-8 bytes in a form body, as curl -d sends them.
    email2 = unique_email("uni-raw")
    raw = ("data=" + json.dumps({"EMAIL": email2, "NAME": "José"}, ensure_ascii=False)).encode()
    resp = shared_server.api(
        query={"type": "contact", "activity": "addsync"},
        content=raw,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_success(resp)
    first = stored_contact(shared_server, email)
    second = stored_contact(shared_server, email2)
    assert first is not None and first[1]["NAME"] == "José Müller 山田 🎉"
    assert second is not None and second[1]["NAME"] == "José"


def test_listid_adds_the_contact_to_the_list(shared_server: Server) -> None:
    name, listid = new_list(shared_server, "members")
    assert_success(addsync(shared_server, {"EMAIL": unique_email("m")}, listid=listid))
    assert_success(addsync(shared_server, {"EMAIL": unique_email("m")}, listid=listid))
    assert list_counts(shared_server)[name] == 2


def test_an_unknown_listid_stores_nothing(shared_server: Server) -> None:
    email = unique_email("nolist")
    assert_error(addsync(shared_server, {"EMAIL": email}, listid=987654), 404, "listid", "987654")
    assert stored_contact(shared_server, email) is None
    assert_success(addsync(shared_server, {"EMAIL": email}))


def test_an_array_stores_every_contact(shared_server: Server) -> None:
    name, listid = new_list(shared_server, "batch")
    emails = [unique_email("arr") for _ in range(5)]
    resp = addsync(shared_server, [{"EMAIL": e} for e in emails], listid=listid)
    assert_records(resp, "Success", [None] * 5)
    assert list_counts(shared_server)[name] == 5
    for email in emails:
        assert stored_contact(shared_server, email) is not None


def test_an_array_mixing_good_and_bad_keeps_the_good_and_reports_the_bad(
    shared_server: Server,
) -> None:
    name, listid = new_list(shared_server, "mixed")
    existing = unique_email("exists")
    assert_success(addsync(shared_server, {"EMAIL": existing}))
    good = [unique_email("good") for _ in range(3)]
    bad_age, bad_attr, bad_email = unique_email("age"), unique_email("attr"), "not-an-email"
    data = [
        {"EMAIL": good[0], "AGE": 30},
        {"EMAIL": bad_age, "AGE": "32years"},
        {"EMAIL": good[1]},
        {"EMAIL": bad_attr, "NO_SUCH_ATTRIBUTE": "x"},
        {"EMAIL": existing},
        {"EMAIL": bad_email},
        {"NAME": "no primary key"},
        17,
        {"EMAIL": good[2]},
        {"EMAIL": good[2].upper()},
    ]
    resp = addsync(shared_server, data, listid=listid)
    records = assert_records(resp, "Partial", [None, 422, None, 422, 302, 422, 422, 422, None, 302])
    assert "AGE" in records[1]["details"] and "integer" in records[1]["details"]
    assert "NO_SUCH_ATTRIBUTE" in records[3]["details"]
    assert records[4]["details"] == f"Duplicate entry '{existing}' for key 'uniqid'"
    assert "EMAIL" in records[5]["details"]
    assert "EMAIL" in records[6]["details"]
    assert "data" in records[7]["details"]
    # The good ones are stored and joined the list; the bad ones left no trace.
    assert list_counts(shared_server)[name] == 3
    for email in good:
        assert_error(addsync(shared_server, {"EMAIL": email}), 302)
    for email in (bad_age, bad_attr):
        assert stored_contact(shared_server, email) is None
        assert_success(addsync(shared_server, {"EMAIL": email}))


def test_an_array_of_only_bad_records_failed(shared_server: Server) -> None:
    email = unique_email("allbad")
    resp = addsync(shared_server, [{"EMAIL": email, "AGE": "x"}, {"EMAIL": "@"}])
    assert_records(resp, "Failed", [422, 422])
    assert stored_contact(shared_server, email) is None


def test_an_array_into_an_unknown_list_stores_nothing(shared_server: Server) -> None:
    emails = [unique_email("nolist-arr") for _ in range(2)]
    resp = addsync(shared_server, [{"EMAIL": e} for e in emails], listid=987655)
    assert_error(resp, 404, "listid")
    for email in emails:
        assert stored_contact(shared_server, email) is None


def test_a_thousand_contacts_in_one_request(shared_server: Server) -> None:
    tag = uuid.uuid4().hex[:8]
    emails = [f"k{i}-{tag}@example.com" for i in range(1000)]
    resp = addsync(shared_server, [{"EMAIL": e, "AGE": i} for i, e in enumerate(emails)])
    assert_records(resp, "Success", [None] * 1000)
    last = stored_contact(shared_server, emails[-1])
    assert last is not None and last[1]["AGE"] == 999


def test_one_more_than_a_thousand_is_413_and_stores_nothing(shared_server: Server) -> None:
    tag = uuid.uuid4().hex[:8]
    emails = [f"over{i}-{tag}@example.com" for i in range(1001)]
    resp = addsync(shared_server, [{"EMAIL": e} for e in emails])
    assert_error(resp, 413, "data", "1000")
    assert stored_contact(shared_server, emails[0]) is None


def test_a_defined_attribute_is_usable_at_once(shared_server: Server) -> None:
    attr = f"SCORE_{uuid.uuid4().hex[:6].upper()}"
    email = unique_email("score")
    assert_error(addsync(shared_server, {"EMAIL": email, attr: 5}), 422, attr, "not defined")
    create_attribute(shared_server, attr, "decimal")
    assert_success(addsync(shared_server, {"EMAIL": email, attr: "5.50"}))
    stored = stored_contact(shared_server, email)
    assert stored is not None and stored[1][attr] == "5.50"


def test_another_primary_key_identifies_contacts(database: Database) -> None:
    """An account keyed by CUSTOMER_ID: the seed's "00000132" is the key, zeros and all."""
    out = run_cli(database, "init", "--json", "--primary-key", "CUSTOMER_ID")
    srv = Server(database)
    srv.creds = json.loads(out.stdout)
    srv.start()
    try:
        assert_success(addsync(srv, {"CUSTOMER_ID": "00000132", "EMAIL": unique_email()}))
        resp = addsync(srv, {"CUSTOMER_ID": "00000132", "NAME": "other"})
        body = assert_error(resp, 302)
        assert body["details"] == "Duplicate entry '00000132' for key 'uniqid'"
        # "132" is another customer: the zeros are part of the key.
        assert_success(addsync(srv, {"CUSTOMER_ID": "132"}))
        assert_error(addsync(srv, {"EMAIL": unique_email()}), 422, "CUSTOMER_ID")
    finally:
        srv.stop()
