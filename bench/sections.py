"""One report, several writers: each bench run apart (postgres.py, load.py, pages.py, writes.py)
owns a section of bench/RESULTS.md between its own begin and end lines, rewrites only that
section, and `make bench` (run.py: write_report) keeps every section it did not measure."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

HEADER = "# Benchmarks: the project beside its ceilings\n"


def _key(begin: str) -> str:
    """What finds a section's first line: its begin line up to a parenthesis, so that a begin
    line reworded after its first words still finds the section an older run wrote."""
    return begin.split(" (", 1)[0]


def existing(path: Path, begin: str, end: str) -> list[str] | None:
    """The lines of the section between `begin` and `end` in the report at `path`, or None."""
    try:
        text = path.read_text()
    except OSError:
        return None
    start, stop = text.find(_key(begin)), text.find(end)
    if start < 0 or stop < start:
        return None
    return text[start:stop + len(end)].splitlines()


def replace(path: Path, lines: list[str], begin: str, end: str) -> None:
    """Put `lines` into the report in place of the section between `begin` and `end` (or
    before the report's Notes, or at its end), leaving every other line as it was."""
    block = "\n".join(lines)
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = HEADER
    start, stop = text.find(_key(begin)), text.find(end)
    if start >= 0 and stop > start:
        text = text[:start] + block + text[stop + len(end):]
    elif "\n## Notes" in text:
        at = text.index("\n## Notes") + 1
        text = text[:at] + block + "\n\n" + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def bench_run() -> Any:
    """bench/run.py as a module, for the benches that use its helpers (wrk, servers, bounded
    commands): the one already running (run.py registers itself as `bench_run`), else loaded by
    path and registered before it runs (its dataclasses look themselves up)."""
    module = sys.modules.get("bench_run")
    if module is None:
        spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).resolve().parent / "run.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_run"] = module
        spec.loader.exec_module(module)
    return module
