"""Hostile inputs answer a clear 4xx problem, never a 500 (issue 9, items 1-4)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, assert_problem

DEEP = [b"[" * 1000 + b"]" * 1000, b'{"csl":' * 1000 + b"1" + b"}" * 1000]


@pytest.mark.parametrize("body", DEEP)
@pytest.mark.parametrize("path", ["/sources", "/claims", "/persons"])
def test_json_nested_too_deep_is_400(api: Api, path: str, body: bytes) -> None:
    r = api.client.post(path, content=body, headers={**api.auth("alice"),
                                                     "Content-Type": "application/json"})
    assert_problem(r, 400, "nested too deeply")


@pytest.mark.parametrize("path", ["/sources", "/claims/C-00000000/reject"])
def test_invalid_utf8_in_a_body_is_400_naming_the_byte(api: Api, path: str) -> None:
    r = api.client.post(path, content=b'{"reason": "\xc3\x28"}',
                        headers={**api.auth("bob"), "Content-Type": "application/json"})
    assert_problem(r, 400, "UTF-8", "byte 12")


def test_a_log_position_past_the_integer_range_is_422(api: Api) -> None:
    r = api.client.get("/events", params={"after": "9223372036854775808"})
    body = assert_problem(r, 422, "after")
    assert body["errors"][0]["field"] == "after"


def test_as_of_past_the_integer_range_reads_the_head(api: Api) -> None:
    person = api.person("Aron Baron", api.source())
    r = api.client.get(f"/persons/{person}/biography", params={"as_of": "9223372036854775808"})
    assert r.status_code == 200, r.text
    assert r.json()["as_of"]["position"] == 2**62
    assert_problem(api.client.get("/persons/P-00000000/biography",
                                  params={"as_of": "9223372036854775808"}), 404, "P-00000000")


@pytest.mark.parametrize("date", ["9999-12", "1500", "0001-01-01"])
def test_a_date_wholly_outside_the_archive_years_is_422_naming_the_range(api: Api, date: str) -> None:
    s = api.source()
    p = api.person("Vera Martsinkevitch", s)
    r = api.post("/claims", {"kind": "death", "person": p, "date": date, "citation": {"source": s}})
    body = assert_problem(r, 422, "1700-2100", date)
    assert body["errors"][0]["field"] == "date"
    place = api.place("Kem", s, kind="camp")
    r = api.client.get(f"/places/{place}/population/timeline",
                       params={"from": date, "to": date, "step": "month"})
    assert_problem(r, 422, "1700-2100")


def test_a_date_overlapping_the_archive_years_is_kept(api: Api) -> None:
    s = api.source()
    p = api.person("Vera Martsinkevitch", s)
    r = api.post("/claims", {"kind": "death", "person": p, "date": "1XXX", "citation": {"source": s}})
    assert r.status_code == 201, r.text


def test_stored_dates_a_past_version_accepted_still_read(api: Api, db_path: str) -> None:
    """A custody claim starting 9999-12, accepted before the 1700-2100 rule, is stored in the
    log for ever: the place's timeline and population read it without a 500."""
    import datetime as dt

    from starosta.events.dates import DateValue
    from starosta.events.kinds import Citation, CustodyClaim
    from starosta.events.review import ClaimApproved, ClaimSubmitted
    from starosta.events.store import AppendRequest, Metadata, NewEvent
    from starosta.service.db import open_archive

    s = api.source()
    p = api.person("A synthetic prisoner (test)", s)
    place = api.place("A synthetic prison (test)", s)
    claim = CustodyClaim(person=p, place=place, custody="prison", start="9999-12",
                         citation=Citation(source=s))
    dates = {"start": DateValue(edtf="9999-12", earliest=dt.date(9999, 12, 1),
                                latest=dt.date(9999, 12, 31))}
    archive = open_archive(db_path)
    try:
        archive.commit_sync([AppendRequest("C-OLD99999", [NewEvent(ClaimSubmitted(
            claim_id="C-OLD99999", contributor="alice", claim=claim, dates=dates))], 0)],
            Metadata(actor="alice"))
        archive.commit_sync([AppendRequest("C-OLD99999", [NewEvent(ClaimApproved(
            claim_id="C-OLD99999", reviewer="bob"))], 1)], Metadata(actor="bob"))
    finally:
        archive.close()
    for step in ("month", "year"):
        r = api.client.get(f"/places/{place}/population/timeline", params={"step": step})
        assert r.status_code == 200, r.text
        assert r.json()["items"][-1]["latest"] == "9999-12-31"
    assert api.client.get(f"/persons/{p}/biography").status_code == 200


@pytest.mark.parametrize("name", ["a\u0000b", "\u001b[31mred", "carriage\rreturn", "c1\u0085"])
def test_control_characters_in_text_are_422_naming_the_field(api: Api, name: str) -> None:
    s = api.source()
    r = api.post("/persons", {"name": name, "citation": {"source": s}})
    body = assert_problem(r, 422, "control character")
    assert body["errors"][0]["field"] == "name" and body["errors"][0]["value"] == name
    r = api.post("/sources", {"csl": {"type": "book", "title": "ok", "note": name}})
    assert_problem(r, 422, "csl.note")
    assert api.get("/persons", q="red").json()["items"] == []  # nothing was registered


def test_tab_and_newline_stay_allowed_in_text(api: Api) -> None:
    s = api.source()
    r = api.post("/persons", {"name": "N. (Central Russia)", "citation": {"source": s},
                              "note": "a letter\n\tprinted without its author's name"})
    assert r.status_code == 201, r.text
