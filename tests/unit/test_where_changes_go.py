"""docs/architecture.md's "where a change goes" table stays true: every path it names exists
in the tree (a module moved or renamed without updating the table fails here)."""

from __future__ import annotations

import re

from tests.conftest import ROOT

ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text("utf-8")


def table_rows() -> list[str]:
    start = ARCHITECTURE.index("| A new ... | goes in |")
    rows = []
    for line in ARCHITECTURE[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_the_table_names_each_kind_of_change() -> None:
    kinds = {row.split("|")[1].strip() for row in table_rows()}
    assert {"claim kind", "read model", "endpoint", "CLI command", "backend"} <= kinds, kinds


def test_every_path_the_table_names_exists() -> None:
    paths = [p for row in table_rows() for p in re.findall(r"`([\w./-]+(?:/|\.py))`", row)]
    assert len(paths) >= 10, paths
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"
