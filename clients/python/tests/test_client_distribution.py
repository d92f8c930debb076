"""The client is its own distribution: httpx is all it needs, and it never loads the server."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import cee_client


def test_the_distribution_depends_on_httpx_only() -> None:
    assert metadata.requires("cee-client") == ["httpx==0.28.1"]
    assert metadata.version("cee-client") == cee_client.__version__


def test_the_package_is_typed() -> None:
    assert (Path(cee_client.__file__).parent / "py.typed").is_file()


def test_importing_the_client_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, cee_client; "
        "print(sorted(m for m in ('cee', 'asyncpg', 'uvicorn', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
