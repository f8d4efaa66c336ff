"""`starosta verify` against an attacker with write access to the SQLite file.

The attacker drops the append-only triggers with a plain sqlite3 connection and
tampers with the log. Each case runs the real CLI in a subprocess and expects exit 1
naming the first broken position; the untampered file exits 0 with its count.

What the chain alone cannot see (documented by the tests below): deleting rows from
the tail, and rewriting a row *and* recomputing every later hash, both leave a chain
that verifies. Only a head hash published before the tampering
(`verify --expect-head HASH`) exposes them.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from starosta.events.chain import GENESIS, HASHED_COLUMNS, chain_hash, row_digest
from starosta.events.registry import FundRegistered, PersonRegistered, PlaceRegistered, SourceRegistered
from starosta.events.store import Metadata
from starosta.service.db import open_store

STAROSTA = Path(sys.executable).parent / "starosta"
N = 50  # events in the archive
K = 20  # the row the attacker tampers with (in the middle)
TIMEOUT = 30


@dataclass(frozen=True)
class Archive:
    path: str
    head: str  # the head hash published before any tampering
    hashes: dict[int, str]  # position -> chain hash, as built


def _event(i: int):
    kind = i % 4
    if kind == 0:
        return SourceRegistered(source_id=f"s{i}", csl={"type": "book", "title": f"Дело № {i}"})
    if kind == 1:
        return PersonRegistered(person_id=f"p{i}", label=f"Ivanov, Ivan {i}")
    if kind == 2:
        return PlaceRegistered(place_id=f"pl{i}", label=f"Butyrka {i}", kind="prison")
    return FundRegistered(fund_id=f"f{i}", label=f"Political Red Cross {i}")


@pytest.fixture
def archive(tmp_path) -> Archive:
    path = str(tmp_path / "archive.db")
    store = open_store(path)
    try:
        for i in range(1, N + 1):  # event i lands at position i
            store.append(f"stream-{i % 7}", [_event(i)],
                         meta=Metadata(actor=f"archivist-{i % 3}", request_id=f"req-{i}"))
        head = store.head()
        hashes = {r.position: r.hash for r in store.read_rows()}
    finally:
        store.close()
    assert head.position == N
    return Archive(path, head.hash, hashes)


def verify(path: str, *extra: str) -> subprocess.CompletedProcess:
    assert STAROSTA.exists(), f"the starosta console script is not at {STAROSTA}"
    return subprocess.run([str(STAROSTA), "verify", "--db", path, *extra],
                          capture_output=True, text=True, timeout=TIMEOUT)


def attacker(path: str) -> sqlite3.Connection:
    """A plain sqlite3 connection, autocommit, with the append-only triggers dropped."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    return conn


def assert_broken_at(result: subprocess.CompletedProcess, position: int) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "BROKEN" in result.stderr
    assert re.search(rf"\bposition {position}\b", result.stderr), result.stderr
    assert not result.stdout.startswith("ok")


