"""One authenticated /apiv2 call as the activity handlers see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cee.domain.errors import BadParameter
from cee.domain.keys import Principal
from cee.domain.parameters import parse_listid
from cee.domain.writes import WriteContext
from cee.engine import Engine


@dataclass(frozen=True, slots=True)
class RawBody:
    """An answer that is a file rather than JSON (the reject CSV of a bulk upload)."""

    content: bytes
    content_type: str
    filename: str


Answer = tuple[int, dict[str, Any] | RawBody]


@dataclass(slots=True)
class ApiCall:
    params: dict[str, Any]
    principal: Principal
    requestid: str
    activity: str
    engine: Engine

    @property
    def account_id(self) -> int:
        return self.principal.account_id

    def context(self) -> WriteContext:
        return WriteContext(
            self.principal.account_id, self.requestid, self.principal.key_prefix, self.activity
        )

    def text(self, name: str, *, required: bool = True, limit: int = 255) -> str:
        """A text parameter, trimmed; BadParameter names it when missing, empty or too long."""
        value = self.params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise BadParameter(f"{name}: missing")
            return ""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise BadParameter(f"{name}: expected text")
        text = str(value).strip()
        if len(text) > limit:
            raise BadParameter(f"{name}: longer than {limit} characters")
        if "\x00" in text:
            raise BadParameter(f"{name}: contains a NUL character")
        return text

    def listid(self, *, required: bool = False) -> int | None:
        """`listid` as an integer; absent or empty is None (or BadParameter if required)."""
        return parse_listid(self.params.get("listid"), required=required)


Handler = Callable[[ApiCall], Awaitable[Answer]]
