"""The `starosta` command: serve, migrate, verify (more commands arrive with their issues)."""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import TYPE_CHECKING

import click

from starosta.service.settings import Settings

if TYPE_CHECKING:
    from starosta.projections.runner import Runner

DEFAULTS = Settings()
DB_HELP = ("SQLite file of the archive, or a postgresql:// URL (the service's role; the owner's "
           "from STAROSTA_OWNER_DB for migrate and import) (env STAROSTA_DB, default ./var/starosta.db).")


def _db_option(fn):
    """--db of a command that reads an archive: a SQLite path that does not exist is refused
    in one line, before the command runs (never created empty). Only `migrate`, `demo`,
    `import` (and `synth --load`) create one: they take `_new_db_option`."""
    return click.option("--db", "db", envvar="STAROSTA_DB", default=DEFAULTS.db,
                        show_default=True, help=DB_HELP, callback=_existing_db)(fn)


def _new_db_option(fn):
    """--db of a command that may create the archive (a new SQLite file, its directory too)."""
    return click.option("--db", "db", envvar="STAROSTA_DB", default=DEFAULTS.db,
                        show_default=True, help=DB_HELP)(fn)


def _existing_db(ctx: click.Context, param: click.Parameter, db: str) -> str:
    if not ctx.resilient_parsing:
        _require_db(db)
    return db


_force_option = click.option("--force", is_flag=True, default=False,
                             help="Replace the output file if it exists.")


def _postgres_failed(what: str, db: str, exc: BaseException) -> click.ClickException:
    """One line for a PostgreSQL database that cannot be reached or read (no traceback)."""
    from starosta.service.db import scrubbed, shown

    detail = " ".join(str(exc).split()) or type(exc).__name__
    return click.ClickException(f"{what} {shown(db)} failed: {scrubbed(detail, db)}")


class _Commands(click.Group):
    """The command group: a PostgreSQL error no command caught (the server unreachable, a
    role refused, a malformed URL) ends in one line, as every CLI error does, never a
    traceback; and every error's message is scrubbed of the secrets of the database URLs the
    command was given (service.db.scrubbed), whoever wrote it."""

    def invoke(self, ctx: click.Context):
        from starosta.service.db import scrubbed

        urls = _urls_of(ctx)
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            exc.message = scrubbed(exc.message, *urls)
            raise
        except Exception as exc:
            found = _psycopg_error(exc)
            if found is None:
                raise
            detail = " ".join(str(found).split()) or type(found).__name__
            raise click.ClickException(f"PostgreSQL: {scrubbed(detail, *urls)}") from None


def _urls_of(ctx: click.Context) -> list[str]:
    """The database URLs a command may quote in its errors: its arguments' and the
    environment's (STAROSTA_DB, STAROSTA_OWNER_DB, STAROSTA_READ_DB)."""
    args = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # read before Group.invoke empties them
    given = [a.split("=", 1)[-1] if a.startswith("--") else a for a in args]
    return [u for u in (*given, *(os.environ.get(f"STAROSTA_{n}", "") for n in
                                  ("DB", "OWNER_DB", "READ_DB"))) if u]


def _psycopg_error(exc: BaseException) -> BaseException | None:
    """Return `exc` when psycopg raised it, or the first such error inside an exception group
    (the app's lifespan, run by a test client, raises one); None otherwise."""
    if type(exc).__module__.startswith("psycopg"):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _psycopg_error(inner)
            if found is not None:
                return found
    return None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """starosta: the sourced records of Soviet political prisoners, exiles and their aid.

    \b
    Example:
      starosta serve --db ./var/starosta.db --port 8000
    """


@main.command()
@_db_option
@click.option("--host", envvar="STAROSTA_HOST", default=DEFAULTS.host, show_default=True,
              help="Address to bind.")
@click.option("--port", envvar="STAROSTA_PORT", default=DEFAULTS.port, show_default=True,
              type=int, help="Port to bind.")
@click.option("--synchronous", envvar="STAROSTA_SYNCHRONOUS", default=DEFAULTS.synchronous,
              show_default=True, type=click.Choice(["FULL", "NORMAL", "EXTRA"], case_sensitive=False),
              help="SQLite durability: FULL means an acknowledged append is on disk.")
@click.option("--allow-demo", is_flag=True, default=False,
              help="Serve the demo archive (whose tokens are public) on a host that is not loopback.")
