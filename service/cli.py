"""The `starosta` command: serve, migrate, verify (more commands arrive with their issues)."""

from __future__ import annotations

import os
import sqlite3
import sys

import click

from service.settings import Settings

DEFAULTS = Settings()
DB_HELP = "SQLite file of the archive (env STAROSTA_DB, default ./var/starosta.db)."


def _db_option(fn):
    return click.option("--db", "db", envvar="STAROSTA_DB", default=DEFAULTS.db,
                        show_default=True, help=DB_HELP)(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
def serve(db: str, host: str, port: int, synchronous: str) -> None:
    """Serve the HTTP API (granian, one worker, uvloop) on the embedded SQLite file.

    \b
    Example:
      starosta serve --db ./var/starosta.db --host 127.0.0.1 --port 8000
    """
    from granian import Granian  # imported here: other commands need no server

    from service.db import migrate

    applied = migrate(db)
    if applied:
        click.echo(f"applied migrations: {', '.join(applied)}")
    os.environ.update(STAROSTA_DB=db, STAROSTA_HOST=host, STAROSTA_PORT=str(port),
                      STAROSTA_SYNCHRONOUS=synchronous.upper())
    Settings.from_env()  # fail here, with the variable named, rather than in the worker
    click.echo(f"starosta serving {os.path.abspath(db)} on http://{host}:{port} "
               f"(OpenAPI at http://{host}:{port}/schema)")
    Granian("service.app:app_from_env", factory=True, interface="asgi", address=host,
            port=port, workers=1, loop="uvloop", log_access=False).serve()


@main.command()
@_db_option
def migrate(db: str) -> None:
    """Create or upgrade the database schema; applying twice changes nothing.

    \b
    Example:
      starosta migrate --db ./var/starosta.db
    """
    from service.db import migrate as run

    applied = run(db)
    click.echo(f"applied: {', '.join(applied)}" if applied else "up to date")


@main.command()
@_db_option
@click.option("--expect-head", metavar="HASH", default=None,
              help="A published head hash (GET /events/head) that must be in the log.")
def verify(db: str, expect_head: str | None) -> None:
    """Walk the hash chain; exit 0 when intact, 1 naming the first broken position.

    \b
    Example:
      starosta verify --db ./var/starosta.db --expect-head 3f1c...e9
    """
    from events.chain import verify_connection

    if not os.path.exists(db):
        raise click.ClickException(f"no database at {db}")
    conn = sqlite3.connect(f"file:{os.path.abspath(db)}?mode=ro", uri=True)
    try:
        verdict = verify_connection(conn, expect_head)
    except sqlite3.DatabaseError as exc:
        click.echo(f"BROKEN: the database cannot be read: {exc}", err=True)
        sys.exit(1)
    finally:
        conn.close()
    if verdict.ok:
        click.echo(f"ok: {verdict.count} events, chain intact; head {verdict.head_position} "
                   f"{verdict.head_hash}")
        return
    click.echo(f"BROKEN at position {verdict.broken_at}: {verdict.reason} "
               f"({verdict.count} events verified before it)", err=True)
    sys.exit(1)


@main.command()
@_db_option
@click.argument("names", nargs=-1)
def rebuild(db: str, names: tuple[str, ...]) -> None:
    """Replay the log into fresh projection tables and swap them in, while the service serves.

    NAMES are projections (default: all). Prints each projection's content hash: two
    rebuilds of one log print the same hashes.

    \b
    Example:
      starosta rebuild --db ./var/starosta.db registry claims
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from service.archive import default_runner
    from service.db import open_store

    store = open_store(db)
    runner = default_runner()
    unknown = [n for n in names if n not in runner.names()]
    if unknown:
        raise click.ClickException(f"unknown projection {', '.join(unknown)}; known: {', '.join(runner.names())}")
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>9} events/s"), TimeElapsedColumn())
    digests = {}
    with Progress(*columns, transient=False) as progress:
        for name in names or runner.names():
            task = progress.add_task(name, total=max(store.head().position, 1), rate="-")
            started = time.monotonic()

            def report(_: str, position: int, head: int, task=task, started=started) -> None:
                rate = position / max(time.monotonic() - started, 1e-6)
                progress.update(task, completed=position, total=max(head, 1), rate=f"{rate:,.0f}")

            digests[name] = runner.rebuild(store, name, report)
            progress.update(task, completed=progress.tasks[task].total)
    for name, digest in digests.items():
        click.echo(f"{name} content hash {digest}")
    store.close()


@main.command()
@_db_option
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database already holds events.")
def demo(db: str, if_empty: bool) -> None:
    """Load the demo archive (entered from the two seed texts) into an empty database and
    print the fixed demo tokens: contributor, reviewer, admin.

    \b
    Example:
      starosta demo --db ./var/demo.db && starosta serve --db ./var/demo.db
    """
    from rich.progress import Progress

    from service.demo.load import DEMO_TOKENS, DemoError, is_empty, load

    if not is_empty(db):
        if if_empty:
            click.echo(f"{db} already holds events: not loading the demo")
            return
        raise click.ClickException(f"{db} already holds events: the demo loads only into an empty database")
    with Progress(transient=True) as progress:
        task = progress.add_task("loading the demo archive", total=None)
        try:
            counts = load(db, lambda done, total: progress.update(task, completed=done, total=total))
        except DemoError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo("demo archive loaded: " + ", ".join(f"{n} {op}s" for op, n in counts.items()))
    click.echo("demo tokens (demo databases only):")
    for role, (name, token) in DEMO_TOKENS.items():
        click.echo(f"  {role:<12} {token}  ({name})")


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
    from service.auth import create_token

    conn = _write_conn(db)
    try:
        conn.execute("BEGIN IMMEDIATE")
        token_id, secret = create_token(conn, name, role)
        conn.execute("COMMIT")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token {token_id} for {name.strip()} ({role}); shown once, keep it:", err=True)
    click.echo(secret)


@token.command("list")
@_db_option
def token_list(db: str) -> None:
    """List tokens: id, name, role, created, revoked (never the token itself).

    \b
    Example:
      starosta token list --db ./var/starosta.db
    """
    from service.auth import list_tokens

    for t in list_tokens(_write_conn(db)):
        click.echo(f"{t.id}\t{t.name}\t{t.role}\tcreated {t.created_at}"
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
    from service.auth import revoke_token

    if not revoke_token(_write_conn(db), token_id):
        raise click.ClickException(f"no live token with id {token_id}")
    click.echo(f"revoked {token_id}")


def _write_conn(db: str):
    from events.store import connect
    from service.db import migrate as run

    run(db)
    return connect(db)


if __name__ == "__main__":
    main()
