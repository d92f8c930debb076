"""The client's README examples run, in order, against a real server (each backend)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Server

README = Path(__file__).parents[2] / "clients" / "python" / "README.md"


def examples() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.M | re.S)


def test_the_readme_has_examples() -> None:
    assert len(examples()) >= 8


def test_the_readme_examples_run(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CEE_URL", server.base)
    monkeypatch.setenv("CEE_API_KEY", server.api_key)
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, code in enumerate(examples(), 1):
        try:
            exec(compile(code, f"README.md example {number}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"README example {number} failed:\n{code}") from exc
