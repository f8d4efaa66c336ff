"""starosta: the one package the distribution installs.

Its subpackages live in the repository's top-level folders (`events/`, `projections/`,
`migrations/`, `service/`), mapped under this name by pyproject.toml's package-dir, so
`pip install` creates no top-level module but `starosta`. Run from a source tree (an
editable install, or `python -m` in the checkout), this folder holds only this file: the
checkout's root is then searched for the subpackages too.
"""

from pathlib import Path as _Path

_here = _Path(__file__).resolve().parent
if not (_here / "events").is_dir():  # a source tree, not an installed wheel
    __path__.append(str(_here.parent))  # type: ignore[name-defined]
