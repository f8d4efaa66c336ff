"""The demo says it with properties and qualifiers: the 6 roubles 25 kopeks allowance with its
stated equivalent ("less than $3.25"), beside the 10-12 rouble minimum; Santiago Guallar's age at
death as stated; "about half" of the Skorokhad workers as a share. Read back where a historian
looks (GET /claims?property=&value=, the biography) and in the published snapshot (the tables
statements, qualifiers and properties, by the real `starosta publish`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.tools.demo.load import DEMO_TOKENS, commands, load
from starosta.service.settings import Settings
from tests.conftest import run_cli

pytestmark = pytest.mark.slow
ADMIN = {"Authorization": f"Bearer {DEMO_TOKENS['admin'][1]}"}
CONTRIBUTOR = {"Authorization": f"Bearer {DEMO_TOKENS['contributor'][1]}"}
REVIEWER = {"Authorization": f"Bearer {DEMO_TOKENS['reviewer'][1]}"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[tuple[TestClient, str, Path]]:
    tmp = tmp_path_factory.mktemp("demo")
    db = str(tmp / "demo.db")
    load(db)
    with TestClient(create_app(Settings(db=db))) as client:
        yield client, db, tmp


def one(client: TestClient, path: str, **params) -> list[dict]:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_the_demo_lines_quote_their_words() -> None:
    """The three examples' own words are in their quotes (the quotes are checked against the
    seed texts by test_demo.test_every_quote_stands_in_a_seed_text)."""
    bodies = {c["ref"]: c["body"] for c in commands()}
    assert "less than $3.25" in bodies["sk-allowance"]["citation"]["quote"]
    assert "at the age of 86" in bodies["guallar-death"]["citation"]["quote"]
    assert bodies["skorokhad-overtime-refusal"]["citation"]["quote"].startswith("About half the workers")


def test_the_equivalent_the_age_and_the_share_are_found_by_property_and_value(demo) -> None:
    client = demo[0]
    (allowance,) = one(client, "/claims", property="equivalent", value="3.25")
    assert allowance["kind"] == "allowance" and allowance["claim"]["amount"] == "6.25"
    assert allowance["claim"]["qualifiers"] == [{"property": "equivalent", "value": {
        "amount": "3.25", "currency": "USD", "at_most": True}}]
    (death,) = one(client, "/claims", property="stated_age", value="86")
    assert death["kind"] == "death" and death["refs"]["person"]["label"] == "Santiago Guallar"
    (share,) = one(client, "/claims", property="share", value="0.50")
    assert share["kind"] == "protest" and share["refs"]["place"]["label"] == "Skorokhad factory"
    (workers,) = [c for c in one(client, "/claims", kind="aggregate", place=share["claim"]["place"])]
    assert workers["claim"]["count"] == 3000 and workers["claim"]["qualifier"] == "about"
    # the minimum of 10-12 roubles stands beside the allowance and its equivalent
    person = allowance["claim"]["person"]
    amounts = [c["claim"]["amount"] for c in one(client, "/claims", kind="allowance", person=person)]
    assert {"min": "10", "max": "12"} in amounts and "6.25" in amounts
    bio = client.get(f"/persons/{death['claim']['person']}/biography").json()
    (dead,) = bio["deaths"]
    assert dead["qualifiers"][0]["property"]["key"] == "stated_age"
    assert dead["qualifiers"][0]["value"] == {"amount": "86", "unit": "years"}


def test_the_snapshot_carries_statements_qualifiers_and_properties(demo) -> None:
    client, db, tmp = demo
    person = one(client, "/persons", q="santiago guallar")[0]["id"]
    source = client.get(f"/persons/{person}/biography").json()["deaths"][0]["citation"]["source"]["id"]
    r = client.post("/properties", headers=ADMIN, json={
        "key": "demo_card_id", "label": "a test card (not historical)", "datatype": "external_id"})
    assert r.status_code == 201, r.text
    made = client.post("/claims", headers=CONTRIBUTOR, json={
        "kind": "statement", "subject": person, "property": "demo_card_id", "value": "T-1",
        "note": "A test statement (not historical)", "citation": {"source": source}})
    assert made.status_code == 201, made.text
    assert client.post(f"/claims/{made.json()['id']}/approve", headers=REVIEWER).status_code == 200
    out = tmp / "public" / "starosta.db"
    done = run_cli("publish", str(out), "--db", db)
    assert done.returncode == 0, done.stderr
    snap = sqlite_utils.Database(out)
    qualifiers = {r["property_key"]: r for r in snap["qualifiers"].rows}
    assert qualifiers["equivalent"]["amount"] == "3.25" and qualifiers["equivalent"]["bound"] == "at_most"
    assert qualifiers["equivalent"]["currency"] == "USD" and qualifiers["equivalent"]["claim_kind"] == "allowance"
    assert qualifiers["stated_age"]["unit"] == "years" and qualifiers["stated_age"]["value"] == "86"
    assert qualifiers["share"]["about"] == 1 and qualifiers["share"]["amount"] == "0.5"
    (statement,) = snap["statements"].rows
    assert statement["subject_id"] == person and statement["subject_type"] == "person"
    assert statement["property_key"] == "demo_card_id" and statement["value"] == "T-1"
    keys = {r["key"]: r for r in snap["properties"].rows}
    assert keys["wikidata_id"]["url_pattern"] == "https://www.wikidata.org/wiki/$1"
    assert keys["demo_card_id"]["seeded"] == 0 and keys["nationality"]["seeded"] == 1
    assert one(client, "/persons", q="T-1")[0]["id"] == person  # the external id is searchable
