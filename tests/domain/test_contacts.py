"""Contact normalisation: one match key per email however it is written; names upper-cased."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cee.domain.attributes import BUILTIN_ATTRIBUTES
from cee.domain.contacts import Schema, normalise_contact
from cee.domain.errors import InvalidContact

SCHEMA = Schema(BUILTIN_ATTRIBUTES, "EMAIL")

local_parts = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9._+-]{0,20}[a-zA-Z0-9])?", fullmatch=True)
domains = st.from_regex(
    r"[a-zA-Z][a-zA-Z0-9-]{0,15}[a-zA-Z0-9]\.(com|org|in|co\.uk)", fullmatch=True
)
# email-validator refuses ".." anywhere and a label with "--" in its third and fourth places
# (reserved for Punycode), so neither may appear in what the strategy calls valid.
emails = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains).filter(
    lambda e: ".." not in e and "--" not in e.partition("@")[2]
)
spaces = st.text(alphabet=" \t\n\r", max_size=3)


def recase(text: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if flips[i % len(flips)] else c for i, c in enumerate(text))


@given(emails, st.lists(st.booleans(), min_size=1, max_size=8), spaces, spaces)
def test_case_and_whitespace_variants_share_one_match_key(
    email: str, flips: list[bool], before: str, after: str
) -> None:
    original = normalise_contact({"EMAIL": email}, SCHEMA)
    variant = normalise_contact({"EMAIL": before + recase(email, flips) + after}, SCHEMA)
    assert variant.key == original.key == email.lower()
    # The value as given is kept for display, trimmed but with its case.
    assert variant.key_display == recase(email, flips)


@given(emails, st.lists(st.booleans(), min_size=1, max_size=8))
def test_attribute_names_in_any_case_are_stored_upper_case(email: str, flips: list[bool]) -> None:
    raw = {recase("email", flips): email, recase("first_name", flips): "Mike", " city ": "Pune"}
    record = normalise_contact(raw, SCHEMA)
    assert set(record.attributes) == {"EMAIL", "FIRST_NAME", "CITY"}


@given(emails)
def test_normalising_twice_is_normalising_once(email: str) -> None:
    raw = {"EMAIL": email, "AGE": "24", "MOBILE": 9999999999, "CUSTOMER_ID": "00000132"}
    once = normalise_contact(raw, SCHEMA)
    twice = normalise_contact(once.attributes, SCHEMA)
    assert twice.attributes == once.attributes
    assert twice.key == once.key


def test_the_seeds_values_pass_as_sent() -> None:
    raw = {
        "FIRST_NAME": "Mike",
        "EMAIL": "mike@google.com",
        "MOBILE": 9999999999,
        "CUSTOMER_ID": "00000132",
    }
    record = normalise_contact(raw, SCHEMA)
    assert record.key == "mike@google.com"
    assert record.attributes["CUSTOMER_ID"] == "00000132"
    assert record.attributes["MOBILE"] == "9999999999"


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"NAME": "no key"}, "EMAIL"),
        ({"EMAIL": ""}, "EMAIL"),
        ({"EMAIL": "a@b.com", "SHOE": 1}, "SHOE"),
        ({"EMAIL": "a@b.com", "AGE": "32years"}, "AGE"),
        ({"EMAIL": "a@b.com", "Age": 1, "AGE": 2}, "AGE"),
        ([{"EMAIL": "a@b.com"}], "data"),
        (7, "data"),
    ],
)
def test_invalid_contacts_name_the_attribute(raw: object, named: str) -> None:
    with pytest.raises(InvalidContact) as caught:
        normalise_contact(raw, SCHEMA)
    assert caught.value.details.startswith(named)


def test_a_number_is_described_as_a_number() -> None:
    with pytest.raises(InvalidContact, match="got a number"):
        normalise_contact(5, SCHEMA)


@given(emails)
def test_a_mobile_primary_key_matches_with_or_without_country_code(email: str) -> None:
    schema = Schema(BUILTIN_ATTRIBUTES, "MOBILE")
    bare = normalise_contact({"MOBILE": 9999999999, "EMAIL": email}, schema)
    text = normalise_contact({"MOBILE": "9999999999"}, schema)
    international = normalise_contact({"MOBILE": "+91 99999 99999"}, schema)
    assert bare.key == text.key == international.key == "+919999999999"
    assert bare.key_display == "9999999999"


def test_null_clears_like_the_empty_string() -> None:
    record = normalise_contact({"EMAIL": "a@b.com", "NAME": None, "AGE": None}, SCHEMA)
    assert record.attributes == {"EMAIL": "a@b.com", "NAME": None, "AGE": None}
    assert record.stored_attributes() == {"EMAIL": "a@b.com"}
    with pytest.raises(InvalidContact, match="EMAIL"):
        normalise_contact({"EMAIL": None, "NAME": "x"}, SCHEMA)
