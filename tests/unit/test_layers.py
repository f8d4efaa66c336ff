"""A clean install and the import layers of STYLE.md.

`pip install .` (into a target folder: what a fresh virtual environment receives) creates one
top-level package, `starosta`; import-linter's contracts from pyproject.toml are checked on
that installed copy (grimp walks a package's own folder, so it cannot follow the source tree's
package-dir mapping).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    # a copy of the tracked tree, so that setuptools' build/ folder is not left in the checkout
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    source = build / "source"
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-compile", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(build)})
    assert result.returncode == 0, result.stdout + result.stderr
    BUILD_OUTPUT.append(result.stdout + result.stderr)
    return target


BUILD_OUTPUT: list[str] = []  # what pip and the build backend said while installing


def test_the_build_gives_no_licence_deprecation(installed: Path) -> None:
    """setuptools warned that `project.license` as a TOML table stops working in 2027."""
    (said,) = BUILD_OUTPUT
    assert "project.license" not in said and "license" not in said.lower(), said


def test_install_creates_one_top_level_package(installed: Path) -> None:
    top = sorted(p.name for p in installed.iterdir()
                 if not p.name.endswith((".dist-info", ".egg-info")) and p.name != "bin")
    assert top == ["starosta"]
    for sub in ("events", "projections", "migrations", "service"):
        assert (installed / "starosta" / sub / "__init__.py").is_file(), sub
    assert list((installed / "starosta" / "migrations").glob("*.sql"))
    assert (installed / "starosta" / "service" / "demo" / "archive.jsonl").is_file()


def test_import_contracts_are_kept(installed: Path) -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
                            cwd=installed, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(installed)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
