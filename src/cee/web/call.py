"""One authenticated /apiv2 call as the activity handlers see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cee.domain.errors import BadParameter, NotFound
from cee.domain.keys import Principal
from cee.engine import Engine
from cee.storage.base import WriteContext

Answer = tuple[int, dict[str, Any]]


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
        return text

    def listid(self, *, required: bool = False) -> int | None:
        """`listid` as an integer; absent or empty is None (or BadParameter if required)."""
        value = self.params.get("listid")
        if value is None or value == "":
            if required:
                raise BadParameter("listid: missing (the list to act on)")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise BadParameter("listid: expected an integer")
        text = str(value).strip()
        if not text.isascii() or not text.lstrip("-").isdigit():
            raise BadParameter(f"listid: expected an integer, got '{text[:32]}'")
        number = int(text)
        if not 0 < number < 2**63:
            raise NotFound(f"listid: list {number} does not exist in this account")
        return number


Handler = Callable[[ApiCall], Awaitable[Answer]]
