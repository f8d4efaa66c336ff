"""Confusable and invisible names (issue 18, finding 9), through the real HTTP API on both
backends: the issue's hostile names of a registered person are refused (422, the value shown
escaped) or answered 409 `/problems/possible-duplicate` with the record they look like, unless
`not_same_as` says otherwise; every text of a request is stored in NFC; old stored names with
invisible characters still read (no 500) and still count as look-alikes. Token names that
differ only in case or Unicode form are refused by the real CLI."""

from __future__ import annotations

import sqlite3
import unicodedata
from pathlib import Path

import pytest

import asyncio

import httpx

from starosta.events.registry import PersonRegistered
from starosta.events.store import AppendRequest, Metadata, NewEvent
from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.api.conftest import assert_problem, make_tokens
from tests.conftest import run_cli

REGISTERED = "Мария Спиридонова"
DUPLICATE = "/problems/possible-duplicate"

CLONES = {  # each is the registered name to a reader, and must not become a second person
    "nfd": unicodedata.normalize("NFD", REGISTERED),
    "nbsp": REGISTERED.replace(" ", "\u00a0"),
    "trailing spaces": REGISTERED + "   ",
    "zwsp": "Мария\u200b Спиридонова",
    "latin M": "Mария Спиридонова",
    "case": "МАРИЯ СПИРИДОНОВА",
}
REFUSED = {  # (name, what the detail must show)
    "bom": ("\ufeff" + REGISTERED, "<U+FEFF>"),
    "rlo": ("\u202e" + REGISTERED, "<U+202E>"),
    "only zwsp": ("\u200b\u200b\u200b", "<U+200B>"),
    "290 accents": ("M" + "\u0301" * 290 + "aria", "<U+0301>"),
}


def register(api, path: str, name: str, source: str, **extra):
    body = {"name": name, "citation": {"source": source}, **extra}
    if path == "/places":
        body.setdefault("kind", "prison")
    if path == "/organizations":
        body.setdefault("kind", "committee")
    return api.post(path, body)


@pytest.fixture
def registered(api):
    source = api.source()
    r = register(api, "/persons", REGISTERED, source)
    assert r.status_code == 201, r.text
    return source, r.json()["id"]


@pytest.mark.parametrize("clone", list(CLONES), ids=list(CLONES))
def test_a_clone_of_a_registered_name_is_409_naming_the_record(api, registered, clone):
    source, person = registered
    head = api.get("/events/head").json()["position"]
    r = register(api, "/persons", CLONES[clone], source)
    body = assert_problem(r, 409, person, "not_same_as")
    assert body["type"] == DUPLICATE
    assert body["candidates"] == [{"id": person, "label": REGISTERED, "matched": REGISTERED}]
    assert api.get("/events/head").json()["position"] == head  # nothing written

    r = register(api, "/persons", CLONES[clone], source, not_same_as=[person])  # "another person"
    assert r.status_code == 201, r.text
    record = api.get(f"/persons/{r.json()['id']}").json()
    assert record["label"] == unicodedata.normalize("NFC", " ".join(CLONES[clone].replace("\u200b", "").split()))


@pytest.mark.parametrize("hostile", list(REFUSED), ids=list(REFUSED))
def test_invisible_bidi_and_stacked_names_are_422_shown_escaped(api, hostile):
    source = api.source()
    name, shown = REFUSED[hostile]
    head = api.get("/events/head").json()["position"]
    r = register(api, "/persons", name, source)
    body = assert_problem(r, 422, "name=", shown)
    error = body["errors"][0]
    assert error["field"] == "name" and shown in error["value"]
    for ch in ("\u202e", "\ufeff", "\u200b"):
        assert ch not in r.text  # the answer shows the value escaped, never the raw control
    assert api.get("/events/head").json()["position"] == head


