"""CSV exports that are safe to open in a spreadsheet: a cell that begins with =, +, -, @, a
tab or a carriage return is prefixed with a single quote, as OWASP recommends against formula
injection (CSV Injection), so '=HYPERLINK(...)' is shown as text, never run."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: Any) -> Any:
    """Return a cell safe for a spreadsheet (strings starting with a trigger get a quote)."""
    if isinstance(cell, str) and cell.startswith(_TRIGGERS):
        return "'" + cell
    return cell


class SafeWriter:
    """A csv.writer whose every cell is neutralised."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralised(c) for c in row])
