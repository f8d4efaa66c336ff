"""`starosta publish`: the demo archive, with a pending claim beside it, published by the real
command and opened with sqlite-utils and with Datasette's own test client. It holds what the
API shows an anonymous reader (custody, populations and ledgers agree with the API), nothing
more; two publishes of one log give the same rows and hash; files are never overwritten
without --force, the archive never."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.tools.demo.load import DEMO_TOKENS
from starosta.service.settings import Settings
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

AS = {role: {"Authorization": f"Bearer {token}"} for role, (_, token) in DEMO_TOKENS.items()}
PENDING_QUOTE = "a pending example quote, zanzibar"  # a word no seed text holds


@dataclass
class Published:
    db: str  # the archive
    out: Path  # the snapshot
    metadata: Path
    stdout: str
    api: TestClient  # the real app over the same archive
    pending: str  # a claim submitted and left pending
    cyrillic: str  # an approved name claim written in Cyrillic

    def snapshot(self) -> sqlite_utils.Database:
        return sqlite_utils.Database(self.out)


def content_hash(stdout: str) -> str:
    found = re.search(r"^content hash ([0-9a-f]{64})$", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Iterator[Published]:
    tmp = tmp_path_factory.mktemp("publish")
    db = str(tmp / "archive.db")
    loaded = run_cli("demo", "--db", db, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    with TestClient(create_app(Settings(db=db))) as api:
        person = api.get("/persons", params={"q": "vicente monclus"}).json()["items"][0]["id"]
        spiridonova = api.get("/persons", params={"q": "spiridonova"}).json()["items"][0]["id"]
        bio = api.get(f"/persons/{person}/biography").json()
        source = bio["timeline"][0]["citation"]["source"]["id"]
        pending = api.post("/claims", headers=AS["contributor"], json={
            "kind": "occupation", "person": person, "occupation": "pending example (not historical)",
            "citation": {"source": source, "quote": PENDING_QUOTE}})
        assert pending.status_code == 201, pending.text
        name = api.post("/claims", headers=AS["contributor"], json={
            "kind": "name", "person": spiridonova, "name": "Мария Спиридонова",
            "citation": {"source": source}})
        assert name.status_code == 201, name.text
        cyrillic = name.json()["id"]
        approved = api.post(f"/claims/{cyrillic}/approve", headers=AS["reviewer"])
        assert approved.status_code == 200, approved.text
        out = tmp / "public" / "starosta.db"  # its directory does not exist yet
        done = run_cli("publish", str(out), "--db", db)  # while the app holds the archive open
        assert done.returncode == 0, done.stderr
        yield Published(db, out, tmp / "public" / "starosta.metadata.json", done.stdout, api,
                        pending.json()["id"], cyrillic)


def test_it_prints_and_stores_where_it_was_made(published: Published) -> None:
    head = published.api.get("/events/head").json()
    snap = next(published.snapshot()["_snapshot"].rows)
    assert snap["log_position"] == head["position"] and snap["head_hash"] == head["hash"]
    assert snap["content_hash"] == content_hash(published.stdout)
    assert f"log position {head['position']}, head {head['hash']}" in published.stdout
    metadata = json.loads(published.metadata.read_text("utf-8"))
    assert metadata["snapshot"]["log_position"] == head["position"]
    assert metadata["snapshot"]["head_hash"] == head["hash"]
    verified = run_cli("verify", "--db", published.db, "--expect-head", snap["head_hash"])
    assert verified.returncode == 0, verified.stderr


def test_a_persons_custody_episodes_are_those_of_the_biography(published: Published) -> None:
    db = published.snapshot()
    [vicente] = [p for p in db["persons"].rows_where("label = ?", ["Vicente Monclús Guallar"])]
    # in the order of the dates as written (the claims table's); the episodes' bounds are
    # widened by the margins of approximate dates, what may have been (docs/semantics.md)
    rows = list(db.query("SELECT p.claim_id, p.place FROM person_custody AS p JOIN claims AS c "
                         "ON c.id = p.claim_id WHERE p.person_id = ? ORDER BY "
                         "c.start_earliest IS NULL, c.start_earliest, p.claim_id", [vicente["id"]]))
    bio = published.api.get(f"/persons/{vicente['id']}/biography").json()
    custody = {e["claim"] for e in bio["timeline"] if e["kind"] == "custody"
               and e.get("through") != "group"}  # his groups' stays are theirs (issue 20)
    assert {r["claim_id"] for r in rows} == custody
    places = [r["place"] for r in rows if r["place"]]
    wanted = iter(["Butyrka", "Vorkuta", "Samarkand", "Lubyanka", "Sukhanovka", "Lefortovo"])
    step = next(wanted)
    for place in places:  # his itinerary, in date order
        if place == step:
            step = next(wanted, None)
    assert step is None, places
    episode = db["custody_episodes"].get((rows[1]["claim_id"], vicente["id"]))
    assert episode["start_earliest"] and episode["role"] == "person"


def test_full_text_search_finds_names_in_any_script_and_quotes(published: Published) -> None:
    db = published.snapshot()
    assert "Vicente Monclús Guallar" in [p["label"] for p in db["persons"].search("monclus")]
    # an approved name in Cyrillic: found as written, and transliterated ("mariya")
    for q in ("Спиридонова", "mariya"):
        assert [p["label"] for p in db["persons"].search(q)] == ["Maria Spiridonova"], q
    assert db["names"].get(published.cyrillic)["script"] == "Cyrl"
    found = [f"{c['quote']} {c['said']}" for c in db["claims"].search("Vorkuta")]  # quote, said
    assert found and all("Vorkuta" in words for words in found)
    assert any("Vorkuta" in c["quote"] for c in db["claims"].search("Vorkuta"))


def test_population_counts_are_the_apis(published: Published) -> None:
    db = published.snapshot()
    butyrka = next(db["places"].rows_where("label = ?", ["Butyrka"]))
    year = db["population_years"].get((butyrka["id"], 1951))
    api = published.api.get(f"/places/{butyrka['id']}/population", params={"at": "1951"}).json()
    assert (year["count_min"], year["count_max"]) == (api["count_min"], api["count_max"]) == (1, 1)
    places = {r["place_id"] for r in db["population_years"].rows}
    assert len(places) > 5
    for place in places:  # every year of every place, as the timeline answers it
        timeline = published.api.get(f"/places/{place}/population/timeline",
                                     params={"step": "year"}).json()["items"]
        mine = list(db["population_years"].rows_where("place_id = ?", [place], order_by="year"))
        assert [(int(t["period"]), t["count_min"], t["count_max"]) for t in timeline] == \
            [(r["year"], r["count_min"], r["count_max"]) for r in mine]


def test_ledgers_are_the_apis_and_synthetic_records_are_marked(published: Published) -> None:
    db = published.snapshot()
    [fund] = db["funds"].rows_where("synthetic = 1")
    ledger = published.api.get(f"/funds/{fund['id']}/ledger").json()
    totals = {r["currency"]: {k: r[k] for k in ("received", "disbursed", "balance")}
              for r in db["ledger_totals"].rows_where("fund_id = ? AND breakdown = 'fund'", [fund["id"]])}
    assert totals == ledger["totals"]
    entries = [r["claim_id"] for r in db.query(
        "SELECT claim_id FROM fund_ledger WHERE fund_id = ?", [fund["id"]])]
    assert entries == [e["claim"] for e in ledger["entries"]]
    assert all(c["synthetic"] == 1 for c in db["claims"].rows_where(
        "id IN (SELECT claim_id FROM ledger_entries WHERE fund_id = ?)", [fund["id"]]))
    assert db["claims"].count_where("synthetic = 0") > 200  # the history stays unmarked


def test_participants_are_a_table_to_facet_on(published: Published) -> None:
    """Issue 20: every published claim's participants, one row each, with their role (the
    demo's escape companions and the encounter), offered to Datasette as facets."""
    db = published.snapshot()
    rows = list(db["participants"].rows)
    claims = {c["id"]: json.loads(c["claim"]) for c in db["claims"].rows}
    assert rows and all(r["claim_id"] in claims for r in rows)
    expected = sorted((cid, p["ref"], p["role"]) for cid, claim in claims.items()
                      for p in claim.get("participants", ()))
    assert sorted((r["claim_id"], r["ref"], r["role"]) for r in rows) == expected
    roles = {r["role"] for r in rows}
    assert {"companion", "encountered", "informant"} <= roles
    assert {r["entity_type"] for r in rows} <= {"person", "organization"}
    escape = next(cid for cid, c in claims.items() if c["kind"] == "escape"
                  and "Together with Juan Salas" in (c["citation"].get("quote") or ""))
    assert len([r for r in rows if r["claim_id"] == escape and r["role"] == "companion"]) == 2
    assert published.pending not in {r["claim_id"] for r in rows}
    meta = json.loads(published.metadata.read_text("utf-8"))
    (database,) = meta["databases"].values()
    assert database["tables"]["participants"]["facets"] == ["role", "entity_type"]


