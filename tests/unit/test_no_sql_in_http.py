"""SQL lives with the read model that owns the table: no module that imports Litestar holds SQL,
and nothing below the HTTP layer imports Litestar (the latter also by import-linter)."""

from __future__ import annotations

import re

from tests.conftest import ROOT

SQL = re.compile(r"\.execute(many)?\(|\bSELECT\b|\bINSERT INTO\b|\bDELETE FROM\b|\bUPDATE \w+ SET\b")
LITESTAR = re.compile(r"^\s*(from|import) litestar\b", re.M)
FOLDERS = ("events", "projections", "service", "migrations")


def _modules():
    for folder in FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_no_module_that_imports_litestar_holds_sql() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _modules()
                 if LITESTAR.search(text := p.read_text("utf-8")) and SQL.search(text)]
    assert offenders == []


def test_nothing_below_the_http_layer_imports_litestar() -> None:
    below = [p for p in _modules() if p.parts[len(ROOT.parts)] in ("events", "projections", "migrations")
             or p.name in ("archive.py", "commands.py", "access.py")]
    assert below, "the folders moved?"
    assert [str(p.relative_to(ROOT)) for p in below if LITESTAR.search(p.read_text("utf-8"))] == []
