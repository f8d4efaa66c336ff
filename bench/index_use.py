"""Which indexes the project's queries use (issue 25, item 5: "drop indexes no query uses").

Takes the statements bench/sql_trace.py collected while tests ran (every SELECT, UPDATE, DELETE
and INSERT ... SELECT SQLite was given, one example per shape), runs EXPLAIN QUERY PLAN of each
on an archive with every read model's tables (shadow names `x__gN` read as `x`), and lists every
index made by CREATE INDEX with the statements whose plans use it, and its size (dbstat).
Indexes that back a PRIMARY KEY or UNIQUE constraint (sqlite_autoindex_*) are listed apart:
they are the constraints themselves. An index no plan uses is a candidate to drop; the proof
is only as wide as the statements collected (say which tests ran).

    SQL_TRACE_OUT=var/sql.txt PYTHONPATH=bench .venv/bin/python -m pytest -p sql_trace tests/api -k "not postgres"
    .venv/bin/python bench/index_use.py --db var/synth.db var/sql.txt.*
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

_USING = re.compile(r"USING (?:COVERING )?INDEX (\S+)")
_SHADOW = re.compile(r"\b(\w+?)__g\d+\b")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True, help="an archive (SQLite) with every read model")
    ap.add_argument("statements", type=Path, nargs="+", help="files bench/sql_trace.py wrote")
    args = ap.parse_args(argv)
    statements: dict[str, None] = {}
    for path in args.statements:
        for line in path.read_text().splitlines():
            if line.strip():
                statements[_SHADOW.sub(r"\1", line)] = None
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    indexes = {name: (table, sql) for name, table, sql in
               conn.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'")}
    sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat WHERE aggregate = FALSE GROUP BY name"))
    used: dict[str, list[str]] = defaultdict(list)
    failed = explained = 0
    for statement in statements:
        try:
            plan = conn.execute("EXPLAIN QUERY PLAN " + statement).fetchall()
        except sqlite3.Error:
            failed += 1  # a temporary table, another schema's table
            continue
        explained += 1
        for row in plan:
            for name in _USING.findall(row[-1]):
                used[name].append(statement)
    print(f"{len(statements):,} statement shapes; {explained:,} explained, {failed:,} not (temporary or "
          f"other tables); on {args.db}")
    print("\n| index | on | size | statements using it | example |\n| --- | --- | --- | --- | --- |")
    for name, (table, sql) in sorted(indexes.items(), key=lambda kv: -(sizes.get(kv[0]) or 0)):
        if sql is None:
            continue  # a constraint's own index
        example = used[name][0][:140].replace("|", "\\|") if used[name] else "**none**"
        print(f"| {name} | {table} | {(sizes.get(name) or 0) / 2**20:,.1f} MiB | {len(used[name])} | {example} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
