"""No coroutine of the HTTP layer reads the database itself: every call that reaches a
connection or the store's reads (`read()` of the archive, `read_primary()`, `reader()`,
`head()`, `recorded_at()`, `position_at()`, `execute()`) sits in a lambda or a plain function,
which the handlers hand to a pool (off_loop, decided, Archive.run_read / run_primary), never
directly in an `async def`. A static check beside tests/api/test_reads_off_loop.py, which
shows the pools at work."""

from __future__ import annotations

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "service" / "api"
READS = {"read_primary", "reader", "head", "recorded_at", "position_at", "execute"}


def _reads_in_coroutines(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, on_loop: bool) -> None:
        if isinstance(node, ast.AsyncFunctionDef):
            on_loop = True
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            on_loop = False
        if on_loop and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            of_archive = name == "read" and isinstance(node.func.value, ast.Call) and \
                getattr(node.func.value.func, "id", None) == "archive_of"
            if name in READS or of_archive:
                found.append((node.lineno, name))
        for child in ast.iter_child_nodes(node):
            visit(child, on_loop)

    visit(tree, False)
    return found


def test_no_coroutine_of_the_http_layer_reads_the_database() -> None:
    found = {f"{path.name}:{line} {name}()": None for path in sorted(API.glob("*.py"))
             for line, name in _reads_in_coroutines(ast.parse(path.read_text()))}
    assert list(found) == []


def test_the_check_sees_a_read_on_the_loop() -> None:
    on_loop = ast.parse("async def health(request):\n"
                        "    return archive_of(request).store.head().position\n"
                        "async def bio(request):\n"
                        "    return stored(archive_of(request).read(), 'P1')\n")
    assert [name for _, name in _reads_in_coroutines(on_loop)] == ["head", "read"]
    off_loop = ast.parse("async def head(request, store):\n"
                         "    return await off_loop(request, lambda _: store.head())\n")
    assert _reads_in_coroutines(off_loop) == []
