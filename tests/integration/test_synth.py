"""The synthetic archive: deterministic for a seed, imported by `import_log`, chain intact,
clearly marked synthetic, and shaped like the real thing (every review state, ledgers, custody
with open ends and uncertain bounds, names in two scripts), with every claim passing the same
checks the API applies to a submission."""

from __future__ import annotations

import io
import re
import sqlite3

import msgspec
import pytest
from anyascii import anyascii
from click.testing import CliRunner

from starosta.events.catalog import CATALOG
from starosta.events.sqlite_store import verify_connection
from starosta.events.kinds import NameClaim
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRejected,
    ClaimRetracted,
    ClaimSubmitted,
    check,
    evolve,
)
from starosta.events.store import StoredRow
from starosta.projections.search import search
from starosta.service.tools import synth
from starosta.service.domain.access import Principal
from starosta.service.cli import main
from starosta.service.domain.commands import check_claim, check_dates
from starosta.service.tools.transfer import import_log

PERSONS, SEED = 50, 1
ACTIONS = {ClaimApproved: "approve", ClaimRejected: "reject", ClaimContested: "contest",
           ClaimRetracted: "retract"}


class Archive(msgspec.Struct):
    data: bytes
    counts: dict[str, int]
    path: str
    db: str


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    tmp = tmp_path_factory.mktemp("synth")
    out = io.BytesIO()
    counts = synth.generate(out, persons=PERSONS, seed=SEED)
    path = tmp / "synthetic.jsonl"
    path.write_bytes(out.getvalue())
    db = str(tmp / "imported.db")
    import_log(str(path), db)
    return Archive(out.getvalue(), counts, str(path), db)


@pytest.fixture
def conn(archive: Archive):
    c = sqlite3.connect(f"file:{archive.db}?mode=ro", uri=True)
    yield c
    c.close()


def _rows(data: bytes) -> list[StoredRow]:
    decode = msgspec.json.Decoder(StoredRow).decode
    return [decode(line) for line in data.splitlines() if line.strip()]


def test_a_seed_gives_the_same_bytes_and_another_seed_other_bytes(archive: Archive) -> None:
    again = io.BytesIO()
    assert synth.generate(again, persons=PERSONS, seed=SEED) == archive.counts
    assert again.getvalue() == archive.data
    other = io.BytesIO()
    synth.generate(other, persons=PERSONS, seed=SEED + 1)
    assert other.getvalue() != archive.data


def test_counts_and_rows_are_what_the_file_holds(archive: Archive) -> None:
    rows = _rows(archive.data)
    assert [r.position for r in rows] == list(range(1, len(rows) + 1))
    by_type: dict[str, int] = {}
    for r in rows:
        by_type[r.type] = by_type.get(r.type, 0) + 1
        assert r.schema_version == CATALOG.schema_version(r.type)
        assert r.data == CATALOG.encode(CATALOG.decode(r.type, r.schema_version, r.data))[2].decode()
    assert by_type == archive.counts
    assert archive.counts["person.registered"] == PERSONS
    times = [r.recorded_at for r in rows]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert times[0] == "2026-01-01T00:00:00.001000Z"
    assert len({r.event_id for r in rows}) == len(rows)


def test_import_verifies_and_the_chain_holds(archive: Archive, conn: sqlite3.Connection) -> None:
    verdict = verify_connection(conn)
    assert verdict.ok and verdict.count == sum(archive.counts.values())
    answer = CliRunner().invoke(main, ["verify", "--db", archive.db])
    assert answer.exit_code == 0, answer.output
    assert answer.output.startswith(f"ok: {verdict.count} events, chain intact")


def test_everything_is_marked_synthetic(conn: sqlite3.Connection) -> None:
    for table in ("persons", "places", "organizations", "funds"):
        rows = conn.execute(f"SELECT label, data FROM {table}").fetchall()
        assert rows
        for label, data in rows:
            assert "Synthetic" in label
            assert msgspec.json.decode(data)["synthetic"] is True
    sources = conn.execute("SELECT label, data FROM sources").fetchall()
    assert sources
    for label, data in sources:
        assert re.fullmatch(r"Synthetic source \d+ \(not historical\)", label)
        decoded = msgspec.json.decode(data)
        assert decoded["synthetic"] is True and decoded["csl"]["synthetic"] is True
    for (data,) in conn.execute("SELECT data FROM claims WHERE kind = 'name'"):
        claim = msgspec.json.decode(data)["claim"]
        assert "ynthetic" in claim["note"]


def test_every_review_state_is_there(conn: sqlite3.Connection) -> None:
    statuses = dict(conn.execute("SELECT status, count(*) FROM claims GROUP BY status").fetchall())
    for status in ("pending", "approved", "rejected", "contested"):
        assert statuses.get(status, 0) > 0, statuses
    assert statuses["approved"] > sum(statuses.values()) / 2
    superseded = conn.execute(
        "SELECT old.id, new.status FROM claims old JOIN claims new ON new.id = old.superseded_by "
        "AND new.supersedes = old.id").fetchall()
    assert superseded and all(status == "approved" for _, status in superseded)