def test_nothing_but_approved_current_claims_and_no_identities(published: Published) -> None:
    db = published.snapshot()
    ids = {c["id"] for c in db["claims"].rows}
    reviewer = AS["reviewer"]
    assert published.api.get(f"/claims/{published.pending}", headers=reviewer).json()["status"] == "pending"
    assert published.pending not in ids
    assert not list(db["claims"].search("zanzibar"))
    for status in ("pending", "contested", "disputed", "rejected", "retracted"):
        hidden = published.api.get("/claims", params={"status": status, "limit": 1000},
                                   headers=reviewer).json()["items"]
        assert not ids & {c["id"] for c in hidden}, status
    approved = set()
    after = None
    while True:  # every approved claim the API lists, page by page
        page = published.api.get("/claims", params={"limit": 1000, **({"after": after} if after else {})}).json()
        approved |= {c["id"] for c in page["items"]
                     if c["rank"] != "deprecated" and c["status"] == "approved"}  # disputed wait
        after = page["next"]
        if after is None:
            break
    assert ids == approved
    # no table or column for people's accounts, and none of their names or tokens anywhere
    columns = {c.name for t in db.tables for c in t.columns}
    assert not columns & {"contributor", "reviewer", "actor", "token", "contested_by"}
    text = "\n".join(sqlite3.connect(published.out).iterdump())
    for (name, token) in DEMO_TOKENS.values():
        assert name not in text and token not in text
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_two_publishes_of_one_log_give_the_same_rows_and_hash(published: Published,
                                                              tmp_path: Path) -> None:
    again = run_cli("publish", str(tmp_path / "again.db"), "--db", published.db)
    assert again.returncode == 0, again.stderr
    assert content_hash(again.stdout) == content_hash(published.stdout)
    first, second = published.snapshot(), sqlite_utils.Database(tmp_path / "again.db")
    assert first.table_names() == second.table_names() and first.view_names() == second.view_names()
    for table in first.table_names():
        order = ", ".join(f'"{c}"' for c in first[table].columns_dict)
        assert list(first.query(f'SELECT * FROM "{table}" ORDER BY {order}')) == \
            list(second.query(f'SELECT * FROM "{table}" ORDER BY {order}')), table


