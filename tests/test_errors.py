"""Every domain error has one row in the one error table, and the CLI and web both go through it.

A named error missing from `web/errors.ERROR_CODES` would answer 500 behind the web; a bare
`CeeError` has no name of its own to look up. Both are caught here rather than by a user.
"""

from __future__ import annotations

import ast
import concurrent.futures
import inspect
from pathlib import Path

import pytest

from cee.cli.common import settings_from, with_store
from cee.domain import errors
from cee.storage import Store
from cee.web.errors import ERROR_CODES, INTERNAL, error_body, page_status

SRC = Path(__file__).parents[1] / "src" / "cee"


def domain_errors() -> list[type[errors.CeeError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.CeeError) and cls is not errors.CeeError
    ]


def example(cls: type[errors.CeeError]) -> errors.CeeError:
    if cls is errors.RateLimited:
        return errors.RateLimited("journal: too many queued requests", retry_after=1)
    if cls is errors.InvalidKey:
        return errors.InvalidKey()
    return cls(f"{cls.__name__}: what went wrong")


def test_every_domain_error_has_its_own_name_and_a_row() -> None:
    classes = domain_errors()
    assert len(classes) >= 10  # the tree in domain/errors.py; a new class joins this test
    names = [cls.name for cls in classes]
    assert len(set(names)) == len(names), "two errors share a name"
    assert errors.CeeError.name not in names, "an error kept the base class's name"
    for cls in classes:
        assert cls.name in ERROR_CODES, f"{cls.__name__} ({cls.name}) has no row in web/errors.py"
    # Only Internal may answer 500: every other row is a contract code a client can act on.
    assert [n for n, code in ERROR_CODES.items() if code == INTERNAL] == [errors.Internal.name]
    assert set(ERROR_CODES) == set(names), "a row names no domain error"


@pytest.mark.parametrize("cls", domain_errors(), ids=lambda c: c.__name__)
def test_the_web_answers_each_error_with_its_table_code(cls: type[errors.CeeError]) -> None:
    exc = example(cls)
    body = error_body(exc, "0" * 32)
    assert body["error_code"] == ERROR_CODES[cls.name]
    assert body["details"] == exc.details and body["status"] == "error"


@pytest.mark.parametrize("cls", domain_errors(), ids=lambda c: c.__name__)
def test_a_panel_page_refuses_with_the_tables_status(cls: type[errors.CeeError]) -> None:
    """The same table, but never a 302: a browser would follow it to a missing Location.

    tests/panel/test_panel_errors.py shows it on a real server."""
    status = page_status(example(cls))
    expected = ERROR_CODES[cls.name]
    assert status == (409 if expected == 302 else expected)


def raised_names(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every `raise Name(...)` / `raise Name` in a module."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name | ast.Attribute):
                name = target.id if isinstance(target, ast.Name) else target.attr
                out.append((node.lineno, name))
    return out


def test_no_bare_cee_error_is_raised_anywhere_in_src() -> None:
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 30
    bare = [
        f"{path.relative_to(SRC)}:{line}"
        for path in modules
        for line, name in raised_names(path)
        if name == "CeeError"
    ]
    assert bare == [], f"raise a named error from domain/errors.py instead: {bare}"


@pytest.mark.parametrize("cls", domain_errors(), ids=lambda c: c.__name__)
def test_the_cli_turns_each_error_into_a_clean_exit(
    cls: type[errors.CeeError], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Raised by a rule against a real SQLite store, any named error is one line and exit 1."""
    exc = example(cls)

    async def rule(store: Store) -> None:
        assert await store.is_initialised() is False  # the store was really opened
        raise exc

    def command() -> object:
        try:
            with_store(rule, settings_from(str(tmp_path), None), migrate=True)
        except SystemExit as exited:
            return exited.code
        return "no exit"

    # A thread of its own, as a CLI process has: with_store runs its own event loop, and the
    # browser tests (Playwright) leave one running on this thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(command).result(timeout=60) == 1
    err = capsys.readouterr().err
    assert err == f"error: {exc.details}\n"
