"""Requestids: every answer of the web layer, /apiv2 or not, carries a fresh one."""

from __future__ import annotations

import os

# Requestids are drawn from random bytes fetched 256 at a time: os.urandom is a system call
# that releases the GIL, and each release on the hot path lets a waiting thread (the commit
# helper, the readers) in, which then holds the event loop up while it runs Python.
_REQUESTIDS_PER_DRAW = 256
_requestids: list[str] = []
os.register_at_fork(after_in_child=_requestids.clear)  # a forked worker must not reuse ids


def new_requestid() -> str:
    """32 lowercase hex digits from the OS's random source."""
    if not _requestids:
        pool = os.urandom(16 * _REQUESTIDS_PER_DRAW).hex()
        _requestids.extend(pool[i : i + 32] for i in range(0, len(pool), 32))
    return _requestids.pop()