def test_it_never_overwrites_without_force_nor_ever_the_archive(published: Published,
                                                                tmp_path: Path) -> None:
    before = published.out.read_bytes()
    refused = run_cli("publish", str(published.out), "--db", published.db)
    assert refused.returncode != 0 and "exists: pass --force" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert published.out.read_bytes() == before
    for out in (published.db, published.db + "-wal"):
        itself = run_cli("publish", out, "--db", published.db, "--force")
        assert itself.returncode != 0 and "it is the database" in itself.stderr, itself.stderr
        assert len(itself.stderr.strip().splitlines()) == 1
    metadata = tmp_path / "meta.json"
    metadata.write_text("{}")
    taken = run_cli("publish", str(tmp_path / "new.db"), "--db", published.db, "--metadata", str(metadata))
    assert taken.returncode != 0 and not (tmp_path / "new.db").exists()
    forced = run_cli("publish", str(tmp_path / "new.db"), "--db", published.db, "--metadata",
                     str(metadata), "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(metadata.read_text())["databases"]["new"]["tables"]["claims"]["columns"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json", "new.db"]  # no .tmp left
    stranger = tmp_path / "not-an-archive.db"
    sqlite3.connect(stranger).execute("CREATE TABLE t (x)")
    refused = run_cli("publish", str(tmp_path / "x.db"), "--db", str(stranger))
    assert refused.returncode != 0 and "not a starosta archive" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_the_metadata_describes_every_table_and_column(published: Published) -> None:
    metadata = json.loads(published.metadata.read_text("utf-8"))
    tables = metadata["databases"]["starosta"]["tables"]
    db = published.snapshot()
    for table in db.table_names():
        if table.endswith(("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")):
            continue  # sqlite-utils' search index of persons and claims
        assert tables[table]["description"] and tables[table]["source"], table
        assert set(tables[table]["columns"]) == set(db[table].columns_dict), table
    for view in db.view_names():
        assert tables[view]["description"], view
    assert metadata["license"] and str(metadata["snapshot"]["log_position"]) in metadata["source"]


