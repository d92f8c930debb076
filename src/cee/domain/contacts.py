"""Contact validation and normalisation: raw JSON in, a record ready to store out.

A contact is a JSON object of attribute name -> value. Names arrive in any case and are stored
upper-case; values are checked against the account's attribute definitions. The primary key
attribute (EMAIL unless the account chose another) gives each contact a *match key*: the form
used for uniqueness, so that `Mike@Example.com ` and `mike@example.com` are one contact while the
value as first given is kept for display.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cee.domain.attributes import Datatype, ValueRejected, convert, converter, parse_mobile
from cee.domain.errors import BadParameter, InvalidContact


@dataclass(frozen=True, slots=True)
class Schema:
    """What an account allows in a contact: its attributes and which one is the primary key."""

    attributes: Mapping[str, Datatype]
    primary_key: str
    # Where a mobile number without a country code is read; None: the deployment's default
    # (the phone_region setting). Set per account under Admin → Account Configuration.
    phone_region: str | None = None
    # Each attribute's converter, looked up once per schema rather than once per value.
    converters: dict[str, Callable[[Any], Any]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self.converters.update((n, self.converter(d)) for n, d in self.attributes.items())

    def convert(self, datatype: Datatype, value: Any) -> Any:
        if datatype is Datatype.MOBILE and self.phone_region:
            return parse_mobile(value, self.phone_region)[0]
        return convert(datatype, value)

    def converter(self, datatype: Datatype) -> Callable[[Any], Any]:
        if datatype is Datatype.MOBILE and self.phone_region:
            region = self.phone_region
            return lambda value: parse_mobile(value, region)[0]
        return converter(datatype)


@dataclass(slots=True)
class ContactRecord:
    """One validated contact. An attribute mapped to None is one the caller cleared ("" or null)."""

    key: str
    key_display: str
    attributes: dict[str, Any]

    def stored_attributes(self) -> dict[str, Any]:
        """The attributes a new contact starts with (clears of nothing are dropped)."""
        return {name: value for name, value in self.attributes.items() if value is not None}


def match_key(datatype: Datatype, display: str, phone_region: str | None = None) -> str:
    """The form of a primary-key value that decides whether two contacts are the same."""
    if datatype is Datatype.EMAIL:
        return display.strip().lower()
    if datatype is Datatype.MOBILE:
        return parse_mobile(display, phone_region)[1]
    return display.strip()


def normalise_contact(raw: Any, schema: Schema) -> ContactRecord:
    """Validate one contact object against the schema; InvalidContact names the attribute."""
    if not isinstance(raw, dict):
        raise InvalidContact(f"data: expected a JSON object of attributes, got {_kind(raw)}")
    converters = schema.converters
    attributes: dict[str, Any] = {}
    for given_name, value in raw.items():
        # Names are usually sent as defined (upper-case, no spaces): then they are the name.
        name = given_name if given_name in converters else given_name.strip().upper()
        if name in attributes:
            raise InvalidContact(f"{name}: given more than once (names ignore case)")
        convert_value = converters.get(name)
        if convert_value is None:
            raise InvalidContact(_undefined(name))
        # JSON null is what PHP clients send for an empty field: it clears, as "" does,
        # rather than failing the record or being stored as the text "null".
        if value is None or value == "":
            attributes[name] = None
            continue
        try:
            attributes[name] = convert_value(value)
        except ValueRejected as exc:
            datatype = schema.attributes[name]
            raise InvalidContact(f"{name}: {exc} ({datatype.value} attribute)") from None
    return _keyed(attributes, schema)


def _keyed(attributes: dict[str, Any], schema: Schema) -> ContactRecord:
    """The record of validated attributes, keyed by its primary key (InvalidContact if none)."""
    pk = schema.primary_key
    display = attributes.get(pk)
    if display is None:
        raise InvalidContact(f"{pk}: the primary key is missing or empty")
    display = str(display)
    return ContactRecord(
        key=match_key(schema.attributes[pk], display, schema.phone_region),
        key_display=display,
        attributes=attributes,
    )


def _undefined(name: str) -> str:
    # Clipped: a defined name has at most 64 characters, and a per-record error is kept in the
    # journal, so a megabyte-long name must not be copied into it.
    return (
        f"{_clip(name)}: attribute is not defined for this account "
        "(define it first with type=attributes&activity=create)"
    )


class ColumnNormaliser:
    """`normalise_contact` for many contacts given as values of the same names, in order.

    A CSV import judges a million rows with one header: the names are upper-cased and looked
    up once, not once per cell. Each row is judged exactly as `normalise_contact` judges the
    object `dict(zip(names, values))` (the same checks, in the same order, the same messages);
    the caller has refused names given twice (here a file error, not a row's).
    """

    def __init__(self, names: list[str], schema: Schema) -> None:
        self.schema = schema
        self.columns: list[tuple[str, Datatype | None, Callable[[Any], Any] | None]] = []
        for given in names:
            name = given.strip().upper()
            datatype = schema.attributes.get(name)
            convert_value = None if datatype is None else schema.converter(datatype)
            self.columns.append((name, datatype, convert_value))

    def __call__(self, values: list[Any]) -> ContactRecord:
        attributes: dict[str, Any] = {}
        for (name, datatype, convert_value), value in zip(self.columns, values, strict=True):
            if convert_value is None or datatype is None:
                raise InvalidContact(_undefined(name))
            if value is None or value == "":
                attributes[name] = None
                continue
            try:
                attributes[name] = convert_value(value)
            except ValueRejected as exc:
                raise InvalidContact(f"{name}: {exc} ({datatype.value} attribute)") from None
        return _keyed(attributes, self.schema)


def primary_key_value(raw: Any, schema: Schema) -> tuple[str, str]:
    """Read the primary key from `data` given as a bare value or as an object holding it.

    Netcore's delete/view pages show both shapes. Returns (match key, value as given).
    """
    value: Any = raw
    if isinstance(raw, dict):
        upper = {str(k).strip().upper(): v for k, v in raw.items()}
        if schema.primary_key not in upper:
            raise BadParameter(f"data: expected the primary key {schema.primary_key}")
        value = upper[schema.primary_key]
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise BadParameter(f"data: expected the {schema.primary_key} value of a contact")
    datatype = schema.attributes[schema.primary_key]
    try:
        display = str(schema.convert(datatype, value))
        return match_key(datatype, display, schema.phone_region), display
    except ValueRejected as exc:
        raise InvalidContact(f"{schema.primary_key}: {exc}") from None


def _clip(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def merge_attributes(
    old: dict[str, Any], given: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Merge given attributes into stored ones (None clears); return (new, {name: [old, new]})."""
    new = dict(old)
    changes: dict[str, list[Any]] = {}
    for name, value in given.items():
        before = old.get(name)
        if value is None:
            new.pop(name, None)
        else:
            new[name] = value
        if before != value:
            changes[name] = [before, value]
    return new, changes


def creation_changes(attributes: dict[str, Any]) -> dict[str, list[Any]]:
    """The history entry of a new contact: every attribute from nothing to its value."""
    return {name: [None, value] for name, value in attributes.items()}
