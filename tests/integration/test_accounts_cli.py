"""Accounts beside tokens (issue 18, finding 3), through the real CLI and the migrations:
`token create` gives a name its account and a new token for the same name keeps it; a name
shaped like an account id is refused; `token list` shows the account; a database migrated
from before accounts gives every known name (tokens and the log's actors) an account with
an id of the project's alphabet; an import of an old log does the same."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from starosta.events.catalog import CATALOG
from starosta.events.chain import GENESIS, HASHED_COLUMNS, chain_hash, row_digest
from starosta.events.registry import SourceRegistered
from starosta.service.domain import ids
from starosta.service.domain.ids import ACCOUNT_ID

from starosta import migrations
from tests.conftest import run_cli


def accounts(db: str) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return {name: account for account, name in conn.execute("SELECT id, name FROM accounts")}
    finally:
        conn.close()


def test_token_create_gives_the_name_an_account_that_it_keeps(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    assert run_cli("migrate", "--db", db).returncode == 0  # only migrate creates a database
    done = run_cli("token", "create", "--name", "Olga", "--role", "reviewer", "--db", db)
    assert done.returncode == 0, done.stderr
    first = accounts(db)["Olga"]
    assert re.fullmatch(ACCOUNT_ID, first)
    token_id = re.search(r"token (T-[0-9a-f]+)", done.stderr).group(1)
    assert run_cli("token", "revoke", token_id, "--db", db).returncode == 0
    again = run_cli("token", "create", "--name", "Olga", "--role", "admin", "--db", db)
    assert again.returncode == 0, again.stderr
    assert accounts(db) == {"Olga": first}  # the same name keeps its account id
    listing = run_cli("token", "list", "--db", db).stdout
    assert all(first in line for line in listing.splitlines() if "Olga" in line)
    assert "Olga" not in first


def test_a_name_shaped_like_an_account_id_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    assert run_cli("migrate", "--db", db).returncode == 0
    done = run_cli("token", "create", "--name", "A-7K2M9Q4G", "--role", "contributor", "--db", db)
    assert done.returncode != 0 and done.stdout.strip() == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "account id" in done.stderr


def test_the_migration_gives_every_known_name_an_account(tmp_path: Path) -> None:
    db = str(tmp_path / "old.db")
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.apply(conn, stop_after="0003_access")
    conn.execute("INSERT INTO tokens VALUES ('T-1', 'Olga', 'reviewer', 'h1', '2024-01-01', NULL)")
    conn.execute("INSERT INTO tokens VALUES ('T-2', 'Olga', 'reviewer', 'h2', '2024-01-02', NULL)")
    previous = GENESIS
    for position, actor in enumerate(("Pavel", "Olga", None), start=1):  # a name no token holds
        tag, version, data = CATALOG.encode(SourceRegistered(source_id=f"S-{position}",
                                                             csl={"type": "book", "title": "x"}))
        row = (position, f"e{position}", f"S-{position}", 1, tag, version, data.decode(), actor,
               None, None, f"2024-01-01T00:00:0{position}.000000Z")
        previous = chain_hash(previous, row_digest(row))
        conn.execute(f"INSERT INTO events ({', '.join(HASHED_COLUMNS)}, hash) "
                     f"VALUES ({','.join('?' * 12)})", (*row, previous))
    migrations.apply(conn)
    conn.close()
    made = accounts(db)
    assert set(made) == {"Olga", "Pavel"}
    assert all(re.fullmatch(ACCOUNT_ID, a) for a in made.values()) and len(set(made.values())) == 2
    assert run_cli("verify", "--db", db).returncode == 0  # the log is untouched
    # an export of that log imported into a new archive: its names get accounts there too
    export = str(tmp_path / "log.jsonl")
    assert run_cli("export", "log", "--db", db, "--out", export).returncode == 0
    copy = str(tmp_path / "copy.db")
    done = run_cli("import", "--db", copy, export)
    assert done.returncode == 0, done.stderr
    assert set(accounts(copy)) == {"Olga", "Pavel"}  # the log's actors (no tokens there)
    assert all(re.fullmatch(ACCOUNT_ID, a) for a in accounts(copy).values())


def test_the_migrations_use_the_projects_one_id_alphabet() -> None:
    root = Path(migrations.__file__).parent
    for path in (root / "0005_accounts.sql", root / "postgres" / "0004_accounts.sql"):
        text = path.read_text()
        assert ids._ALPHABET in text, path
        assert set(re.findall(r"'([0-9A-Z]{32})'", text)) == {ids._ALPHABET}, path
    assert re.fullmatch(ACCOUNT_ID, ids.new_id("account"))


def test_the_postgres_migration_gives_every_known_name_its_own_account(postgres_cluster) -> None:
    """On PostgreSQL, as the owner: names of tokens and of the log's actors each get an account
    (one random id per name, drawn per row), and the service's role may read them."""
    import uuid

    import psycopg
    from starosta.migrations import postgres as pg_migrations

    from tests.postgres import DATABASE, OWNER

    schema = f"a_{uuid.uuid4().hex[:12]}"
    postgres_cluster.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {OWNER}", database=DATABASE)
    with psycopg.connect(postgres_cluster.url(OWNER, DATABASE, search_path=schema),
                         autocommit=True) as conn:
        pg_migrations.apply(conn, stop_after="0002_read_side")
        for n, name in enumerate(("Olga", "Pavel", "Olga")):
            conn.execute("INSERT INTO tokens VALUES (%s, %s, 'reviewer', %s, '2024-01-01', NULL)",
                         (f"T-{n}", name, f"h{n}"))
        for position, actor in enumerate(("Rita", "Olga", "Sergei", None), start=1):
            conn.execute(f"INSERT INTO events ({', '.join(HASHED_COLUMNS)}, hash) VALUES "
                         f"({', '.join(['%s'] * 12)})",
                         (position, f"e{position}", f"S-{position}", 1, "source.registered", 1,
                          "{}", actor, None, None, f"2024-01-01T00:00:0{position}.000000Z", "0"))
        pg_migrations.apply(conn)
        made = dict(conn.execute("SELECT name, id FROM accounts").fetchall())
        granted = conn.execute("SELECT privilege_type FROM information_schema.role_table_grants "
                               "WHERE table_schema = %s AND table_name = 'accounts' "
                               "AND grantee = 'starosta_service'", (schema,)).fetchall()
    assert set(made) == {"Olga", "Pavel", "Rita", "Sergei"}
    assert all(re.fullmatch(ACCOUNT_ID, a) for a in made.values())
    assert len(set(made.values())) == 4  # drawn per name, not once for all
    assert [g[0] for g in granted] == ["SELECT"]
