"""Attribute datatypes and the rules that turn a raw JSON value into a stored value.

Netcore's panel knows Textline, Longtext, Integer, Decimal, Date and URL; CEE adds Email and
Mobile for the built-in EMAIL and MOBILE. Values arrive as JSON strings or numbers
(`"MOBILE": 9999999999` and `"MOBILE": "9999999999"` are both seen), so every rule accepts
both where the meaning is unambiguous, and refuses anything else with a message that names the
expected type: a bad value is never stored half-converted and never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH

from cee.domain.errors import BadParameter


class Datatype(StrEnum):
    TEXTLINE = "textline"
    LONGTEXT = "longtext"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    URL = "url"
    EMAIL = "email"
    MOBILE = "mobile"


BUILTIN_ATTRIBUTES: dict[str, Datatype] = {
    "EMAIL": Datatype.EMAIL,
    "MOBILE": Datatype.MOBILE,
    "NAME": Datatype.TEXTLINE,
    "FIRST_NAME": Datatype.TEXTLINE,
    "LAST_NAME": Datatype.TEXTLINE,
    "CUSTOMER_ID": Datatype.TEXTLINE,
    "AGE": Datatype.INTEGER,
    "CITY": Datatype.TEXTLINE,
}

# The attributes an account may choose as its primary key (Netcore's examples).
PRIMARY_KEY_CHOICES = ("EMAIL", "CUSTOMER_ID", "MOBILE")

TEXTLINE_MAX = 255
LONGTEXT_MAX = 65_535
URL_MAX = 2_048
# A name is what a column would be called in Netcore's panel: letters, digits, underscore.
_NAME_RE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
# Integers are kept within SQLite's and PostgreSQL's BIGINT so a stored value always reads back.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
# The longest text read as an integer: 20 characters hold every 64-bit value with its sign;
# the slack is for leading zeros. Checked before int(), whose cost grows with the length and
# which refuses past 4,300 digits with an error that is no answer.
_INT_TEXT_MAX = 32
_INT_RE = re.compile(r"[+-]?[0-9]+")
# Decimals as SQL's DECIMAL(76, 38) would hold them: at most 38 significant digits, at most
# 38 after the point, magnitude below 10**38, so the stored text is at most 78 characters.
# Checked on the parsed coefficient and exponent, before anything expands it: "1e999999999"
# is a few bytes that format(..., "f") would turn into a billion digits.
DECIMAL_DIGITS_MAX = 38
DECIMAL_SCALE_MAX = 38
# The longest text read as a decimal: 38 digits, a sign, a point, an exponent, and leading
# zeros; longer is refused before Decimal() parses it.
_DECIMAL_TEXT_MAX = 96
# The longest date text (both forms are 10 characters; room for spaces around them).
_DATE_TEXT_MAX = 32


class ValueRejected(ValueError):
    """A value does not fit its attribute's datatype; the message says what was expected."""


def parse_datatype(raw: str) -> Datatype:
    """Turn a user-given datatype name into a Datatype, or say which names exist."""
    try:
        return Datatype(raw.strip().lower())
    except ValueError:
        names = ", ".join(d.value for d in Datatype)
        raise BadParameter(f"datatype: '{raw}' is not one of {names}") from None


