"""Comments, docstrings and documents name modules and files that exist.

Renames left comments pointing at modules that were gone (`service.dates`, `projections/...`);
these tests read every tracked Markdown file and every comment and string of the Python code
for repository paths (`service/api/claims.py`) and dotted module names
(`projections.rules.may_see`), and resolve each.
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import tokenize
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

FOLDERS = "events|projections|migrations|service|tests|bench|deploy|docs|starosta"
PATH = re.compile(rf"(?<![\w./-])((?:{FOLDERS})/[\w./-]*\w)")
DOTTED = re.compile(r"(?<![\w./-])((?:starosta\.)?(?:events|projections|service|migrations)"
                    r"\.[a-z_]\w*(?:\.[A-Za-z_]\w*)*)")
NOT_PATHS = {"events/s"}  # a unit: "events/s"
PLACEHOLDER = re.compile(r"NNNN|/0001$")  # migrations/NNNN_name.sql, "postgres/0001..."


def tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    return [ROOT / n for n in out if not (ROOT / n).is_symlink() and (ROOT / n).is_file()
            and n != "tests/unit/test_references.py"]  # its examples name what does not exist


def prose(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of a file's prose: a Markdown file whole, a Python file's comments and
    strings (docstrings included)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        yield from enumerate(text.splitlines(), 1)
    elif path.suffix == ".py":
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING):
                yield tok.start[0], tok.string


def resolves(ref: str) -> bool:
    """True when `ref` is a module of the package, or an attribute path inside one."""
    parts = (ref if ref.startswith("starosta.") else "starosta." + ref).split(".")
    for i in range(len(parts), 1, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def named(pattern: re.Pattern[str]) -> Iterator[tuple[str, str]]:
    """("file:line", name) of every name `pattern` finds in the prose of the tracked Markdown
    and Python files, a trailing full stop dropped."""
    for path in tracked():
        if path.suffix in (".md", ".py"):
            for line, text in prose(path):
                for m in pattern.finditer(text):
                    yield f"{path.relative_to(ROOT)}:{line}", m.group(1).rstrip(".")


def test_every_repository_path_named_exists() -> None:
    missing = [f"{where}: {name}" for where, name in named(PATH)
               if name not in NOT_PATHS and not PLACEHOLDER.search(name)
               and not (ROOT / name).exists()]
    assert not missing, "\n".join(missing)


def test_every_dotted_module_named_resolves() -> None:
    missing = [f"{where}: {ref}" for where, ref in named(DOTTED)
               if not ref.endswith((".py", ".md", ".sql", ".jsonl", ".json")) and not resolves(ref)]
    assert not missing, "\n".join(missing)


def test_the_checks_catch_what_they_are_for() -> None:
    assert not resolves("service.dates.parse_date")
    assert resolves("projections.rules.may_see")
    assert PATH.findall("see service/api/claims.py and events/") == ["service/api/claims.py"]