def serve(db: str, host: str, port: int, synchronous: str, allow_demo: bool) -> None:
    """Serve the HTTP API (granian, one worker, uvloop) on the embedded SQLite file, or on a
    PostgreSQL database given by URL (several servers may share one). The file must exist
    (`starosta migrate` creates it). The demo archive is served with a banner, and only on
    loopback unless --allow-demo: its tokens are public.

    \b
    Example:
      starosta serve --db ./var/starosta.db --host 127.0.0.1 --port 8000
    """
    from granian import Granian  # imported here: other commands need no server

    from starosta.service.db import is_postgres, migrate

    try:  # fail here, with the variable named, rather than in the worker
        settings = Settings.from_env(db=db, host=host, port=port, synchronous=synchronous.upper())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    demo = _demo_guard(db, host, allow_demo)  # before anything is bound or written
    _port_free(host, port)
    try:
        applied = migrate(db)
    except Exception as exc:  # noqa: BLE001 - unreachable or refused: one line, no traceback
        if not is_postgres(db):
            raise
        raise _postgres_failed("migrating", db, exc) from None
    if applied:
        click.echo(f"applied migrations: {', '.join(applied)}")
    rebuilt = _ensure_read_models(db)
    if rebuilt:
        click.echo(f"rebuilt read models: {', '.join(rebuilt)}")
    os.environ.update(STAROSTA_DB=db, STAROSTA_HOST=host, STAROSTA_PORT=str(port),
                      STAROSTA_SYNCHRONOUS=synchronous.upper())
    from starosta.service.db import shown

    where = shown(db) if is_postgres(db) else os.path.abspath(db)
    if demo:
        click.echo(DEMO_BANNER.format(where=where))
    click.echo(f"starosta serving {where} on http://{host}:{port} "
               f"(OpenAPI at http://{host}:{port}/schema)")
    if settings.trusted_proxies:
        click.echo(f"clients as X-Forwarded-For names them, from STAROSTA_TRUSTED_PROXIES="
                   f"{settings.trusted_proxies}")
    Granian("starosta.service.app:app_from_env", factory=True, interface="asgi", address=host,
            port=port, workers=1, loop="uvloop", log_access=False).serve()


DEMO_BANNER = ("*** DEMO ARCHIVE: {where} is the demo, whose tokens are public (demo-admin-token "
               "is an admin): for trying starosta, never for real records. A real archive: "
               "starosta migrate, starosta token create, starosta serve on a new --db. ***")


def _demo_guard(db: str, host: str, allow_demo: bool) -> bool:
    """Return whether `db` is the demo archive (marker.demo_state); refuse, in one line, to
    serve it on a host that is not loopback without `allow_demo`. Reads only."""
    from starosta.service.db import shown
    from starosta.service.demo.marker import demo_state, is_loopback

    try:
        if demo_state(db) is None:
            return False
    except sqlite3.Error as exc:  # a file that is not SQLite's
        raise click.ClickException(f"cannot open {shown(db)}: {exc}") from None
    if not (allow_demo or is_loopback(host)):
        raise click.ClickException(
            f"{shown(db)} is the demo archive, whose tokens are public: it is served on loopback "
            f"only, not on {host}; pass --allow-demo to serve it there all the same")
    return True


def _ensure_read_models(db: str) -> list[str]:
    """Build the read models whose code version changed (as the service would on start, under
    the same rebuild lock) and catch up the rest; return those built. Raises ClickException,
    in one line, while another rebuild of `db` runs or when the database cannot be written."""
    from starosta.events.store import StoreError
    from starosta.projections.runner import RebuildRunning
    from starosta.projections.read_models import default_runner
    from starosta.service.db import shown
    from starosta.service.db import builder_of, is_postgres, open_store

    try:
        store = open_store(db)
    except StoreError as exc:
        raise click.ClickException(f"cannot open {shown(db)}: {exc}") from None
    try:
        with builder_of(db, store) as builder:  # the owner's, on PostgreSQL
            if not is_postgres(db):
                return default_runner().ensure(store, builder=builder)
            return _ensure_waiting(store, builder)
    except RebuildRunning as exc:
        raise click.ClickException(f"cannot serve yet: {exc}") from None
    except (StoreError, OSError) as exc:
        raise click.ClickException(f"cannot bring the read models of {shown(db)} up to date: "
                                   f"{exc}") from None
    finally:
        store.close()


REBUILD_WAIT_S = 300  # how long a server on PostgreSQL waits for another's rebuild


def _ensure_waiting(store, builder) -> list[str]:
    """`Runner.ensure` for a server on PostgreSQL, where several servers share one database
    and may start together: while another process builds the read models, wait for it (up to
    REBUILD_WAIT_S), then catch up what it built. Raises RebuildRunning after that."""
    import time

    from starosta.projections.runner import RebuildRunning
    from starosta.projections.read_models import default_runner

    runner = default_runner()
    deadline = time.monotonic() + REBUILD_WAIT_S
    said = False
    while True:
        try:
            return runner.ensure(store, builder=builder)
        except RebuildRunning as exc:
            if time.monotonic() > deadline:
                raise
            if not said:
                click.echo(f"waiting: {exc}", err=True)
                said = True
            time.sleep(0.5)