@pytest.mark.anyio
async def test_datasette_serves_it_and_answers_a_query(published: Published) -> None:
    from datasette.app import Datasette

    metadata = json.loads(published.metadata.read_text("utf-8"))
    ds = Datasette([str(published.out)], metadata=metadata)
    search = await ds.client.get("/starosta/persons.json?_search=monclus&_shape=array")
    assert search.status_code == 200, search.text
    assert "Vicente Monclús Guallar" in [p["label"] for p in search.json()]
    custody = await ds.client.get("/starosta/person_custody.json", params={
        "person": "Vicente Monclús Guallar", "place": "Butyrka", "_shape": "array"})
    assert custody.status_code == 200 and len(custody.json()) == 2, custody.text
    sql = await ds.client.get("/starosta.json", params={
        "sql": "select count_max from place_population where place = 'Butyrka' and year = 1951",
        "_shape": "array"})
    assert sql.status_code == 200 and sql.json() == [{"count_max": 1}], sql.text
    table = await ds.client.get("/starosta/claims")  # the HTML page shows the metadata
    assert table.status_code == 200 and metadata["databases"]["starosta"]["tables"]["claims"][
        "description"].split(":")[0] in table.text


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_synthetic_csl_is_flagged_in_a_column_not_in_the_published_item(tmp_path: Path) -> None:
    db = str(tmp_path / "synth.db")
    made = run_cli("synth", "--persons", "5", "--seed", "3", "--out", str(tmp_path / "s.jsonl"),
                   "--load", db)
    assert made.returncode == 0, made.stderr
    stored = [json.loads(d)["csl"] for (d,) in sqlite3.connect(db).execute("SELECT data FROM sources")]
    assert stored and all(csl["synthetic"] is True for csl in stored)  # in the CSL items as stored
    done = run_cli("publish", str(tmp_path / "synth-public.db"), "--db", db)
    assert done.returncode == 0, done.stderr
    snapshot = sqlite_utils.Database(tmp_path / "synth-public.db")
    sources = list(snapshot["sources"].rows)
    assert sources and all(s["synthetic"] == 1 and "synthetic" not in json.loads(s["csl"])
                           for s in sources)
    assert snapshot["persons"].count == snapshot["persons"].count_where("synthetic = 1") == 5
    assert snapshot["claims"].count_where("synthetic = 0") == 0


@pytest.mark.anyio
async def test_a_groups_statements_are_rows_of_the_group(published: Published) -> None:
    """Issue 20: a claim whose subject is a group carries it in `group_id` (a foreign key to
    organizations) with its count's ends, so a Datasette user facets the claims by group."""
    from datasette.app import Datasette

    db = published.snapshot()
    (eight,) = [o["id"] for o in db["organizations"].rows_where(
        "label = ?", ["The 8 Spanish pilots removed to Butyrka (25-1-1940)"])]
    rows = list(db["claims"].rows_where("group_id = ?", [eight]))
    assert {"sentence", "accusation", "custody", "transfer"} <= {r["kind"] for r in rows}
    assert all(r["person_id"] is None for r in rows)
    stay = [r for r in rows if r["kind"] == "custody" and r["count_min"] is not None]
    assert [(r["count_min"], r["count_max"]) for r in stay] == [(8, 8)]
    assert ("group_id", "organizations", "id") in {
        (fk.column, fk.other_table, fk.other_column) for fk in db["claims"].foreign_keys}
    metadata = json.loads(published.metadata.read_text("utf-8"))
    ds = Datasette([str(published.out)], metadata=metadata)
    faceted = await ds.client.get("/starosta/claims.json", params={
        "_facet": "group_id", "kind": "occupation"})
    assert faceted.status_code == 200, faceted.text
    facets = {r["value"]: r["count"] for r in faceted.json()["facet_results"]["group_id"]["results"]}
    abiego = [o["id"] for o in db["organizations"].rows_where(
        "label = ?", ["Abiego residents jailed, then shot (1936-1945)"])]
    assert facets.get(abiego[0]) == 3
