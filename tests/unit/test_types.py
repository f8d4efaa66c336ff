"""mypy, run from the checkout on the whole package (pyproject.toml's [tool.mypy]), is clean."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_the_package_type_checks_from_a_plain_checkout() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "-p", "starosta", "--no-incremental"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
