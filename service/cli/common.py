"""What the `starosta` commands share: the --db options, the checks of a path read or written,
and how a command names itself in a hint. Every check fails in one line (ClickException)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable
from typing import TypeVar

import click
from starosta.service.backends import (
    ArchiveError,
    NoDatabase,
    backend_for,
    writable_target,
)
from starosta.service.settings import Settings

F = TypeVar("F", bound=Callable[..., object])

DEFAULTS = Settings()
DB_HELP = ("SQLite file of the archive, or a postgresql:// URL (the service's role; the owner's "
           "from STAROSTA_OWNER_DB for migrate and import) (env STAROSTA_DB, default ./var/starosta.db).")


def caught(*kinds: type[BaseException] | tuple[type[BaseException], ...]
           ) -> tuple[type[BaseException], ...]:
    """One tuple of exception classes for an `except` clause, from classes and tuples of them
    (a backend's `errors`)."""
    out: list[type[BaseException]] = []
    for kind in kinds:
        out.extend(kind if isinstance(kind, tuple) else (kind,))
    return tuple(out)


def db_option(fn: F) -> F:
    """--db of a command that reads an archive: a path that holds none (nothing there, a
    directory, a FIFO, a device, an empty, truncated or foreign file) is refused in one line,
    before the command runs, and nothing is created. Only `migrate`, `demo`, `import` (and
    `synth --load`) create one: they take `new_db_option`."""
    return click.option("--db", "db", envvar="STAROSTA_DB", default=DEFAULTS.db,
                        show_default=True, help=DB_HELP, callback=existing_db)(fn)


def new_db_option(fn: F) -> F:
    """--db of a command that may create the archive (a new SQLite file, its directory too)."""
    return click.option("--db", "db", envvar="STAROSTA_DB", default=DEFAULTS.db,
                        show_default=True, help=DB_HELP)(fn)


def existing_db(ctx: click.Context, param: click.Parameter, db: str) -> str:
    if not ctx.resilient_parsing:
        require_db(db)
    return db


force_option = click.option("--force", is_flag=True, default=False,
                            help="Replace the output file if it exists.")


def require_db(db: str) -> None:
    """Refuse, in one line and creating nothing, a database that holds no archive (a
    PostgreSQL URL is checked by connecting)."""
    try:
        backend_for(db).require_archive()
    except NoDatabase:
        raise click.ClickException(f"no database at {db}: create one with `{me()} migrate --db "
                                   f"{db}` (or load the demo into a new one with `{me()} demo`)") from None
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


def output(out: str, force: bool, *reads: str | None) -> None:
    """Check a file the CLI is about to write: never a database it reads (nor its -wal or
    -shm), never anything but a regular file or a new path (a directory, a device, a FIFO, a
    socket), nothing existing unless `force`; its directory is created. Raises ClickException."""
    if out == "-":
        return
    target = os.path.realpath(out)
    for db in filter(None, reads):
        real = os.path.realpath(db)
        if target in (real, real + "-wal", real + "-shm", real + "-journal") or same_file(out, db):
            raise click.ClickException(f"refusing to write {out}: it is the database {db} this "
                                       "command reads; choose another file")
    try:
        writable_target(out, force)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    parent = os.path.dirname(os.path.abspath(out))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot create the directory {parent}: {exc.strerror}") from None


def same_file(a: str, b: str) -> bool:
    """Return True when both paths exist and are one file (a hard link, a bind mount)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def me() -> str:
    """How to call this `starosta` again: `starosta` when that name finds this program on
    PATH, else the path it was started by (e.g. .venv/bin/starosta, as `make run` does)."""
    started = sys.argv[0] if sys.argv and sys.argv[0] else "starosta"
    found = shutil.which("starosta")
    if os.path.basename(started) != "starosta":  # python -m starosta.service.cli
        return "starosta"
    if found and os.path.realpath(found) == os.path.realpath(shutil.which(started) or started):
        return "starosta"
    return started


def quoted(text: str) -> str:
    return shlex.quote(text)


def failed(exc: BaseException) -> click.ClickException:
    """A backend's one-line refusal as the CLI's error."""
    return click.ClickException(str(exc))
