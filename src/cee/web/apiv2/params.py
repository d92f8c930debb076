"""Request parameters from the query string and the body, the way Netcore's clients send them.

Every name may come in the query or the body; the body wins. Bodies are url-encoded (the
documented form), multipart, JSON (ext), or url-encoded with no or a wrong Content-Type (also one
labelled `application/json` that is not JSON but a valid form). Text is
strict UTF-8: a parameter with bytes that are not UTF-8 is refused by name, never decoded into
replacement characters.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fast_query_parsers import parse_query_string
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from cee.domain.errors import BadParameter

Params = dict[str, Any]


def _strict(name: str, value: str) -> str:
    """Refuse a value whose bytes were not UTF-8 (surrogateescape left them as surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "replace").decode("utf-8")
        raise BadParameter(f"{shown}: not valid UTF-8") from None
    return value


# Where fast-query-parsers (compiled: ~15x faster than parse_qsl on a 1,000-contact body) is
# not exactly parse_qsl, found by comparing the two on random inputs: it decodes invalid UTF-8
# into something else instead of failing, decodes %3D and %26 before splitting on them, and
# leaves escapes undecoded in a name without '='. Any of these sends the input to parse_qsl.
_NOT_FAST_ESCAPE = re.compile(rb"%(?:3[dD]|26|[0-7](?![0-9A-Fa-f])|(?![0-7]))")


def _fast_parsable(raw: bytes) -> bool:
    if not raw.isascii() or _NOT_FAST_ESCAPE.search(raw):
        return False
    if b"&" not in raw:  # one pair, as a form of only `data` is
        return b"=" in raw
    return all(b"=" in pair for pair in raw.split(b"&"))


# Query strings seen lately and what they parse to: every request of a client sends the same
# one (`type=contact&activity=addsync&apikey=...`), so it is parsed once, not per request.
# Bounded (emptied when full), so that junk query strings cannot grow it.
_QUERIES: dict[bytes, Params] = {}
_QUERIES_MAX = 1024
_QUERY_MAX_BYTES = 512


def parse_query(raw: bytes) -> Params:
    """`parse_urlencoded` of a query string, remembered; a fresh dict the caller may change."""
    known = _QUERIES.get(raw)
    if known is None:
        known = parse_urlencoded(raw)  # raises for a refused query: nothing is remembered
        if len(raw) <= _QUERY_MAX_BYTES:
            if len(_QUERIES) >= _QUERIES_MAX:
                _QUERIES.clear()
            _QUERIES[raw] = known
    return dict(known)


def parse_urlencoded(raw: bytes | str) -> Params:
    if isinstance(raw, bytes) and _fast_parsable(raw):
        # ASCII with only ASCII escapes: every value is valid UTF-8, nothing to refuse.
        return dict(parse_query_string(raw, "&"))
    # Raw (unescaped) non-ASCII bytes are UTF-8 too: decoding them as Latin-1 would store
    # "José" as mojibake. Invalid bytes become surrogates, which _strict refuses by name.
    text = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
    pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")
    params: Params = {}
    for name, value in pairs:
        name = _strict("parameter name", name)
        params[name] = _strict(name, value)
    return params


def query_key(raw: bytes) -> str | None:
    """The `apikey` of a query string that is not valid UTF-8 elsewhere, or None.

    Only so the key can still be checked first: a key with bytes that are not UTF-8 is no key.
    """
    found = None
    for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        if name == "apikey":  # the last one, as parse_urlencoded keeps
            found = None if "\ufffd" in value else value
    return found


def _parse_multipart(body: bytes, boundary: bytes) -> Params:
    fields: list[tuple[bytes, bytearray]] = []
    headers: dict[bytes, bytes] = {}
    header_field = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        fields.append((options.get(b"name", b""), bytearray()))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        fields[-1][1].extend(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise BadParameter(f"body: malformed multipart form ({exc})") from None
    params: Params = {}
    for raw_name, raw_value in fields:
        name = _decode("parameter name", bytes(raw_name))
        params[name] = _decode(name, bytes(raw_value))
    return params


def _decode(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParameter(f"{name}: not valid UTF-8") from None


def _parse_json(body: bytes) -> Params:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadParameter(f"body: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise BadParameter("body: a JSON body must be an object of parameters")
    return value


def _looks_like_form(body: bytes) -> bool:
    """Whether a body that is not JSON reads as a `name=value&...` form.

    What a client that labels its form `application/json` sends: a Python client's
    `requests.post(data={...})` with a JSON header, Netcore's own curl examples. A body that
    opens like JSON (`{`, `[`, `"`) was meant as JSON and keeps the JSON error.
    """
    text = body.lstrip()
    if text[:1] in (b"{", b"[", b'"'):
        return False
    return all(pair.partition(b"=")[0] and b"=" in pair for pair in text.split(b"&"))


# Content-Types seen lately, parsed: clients send the same one on every request. Bounded.
_CONTENT_TYPES: dict[bytes, tuple[bytes, dict[bytes, bytes]]] = {}
_CONTENT_TYPES_MAX = 256


def _content_type(raw: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    known = _CONTENT_TYPES.get(raw)
    if known is None:
        known = parse_options_header(raw)
        if len(raw) <= 256:
            if len(_CONTENT_TYPES) >= _CONTENT_TYPES_MAX:
                _CONTENT_TYPES.clear()
            _CONTENT_TYPES[raw] = known
    return known


def parse_body(content_type: bytes, body: bytes) -> Params:
    if not body:
        return {}
    mime, options = _content_type(content_type)
    if mime == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise BadParameter("body: multipart form without a boundary")
        return _parse_multipart(body, boundary)
    if mime == b"application/json":
        try:
            return _parse_json(body)
        except BadParameter:
            if _looks_like_form(body):
                return parse_urlencoded(body)
            raise
    if not mime and body[:1] == b"{":
        return _parse_json(body)
    # application/x-www-form-urlencoded, and what real clients send with no or a wrong type.
    return parse_urlencoded(body)
