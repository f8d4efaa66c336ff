"""A pytest plugin for bench/index_use.py: every distinct SQL statement SQLite runs during the
tests, one example per shape (literals folded), written to $SQL_TRACE_OUT (one file per
process: an xdist worker appends its pid). Load it with `-p sql_trace` and bench/ on PYTHONPATH:

    SQL_TRACE_OUT=var/sql.txt PYTHONPATH=bench .venv/bin/python -m pytest -p sql_trace \\
        tests/api/test_ledger.py -k "not postgres" -q
"""

from __future__ import annotations

import os
import re
import sqlite3

_SHAPES: dict[str, str] = {}
_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|X'[0-9A-Fa-f]*'")
_KEEP = re.compile(r"^\s*(WITH|SELECT|UPDATE|DELETE|INSERT\s+INTO\s+\S+\s+SELECT)\b", re.I | re.S)
_connect = sqlite3.connect


def _seen(statement: str) -> None:
    if len(_SHAPES) < 200_000 and _KEEP.match(statement):
        shape = " ".join(_LITERALS.sub("?", statement).split())
        _SHAPES.setdefault(shape, statement)


def _traced(*args, **kwargs):  # type: ignore[no-untyped-def]
    conn = _connect(*args, **kwargs)
    conn.set_trace_callback(_seen)
    return conn


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    sqlite3.connect = _traced


def pytest_unconfigure(config) -> None:  # type: ignore[no-untyped-def]
    sqlite3.connect = _connect
    out = os.environ.get("SQL_TRACE_OUT")
    if out and _SHAPES:
        with open(f"{out}.{os.getpid()}", "w") as f:
            for statement in _SHAPES.values():
                f.write(" ".join(statement.split()) + "\n")
