"""The package as tools and installers see it, and the import layers of STYLE.md.

The repository's top-level folders are linked into `starosta/` (`starosta/events -> ../events`,
...), so a plain checkout is the package: import-linter and mypy read it with no install step,
and setuptools' package search (it follows the links) puts every module of the tree in the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

PARTS = ("events", "projections", "migrations", "service")


def tracked(*folders: str) -> list[str]:
    """The files git tracks below `folders` (links as themselves, not followed)."""
    out = subprocess.run(["git", "ls-files", "--", *folders], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return out.split()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """A wheel built from `git archive` of HEAD plus the working tree's changes: an export of
    the tracked files (links kept as links), what a clean clone holds."""
    build = tmp_path_factory.mktemp("build")
    source = build / "source"
    source.mkdir()
    for name in tracked("."):
        src, dst = ROOT / name, source / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        elif src.is_file():  # a tracked file deleted in the working tree is not built
            dst.write_bytes(src.read_bytes())
    out = build / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(build)})
    assert result.returncode == 0, result.stdout + result.stderr
    BUILD_OUTPUT.append(result.stdout + result.stderr)
    (path,) = out.glob("starosta-*.whl")
    return zipfile.ZipFile(path)


BUILD_OUTPUT: list[str] = []  # what pip and the build backend said while building


def test_the_build_gives_no_licence_deprecation(wheel: zipfile.ZipFile) -> None:
    """setuptools warned that `project.license` as a TOML table stops working in 2027."""
    (said,) = BUILD_OUTPUT
    assert "project.license" not in said and "license" not in said.lower(), said


def test_the_wheel_holds_every_module_of_the_tree_and_one_top_level_package(
        wheel: zipfile.ZipFile) -> None:
    names = [n for n in wheel.namelist() if ".dist-info/" not in n]
    assert {n.split("/")[0] for n in names} == {"starosta"}
    shipped = {n.removeprefix("starosta/") for n in names if n.endswith(".py")}
    in_tree = {n.removeprefix("starosta/") for n in tracked(*PARTS, "starosta")
               if n.endswith(".py")}
    assert shipped == in_tree, {"missing from the wheel": sorted(in_tree - shipped),
                                "not in the tree": sorted(shipped - in_tree)}
    data = {n.removeprefix("starosta/") for n in names if not n.endswith(".py")}
    for needed in ("migrations/0001_event_log.sql", "migrations/postgres/0001_event_log.sql",
                   "service/tools/demo/archive.jsonl", "projections/confusables.txt",
                   "projections/confusables.LICENSE.txt", "service/api/examples.json"):
        assert needed in data, needed
    # every .sql migration of the tree ships
    assert {n for n in tracked("migrations") if n.endswith(".sql")} <= data


def test_the_checkout_is_the_package() -> None:
    """`starosta.events` from a checkout is the repository's `events/` folder, through its link;
    nothing else of the repository (tests, bench) is importable under `starosta`."""
    for part in PARTS:
        link = ROOT / "starosta" / part
        assert link.is_symlink() and link.resolve() == (ROOT / part).resolve(), part
    code = ("import importlib.util, starosta.events.store as s; print(s.__file__); "
            "print(importlib.util.find_spec('starosta.tests'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60).stdout.split()
    assert out == [str(ROOT / "starosta" / "events" / "store.py"), "None"]


def test_import_contracts_are_kept_from_the_checkout() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert "starosta.service" in (ROOT / "pyproject.toml").read_text()
