"""Attribute conversion: what each datatype accepts, and that a stored value converts to itself."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cee.domain.attributes import (
    LONGTEXT_MAX,
    TEXTLINE_MAX,
    Datatype,
    ValueRejected,
    convert,
    normalise_name,
    parse_datatype,
)
from cee.domain.errors import BadParameter

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
texts = st.text(max_size=TEXTLINE_MAX).filter(lambda t: "\x00" not in t)
dates = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))
urls = st.from_regex(
    r"https?://[a-z][a-z0-9-]{0,20}\.(com|in|org)(/[a-zA-Z0-9_.~-]{0,20}){0,3}", fullmatch=True
)
# Within the documented bounds (38 significant digits, magnitude below 10**38).
decimals = st.decimals(
    min_value=-(10**33) + 1, max_value=10**33 - 1, allow_nan=False, allow_infinity=False, places=4
)

# For each datatype, values it must accept.
VALID: dict[Datatype, st.SearchStrategy[Any]] = {
    Datatype.TEXTLINE: st.one_of(texts, st.integers(-(10**15), 10**15)),
    Datatype.LONGTEXT: st.text(max_size=2000).filter(lambda t: "\x00" not in t),
    Datatype.INTEGER: st.one_of(INT64, INT64.map(str)),
    Datatype.DECIMAL: st.one_of(decimals.map(str), st.integers(-(10**12), 10**12)),
    Datatype.DATE: st.one_of(
        dates.map(lambda d: d.strftime("%d-%m-%Y")), dates.map(lambda d: d.isoformat())
    ),
    Datatype.URL: urls,
    Datatype.EMAIL: st.emails(),
    Datatype.MOBILE: st.sampled_from(
        [9999999999, "9999999999", "+919876543210", "+14155552671", "+44 20 7946 0958"]
    ),
}


@pytest.mark.parametrize("datatype", list(Datatype))
@given(data=st.data())
def test_a_converted_value_converts_again_to_itself(datatype: Datatype, data: Any) -> None:
    value = data.draw(VALID[datatype])
    stored = convert(datatype, value)
    assert convert(datatype, stored) == stored


@given(INT64)
def test_integers_arrive_as_numbers_or_strings(number: int) -> None:
    assert convert(Datatype.INTEGER, number) == number
    assert convert(Datatype.INTEGER, str(number)) == number
    assert convert(Datatype.INTEGER, f" {number} ") == number


@given(
    st.integers(min_value=0, max_value=10**6), st.from_regex(r"[a-zA-Z][a-zA-Z ]*", fullmatch=True)
)
def test_digits_followed_by_words_are_no_integer(number: int, words: str) -> None:
    with pytest.raises(ValueRejected, match="integer"):
        convert(Datatype.INTEGER, f"{number}{words}")


def test_32years_is_rejected() -> None:
    with pytest.raises(ValueRejected, match=r"integer.*32years"):
        convert(Datatype.INTEGER, "32years")


@pytest.mark.parametrize(
    "value", [True, False, None, 2.5, [1], {"a": 1}, "", "1e3", 2**63, "1_000", "\u0661\u0662"]
)
def test_what_an_integer_is_not(value: Any) -> None:
    with pytest.raises(ValueRejected):
        convert(Datatype.INTEGER, value)


@given(decimals)
def test_decimals_keep_their_value_exactly(number: Decimal) -> None:
    assert Decimal(convert(Datatype.DECIMAL, str(number))) == number


@given(dates)
def test_both_date_forms_are_one_date(day: date) -> None:
    iso = day.isoformat()
    assert convert(Datatype.DATE, day.strftime("%d-%m-%Y")) == iso
    assert convert(Datatype.DATE, iso) == iso


@pytest.mark.parametrize(
    "value", ["23/01/2013", "23rd Jan 2013", "2013-13-01", "31-02-2020", 20130123]
)
def test_dates_netcore_calls_invalid_are_rejected(value: Any) -> None:
    with pytest.raises(ValueRejected, match="date"):
        convert(Datatype.DATE, value)


def test_the_seeds_values_pass_as_sent() -> None:
    assert convert(Datatype.MOBILE, 9999999999) == "9999999999"
    assert convert(Datatype.MOBILE, "9999999999") == "9999999999"
    assert convert(Datatype.TEXTLINE, "00000132") == "00000132"
    assert convert(Datatype.INTEGER, "24") == 24


@pytest.mark.parametrize(
    ("datatype", "value"),
    [
        (Datatype.TEXTLINE, "x" * (TEXTLINE_MAX + 1)),
        (Datatype.LONGTEXT, "x" * (LONGTEXT_MAX + 1)),
        (Datatype.TEXTLINE, "a\x00b"),
        (Datatype.TEXTLINE, {"a": 1}),
        (Datatype.TEXTLINE, True),
        (Datatype.URL, "ftp://example.com"),
        (Datatype.URL, "https://exa mple.com"),
        (Datatype.URL, "https://example.com/\x00"),
        (Datatype.URL, "example.com"),
        (Datatype.EMAIL, "mike@"),
        (Datatype.EMAIL, "mike"),
        (Datatype.MOBILE, "12"),
        (Datatype.MOBILE, "call me"),
        (Datatype.MOBILE, 99.5),
        (Datatype.DECIMAL, "NaN"),
        (Datatype.DECIMAL, "Infinity"),
        (Datatype.DECIMAL, "three"),
    ],
)
def test_values_that_do_not_fit_are_rejected(datatype: Datatype, value: Any) -> None:
    with pytest.raises(ValueRejected):
        convert(datatype, value)


@given(st.sampled_from([d.value for d in Datatype]), st.lists(st.booleans(), min_size=1))
def test_datatype_names_ignore_case(name: str, flips: list[bool]) -> None:
    mixed = "".join(c.upper() if flips[i % len(flips)] else c for i, c in enumerate(name))
    assert parse_datatype(f" {mixed} ") is Datatype(name)


@given(st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,63}", fullmatch=True))
def test_attribute_names_are_upper_cased(name: str) -> None:
    assert normalise_name(name) == name.upper()
    assert normalise_name(normalise_name(name)) == name.upper()


@pytest.mark.parametrize("name", ["", "1ABC", "A B", "A-B", "A" * 65, "É"])
def test_bad_attribute_names_are_refused_by_name(name: str) -> None:
    with pytest.raises(BadParameter, match=r"^name:"):
        normalise_name(name)


def test_integers_past_64_bits_are_refused_by_length_before_int() -> None:
    # 5,000 digits: int() alone raises past Python's 4,300-digit limit (a 500 once).
    for text in ["9" * 5000, "-" + "1" * 5000, "9223372036854775808", "-9223372036854775809"]:
        with pytest.raises(ValueRejected, match="within 64 bits"):
            convert(Datatype.INTEGER, text)
    assert convert(Datatype.INTEGER, "-9223372036854775808") == -(2**63)
    assert convert(Datatype.INTEGER, " 000000000000000000000042 ") == 42


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e999999999", "below 10^38"),
        ("1e99999999", "below 10^38"),
        ("-1e38", "below 10^38"),
        ("1" * 39, "below 10^38"),
        (1e300, "below 10^38"),
        ("1e-999999999", "38 digits after the point"),
        ("1e-39", "38 digits after the point"),
        ("0E-100", "38 digits after the point"),
        ("1." + "0" * 38, "38 significant digits"),
        ("1" * 5000, "at most 38 digits"),
        ("0" * 200 + "1", "at most 38 digits"),
    ],
)
def test_decimals_out_of_range_are_refused_without_expanding(value: Any, problem: str) -> None:
    with pytest.raises(ValueRejected, match=re.escape(problem)):
        convert(Datatype.DECIMAL, value)


def test_decimals_at_the_bounds_are_kept_exactly() -> None:
    big = "9" * 38
    assert convert(Datatype.DECIMAL, big) == big
    assert convert(Datatype.DECIMAL, "-" + big) == "-" + big
    small = "0." + "0" * 37 + "1"
    assert convert(Datatype.DECIMAL, small) == small
    assert convert(Datatype.DECIMAL, "1e37") == "1" + "0" * 37
    assert convert(Datatype.DECIMAL, "1.5E3") == "1500"
    assert len(convert(Datatype.DECIMAL, "-0." + "9" * 38)) <= 78


def test_long_texts_are_refused_before_the_email_and_date_checks() -> None:
    with pytest.raises(ValueRejected, match="longer than 254"):
        convert(Datatype.EMAIL, "a" * 100_000 + "@example.com")
    with pytest.raises(ValueRejected, match="date"):
        convert(Datatype.DATE, "01-01-2020" + " x" * 100_000)
