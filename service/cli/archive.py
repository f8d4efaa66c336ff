"""`starosta migrate`, `verify`, `rebuild` and `backup`: the archive's schema, chain, read
models and copies, each through the database's backend (service.backends)."""

from __future__ import annotations

import sys
import time

import click
from starosta.service.backends import ArchiveError, backend_for, shown
from starosta.service.cli.common import caught, db_option, new_db_option, output


@click.command()
@new_db_option
def migrate(db: str) -> None:
    """Create or upgrade the database schema; applying twice changes nothing.

    \b
    Example:
      starosta migrate --db ./var/starosta.db
    """
    from starosta.migrations import MigrationError

    backend = backend_for(db)
    try:
        applied = backend.migrate()
    except caught(MigrationError, backend.errors) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise click.ClickException(f"migrating {shown(db)} failed: {detail}") from None
    except OSError as exc:  # the directory cannot be created
        raise click.ClickException(f"migrating {db} failed: {exc.strerror or exc}") from None
    click.echo(f"applied: {', '.join(applied)}" if applied else "up to date")


@click.command()
@db_option
@click.option("--expect-head", metavar="HASH", default=None,
              help="A published head hash (GET /events/head) that must be in the log.")
@click.option("--read-models", is_flag=True, default=False,
              help="Also rebuild every read model beside the live one (the service keeps "
                   "serving) and compare their rows: exit 1 naming the first that differs.")
def verify(db: str, expect_head: str | None, read_models: bool) -> None:
    """Walk the hash chain; exit 0 when intact, 1 naming the first broken position.

    With --read-models, then rebuild the read models from the log into shadow tables,
    compare them with the live tables and drop them: exit 1 naming the first read model
    whose rows differ (changed behind the service's back). On PostgreSQL this creates
    tables: it runs as the owner (STAROSTA_OWNER_DB). Not while a rebuild runs.

    \b
    Example:
      starosta verify --db ./var/starosta.db --expect-head 3f1c...e9
      starosta verify --db ./var/starosta.db --read-models
    """
    from starosta.events.chain import GENESIS

    # GET /events/head of an empty archive publishes the chain's start, which no row holds
    expect_empty = expect_head is not None and expect_head.strip().lower() == GENESIS
    try:
        verdict = backend_for(db).verify(None if expect_empty else expect_head)
    except ArchiveError as exc:
        click.echo(f"BROKEN: {exc}", err=True)
        sys.exit(1)
    if verdict.ok and expect_empty and verdict.count:
        click.echo(f"BROKEN: the expected head {GENESIS} is the head of an empty archive, but this "
                   f"log holds {verdict.count} events up to head {verdict.head_position} "
                   f"{verdict.head_hash}: the head was published before any event, or comes "
                   "from another archive", err=True)
        sys.exit(1)
    if verdict.ok:
        click.echo(f"ok: {verdict.count} events, chain intact; head {verdict.head_position} "
                   f"{verdict.head_hash}")
        if read_models:
            _verify_read_models(db)
        return
    if verdict.broken_at is None:  # the chain holds; the published head is not in it
        click.echo(f"BROKEN: {verdict.reason}", err=True)
    else:
        click.echo(f"BROKEN at position {verdict.broken_at}: {verdict.reason} "
                   f"({verdict.count} events verified before it)", err=True)
    sys.exit(1)


def _verify_read_models(db: str) -> None:
    """Compare every live read model of `db` with its rebuild from the log
    (projections.audit); print one line, and exit 1 when one differs or cannot be compared."""
    from starosta.events.store import RebuildRunning, StoreError
    from starosta.projections.audit import CannotCompare, verify_read_models
    from starosta.projections.read_models import default_runner

    backend = backend_for(db)
    try:
        store = backend.open_event_store(owner=True)  # the owner's on PostgreSQL: it creates tables
        try:
            found = verify_read_models(default_runner(), store)
        finally:
            store.close()
    except caught(CannotCompare, RebuildRunning, StoreError, OSError, backend.errors) as exc:
        raise click.ClickException(f"cannot check the read models: {' '.join(str(exc).split())}") \
            from None
    if found.ok:
        click.echo(f"ok: {len(found.compared)} read models hold what a rebuild from the log "
                   f"holds at position {found.position} ({found.seconds:.1f} s)")
        return
    first = found.first
    assert first is not None  # not ok: one read model differs at least
    others = [n for n in found.differing if n != first]
    click.echo(f"BROKEN: read model {first} differs from its rebuild from the log at position "
               f"{found.position} (table {', '.join(found.differing[first])})"
               + (f"; also {', '.join(others)}" if others else "")
               + f": its rows were changed outside starosta (or its code is not deterministic); "
               f"`starosta rebuild {first}` replaces them with the rebuild", err=True)
    sys.exit(1)