def dump(path: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT * FROM events ORDER BY position").fetchall()
    finally:
        conn.close()


# -- the untouched archive ---------------------------------------------------------------


def test_untampered_archive_verifies(archive):
    result = verify(archive.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok: {N} events, chain intact; head {N} {archive.head}"
    # the current head, and any earlier published head, is in the log
    assert verify(archive.path, "--expect-head", archive.head).returncode == 0
    assert verify(archive.path, "--expect-head", archive.hashes[30]).returncode == 0
    unknown = verify(archive.path, "--expect-head", "ab" * 32)
    assert unknown.returncode == 1 and "is not in the log" in unknown.stderr
    # the chain itself holds: no position past the last row is named as broken (issue 9, #13)
    assert "at position" not in unknown.stderr and f"up to head {N} {archive.head}" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


# -- tampering the chain alone catches -------------------------------------------------


def test_one_byte_of_data_changed(archive):
    conn = attacker(archive.path)
    (data,) = conn.execute("SELECT data FROM events WHERE position = ?", (K,)).fetchone()
    assert f'"source_id":"s{K}"' in data, data  # row K is a source (K % 4 == 0)
    i = data.index(f'"s{K}"') + 1  # the "s" of its id: flip one bit, "s20" becomes "r20"
    tampered = data[:i] + chr(ord(data[i]) ^ 1) + data[i + 1:]
    assert len(tampered.encode()) == len(data.encode()) and tampered != data
    assert sum(a != b for a, b in zip(tampered.encode(), data.encode())) == 1
    conn.execute("UPDATE events SET data = ? WHERE position = ?", (tampered, K))
    conn.close()
    assert_broken_at(verify(archive.path), K)


def test_the_store_and_the_cli_name_the_same_position(archive):
    conn = attacker(archive.path)
    conn.execute("UPDATE events SET request_id = 'req-forged' WHERE position = ?", (K,))
    conn.close()
    assert_broken_at(verify(archive.path), K)
    store = open_store(archive.path)
    try:
        verdict = store.verify()
    finally:
        store.close()
    assert not verdict.ok and verdict.broken_at == K and verdict.count == K - 1


@pytest.mark.parametrize("column, value", [
    ("actor", "someone-else"),
    ("recorded_at", "2001-01-01T00:00:00.000000Z"),
])
def test_metadata_changed(archive, column, value):
    conn = attacker(archive.path)
    assert conn.execute(f"SELECT {column} FROM events WHERE position = ?", (K,)).fetchone()[0] != value
    conn.execute(f"UPDATE events SET {column} = ? WHERE position = ?", (value, K))
    conn.close()
    assert_broken_at(verify(archive.path), K)


def test_row_deleted_in_the_middle(archive):
    conn = attacker(archive.path)
    conn.execute("DELETE FROM events WHERE position = ?", (K,))
    conn.close()
    assert_broken_at(verify(archive.path), K)


def test_two_rows_reordered(archive):
    conn = attacker(archive.path)
    conn.execute("BEGIN")
    conn.execute("UPDATE events SET position = -1 WHERE position = ?", (K,))
    conn.execute("UPDATE events SET position = ? WHERE position = ?", (K, K + 1))
    conn.execute("UPDATE events SET position = ? WHERE position = -1", (K + 1,))
    conn.execute("COMMIT")
    conn.close()
    assert_broken_at(verify(archive.path), K)


# -- tampering only a published head catches ---------------------------------------------


def test_tail_truncated(archive):
    conn = attacker(archive.path)
    conn.execute("DELETE FROM events WHERE position > ?", (N - 3,))
    conn.close()
    # The chain alone cannot see a shorter log: every remaining link is intact.
    plain = verify(archive.path)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith(f"ok: {N - 3} events, chain intact; head {N - 3} ")
    # A head published before the truncation is not in the log any more.
    cut = verify(archive.path, "--expect-head", archive.head)
    assert cut.returncode == 1 and "is not in the log" in cut.stderr
    assert f"up to head {N - 3} " in cut.stderr and "rows after it were deleted" in cut.stderr
    # A head published earlier than the cut is still there: it proves nothing about the tail.
    assert verify(archive.path, "--expect-head", archive.hashes[N - 10]).returncode == 0


def test_row_rewritten_and_chain_recomputed(archive):
    """A careful attacker changes row K and recomputes every later hash."""
    conn = attacker(archive.path)
    conn.execute("BEGIN")
    rows = conn.execute(
        f"SELECT {', '.join(HASHED_COLUMNS)}, nonce FROM events WHERE position >= ? ORDER BY position",
        (K,)).fetchall()
    previous = conn.execute("SELECT hash FROM events WHERE position = ?", (K - 1,)).fetchone()[0]
    for n, (*row, nonce) in enumerate(rows):
        if n == 0:
            row[HASHED_COLUMNS.index("actor")] = "the-forger"
        previous = chain_hash(previous, row_digest(tuple(row), nonce))
        conn.execute("UPDATE events SET actor = ?, hash = ? WHERE position = ?",
                     (row[HASHED_COLUMNS.index("actor")], previous, row[0]))
    conn.execute("COMMIT")
    conn.close()
    assert previous != archive.head and previous != GENESIS
    # The rewritten chain is internally consistent: plain verify passes.
    plain = verify(archive.path)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == f"ok: {N} events, chain intact; head {N} {previous}"
    # The published head is gone. The verifier cannot tell *which* row was rewritten
    # (every link checks out), so it names no position K here; it reports the head as
    # missing from the log.
    forged = verify(archive.path, "--expect-head", archive.head)
    assert forged.returncode == 1, forged.stdout
    assert "BROKEN" in forged.stderr and "is not in the log" in forged.stderr
    # Heads published before row K are still found: the rewrite starts after them.
    assert verify(archive.path, "--expect-head", archive.hashes[K - 1]).returncode == 0
    assert verify(archive.path, "--expect-head", archive.hashes[K]).returncode == 1


# -- the triggers themselves ------------------------------------------------------------


def test_plain_sqlite3_cannot_update_or_delete(archive):
    before = dump(archive.path)
    conn = sqlite3.connect(archive.path, isolation_level=None)
    try:
        attempts = [
            ("UPDATE events SET actor = 'x' WHERE position = ?", (K,)),
            ("UPDATE events SET data = data || ' ' ", ()),
            ("DELETE FROM events WHERE position = ?", (K,)),
            ("DELETE FROM events WHERE position > ?", (N - 3,)),
            ("DELETE FROM events", ()),
        ]
        for sql, params in attempts:
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(sql, params)
        # inside an explicit transaction too: the refusal aborts the statement
        conn.execute("BEGIN")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE events SET hash = ? WHERE position = 1", (GENESIS,))
        conn.execute("COMMIT")
    finally:
        conn.close()
    assert dump(archive.path) == before
    assert verify(archive.path).returncode == 0


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="no sqlite3 shell on PATH")
def test_sqlite3_shell_cannot_update_or_delete(archive):
    before = dump(archive.path)
    for sql in (f"UPDATE events SET actor = 'x' WHERE position = {K};",
                f"DELETE FROM events WHERE position = {K};",
                "DELETE FROM events;"):
        shell = subprocess.run([shutil.which("sqlite3"), archive.path, sql],
                               capture_output=True, text=True, timeout=TIMEOUT)
        assert shell.returncode != 0, (sql, shell.stdout, shell.stderr)
        assert "append-only" in shell.stderr, shell.stderr
    assert dump(archive.path) == before
    assert verify(archive.path).returncode == 0


def test_plain_sqlite3_cannot_replace_a_row(archive):
    before = dump(archive.path)
    conn = sqlite3.connect(archive.path, isolation_level=None)
    try:
        row = list(conn.execute("SELECT * FROM events WHERE position = ?", (K,)).fetchone())
        row[HASHED_COLUMNS.index("actor")] = "the-forger"
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(f"INSERT OR REPLACE INTO events VALUES ({','.join('?' * len(row))})", row)
    finally:
        conn.close()
    assert dump(archive.path) == before


# -- the row nonce (issue 18): hashed when present, old rows keep their old bytes ----------


def test_every_new_row_has_its_own_nonce_and_the_digest_covers_it(archive):
    conn = sqlite3.connect(archive.path)
    nonces = [r[0] for r in conn.execute("SELECT nonce FROM events ORDER BY position")]
    conn.close()
    assert len(nonces) == N and len(set(nonces)) == N
    assert all(re.fullmatch("[0-9a-f]{32}", n) for n in nonces)


@pytest.mark.parametrize("nonce", [None, "0" * 32], ids=["removed", "changed"])
def test_a_nonce_removed_or_changed_breaks_the_chain_there(archive, nonce):
    conn = attacker(archive.path)
    conn.execute("UPDATE events SET nonce = ? WHERE position = ?", (nonce, K))
    conn.close()
    result = verify(archive.path)
    assert result.returncode == 1
    assert f"BROKEN at position {K}: hash mismatch" in result.stderr


def test_a_log_written_before_nonces_verifies_and_grows_with_them(tmp_path):
    """Rows appended before migration 0006 (no nonce column) keep their canonical bytes: the
    same log verifies after the migration, and rows appended after it carry nonces."""
    from starosta import migrations
    from starosta.events.catalog import CATALOG

    path = str(tmp_path / "old.db")
    conn = sqlite3.connect(path, isolation_level=None)
    migrations.apply(conn, stop_after="0003_access")
    previous = GENESIS
    for position in range(1, 6):  # rows as the code before the nonce wrote them
        tag, version, data = CATALOG.encode(_event(position))
        row = (position, f"e{position}", f"stream-{position}", 1, tag, version, data.decode(),
               "ivanov", None, None, f"2024-01-01T00:00:0{position}.000000Z")
        previous = chain_hash(previous, row_digest(row))
        conn.execute(f"INSERT INTO events ({', '.join(HASHED_COLUMNS)}, hash) "
                     f"VALUES ({','.join('?' * 12)})", (*row, previous))
    conn.close()
    old_head = previous
    assert verify(path, "--expect-head", old_head).returncode == 0
    store = open_store(path)  # migrates: the nonce column arrives, the old rows keep NULL
    try:
        store.append("stream-new", [_event(8)])
        rows = list(store.read_rows())
    finally:
        store.close()
    assert [r.nonce for r in rows[:5]] == [None] * 5 and rows[5].nonce is not None
    done = verify(path, "--expect-head", old_head)
    assert done.returncode == 0, done.stderr
    assert "6 events" in done.stdout
