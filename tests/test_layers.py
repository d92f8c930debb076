"""The shape docs/architecture.md promises: no import loop, a store built from its URL in one
place, nothing above storage asking which backend it has.

Read statically from `src/cee`. Imports under `if TYPE_CHECKING:` count: a loop hidden there
is still a loop a reader has to untangle. Imports inside functions do not (they run later, and
are how a module avoids loading what only one path needs).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).parents[1] / "src"


def modules(src: Path) -> dict[str, Path]:
    out = {}
    for path in sorted((src / "cee").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def loaded_on_import(path: Path, known: dict[str, Path]) -> set[str]:
    """The cee modules that importing `path` loads: its imports outside functions."""
    out: set[str] = set()
    pending: list[ast.AST] = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from cee import runtime` loads the module cee.runtime, not only the package.
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
        else:
            pending.extend(ast.iter_child_nodes(node))
    return {name for name in out if name in known}


def import_loops(src: Path) -> list[list[str]]:
    known = modules(src)
    # A module reading its own package's names (`from cee.storage import Store` inside
    # cee.storage.sqlite) is how packages work, not a loop; leave those edges out.
    graph = {
        name: {
            m for m in loaded_on_import(path, known) if m != name and not name.startswith(m + ".")
        }
        for name, path in known.items()
    }
    loops: list[list[str]] = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        stack.append(name)
        for nxt in sorted(graph[name]):
            if state.get(nxt) == "open":
                loops.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return loops


def test_the_loop_finder_sees_a_loop(tmp_path: Path) -> None:
    pkg = tmp_path / "cee"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cee.b import B\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cee.a import A\n"
    )
    (pkg / "c.py").write_text("def later():\n    from cee.a import A\n")
    assert import_loops(tmp_path) == [["cee.a", "cee.b", "cee.a"]]


def test_no_import_loop_in_src() -> None:
    assert len(modules(SRC)) > 40
    assert import_loops(SRC) == []


BENCH = SRC.parent / "bench"


def python_sources() -> dict[str, str]:
    """src/cee and bench/: the benchmarks measure the stores as the server builds them."""
    files = [*SRC.rglob("*.py"), *BENCH.rglob("*.py")]
    return {str(p.relative_to(SRC.parent)): p.read_text() for p in files}


def test_a_store_is_built_from_its_url_in_storage_only() -> None:
    sources = python_sources()
    outside = {path: text for path, text in sources.items() if "/storage/" not in path}
    assert len(outside) > 30
    builds = [p for p, t in outside.items() if re.search(r"\b(Sqlite|Postgres)Store\(", t)]
    assert builds == [], "build stores with cee.storage.open_store (or cee.runtime)"
    prefix = [p for p, t in sources.items() if 'removeprefix("sqlite:///")' in t]
    assert prefix == [], "cee.storage reads sqlite:/// URLs (SQLITE_SCHEME) in one place"


def test_nothing_above_storage_asks_which_backend_it_has() -> None:
    asks = [
        path
        for path, text in python_sources().items()
        if "/storage/" not in path
        and re.search(r"isinstance\([^)]*(Sqlite|Postgres)Store|\.dialect\s*[!=]=", text)
    ]
    # Where a role's behaviour depends on the backend, runtime.py decides it from the URL
    # (storage.single_writer) and hands the answer down.
    assert asks == []


def test_bench_uses_no_private_name_of_cee() -> None:
    """A benchmark that reaches into `obj._private` measures code the server may not run, and
    breaks silently when it changes; it goes through public names (or `self`'s own)."""
    private = []
    for path in sorted(BENCH.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                private.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert len(list(BENCH.rglob("*.py"))) >= 2
    assert private == []


def test_the_api_path_does_not_load_the_panel() -> None:
    """`/apiv2`'s modules, and everything they load on import, never load `cee.web.panel`:
    the hot path stays as lean as it was (the panel is built only by web/app.py at start-up,
    inside a function)."""
    known = modules(SRC)
    seen: set[str] = set()
    pending = [name for name in known if name.startswith("cee.web.apiv2")]
    while pending:
        name = pending.pop()
        if name in seen or name not in known:
            continue
        seen.add(name)
        pending.extend(loaded_on_import(known[name], known))
    assert seen and not [name for name in seen if name.startswith("cee.web.panel")]


def test_the_cli_reaches_the_database_only_through_admin() -> None:
    """cli/ parses and prints; a read or change of the database is an admin/ function, so the
    panel shares it (common.py only opens and closes the store those functions get)."""
    direct = []
    for path in sorted((SRC / "cee" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "store"
                and not (path.name == "common.py" and node.func.attr in ("open", "close"))
            ):
                direct.append(f"cli/{path.name}:{node.lineno} store.{node.func.attr}()")
    assert direct == []