def test_registrations_of_each_kind_check_names_and_aliases(api):
    source = api.source()
    place = register(api, "/places", "Бутырка", source).json()["id"]
    r = register(api, "/places", "Butyrki", source, aliases=["Бутырка\u00a0"])
    body = assert_problem(r, 409, place)
    assert body["candidates"][0]["id"] == place
    r = register(api, "/places", "Butyrki", source, aliases=["ok", "\u202eevil"])
    assert_problem(r, 422, "aliases.1", "<U+202E>")
    for path, name in (("/organizations", "Joint Committee"), ("/funds", "Relief Fund")):
        first = register(api, path, name, source).json()["id"]
        r = register(api, path, name.upper() + " ", source)
        assert assert_problem(r, 409, first)["type"] == DUPLICATE
        assert register(api, path, name.upper(), source, not_same_as=[first]).status_code == 201
    # a person and a place may share a name: look-alikes are looked for among one kind
    assert register(api, "/persons", "Бутырка", source).status_code == 201


def test_not_same_as_must_name_every_candidate_and_only_known_records(api, registered):
    source, person = registered
    other = register(api, "/persons", REGISTERED + " ", source, not_same_as=[person]).json()["id"]
    r = register(api, "/persons", REGISTERED, source, not_same_as=[person])
    body = assert_problem(r, 409, other)
    assert sorted(c["id"] for c in body["candidates"]) == sorted([person, other])
    r = register(api, "/persons", REGISTERED, source, not_same_as=[person, "P-NOSUCH1"])
    assert_problem(r, 404, "P-NOSUCH1")
    assert register(api, "/persons", REGISTERED, source, not_same_as=[person, other]).status_code == 201


def test_public_names_count_and_pending_ones_do_not(api, registered):
    source, person = registered
    claim = api.claim({"kind": "name", "person": person, "name": "Maria Spiridonova",
                       "citation": {"source": source}})
    # pending: another contributor's new record is not refused because of it (nor told of it)
    assert register(api, "/persons", "Maria Spiridonova", source).status_code == 201
    api.post(f"/claims/{claim}/approve", {}, "bob")
    r = register(api, "/persons", "MARIA SPIRIDONOVA", source)
    body = assert_problem(r, 409, person)
    assert {"id": person, "label": REGISTERED, "matched": "Maria Spiridonova"} in body["candidates"]


def test_a_merged_record_answers_as_its_survivor(api, registered):
    source, person = registered
    twin = register(api, "/persons", "M. Spiridonova", source).json()["id"]
    assert api.post(f"/persons/{twin}/merge", {"into": person, "reason": "same"}, "bob").status_code == 200
    r = register(api, "/persons", "M. SPIRIDONOVA", source)
    body = assert_problem(r, 409, person)
    assert [c["id"] for c in body["candidates"]] == [person]
    assert register(api, "/persons", "M. SPIRIDONOVA", source, not_same_as=[twin]).status_code == 201


def test_name_claims_are_stored_fit_and_refused_unfit(api, registered):
    source, person = registered
    r = api.post("/claims", {"kind": "name", "person": person, "name": "\u202eSpiridonova",
                             "citation": {"source": source}})
    assert_problem(r, 422, "name=", "<U+202E>")
    claim = api.claim({"kind": "name", "person": person, "name": "  Spiridónova\u200b ",
                       "citation": {"source": source}})
    names = api.get(f"/claims/{claim}", "alice").json()
    assert "Spiridónova" in str(names) and "\u200b" not in str(names)


def test_every_text_of_a_request_is_stored_in_nfc(api, registered):
    source, person = registered
    nfd = unicodedata.normalize("NFD", "Diez años en la URSS")
    r = api.post("/sources", {"csl": {"type": "book", "title": nfd}, "note": nfd})
    assert r.status_code == 201, r.text
    found = api.get(f"/sources/{r.json()['id']}").json()
    assert found["label"] == "Diez años en la URSS" and found["data"]["note"] == found["label"]
    claim = api.claim({"kind": "death", "person": person, "date": "1941-09-11",
                       "said": unicodedata.normalize("NFD", "расстреляна в Медведевском лесу"),
                       "citation": {"source": source}})
    events = api.get("/events", "root", after=0, limit=1000).json()["items"]
    stored = next(e for e in events if e.get("stream_id") == claim)
    assert stored["data"]["claim"]["said"] == "расстреляна в Медведевском лесу"
    for event in events:
        text = str(event.get("data"))
        assert unicodedata.is_normalized("NFC", text), event


