"""EDTF forms a historian writes, through the HTTP API: a winter, a date with a time, a season
in an interval; and a date wholly outside the archive's years refused naming the range."""

from __future__ import annotations

from tests.api.conftest import Api, assert_problem


def custody(api: Api, start: str, end: str | None = None) -> dict:
    source = api.source()
    person = api.person("Test Person (not historical)", source)
    place = api.place("Test Prison (not historical)", source)
    body = {"kind": "custody", "person": person, "place": place, "custody": "prison",
            "start": start, "citation": {"source": source}}
    if end is not None:
        body["end"] = end
    return body


def test_a_winter_holds_every_reading_of_it(api: Api) -> None:
    claim = api.claim(custody(api, "1940-24", "1941-22"))
    dates = api.get(f"/claims/{claim}", "alice").json()["dates"]
    assert dates["start"]["edtf"] == "1940-24"
    assert (dates["start"]["earliest"], dates["start"]["latest"]) == ("1940-01-01", "1941-02-28")
    assert (dates["end"]["earliest"], dates["end"]["latest"]) == ("1941-06-01", "1941-08-31")


def test_a_time_of_day_is_cut_to_its_day(api: Api) -> None:
    claim = api.claim(custody(api, "1941-06-22T04:00:00+03:00"))
    start = api.get(f"/claims/{claim}", "alice").json()["dates"]["start"]
    assert start["edtf"] == "1941-06-22T04:00:00+03:00"
    assert (start["earliest"], start["latest"]) == ("1941-06-22", "1941-06-22")


def test_a_date_wholly_outside_the_archive_s_years_is_422_naming_the_range(api: Api) -> None:
    for start in ("1600-24", "Y170000002", "0000"):
        body = assert_problem(api.post("/claims", custody(api, start)), 422, "1700-2100")
        assert body["errors"][0]["field"] == "start"