def _port_free(host: str, port: int) -> None:
    """Refuse to serve on a port another process listens on (granian would share it, and
    requests would alternate between two archives). Raises ClickException."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # SO_REUSEADDR: connections of a server just stopped (TIME_WAIT) do not block a restart,
        # while a live listener still refuses the bind (Linux); never SO_REUSEPORT, which would
        # share the port with it
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror} (is another "
                                       "starosta or server running there? choose --port)") from None


@main.command()
@_new_db_option
def migrate(db: str) -> None:
    """Create or upgrade the database schema; applying twice changes nothing.

    \b
    Example:
      starosta migrate --db ./var/starosta.db
    """
    from starosta.migrations import MigrationError
    from starosta.service.db import is_postgres
    from starosta.service.db import migrate as run

    if is_postgres(db):
        import psycopg

        try:
            applied = run(db)
        except (MigrationError, psycopg.Error) as exc:
            raise _postgres_failed("migrating", db, exc) from None
    else:
        applied = run(db)
    click.echo(f"applied: {', '.join(applied)}" if applied else "up to date")


@main.command()
@_db_option
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
    from starosta.events.chain import GENESIS, verify_connection
    from starosta.service.db import is_postgres

    # GET /events/head of an empty archive publishes the chain's start, which no row holds
    expect_empty = expect_head is not None and expect_head.strip().lower() == GENESIS
    if is_postgres(db):
        verdict = _verify_postgres(db, None if expect_empty else expect_head)
    else:
        if not os.path.exists(db):
            raise click.ClickException(f"no database at {db}")
        conn = sqlite3.connect(f"file:{os.path.abspath(db)}?mode=ro", uri=True)
        try:
            verdict = verify_connection(conn, None if expect_empty else expect_head)
        except sqlite3.DatabaseError as exc:
            click.echo(f"BROKEN: the database cannot be read: {exc}", err=True)
            sys.exit(1)
        finally:
            conn.close()
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


def _verify_postgres(db: str, expect_head: str | None):
    """Walk the chain of the PostgreSQL log at `db` (the service's role reads it); exit 1 in
    one line when it cannot be read."""
    import psycopg

    from starosta.events.store import StoreError
    from starosta.service.db import open_event_store, scrubbed, shown

    try:
        store = open_event_store(db)
        try:
            return store.verify(expect_head)
        finally:
            store.close()
    except (StoreError, psycopg.Error) as exc:
        detail = scrubbed(" ".join(str(exc).split()), db)
        click.echo(f"BROKEN: the database {shown(db)} cannot be read: {detail}", err=True)
        sys.exit(1)


def _verify_read_models(db: str) -> None:
    """Compare every live read model of `db` with its rebuild from the log
    (projections.audit); print one line, and exit 1 when one differs or cannot be compared."""
    from starosta.events.store import StoreError
    from starosta.projections.audit import CannotCompare, verify_read_models
    from starosta.projections.runner import RebuildRunning
    from starosta.projections.read_models import default_runner
    from starosta.service.db import open_event_store

    try:
        store = open_event_store(db, owner=True)  # the owner's on PostgreSQL: it creates tables
        try:
            found = verify_read_models(default_runner(), store)
        finally:
            store.close()
    except (CannotCompare, RebuildRunning, StoreError, OSError, sqlite3.Error) as exc:
        raise click.ClickException(f"cannot check the read models: {' '.join(str(exc).split())}") \
            from None
    if found.ok:
        click.echo(f"ok: {len(found.compared)} read models hold what a rebuild from the log "
                   f"holds at position {found.position} ({found.seconds:.1f} s)")
        return
    first = found.first
    others = [n for n in found.differing if n != first]
    click.echo(f"BROKEN: read model {first} differs from its rebuild from the log at position "
               f"{found.position} (table {', '.join(found.differing[first])})"
               + (f"; also {', '.join(others)}" if others else "")
               + f": its rows were changed outside starosta (or its code is not deterministic); "
               f"`starosta rebuild {first}` replaces them with the rebuild", err=True)
    sys.exit(1)


@main.command()
@_db_option
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
    from starosta.projections.runner import RebuildRunning, rebuild_lock
    from starosta.projections.read_models import default_runner

    runner = default_runner()
    unknown = [n for n in names if n not in runner.names()]
    if unknown:
        raise click.ClickException(f"unknown projection {', '.join(unknown)}; known: {', '.join(runner.names())}")
    from starosta.service.db import is_postgres

    if not is_postgres(db) and not os.path.exists(db):
        raise click.ClickException(f"no database at {db}")
    try:
        if is_postgres(db):  # as the owner; the lock is the database's (runner.rebuild_many)
            digests = _rebuild_all(db, runner, names)
        else:
            # taken before the database is opened: a second rebuild fails at once, touching
            # nothing (not even the migrations' write lock, which the running rebuild may hold)
            with rebuild_lock(db):
                digests = _rebuild_all(db, runner, names)
    except RebuildRunning as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # the lock file beside the database cannot be created
        raise click.ClickException(f"cannot rebuild {db}: {exc}") from None
    for name, digest in digests.items():
        click.echo(f"{name} content hash {digest}")


def _rebuild_all(db: str, runner: Runner, names: tuple[str, ...]) -> dict[str, str | None]:
    """Rebuild the named projections of `db` (all when none) with progress bars; return their
    content hashes. Raises ClickException when the rebuild fails."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from starosta.events.store import StoreError
    from starosta.service.db import is_postgres, open_event_store, open_store

    try:
        store = open_store(db)
        if is_postgres(db):  # tables are created, dropped and renamed by the owner
            store.close()
            store = open_event_store(db, owner=True)
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


@main.command()
@_new_db_option
@click.option("--if-empty", is_flag=True,
              help="On an archive that is not new, load nothing and exit 0: say it is the demo "
                   "already, or how to make a token for it (what `make run` does).")
def demo(db: str, if_empty: bool) -> None:
    """Load the demo archive (entered from the two seed texts) into a new database (a new
    SQLite file, or a PostgreSQL schema holding nothing), mark it as the demo, and print its
    fixed, public demo tokens: contributor, reviewer, admin. Anything else is refused:
    an archive with events, tokens or the tables of another run never gets the demo.

    \b
    Example:
      starosta demo --db ./var/demo.db && starosta serve --db ./var/demo.db
    """
    from rich.progress import Progress

    from starosta.service.db import shown
    from starosta.service.demo.load import AlreadyDemo, DemoError, NotNew, load
    from starosta.service.demo.marker import LOADED

    where = shown(db)
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("loading the demo archive", total=None)
            counts = load(db, lambda done, total: progress.update(task, completed=done, total=total))
    except AlreadyDemo as exc:
        if exc.state != LOADED:
            raise click.ClickException(
                f"{where} holds a demo load that has not finished (or is running now): when none "
                "runs, delete it (or drop its schema) and run `starosta demo` again") from None
        if not if_empty:
            raise click.ClickException(f"{where} is the demo archive already: nothing loaded "
                                       "(the demo loads only into a new database)") from None
        click.echo(f"{where} is the demo archive: not loading it again")
        _demo_tokens()
        return
    except NotNew as exc:
        if not if_empty:
            raise click.ClickException(
                f"{where} is not a new database ({exc}): the demo, with its public tokens, loads "
                "only into a new SQLite file or an empty PostgreSQL schema; choose another --db") from None
        click.echo(f"{where} is an archive ({exc}), not the demo: loading nothing into it")
        click.echo(f"make yourself a token for it: {_me()} token create --name \"YOUR NAME\" "
                   f"--role admin --db {_quoted(where)}")
        return
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
    except sqlite3.Error as exc:  # a directory, a file that is not SQLite's: never a new one
        raise click.ClickException(f"cannot load the demo into {where}: {exc}") from None
    click.echo("demo archive loaded: " + ", ".join(f"{n} {op}s" for op, n in counts.items()))
    _demo_tokens()


def _demo_tokens() -> None:
    from starosta.service.demo.load import DEMO_TOKENS

    click.echo("demo tokens (public: this demo archive only, served on loopback only):")
    for role, (name, token) in DEMO_TOKENS.items():
        click.echo(f"  {role:<12} {token}  ({name})")


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


@main.group()
def export() -> None:
    """Export the log (JSON Lines), a biography (JSON), a population timeline or a ledger (CSV).

    \b
    Example:
      starosta export log --db ./var/starosta.db --out log.jsonl
    """


@export.command("log")
@_db_option
@click.option("--out", type=click.Path(dir_okay=False), default="-", show_default=True,
              help="File to write (- for standard output).")
@click.option("--after", type=int, default=0, show_default=True, help="Export events after this position.")
@_force_option
def export_log_command(db: str, out: str, after: int, force: bool) -> None:
    """Stream the log as JSON Lines, one stored row per line (what `starosta import` takes).

    \b
    Example:
      starosta export log --db ./var/starosta.db --out log.jsonl
    """
    from starosta.service.db import is_postgres, open_event_store
    from starosta.service.transfer import export_log

    if not is_postgres(db):
        _require_db(db)
        _output(out, force, db)
        store = open_event_store(db)
        with click.open_file(out, "wb") as f:
            count = export_log(store.read_rows(after), f)
        store.close()
    else:
        import psycopg

        from starosta.events.store import StoreError

        _output(out, force)
        try:
            store = open_event_store(db)
            try:
                with click.open_file(out, "wb") as f:
                    count = export_log(store.read_rows(after), f)
            finally:
                store.close()
        except (StoreError, psycopg.Error) as exc:
            raise _postgres_failed("exporting the log of", db, exc) from None
    click.echo(f"exported {count} events", err=True)


def _get(db: str, path: str, accept: str = "application/json") -> bytes:
    """Answer a GET through the real app in-process (the same code as the HTTP API)."""
    from litestar.testing import TestClient

    from starosta.service.app import create_app

    _require_db(db)
    with TestClient(create_app(Settings(db=db))) as client:
        answer = client.get(path, headers={"Accept": accept})
    if answer.status_code != 200:
        raise click.ClickException(f"{path}: {answer.status_code} {answer.text}")
    return answer.content


@export.command("biography")
@_db_option
@click.argument("person_id")
@click.option("--as-of", default=None, help="A log position or RFC 3339 timestamp.")
def export_biography(db: str, person_id: str, as_of: str | None) -> None:
    """Print a person's biography as JSON.

    \b
    Example:
      starosta export biography P-4G7K2M9Q --db ./var/starosta.db > monclus.json
    """
    from urllib.parse import quote

    suffix = f"?as_of={quote(as_of)}" if as_of else ""
    click.echo(_get(db, f"/persons/{quote(person_id)}/biography{suffix}").decode())


@export.command("population")
@_db_option
@click.argument("place_id")
@click.option("--step", type=click.Choice(["year", "month"]), default="year", show_default=True)
def export_population(db: str, place_id: str, step: str) -> None:
    """Print a place's population timeline as CSV.

    \b
    Example:
      starosta export population PL-4G7K2M9Q --step year --db ./var/starosta.db > butyrka.csv
    """
    from urllib.parse import quote

    click.echo(_get(db, f"/places/{quote(place_id)}/population/timeline?step={step}&format=csv").decode(), nl=False)


@export.command("ledger")
@_db_option
@click.argument("fund_id")
def export_ledger(db: str, fund_id: str) -> None:
    """Print a fund's ledger entries as CSV.

    \b
    Example:
      starosta export ledger F-4G7K2M9Q --db ./var/starosta.db > fund.csv
    """
    from urllib.parse import quote

    click.echo(_get(db, f"/funds/{quote(fund_id)}/ledger?format=csv").decode(), nl=False)


@main.command("import")
@_new_db_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--expect-head", default=None, help="Refuse unless the file's last hash is this "
              "one (the head published by the archive it came from).")
