"""Opening the archive: create the directory, apply migrations, open the store, bring the
projections up to date.

The backend is chosen by the database's name, here only (`backend`): a `postgresql://` (or
`postgres://`) URL is a PostgreSQL database, anything else a SQLite file. On PostgreSQL two URLs
matter: the service's role (INSERT and SELECT on `events`),
given as the database, and the owner's, which migrates and imports: `STAROSTA_OWNER_DB`, or the
same URL when it is not set. The owner also builds the read models' tables (`open_archive`
builds missing ones with the owner's URL); the service's role only changes their rows.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

from starosta import migrations
from starosta.events.catalog import CATALOG
from starosta.events.store import GroupCommitter, SQLiteEventStore, connect

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
POSTGRES_BATCH_MAX = 60  # appends per group commit on PostgreSQL (see open_archive)


def backend(db: str) -> str:
    """Return "postgres" for a PostgreSQL URL, "sqlite" for anything else (a file's path)."""
    return "postgres" if db.strip().lower().startswith(POSTGRES_SCHEMES) else "sqlite"


def is_postgres(db: str) -> bool:
    return backend(db) == "postgres"


def owner_url(db: str) -> str:
    """Return the owner's URL for the PostgreSQL database `db`: STAROSTA_OWNER_DB, or `db`."""
    return os.environ.get("STAROSTA_OWNER_DB") or db


# The libpq parameters whose values a URL shows: none is a secret or where one is kept. Every
# other parameter's value is *** (password, sslpassword, passfile, sslkey, and a misspelt
# "pasword" as well)
SHOWN_PARAMETERS = frozenset({
    "host", "hostaddr", "port", "dbname", "user", "options", "application_name",
    "fallback_application_name", "connect_timeout", "client_encoding", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "replication", "gssencmode", "sslmode", "sslnegotiation", "sslcompression", "sslrootcert",
    "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
    "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service",
    "target_session_attrs", "load_balance_hosts", "channel_binding", "require_auth"})
_URL_IN_TEXT = re.compile(r"postgres(?:ql)?://[^\s\"'<>]*", re.IGNORECASE)
# libpq's key=value form ("host=h password=s"), quoted or not, and the same in a query string
_SECRET_SETTING = re.compile(r"\b([A-Za-z_]*(?:pass|secret|token|key)[A-Za-z_]*)(\s*=\s*)"
                             r"('(?:[^'\\]|\\.)*'|[^\s'\"&]+)", re.IGNORECASE)
REDACTED = "***"


def shown(db: str) -> str:
    """Return `db` fit for a message or a log: a PostgreSQL URL's password (userinfo) and the
    value of every query parameter but those known to hold no secret (SHOWN_PARAMETERS:
    password, sslpassword, passfile, sslkey and the rest) as ***. A SQLite path comes back as it is. Never raises, however malformed the URL: the one
    function every URL a person or a log sees goes through."""
    if not is_postgres(db):
        return db
    scheme, _, rest = db.partition("://")
    at = _userinfo_end(rest)
    if at >= 0:
        user, colon, _password = rest[:at].partition(":")
        rest = f"{user}{colon}{REDACTED if colon else ''}@{rest[at + 1:]}"
    path, question, query = rest.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        pairs = []
        for pair in query.split("&"):
            name, equals, _value = pair.partition("=")
            pairs.append(pair if not equals or name.lower() in SHOWN_PARAMETERS
                         else f"{name}={REDACTED}")
        rest = f"{path}?{'&'.join(pairs)}{hash_}{fragment}"
    return f"{scheme}://{rest}"


def _userinfo_end(rest: str) -> int:
    """Return the index of the "@" that ends a URL's userinfo (`rest` is what follows "://"),
    or -1: the last "@" of the URL. libpq ends it at the first "@" before a "/", but a
    password may hold a raw "@", "/" or "?" (libpq then misreads it, and the message quotes
    it): hiding up to the last "@" hides such a password whole, at the price of hiding a
    host when a query value holds an "@"."""
    return rest.rfind("@")


def _secrets_of(url: str) -> set[str]:
    """Return the secret strings of a PostgreSQL URL (its password, the values of its query
    parameters outside SHOWN_PARAMETERS), as written and percent-decoded."""
    if not is_postgres(url):
        return set()
    from urllib.parse import unquote

    rest = url.partition("://")[2]
    at = _userinfo_end(rest)
    found = {rest[:at].partition(":")[2]} if at >= 0 else set()
    for pair in rest.partition("?")[2].partition("#")[0].split("&"):
        name, equals, value = pair.partition("=")
        if equals and name.lower() not in SHOWN_PARAMETERS:
            found.add(value)
    return {s for secret in found for s in (secret, unquote(secret)) if s}


def scrubbed(text: str, *urls: str) -> str:
    """Return `text` (an error message, a log line) with every PostgreSQL URL in it shown as
    `shown` shows it, every libpq setting naming a secret (password=..., sslpassword=...)
    as ***, and every secret of `urls` (the URLs the text may quote: psycopg quotes a
    malformed one's parts) replaced wherever it appears."""
    for url in urls:
        for secret in sorted(_secrets_of(url), key=len, reverse=True):
            text = text.replace(secret, REDACTED)
    text = _URL_IN_TEXT.sub(lambda m: shown(m.group()), text)
    return _SECRET_SETTING.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def open_event_store(db: str, *, owner: bool = False, reader: bool = False):
    """Return the event store alone (no migrations, no projections) of `db`: a
    PostgresEventStore for a PostgreSQL URL (as the owner with `owner`; only for reading,
    opening no write connection, with `reader`: a replica), else SQLite's."""
    if is_postgres(db):
        from starosta.events.postgres_store import PostgresEventStore

        return PostgresEventStore(owner_url(db) if owner else db, CATALOG, writer=not reader)
    return SQLiteEventStore(db, CATALOG)


def migrate(path: str) -> list[str]:
    """Apply pending migrations to the database at `path` (a SQLite file, created if absent, or
    a PostgreSQL URL, migrated as its owner: migrations/postgres); return them."""
    if is_postgres(path):
        return _migrate_postgres(owner_url(path))
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    conn = connect(path)
    try:
        return migrations.apply(conn)
    finally:
        conn.close()


def _migrate_postgres(url: str) -> list[str]:
    import psycopg
    from starosta.migrations import postgres as pg_migrations

    with psycopg.connect(url, autocommit=True, connect_timeout=10,
                         application_name="starosta migrate") as conn:
        return pg_migrations.apply(conn)


def open_store(path: str, *, synchronous: str = "FULL"):
    """Migrate the database at `path` (a SQLite file or a PostgreSQL URL) and return its event
    store (no projections): the service's role's on PostgreSQL."""
    migrate(path)
    if is_postgres(path):
        return open_event_store(path)
    return SQLiteEventStore(path, CATALOG, synchronous=synchronous)


@contextlib.contextmanager
def builder_of(path: str, store) -> Iterator:
    """Yield the store that builds read models' tables for `store` (opened at `path`): on
    PostgreSQL the owner's, opened for the block when the owner's URL is another (closed
    after), else `store` itself."""
    if not is_postgres(path) or owner_url(path) == path:
        yield store
        return
    owner = open_event_store(path, owner=True)
    try:
        yield owner
    finally:
        owner.close()


def open_archive(path: str, *, synchronous: str = "FULL", writer: bool = False,
                 group_commit_max: int = 512, reader_threads: int = 4, read_db: str = ""):
    """Migrate, open the store, build or catch up every projection; return an Archive.

    With `writer`, the archive gets the group-committing writer thread the service uses. With
    `read_db` (a streaming replica of the PostgreSQL database `path`), reads go there.
    Raises RebuildRunning when a read model must be built while another rebuild of the
    database runs (`starosta rebuild`): the service cannot start until it is done.
    """
    from starosta.projections.read_models import default_runner
    from starosta.service.archive import Archive

    store = open_store(path, synchronous=synchronous)
    runner = default_runner()
    try:
        if runner.outdated(store):
            with builder_of(path, store) as builder:
                runner.ensure(store, builder=builder)  # under the rebuild lock when it builds
        else:
            runner.catch_up(store)
    except BaseException:
        store.close()
        raise
    replica = None
    if read_db:
        if not (is_postgres(path) and is_postgres(read_db)):
            store.close()
            raise ValueError("STAROSTA_READ_DB is a streaming replica of a PostgreSQL database: "
                             "both it and STAROSTA_DB must be postgresql:// URLs")
        replica = open_event_store(read_db, reader=True)
    if is_postgres(path):
        # each job of a batch writes in a SAVEPOINT of its own; more than 64 subtransactions in
        # one transaction overflow PostgreSQL's per-session cache and slow every other
        # session's snapshots until it commits
        group_commit_max = min(group_commit_max, POSTGRES_BATCH_MAX)
    committer = GroupCommitter(store, max_batch=group_commit_max) if writer else None
    return Archive(store, committer, runner, reader_threads, replica)
