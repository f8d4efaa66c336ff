"""Aggregates say what they count (issue 10, item 10): `status` (held by default); a
population's `reported` lists only counts of people held, dead, shot or arrived there; every
count stays readable through GET /claims?place=."""

from __future__ import annotations

import pytest

from starosta.service.tools.demo.load import load
from tests.api.conftest import Api, assert_problem
from litestar.testing import TestClient
from starosta.service.api.app import create_app
from starosta.service.settings import Settings


def approve(api: Api, claim: str) -> None:
    r = api.post(f"/claims/{claim}/approve", {"reason": "checked"}, "bob")
    assert r.status_code == 200, r.text


def test_only_counts_of_people_held_dead_shot_or_arrived_are_reported(api: Api) -> None:
    s = api.source()
    works = api.place("Test Works (not historical)", s, kind="other")
    made = {}
    for status in ("held", "died", "shot", "arrived", "members", "employed", "arrested", None):
        body = {"kind": "aggregate", "place": works, "count": 10, "date": "1923",
                "group": f"test group {status} (not historical)", "citation": {"source": s}}
        if status is not None:
            body["status"] = status
        made[status] = api.claim(body)
        approve(api, made[status])
    reported = {r["claim"] for r in api.get(f"/places/{works}/population", at="1923").json()["reported"]}
    assert reported == {made[k] for k in ("held", "died", "shot", "arrived", None)}
    listed = {c["id"] for c in api.get("/claims", place=works, limit=100).json()["items"]}
    assert set(made.values()) <= listed
    timeline = api.get(f"/places/{works}/population/timeline", **{"from": "1923", "to": "1923"}).json()
    assert {r["claim"] for r in timeline["items"][0]["reported"]} == reported


def test_an_unknown_status_is_422(api: Api) -> None:
    s = api.source()
    works = api.place("Test Works (not historical)", s, kind="other")
    body = {"kind": "aggregate", "place": works, "count": 10, "group": "g", "status": "fired",
            "citation": {"source": s}}
    assert assert_problem(api.post("/claims", body), 422, "status")["errors"][0]["field"] == "status"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    load(db)
    with TestClient(create_app(Settings(db=db))) as client:
        yield client


@pytest.mark.parametrize("place, at, absent", [("Abiego", "1936-05", "members of the Abiego CNT Union"),
                                               ("Putilov", "1923", "discharged")])
def test_the_demo_reports_no_count_that_is_not_about_custody(demo, place, at, absent) -> None:
    place_id = demo.get("/places", params={"q": place}).json()["items"][0]["id"]
    reported = demo.get(f"/places/{place_id}/population", params={"at": at}).json()["reported"]
    assert not [r for r in reported if absent in r["group"]], reported
    listed = demo.get("/claims", params={"place": place_id, "limit": 200}).json()["items"]
    assert [c for c in listed if absent in c["claim"].get("group", "")]  # still readable