def import_command(db: str, path: str, expect_head: str | None) -> None:
    """Import an exported log (JSON Lines) into a new database: every line is checked and the
    hash chain verified first; any bad line refuses the whole file and writes nothing.

    \b
    Example:
      starosta import log.jsonl --db ./var/restored.db --expect-head 3f2a...
    """
    from rich.progress import Progress

    from starosta.events.store import StoreError
    from starosta.service.db import is_postgres
    from starosta.service.transfer import ImportRefused, import_log

    if is_postgres(db):
        count, head = _import_postgres(path, db, expect_head)
        click.echo(f"imported {count} events; head {head}")
        return
    with Progress(transient=True) as progress:
        task = progress.add_task("verifying and importing", total=None)
        try:
            count, head = import_log(path, db, lambda n: progress.update(task, completed=n),
                                     expect_head)
        except ImportRefused as exc:
            raise click.ClickException(f"import refused, nothing written: {exc}") from None
        except (StoreError, OSError) as exc:  # a full disk, a read-only directory
            raise click.ClickException(f"import failed, {db} is as it was: {exc}") from None
    click.echo(f"imported {count} events; head {head}")


def _import_postgres(path: str, db: str, expect_head: str | None) -> tuple[int, str]:
    """Import an export file into the empty PostgreSQL log at `db`, as the owner: migrated,
    every line checked and the chain verified first, then loaded in one transaction (COPY)
    under the append lock, which refuses a log holding events. Nothing is written on refusal."""
    import psycopg

    from starosta.events.store import LogNotEmpty, StoreError
    from starosta.migrations import MigrationError
    from starosta.service.db import migrate, open_event_store, shown
    from starosta.service.transfer import ImportRefused, bounded_lines, verify_lines

    where = shown(db)
    try:
        migrate(db)
        store = open_event_store(db, owner=True)
    except (MigrationError, StoreError, psycopg.Error) as exc:
        raise _postgres_failed("importing into", db, exc) from None
    try:
        if store.head().position:
            raise ImportRefused(f"{where} already holds events: import into a new database")
        with open(path, "rb") as f:
            count, head = verify_lines(bounded_lines(f))
        if expect_head is not None and head != expect_head:
            raise ImportRefused(f"the file's head is {head} at position {count}, not the expected "
                                f"{expect_head}: it is another archive, or was cut short")
        with open(path, "rb") as f:  # checked whole above: loaded as stored, one transaction
            store.load_rows(_decode_export(line) for line in bounded_lines(f) if line.strip())
        from starosta.service import accounts
        from starosta.projections.read_models import default_runner

        with store.write_transaction() as tx:  # the log's names get their accounts
            accounts.backfill(tx)

        default_runner().ensure(store)  # the read models, built as the owner (as serve would)
    except LogNotEmpty:  # filled meanwhile: the load's own check, under the append lock
        raise click.ClickException(f"import refused, nothing written: {where} already holds "
                                   "events: import into a new database") from None
    except ImportRefused as exc:
        raise click.ClickException(f"import refused, nothing written: {exc}") from None
    except (StoreError, psycopg.Error, OSError) as exc:
        raise click.ClickException(f"import failed, {where} is as it was: "
                                   f"{' '.join(str(exc).split())}") from None
    finally:
        store.close()
    return count, head