def test_the_same_body_in_nfd_is_the_same_idempotent_request(api):
    source = api.source()
    body = {"name": "Ramón Sanz", "citation": {"source": source}}
    nfd = {**body, "name": unicodedata.normalize("NFD", body["name"])}
    first = api.post("/persons", body, **{"Idempotency-Key": "ramon"})
    again = api.post("/persons", nfd, **{"Idempotency-Key": "ramon"})
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()


def test_old_stored_names_read_as_they_are_and_still_count(api):
    """A name a past version stored with invisible characters: every read answers, and a new
    record named like it is still a possible duplicate of it."""
    archive = api.client.app.state.archive
    old = "\u202eVera\u200b  Martsinkevitch\ufeff"
    archive.commit_sync([AppendRequest("P-OLD00001", [NewEvent(PersonRegistered(
        person_id="P-OLD00001", label=old))], 0)], Metadata(actor="a past version"))
    assert api.get("/persons/P-OLD00001").json()["label"] == old
    assert api.get("/persons", q="Martsinkevitch").status_code == 200
    assert api.get("/persons/P-OLD00001/biography").status_code == 200
    r = register(api, "/persons", "Vera Martsinkevitch", api.source())
    body = assert_problem(r, 409, "P-OLD00001", "<U+202E>")
    assert body["candidates"] == [{"id": "P-OLD00001", "label": old, "matched": old}]


def test_look_alikes_registered_at_once_give_one_record(archive_db):
    """Clones sent together all pass the check before any commits; the check runs again in the
    append's transaction (serialised), so exactly one is a record and the others are 409."""
    tokens = make_tokens(archive_db)
    app = create_app(Settings(db=archive_db))
    alice = {"Authorization": f"Bearer {tokens['alice']}"}

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            source = (await client.post("/sources", json={"csl": {"type": "book", "title": "t"}},
                                        headers=alice)).json()["id"]
            return list(await asyncio.gather(*(
                client.post("/persons", json={"name": clone, "citation": {"source": source}},
                            headers=alice) for clone in CLONES.values())))

    answers = asyncio.run(scenario())
    assert sorted(r.status_code for r in answers) == [201] + [409] * (len(CLONES) - 1), \
        [r.text for r in answers]
    made = next(r.json()["id"] for r in answers if r.status_code == 201)
    for r in answers:
        if r.status_code == 409:
            assert r.json()["type"] == DUPLICATE and [c["id"] for c in r.json()["candidates"]] == [made]


# -- token names (finding 10): the real CLI ---------------------------------------------------

def test_token_names_differing_in_case_or_form_are_one_account(tmp_path: Path):
    db = str(tmp_path / "archive.db")
    assert run_cli("migrate", "--db", db).returncode == 0
    done = run_cli("token", "create", "--name", "José Reviewer", "--role", "reviewer", "--db", db)
    assert done.returncode == 0, done.stderr
    for twin in ("josé reviewer", unicodedata.normalize("NFD", "José Reviewer"), "JOSÉ  REVIEWER",
                 "Jоsé Reviewer",  # Cyrillic о
                 "ＪＯＳＥ́ Reviewer"):
        done = run_cli("token", "create", "--name", twin, "--role", "contributor", "--db", db,
                       timeout=60)
        assert done.returncode != 0, twin
        assert done.stdout.strip() == ""  # no token printed
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "José Reviewer" in lines[0], done.stderr
    done = run_cli("token", "create", "--name", "Jos\u202eé", "--role", "contributor", "--db", db)
    assert done.returncode != 0 and "U+202E" in done.stderr
    conn = sqlite3.connect(db)
    try:
        assert [r[0] for r in conn.execute("SELECT name FROM tokens")] == ["José Reviewer"]
    finally:
        conn.close()
    # the same name, after revoking its token, is the same account again (a rotation)
    token_id = run_cli("token", "list", "--db", db).stdout.split()[0]
    assert token_id.startswith("T-"), token_id
    assert run_cli("token", "revoke", token_id, "--db", db).returncode == 0
    done = run_cli("token", "create", "--name", "José Reviewer", "--role", "reviewer", "--db", db)
    assert done.returncode == 0, done.stderr