def normalise_name(raw: str) -> str:
    """Upper-case an attribute name and check it is a plain identifier."""
    name = raw.strip().upper()
    if not _NAME_RE.fullmatch(name):
        raise BadParameter(
            f"name: '{raw}' is not a valid attribute name "
            "(a letter, then letters, digits or '_', at most 64)"
        )
    return name


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueRejected(f"expected text, got {_kind(value)}")
    text = value if isinstance(value, str) else _number_text(value)
    if len(text) > limit:
        raise ValueRejected(f"expected text of at most {limit} characters, got {len(text)}")
    if "\x00" in text:
        # PostgreSQL text and jsonb cannot hold NUL: refuse it on both backends alike.
        raise ValueRejected("expected text without NUL (\\u0000) characters")
    return text


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueRejected("expected an integer, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _INT_TEXT_MAX and _INT_RE.fullmatch(text[:_INT_TEXT_MAX]):
            raise ValueRejected("expected an integer within 64 bits")
        # ASCII digits only: int() would also take "1_000" and other scripts' digits.
        if not _INT_RE.fullmatch(text):
            raise ValueRejected(f"expected an integer, got '{_clip(value)}'")
        number = int(text, 10)
    else:
        raise ValueRejected(f"expected an integer, got {_kind(value)}")
    if not _INT_MIN <= number <= _INT_MAX:
        raise ValueRejected("expected an integer within 64 bits")
    return number


def _decimal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueRejected(f"expected a decimal number, got {_kind(value)}")
    text = str(value).strip()
    if len(text) > _DECIMAL_TEXT_MAX:
        raise ValueRejected(
            f"expected a decimal number of at most {DECIMAL_DIGITS_MAX} digits, "
            f"got {len(text)} characters"
        )
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueRejected(f"expected a decimal number, got '{_clip(text)}'") from None
    if not number.is_finite():
        raise ValueRejected(f"expected a finite decimal number, got '{_clip(text)}'")
    _check_decimal_range(number, text)
    # Kept as canonical text so no binary rounding ever changes what the user sent.
    return format(number, "f")


def _check_decimal_range(number: Decimal, text: str) -> None:
    """Refuse a decimal whose fixed-point form would not fit DECIMAL(76, 38); reads no digits."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    # adjusted() is the exponent of the leading digit: 10**38 and above has adjusted() >= 38.
    if number and number.adjusted() >= DECIMAL_DIGITS_MAX:
        raise ValueRejected(
            f"expected a decimal number below 10^{DECIMAL_DIGITS_MAX} in magnitude, "
            f"got '{_clip(text)}'"
        )
    if -exponent > DECIMAL_SCALE_MAX:
        raise ValueRejected(
            f"expected a decimal number with at most {DECIMAL_SCALE_MAX} digits after the "
            f"point, got '{_clip(text)}'"
        )
    if len(digits) > DECIMAL_DIGITS_MAX:
        raise ValueRejected(
            f"expected a decimal number of at most {DECIMAL_DIGITS_MAX} significant digits, "
            f"got {len(digits)}"
        )


_DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d")


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueRejected(f"expected a date as DD-MM-YYYY or YYYY-MM-DD, got {_kind(value)}")
    text = value.strip()
    if len(text) > _DATE_TEXT_MAX:
        raise ValueRejected(f"expected a date as DD-MM-YYYY or YYYY-MM-DD, got '{_clip(text)}'")
    for fmt in _DATE_FORMATS:
        try:
            parsed: date = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return parsed.isoformat()
    raise ValueRejected(f"expected a date as DD-MM-YYYY or YYYY-MM-DD, got '{_clip(value)}'")


def _url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueRejected(f"expected an http(s) URL, got {_kind(value)}")
    text = value.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise ValueRejected(f"expected an http(s) URL, got '{_clip(value)}'") from None
    # Spaces and control characters (NUL, tabs, newlines) never belong in a URL.
    unprintable = " " in text or not text.isprintable()
    if parts.scheme not in ("http", "https") or not host or len(text) > URL_MAX or unprintable:
        raise ValueRejected(f"expected an http(s) URL, got '{_clip(value)}'")
    return text


@lru_cache(maxsize=65_536)
def _checked_email(text: str) -> str | None:
    """email-validator's verdict, remembered: imports resend the same addresses often."""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=16_384)
def _domain_forms(domain: str) -> tuple[int, int] | None:
    """email-validator's verdict on a domain, remembered: the costly half of a check (~35 µs).

    The library checks `a@domain` and the result gives the UTF-8 lengths of the domain's
    normalised Unicode and ASCII forms (for the total-length rule); None if it refused.
    """
    try:
        checked = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    return len(checked.domain.encode()), len(checked.ascii_domain)


def _plain_email_ok(text: str) -> bool:
    """True when email-validator would accept `text`, decided without its slow parts.

    Only for a plain ASCII `local@domain` (the usual address): with no quotes, angle brackets
    or second '@', the library splits it at the '@', accepts the local part iff its own
    dot-atom pattern matches, checks the domain exactly as in `a@domain` (remembered per
    domain), and then the three lengths below. Anything else, and any refusal, goes through
    the library itself (`_checked_email`), which also words the error.
    """
    if email_validator.STRICT or not text.isascii() or text.count("@") != 1:
        return False
    local, _, domain = text.partition("@")
    forms = _domain_forms(domain)
    if forms is None or not DOT_ATOM_TEXT.match(local):
        return False
    unicode_len, ascii_len = forms
    before = len(local) + 1
    return (
        len(text) <= EMAIL_MAX_LENGTH
        and before + unicode_len <= EMAIL_MAX_LENGTH
        and before + ascii_len <= EMAIL_MAX_LENGTH
    )


def _email(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueRejected(f"expected an email address, got {_kind(value)}")
    text = value.strip()
    if len(text) > EMAIL_MAX_LENGTH:
        # Refused before the validator and its caches see it: a cache keyed by megabyte-long
        # texts would grow the process without bound.
        raise ValueRejected(
            f"'{_clip(text)}' is not a valid email address: longer than {EMAIL_MAX_LENGTH} "
            "characters"
        )
    if _plain_email_ok(text):
        return text
    problem = _checked_email(text)
    if problem is not None:
        raise ValueRejected(f"'{_clip(text)}' is not a valid email address: {problem}")
    return text


# The region a number without a country code is read in. Netcore's own example numbers
# (9999999999) are Indian mobiles; the setting CEE_PHONE_REGION changes it.
DEFAULT_PHONE_REGION = "IN"
_POSSIBLE = (
    phonenumbers.ValidationResult.IS_POSSIBLE,
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
)


_phone_region = DEFAULT_PHONE_REGION


def default_phone_region() -> str:
    """The region set by `set_phone_region` (a process that judges for another copies it)."""
    return _phone_region


def set_phone_region(region: str) -> None:
    """Set the region for numbers without a country code (the phone_region setting)."""
    global _phone_region
    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"phone_region: '{region}' is not an ISO 3166 region code")
    _phone_region = region.upper()


def parse_mobile(value: Any, region: str | None = None) -> tuple[str, str]:
    """Check a phone number; return (the text as given, its E.164 form for matching)."""
    region = region or _phone_region
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueRejected(f"expected a phone number, got {_kind(value)}")
    text = value.strip() if isinstance(value, str) else str(value)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueRejected(f"expected a phone number, got '{_clip(text)}'") from None
    if phonenumbers.is_possible_number_with_reason(number) not in _POSSIBLE:
        raise ValueRejected(f"'{_clip(text)}' is not a possible phone number")
    return text, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mobile(value: Any) -> str:
    return parse_mobile(value)[0]


_CONVERTERS = {
    Datatype.TEXTLINE: lambda v: _text(v, TEXTLINE_MAX),
    Datatype.LONGTEXT: lambda v: _text(v, LONGTEXT_MAX),
    Datatype.INTEGER: _integer,
    Datatype.DECIMAL: _decimal,
    Datatype.DATE: _date,
    Datatype.URL: _url,
    Datatype.EMAIL: _email,
    Datatype.MOBILE: _mobile,
}


def converter(datatype: Datatype) -> Callable[[Any], Any]:
    """`convert` for one datatype, looked up once (for many values of one column)."""
    return _CONVERTERS[datatype]


def convert(datatype: Datatype, value: Any) -> Any:
    """The stored form of `value` for `datatype`, or ValueRejected saying what was expected."""
    return _CONVERTERS[datatype](value)


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    datatype: Datatype
    builtin: bool = False


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def _clip(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