@click.command()
@db_option
@click.argument("names", nargs=-1)
def rebuild(db: str, names: tuple[str, ...]) -> None:
    """Replay the log into fresh projection tables and swap them in, while the service serves.

    NAMES are projections (default: all). Prints each projection's content hash: two
    rebuilds of one log print the same hashes. One rebuild of a database runs at a time
    (a lock file DB.rebuild-lock beside it); a second fails at once, naming the first's pid.

    \b
    Example:
      starosta rebuild --db ./var/starosta.db registry claims
    """
    from starosta.events.store import RebuildRunning
    from starosta.projections.read_models import default_runner

    runner = default_runner()
    unknown = [n for n in names if n not in runner.names()]
    if unknown:
        raise click.ClickException(f"unknown projection {', '.join(unknown)}; known: {', '.join(runner.names())}")
    backend = backend_for(db)
    try:
        with backend.rebuild_lock():
            digests = _rebuild_all(db, names)
    except RebuildRunning as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # the lock file beside the database cannot be created
        raise click.ClickException(f"cannot rebuild {db}: {exc}") from None
    for name, digest in digests.items():
        click.echo(f"{name} content hash {digest}")


def _rebuild_all(db: str, names: tuple[str, ...]) -> dict[str, str | None]:
    """Rebuild the named projections of `db` (all when none) with progress bars; return their
    content hashes. Raises ClickException when the rebuild fails."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from starosta.events.store import StoreError
    from starosta.projections.read_models import default_runner

    runner = default_runner()
    try:
        store = backend_for(db).open_builder_store()
    except StoreError as exc:
        raise click.ClickException(f"cannot rebuild: {exc}") from None
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>9} events/s"), TimeElapsedColumn())
    chosen = [p.name for p in runner.with_dependencies(list(names or runner.names()))]
    with Progress(*columns, transient=False) as progress:
        tasks = {name: progress.add_task(name, total=max(store.head().position, 1), rate="-")
                 for name in chosen}
        started = time.monotonic()

        def report(name: str, position: int, head: int) -> None:
            rate = position / max(time.monotonic() - started, 1e-6)
            progress.update(tasks[name], completed=position, total=max(head, 1), rate=f"{rate:,.0f}")

        try:
            digests = runner.rebuild_many(store, chosen, report)  # one pass over the log for all
        except StoreError as exc:  # a full disk, a lock held too long: the live tables stand
            raise click.ClickException(f"rebuild failed, the read models are unchanged: {exc}") from None
        finally:
            store.close()
        for task in tasks.values():
            progress.update(task, completed=progress.tasks[task].total)
    return digests


@click.command("backup")
@db_option
@click.argument("target", type=click.Path())
@click.option("--force", is_flag=True, default=False,
              help="Replace TARGET if it exists (never the database backed up).")
def backup_command(db: str, target: str, force: bool) -> None:
    """Copy the database with SQLite's online backup API while the service keeps serving;
    the copy passes `starosta verify`. The copy is made beside TARGET and moved into place
    once complete: an existing TARGET (replaced only with --force) stays whole until then.

    \b
    Example:
      starosta backup ./backups/starosta-2026-11-22.db --db ./var/starosta.db
    """
    from rich.progress import Progress

    output(target, force, db)
    backend = backend_for(db)
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("backing up", total=None)
            done = backend.backup(target, force,
                                  lambda n, total: progress.update(task, completed=n, total=total))
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(done)