def test_ledgers_custody_and_places_have_a_realistic_shape(conn: sqlite3.Connection) -> None:
    ledger = conn.execute("SELECT count(*), count(DISTINCT fund_id), count(DISTINCT currency), "
                          "sum(direction = 'in'), sum(direction = 'out') FROM ledger_entries").fetchone()
    assert ledger[0] >= PERSONS // 2 and ledger[1] >= 2 and ledger[2] == 3 and ledger[3] and ledger[4]
    for (amount,) in conn.execute("SELECT amount FROM ledger_entries WHERE amount IS NOT NULL"):
        assert re.fullmatch(r"(0|[1-9][0-9]*)(\.[0-9]{1,4})?", amount)
    # recipients and correspondents are stored as participants (issue 20) and read from them
    assert conn.execute("SELECT count(*) FROM ledger_entries WHERE kind = 'disbursement' "
                        "AND counterparty IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM claim_participants WHERE role = 'recipient'"
                        ).fetchone()[0] >= ledger[4] // 2
    assert conn.execute("SELECT count(*) FROM claims WHERE CAST(data AS TEXT) LIKE '%\"recipient\":\"%'"
                        ).fetchone()[0] == 0
    custody = conn.execute(
        "SELECT count(*), sum(end_latest IS NULL), sum(start_earliest < start_latest), "
        "sum(end_earliest < end_latest), count(DISTINCT place_id), count(DISTINCT custody) "
        "FROM custody_episodes").fetchone()
    assert custody[0] >= 2 * PERSONS and all(custody[1:4]), custody
    assert custody[5] == 5  # prison, transit, camp, isolator, exile
    per_person = [n for (n,) in conn.execute("SELECT count(*) FROM custody_episodes c JOIN claims k "
                                             "ON k.id = c.claim_id WHERE k.supersedes IS NULL "
                                             "GROUP BY person_id")]
    assert len(per_person) == PERSONS and min(per_person) >= 2 and max(per_person) <= 8
    assert conn.execute("SELECT count(*) FROM places WHERE kind != 'region' AND parent IS NOT NULL"
                        ).fetchone()[0] >= 50
    flags = conn.execute(  # the projection keeps `data` as a JSON blob
        "SELECT sum(CAST(data AS TEXT) LIKE '%\"approximate\":true%'), "
        "sum(CAST(data AS TEXT) LIKE '%\"uncertain\":true%'), "
        "sum(CAST(data AS TEXT) LIKE '%\"calendar\":\"julian\"%') FROM claims").fetchone()
    assert all(flags), flags


def test_names_in_two_scripts_are_found_by_either(conn: sqlite3.Connection) -> None:
    scripts = dict(conn.execute(
        "SELECT json_extract(data, '$.claim.script'), count(*) FROM claims WHERE kind = 'name' "
        "GROUP BY 1").fetchall())
    assert scripts.get("Cyrl") and scripts.get("Latn")
    entity, name = conn.execute(
        "SELECT entity_id, name FROM name_index WHERE entity_kind = 'person' AND claim_id IS NOT NULL "
        "AND name GLOB '*[А-я]*' ORDER BY rowid LIMIT 1").fetchone()
    surname = name.split()[-1]
    for query in (surname, anyascii(surname), surname.lower()):
        assert entity in [e for e, _ in search(conn, "person", query, 200)], query


def test_every_claim_and_review_passes_the_services_own_checks(archive: Archive,
                                                               conn: sqlite3.Connection) -> None:
    """The dates are what the API would compute; refs exist; reviews obey the state machine."""
    vocabulary = set(synth.VOCABULARY)
    editor = Principal("T-synth", "Synthetic Reviewer 1", "reviewer")
    states = {}
    for row in _rows(archive.data):
        event = CATALOG.decode(row.type, row.schema_version, row.data)
        if isinstance(event, ClaimSubmitted):
            claim = event.claim
            assert check_dates(claim) == event.dates
            assert all(v.edtf in vocabulary for v in event.dates.values())
            check_claim(conn, claim, editor)
            assert row.actor == event.contributor and row.stream_id == event.claim_id
            if isinstance(claim, NameClaim):
                assert claim.script in ("Latn", "Cyrl")
        elif type(event) in ACTIONS:
            state = states[event.claim_id]
            check(state, ACTIONS[type(event)], row.actor, row.actor.startswith("Synthetic Reviewer"))
            assert row.version == state.version + 1
        else:
            assert row.version == 1
            continue
        states[event.claim_id] = evolve(states.get(event.claim_id), event)


def test_generate_refuses_no_persons() -> None:
    with pytest.raises(ValueError):
        synth.generate(io.BytesIO(), persons=0, seed=1)


class _Discard:
    """A sink that keeps nothing (what the generator holds is all that is measured)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def _held(persons: int) -> dict[str, int]:
    """Generate `persons` persons as `generate` does and return the most the generator held at
    once: reviews not yet due, recent persons, rows buffered; and its entity pools at the end."""
    s = synth._Synth(_Discard(), persons, SEED)
    s.header()
    most = {"due": 0, "buffer": 0}
    for i in range(persons):
        s.person(i)
        s.review_due(i)
        most["due"] = max(most["due"], sum(len(v) for v in s.due.values()))
        most["buffer"] = max(most["buffer"], len(s.w.buffer))
    s.review_due(persons + 10)
    assert not s.due
    return {**most, "recent": len(s.recent), "places": sum(len(v) for v in s.places.values()),
            "sources": len(s.sources), "events": s.w.position}


def test_what_the_generator_holds_does_not_grow_with_the_archive() -> None:
    """Memory stays flat (10M events, about 265,000 persons, in a bounded process): rows are
    streamed in blocks of 4,096, reviews wait at most a few persons, and only the entity pools
    grow, by one place per 200 persons and one source per 100 (about 4,000 entries at 10M)."""
    small, large = _held(60), _held(600)
    for key in ("due", "buffer", "recent"):
        assert large[key] <= max(2 * small[key], 400), (key, small, large)
    assert large["buffer"] <= 4096 and large["recent"] <= 64
    assert large["places"] <= 600 // 200 + 200 and large["sources"] <= max(12, 600 // 100)
    # about 37.8 events per person: 10M events is about 265,000 persons
    assert 30 <= large["events"] / 600 <= 46, large["events"]