def _decode_export(line: bytes):
    import msgspec

    from starosta.events.store import StoredRow

    return msgspec.json.decode(line, type=StoredRow)


@main.command()
@click.option("--persons", type=click.IntRange(min=1), required=True, help="How many synthetic persons.")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed writes the same bytes.")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="The export file (JSON Lines) to write.")
@click.option("--load", "load_db", type=click.Path(dir_okay=False), default=None,
              help="Also import it into this new database (as `starosta import`).")
@_force_option
def synth(persons: int, seed: int, out: str, load_db: str | None, force: bool) -> None:
    """Write a clearly SYNTHETIC archive (every name and source marked synthetic) as an export
    file, deterministic for a seed; optionally import it into a new database.

    \b
    Example:
      starosta synth --persons 100000 --seed 7 --out var/synth.jsonl --load var/synth.db
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from starosta.service.db import is_postgres
    from starosta.service.synth import generate
    from starosta.service.transfer import ImportRefused, import_log

    _output(out, force, load_db)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("generating persons", total=persons)
        with open(out, "wb") as f:
            counts = generate(f, persons, seed, lambda done, total: progress.update(task, completed=done))
        total = sum(counts.values())
        if load_db:
            # the bar covers the check of every line; inserting and building projections follow
            loading = progress.add_task("verifying events (then inserting, building projections)", total=total)
            try:
                if is_postgres(load_db):
                    _import_postgres(out, load_db, None)
                else:
                    import_log(out, load_db, lambda n: progress.update(loading, completed=n))
            except ImportRefused as exc:
                raise click.ClickException(f"import refused, nothing written: {exc}") from None
            progress.update(loading, completed=total)
    click.echo(f"wrote {total} synthetic events for {persons} persons to {out}"
               + (f"; imported into {load_db}" if load_db else ""))


@main.command("backup")
@_db_option
@click.argument("target", type=click.Path(dir_okay=False))
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

    from starosta.events.store import StoreError
    from starosta.service.db import is_postgres
    from starosta.service.transfer import COMPANIONS, backup, remove_files, sync_directory

    if is_postgres(db):
        _backup_postgres(db, target, force)
        return
    _require_db(db)
    _output(target, force, db)
    partial = f"{target}.{os.getpid()}.partial"  # this run's own name: nobody else writes it
    remove_files(partial, ("", *COMPANIONS))
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("backing up", total=None)
            backup(db, partial, lambda done, total: progress.update(task, completed=done, total=total))
        if not force and os.path.exists(target):  # appeared meanwhile: still never replaced
            raise click.ClickException(f"{target} exists: pass --force to replace it")
        # a -wal or -shm left beside the file replaced would be read as the new copy's
        remove_files(target, COMPANIONS)
        os.replace(partial, target)
        sync_directory(os.path.dirname(os.path.abspath(target)))
    except (StoreError, sqlite3.Error, OSError) as exc:  # a full disk, an unwritable directory
        raise click.ClickException(f"backup failed, {target} is as it was: {exc}") from None
    finally:
        remove_files(partial, ("", *COMPANIONS))
    click.echo(f"backed up {db} to {target}")


PG_DUMP_MISSING = ("backup of a PostgreSQL database needs pg_dump on PATH: install PostgreSQL's "
                   "client tools (apt-get install postgresql-client), of the server's version or newer")


def _backup_postgres(db: str, target: str, force: bool) -> None:
    """Back up the PostgreSQL database at `db` with pg_dump (custom format, as the owner: the
    service's role cannot read every table), written beside TARGET and moved into place once
    complete. Restore with pg_restore into a new database, then `starosta verify`."""
    import shutil
    import subprocess

    from starosta.service.db import owner_url, shown
    from starosta.service.transfer import remove_files, sync_directory

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise click.ClickException(PG_DUMP_MISSING)
    _output(target, force)
    partial = f"{target}.{os.getpid()}.partial"
    remove_files(partial, ("",))
    try:
        # the URL as one argument, never in a shell; --no-password: never wait on a prompt
        done = subprocess.run([pg_dump, "--format=custom", "--no-password", f"--file={partial}",
                               f"--dbname={owner_url(db)}"], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            detail = " ".join((done.stderr or done.stdout).split()) or f"exit {done.returncode}"
            raise click.ClickException(f"backup failed, {target} is as it was: pg_dump: {detail}")
        if not force and os.path.exists(target):  # appeared meanwhile: still never replaced
            raise click.ClickException(f"{target} exists: pass --force to replace it")
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, target)
        sync_directory(os.path.dirname(os.path.abspath(target)))
    except OSError as exc:
        raise click.ClickException(f"backup failed, {target} is as it was: {exc}") from None
    finally:
        remove_files(partial, ("",))
    click.echo(f"backed up {shown(db)} to {target} (pg_dump custom format: restore with pg_restore)")


@main.command("publish")
@_db_option
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--metadata", "metadata_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the Datasette metadata (default: OUT's name with .metadata.json).")
@click.option("--force", is_flag=True, default=False,
              help="Replace OUT and the metadata file if they exist (never the database read).")
def publish_command(db: str, out: str, metadata_path: str | None, force: bool) -> None:
    """Publish the approved archive as a plain, documented SQLite database (sqlite-utils:
    tables, foreign keys, full-text search, views) with a metadata.json for Datasette.
    Nothing pending, contested or rejected; no tokens, no contributor names. Prints the log
    position and head it was read at, and a content hash: the same log gives the same hash.

    \b
    Example:
      starosta publish public/starosta.db --db ./var/starosta.db && datasette public/starosta.db -m public/starosta.metadata.json
    """
    from starosta.events.store import StoreError
    from starosta.projections.runner import RebuildRunning
    from starosta.service.publish import PublishRefused, default_metadata_path, publish

    metadata_path = metadata_path or default_metadata_path(out)
    _require_db(db)
    if out == "-" or metadata_path == "-":
        raise click.ClickException("publish writes files: name OUT (and --metadata) as paths")
    if os.path.realpath(out) == os.path.realpath(metadata_path):
        raise click.ClickException(f"OUT and --metadata are both {out}: choose two files")
    _output(out, force, db)
    _output(metadata_path, force, db)
    try:
        done = publish(db, out, metadata_path, force)
    except (PublishRefused, RebuildRunning) as exc:
        raise click.ClickException(f"nothing published: {exc}") from None
    except (StoreError, sqlite3.Error, OSError) as exc:  # a full disk, an unwritable directory
        raise click.ClickException(f"publish failed, {out} is as it was: {exc}") from None
    if done.rebuilt:
        click.echo(f"rebuilt read models first: {', '.join(done.rebuilt)}", err=True)
    counts = ", ".join(f"{n} {table}" for table, n in done.rows.items())
    click.echo(f"published {out} ({counts}) at log position {done.head.position}, head "
               f"{done.head.hash}, in {done.seconds:.1f} s; metadata: {done.metadata}")
    click.echo(f"content hash {done.content_hash}")


def _output(out: str, force: bool, *reads: str | None) -> None:
    """Check a file the CLI is about to write: never a database it reads (nor its -wal or
    -shm), nothing existing unless `force`; its directory is created. Raises ClickException."""
    if out == "-":
        return
    target = os.path.realpath(out)
    for db in filter(None, reads):
        real = os.path.realpath(db)
        if target in (real, real + "-wal", real + "-shm", real + "-journal") or _same_file(out, db):
            raise click.ClickException(f"refusing to write {out}: it is the database {db} this "
                                       "command reads; choose another file")
    if os.path.exists(out) and not force:
        raise click.ClickException(f"{out} exists: pass --force to replace it")
    parent = os.path.dirname(os.path.abspath(out))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot create the directory {parent}: {exc.strerror}") from None


def _same_file(a: str, b: str) -> bool:
    """Return True when both paths exist and are one file (a hard link, a bind mount)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _require_db(db: str) -> None:
    """Refuse a SQLite file that does not exist (a PostgreSQL URL is checked by connecting)."""
    from starosta.service.db import is_postgres

    if not is_postgres(db) and not os.path.exists(db):
        raise click.ClickException(f"no database at {db}: create one with `{_me()} migrate --db "
                                   f"{db}` (or load the demo into a new one with `{_me()} demo`)")


def _me() -> str:
    """How to call this `starosta` again: `starosta` when that name finds this program on
    PATH, else the path it was started by (e.g. .venv/bin/starosta, as `make run` does)."""
    import shutil

    started = sys.argv[0] if sys.argv and sys.argv[0] else "starosta"
    found = shutil.which("starosta")
    if os.path.basename(started) != "starosta":  # python -m starosta.service.cli
        return "starosta"
    if found and os.path.realpath(found) == os.path.realpath(shutil.which(started) or started):
        return "starosta"
    return started


@main.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--server", envvar="STAROSTA_SERVER", required=True, help="The API's base URL (env STAROSTA_SERVER).")
@click.option("--token", envvar="STAROSTA_TOKEN", default=None, help="A contributor's token (env STAROSTA_TOKEN).")
@click.option("--kind", default=None, help="The claims' kind, when the CSV has no `kind` column.")
@click.option("--dry-run", is_flag=True, help="Check every row (labels resolved), submit nothing.")
@click.option("--report", type=click.Path(dir_okay=False), default=None,
              help="Write the report here: CSV, or JSON Lines for .jsonl (row, status, claim id or the error with its field).")
def submit_command(file: str, server: str, token: str | None, kind: str | None, dry_run: bool,
                   report: str | None) -> None:
    """Submit claims from a CSV file (one kind per file, a column per field) or JSON Lines.

    Every row is checked first (labels of persons, places, organisations and funds resolved
    through the search endpoints, types, dates); --dry-run stops there. Then the valid rows
    are submitted through the API, with a progress bar. Exits 1 when a row failed. Run it
    again after a failure: a row sent before is not sent twice (its Idempotency-Key comes
    from its kind and its canonical body), and rows edited since the last --report are
    flagged. The README's "Bulk submission" gives the CSV mapping.

    \b
    Example:
      starosta submit custody.csv --kind custody --server http://127.0.0.1:8000 --token demo-contributor-token --report custody.report.csv
    """
    from starosta.client import StarostaError
    from starosta.service.submit import run_in_terminal, summary

    try:
        outcome = run_in_terminal(server, token, file, kind=kind, dry_run=dry_run, report=report)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    except StarostaError as exc:
        raise click.ClickException(f"{server}: {exc}") from None
    problems, text = summary(outcome, dry_run)
    for line in problems:
        click.echo(line, err=True)
    click.echo(text)
    if not outcome.ok:
        sys.exit(1)


@main.group()
def identity() -> None:
    """Reviewers' identity judgements on person records (merges, distinctions).

    \b
    Example:
      starosta identity conflicts --db ./var/starosta.db
    """


@identity.command("conflicts")
@_db_option
def identity_conflicts(db: str) -> None:
    """List the judgements the log holds but the registry ignores, because they contradict
    earlier ones (a cycle of merges, a merge of records judged distinct, "distinct" within
    one record: written by racing reviewers before judgements conflicted): position,
    judgement, record, other record, reviewer, why. Settle each with a new judgement.

    \b
    Example:
      starosta identity conflicts --db ./var/starosta.db
    """
    from starosta.projections import registry
    from starosta.service.db import open_archive

    _require_db(db)
    archive = open_archive(db)  # read models built or caught up: the registry's verdict
    try:
        found = registry.judgement_conflicts(archive.store.reader())
    finally:
        archive.close()
    for c in found:
        click.echo(f"{c.position}\t{c.judgement}\t{c.person_id}\t{c.other}\t{c.reviewer}\t"
                   f"{c.refusal}")
    click.echo(f"{len(found)} conflicting judgement{'s' if len(found) != 1 else ''} ignored",
               err=True)


@main.group()
def token() -> None:
    """Create, list and revoke access tokens (only a hash of each is stored).

    \b
    Example:
      starosta token create --name "Ada Reviewer" --role reviewer
    """


@token.command("create")
@_db_option
@click.option("--name", required=True, help="Who will use the token (recorded as the actor).")
@click.option("--role", required=True, type=click.Choice(["contributor", "reviewer", "admin"]),
              help="contributor < reviewer < admin.")
def token_create(db: str, name: str, role: str) -> None:
    """Create a token and print it once; it cannot be shown again.

    \b
    Example:
      starosta token create --name "Ada Reviewer" --role reviewer --db ./var/starosta.db
    """
    from starosta.events.store import StoreError
    from starosta.service.access import create_tokens

    _write_conn(db).close()  # migrated, and the one-line errors of a missing or unwritable file
    try:
        [(token_id, secret)] = create_tokens(db, [(name, role, None)])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    except (StoreError, sqlite3.Error) as exc:  # a full or failing disk: nothing was written
        raise click.ClickException(f"no token created, nothing written: {exc}") from None
    click.echo(f"token {token_id} for {name.strip()} ({role}); shown once, keep it:", err=True)
    click.echo(secret)


@token.command("list")
@_db_option
def token_list(db: str) -> None:
    """List tokens: id, name, role, account, created, revoked (never the token itself).

    The account id (A-...) is what readers below reviewer see in place of the name.

    \b
    Example:
      starosta token list --db ./var/starosta.db
    """
    from starosta.service.access import list_tokens

    for t in list_tokens(_write_conn(db)):
        click.echo(f"{t.id}\t{t.name}\t{t.role}\t{t.account or '-'}\tcreated {t.created_at}"
                   + (f"\trevoked {t.revoked_at}" if t.revoked_at else ""))


@token.command("revoke")
@_db_option
@click.argument("token_id")
def token_revoke(db: str, token_id: str) -> None:
    """Revoke a token by its id (from `starosta token list`); it answers 401 from then on.

    \b
    Example:
      starosta token revoke T-1a2b3c4d --db ./var/starosta.db
    """
    from starosta.service.access import revoke_token

    if not revoke_token(_write_conn(db), token_id):
        raise click.ClickException(f"no live token with id {token_id}")
    click.echo(f"revoked {token_id}")


def _write_conn(db: str):
    from starosta.events.store import connect
    from starosta.service.db import is_postgres
    from starosta.service.db import migrate as run

    run(db)
    if is_postgres(db):  # as the owner (autocommit): the service's role only reads tokens
        import psycopg

        from starosta.events.postgres_store import PostgresTransaction
        from starosta.service.db import owner_url

        return PostgresTransaction(psycopg.connect(owner_url(db), autocommit=True,
                                                   connect_timeout=10))
    return connect(db)


if __name__ == "__main__":
    main()
