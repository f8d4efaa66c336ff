"""The storage seam holds: outside the backend modules, no code branches on the kind of database
(`is_postgres`, a test of a URL's scheme, isinstance on a store) and none names a driver's type
(`sqlite3`, `psycopg`) or a backend's store. Shared code is typed against `EventStore` and
`Connection` (events/store.py) and asks `service.backends.backend_for(db)` for the rest."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

FOLDERS = ("events", "projections", "service", "migrations", "starosta")
# the modules that may know which database they speak to: the two stores, the migrations of
# each kind, and the backends that compose them
BACKEND_MODULES = ("events/sqlite_store.py", "events/postgres_store.py", "migrations/",
                   "service/backends/")
DRIVERS = {"sqlite3", "psycopg", "psycopg_pool"}
BACKEND_NAMES = {"SQLiteEventStore", "PostgresEventStore", "PostgresTransaction", "is_postgres",
                 "is_postgres_url", "POSTGRES_SCHEMES", "SQLiteBackend", "PostgresBackend"}
BACKEND_IMPORTS = ("starosta.events.sqlite_store", "starosta.events.postgres_store",
                   "starosta.service.backends.sqlite", "starosta.service.backends.postgres",
                   "starosta.service.backends.urls")
SCHEMES = ("postgres://", "postgresql://", "sqlite://")


def leaks(source: str) -> list[str]:
    """Return what `source` (a module outside the backends) says that only a backend may: an
    import of a driver or of a backend's module, a use of a driver's name or a backend's
    store, a URL scheme in code, an isinstance test on a store. Docstrings and comments are
    free to mention them."""
    found: list[str] = []
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in DRIVERS or alias.name.startswith(BACKEND_IMPORTS):
                    found.append(f"{line}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] in DRIVERS or module.startswith(BACKEND_IMPORTS):
                found.append(f"{line}: from {module} import ...")
            found += [f"{line}: imports {a.name}" for a in node.names if a.name in BACKEND_NAMES]
        elif isinstance(node, ast.Name) and (node.id in DRIVERS or node.id in BACKEND_NAMES):
            found.append(f"{line}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in BACKEND_NAMES:
            found.append(f"{line}: .{node.attr}")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings and node.value.strip().lower() in SCHEMES):
            found.append(f"{line}: the URL scheme {node.value!r}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "isinstance" and len(node.args) == 2
              and "Store" in ast.unparse(node.args[1])):
            found.append(f"{line}: {ast.unparse(node)}")
    return found


def _shared_modules() -> list[Path]:
    modules = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(BACKEND_MODULES):
                modules.append(path)
    return modules


def test_no_backend_branch_or_driver_type_outside_the_backend_modules() -> None:
    modules = _shared_modules()
    assert len(modules) > 50, "the folders moved?"
    offenders = {p.relative_to(ROOT).as_posix(): found for p in modules
                 if (found := leaks(p.read_text("utf-8")))}
    assert offenders == {}


def test_the_check_finds_each_kind_of_leak() -> None:
    """Given code that branches on the backend or names a driver, the check names each line."""
    source = '''"""A docstring may say postgres:// and sqlite3.Connection."""
import sqlite3
from psycopg import Connection
from starosta.events.sqlite_store import connect
from starosta.service.db import is_postgres


def f(conn: sqlite3.Connection, db: str, store) -> bool:
    if db.startswith("postgresql://"):
        return True
    if isinstance(store, PostgresEventStore):
        return False
    return is_postgres(db)
'''
    found = leaks(source)
    lines = {int(f.split(":")[0]) for f in found}
    assert lines == {2, 3, 4, 5, 8, 9, 11, 13}, found


def test_clean_shared_code_passes() -> None:
    source = '''from starosta.events.store import Connection, EventStore
from starosta.service.backends import backend_for


def f(conn: Connection, store: EventStore, db: str) -> list[str]:
    """Nothing here knows the kind of database: "postgres://" in a docstring is words."""
    return backend_for(db).migrate()
'''
    assert leaks(source) == []


def test_the_backend_is_chosen_once_from_the_name() -> None:
    from starosta.service.backends import backend_for

    assert type(backend_for("postgresql://u@h/db")).__name__ == "PostgresBackend"
    assert type(backend_for(" POSTGRES://h/db")).__name__ == "PostgresBackend"
    assert type(backend_for("var/starosta.db")).__name__ == "SQLiteBackend"
    assert type(backend_for("postgresql.db")).__name__ == "SQLiteBackend"


def test_each_backend_offers_every_member_of_the_protocol() -> None:
    from starosta.events.store import EventStore
    from starosta.service.backends import Backend
    from starosta.service.backends.postgres import PostgresBackend
    from starosta.service.backends.sqlite import SQLiteBackend

    declared = {n for n in vars(Backend) if not n.startswith("_")} | set(Backend.__annotations__)
    assert {"migrate", "verify", "backup", "import_log", "rebuild_lock", "require_archive"} <= declared
    for backend in (SQLiteBackend("x.db"), PostgresBackend("postgresql://h/db")):
        missing = {n for n in declared if not hasattr(backend, n)}
        assert missing == set(), (type(backend).__name__, missing)
    store_members = {n for n in vars(EventStore) if not n.startswith("_")}
    assert {"reader", "rebuild_guard"} <= store_members  # callers never reach around it
    from starosta.events.postgres_store import PostgresEventStore
    from starosta.events.sqlite_store import SQLiteEventStore

    for store in (SQLiteEventStore, PostgresEventStore):
        assert {n for n in store_members if not hasattr(store, n)} == set(), store.__name__
