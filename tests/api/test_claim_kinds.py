"""Every claim kind over HTTP: a valid example of each is accepted pending and read back as
submitted with its dates' bounds; every refusal is a problem document naming the field and the
value at fault, and appends nothing to the log."""

from __future__ import annotations

import re

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from starosta.service.domain.ids import ACCOUNT_ID
from starosta.events.kinds import KIND_NAMES, KINDS, AnyClaim
from starosta.events.participants import legacy, normalised
from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.api.conftest import Api, make_tokens

PROBLEM = "application/problem+json"
BY_KIND = {k.__struct_config__.tag: k for k in KINDS}
DATED_KINDS = [k for k in KIND_NAMES if BY_KIND[k].DATES]
INTERVAL_KINDS = [k for k in KIND_NAMES if BY_KIND[k].INTERVAL]
MONEY_KINDS = ["donation", "disbursement", "allowance", "committee_transfer"]


# -- one archive for the module: every test checks that its refusals append nothing ----------

@pytest.fixture(scope="module")
def kapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The real app on a real SQLite file, built as tests/api/conftest.py's `api` is, but shared
    by this module's tests (each checks the log head itself) to keep the module fast."""
    db = str(tmp_path_factory.mktemp("kinds") / "archive.db")
    tokens = make_tokens(db)
    with TestClient(create_app(Settings(db=db))) as client:
        yield Api(client, tokens)


def _org(api: Api, name: str, kind: str, source: str) -> str:
    r = api.post("/organizations", {"name": name, "kind": kind, "citation": {"source": source}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture(scope="module")
def w(kapi: Api) -> dict[str, str]:
    """Registered entities for the examples, from the domain's seed texts."""
    s = kapi.source("10 Años en la URSS")
    bulletin = kapi.source("Bulletin of the Joint Committee, no. 12")
    world = {"s": s, "bulletin": bulletin}
    world["monclus"] = kapi.person("Vicente Monclús Guallar", s, name_kind="birth")
    world["manuel"] = kapi.person("Manuel Monclús", s)
    world["vera"] = kapi.person("Vera Martsinkevitch", bulletin)
    world["klichevsky"] = kapi.person("Klichevsky", bulletin)
    world["n"] = kapi.person("N. (Central Russia)", bulletin, partial=True, name_kind="initials")
    world["correspondent"] = kapi.person("S.– K.– (North of Siberia)", bulletin, partial=True,
                                         name_kind="initials")
    world["butyrka"] = kapi.place("Butyrka", s, "prison", aliases=["Butyrki"])
    world["vorkuta"] = kapi.place("Vorkuta", s, "camp")
    world["kem"] = kapi.place("Kem", bulletin, "camp")
    world["kazakhstan"] = kapi.place("Kazakhstan", s, "region")
    world["samarkand"] = kapi.place("Samarkand", s, "exile")
    world["tashkent"] = kapi.place("Tashkent", bulletin, "exile")
    world["abiego"] = kapi.place("Abiego", s, "settlement")
    world["la_ribera"] = kapi.place("La Ribera", s, "other")
    world["nkvd"] = _org(kapi, "NKVD", "organ", s)
    world["tribunal"] = _org(kapi, "a secret tribunal", "tribunal", s)
    world["cnt"] = _org(kapi, "CNT", "union", s)
    world["joint"] = _org(kapi, "Joint Committee of anarchists and SRs", "committee", bulletin)
    world["colony"] = _org(kapi, "Anarchist exiles of Tashkent", "colony", bulletin)
    r = kapi.post("/funds", {"name": "Relief Fund of the IWMA", "organization": world["joint"],
                             "citation": {"source": bulletin}})
    assert r.status_code == 201, r.text
    world["fund"] = r.json()["id"]
    return world


# -- a valid example of every kind -----------------------------------------------------------

Example = tuple[Callable[[dict[str, str]], dict[str, Any]], dict[str, tuple[str | None, str | None]]]

EXAMPLES: dict[str, Example] = {
    "name": (lambda w: {"kind": "name", "person": w["monclus"], "name": "Висенте Монклус",
                        "name_kind": "transliteration", "citation": {"source": w["s"]}},
             {}),
    "birth": (lambda w: {"kind": "birth", "person": w["monclus"], "place": w["abiego"],
                         "date": "19XX", "citation": {"source": w["s"], "locator": "p. 1"},
                         "said": "born in Abiego (Huesca)"},
              {"date": ("1900-01-01", "1999-12-31")}),
    "death": (lambda w: {"kind": "death", "person": w["vera"], "date": "1925-04", "place": w["kem"],
                         "manner": "died_in_camp", "said": "April 1925",
                         "citation": {"source": w["bulletin"]}},
              {"date": ("1925-04-01", "1925-04-30")}),
    "affiliation": (lambda w: {"kind": "affiliation", "person": w["monclus"],
                               "affiliation": "anarcho-syndicalist", "organization": w["cnt"],
                               "start": "1936", "citation": {"source": w["s"]}},
                    {"start": ("1936-01-01", "1936-12-31")}),
    "occupation": (lambda w: {"kind": "occupation", "person": w["monclus"],
                              "occupation": "air-force cadet", "start": "1938", "end": "1939",
                              "citation": {"source": w["s"]}},
                   {"start": ("1938-01-01", "1938-12-31"), "end": ("1939-01-01", "1939-12-31")}),
    "arrest": (lambda w: {"kind": "arrest", "person": w["monclus"], "date": "1940-01-25",
                          "place": w["butyrka"], "organ": w["nkvd"], "said": "on 25-1-1940",
                          "citation": {"source": w["s"], "locator": "para. 4"}},
               {"date": ("1940-01-25", "1940-01-25")}),
    "accusation": (lambda w: {"kind": "accusation", "person": w["monclus"],
                              "accusation": "Trotskyist and fifth columnist", "date": "1940-09",
                              "authority": w["tribunal"], "citation": {"source": w["s"]}},
                   {"date": ("1940-09-01", "1940-09-30")}),
    "sentence": (lambda w: {"kind": "sentence", "person": w["monclus"], "sentence": "penal_servitude",
                            "term": "8 years", "term_iso": "P8Y", "date": "1940-09",
                            "authority": w["tribunal"], "authority_said": "a secret tribunal",
                            "citation": {"source": w["s"]}},
                 {"date": ("1940-09-01", "1940-09-30")}),
    "custody": (lambda w: {"kind": "custody", "person": w["monclus"], "place": w["butyrka"],
                           "start": "1940-01-25", "end": "1940-09", "custody": "prison",
                           "said": "on 25-1-1940",
                           "citation": {"source": w["s"], "locator": "para. 4"}},
                {"start": ("1940-01-25", "1940-01-25"), "end": ("1940-09-01", "1940-09-30")}),
    "transfer": (lambda w: {"kind": "transfer", "person": w["monclus"], "from_place": w["butyrka"],
                            "to_place": w["vorkuta"], "date": "1940-09",
                            "citation": {"source": w["s"]}},
                 {"date": ("1940-09-01", "1940-09-30")}),
    "escape": (lambda w: {"kind": "escape", "person": w["monclus"], "outcome": "recaptured",
                          "date": "1940-10", "recaptured": "1941-01", "place": w["vorkuta"],
                          "said": "recaptured after three months", "citation": {"source": w["s"]}},
               {"date": ("1940-10-01", "1940-10-31"), "recaptured": ("1941-01-01", "1941-01-31")}),
    "protest": (lambda w: {"kind": "protest", "protest": "hunger_strike", "place": w["butyrka"],
                           "start": "1923/1931", "citation": {"source": w["bulletin"]}},
                {"start": ("1923-01-01", "1931-12-31")}),
    "release": (lambda w: {"kind": "release", "person": w["monclus"], "release": "pardon",
                           "date": "1948-01-29", "destination": w["samarkand"],
                           "said": "29-1-1948: pardoned and banished to Samarkand",
                           "citation": {"source": w["s"]}},
                {"date": ("1948-01-29", "1948-01-29")}),
    "execution": (lambda w: {"kind": "execution", "person": w["manuel"], "date": "1937?",
                             "authority": w["nkvd"], "citation": {"source": w["s"]}},
                  {"date": ("1937-01-01", "1937-12-31")}),
    "role": (lambda w: {"kind": "role", "person": w["klichevsky"], "role": "starosta",
                        "place": w["tashkent"], "organization": w["colony"], "start": "192X",
                        "citation": {"source": w["bulletin"]}},
             {"start": ("1920-01-01", "1929-12-31")}),
    "membership": (lambda w: {"kind": "membership", "person": w["klichevsky"],
                              "organization": w["colony"], "start": "1925~", "end": "1926",
                              "citation": {"source": w["bulletin"]}},
                   {"start": ("1925-01-01", "1925-12-31"), "end": ("1926-01-01", "1926-12-31")}),
    "letter": (lambda w: {"kind": "letter", "person": w["n"], "date": "1926", "place": w["tashkent"],
                          "recipient": w["joint"], "recipient_said": "Dear comrades",
                          "citation": {"source": w["bulletin"], "locator": "Letter 3",
                                       "via": ["Translated by Paul Sharkey"]}},
               {"date": ("1926-01-01", "1926-12-31")}),
    "relation": (lambda w: {"kind": "relation", "person": w["monclus"], "other": w["manuel"],
                            "relation": "brother", "said": "his brother Manuel",
                            "citation": {"source": w["s"]}},
                 {}),
    "presence": (lambda w: {"kind": "presence", "person": w["monclus"], "place": w["la_ribera"],
                            "purpose": "air-force school", "start": "1938",
                            "citation": {"source": w["s"]}},
                 {"start": ("1938-01-01", "1938-12-31")}),
    "labour": (lambda w: {"kind": "labour", "person": w["monclus"],
                          "labour": "felling trees and coal mines", "start": "1942", "end": "1943",
                          "said": "down to 37 kilos", "citation": {"source": w["s"]}},
               {"start": ("1942-01-01", "1942-12-31"), "end": ("1943-01-01", "1943-12-31")}),
    "allowance": (lambda w: {"kind": "allowance", "amount": "6.25", "currency": "SUR",
                             "period": "month", "place": w["tashkent"], "payer_said": "the state",
                             "said": "6 roubles 25 kopeks a month",
                             "citation": {"source": w["bulletin"]}},
                  {}),
    "donation": (lambda w: {"kind": "donation", "fund": w["fund"],
                            "donor": "a group of comrades in Chicago", "amount": "10.00",
                            "currency": "USD", "date": "1926-05",
                            "note": "synthetic sum, for the test only",
                            "citation": {"source": w["bulletin"]}},
                 {"date": ("1926-05-01", "1926-05-31")}),
    "disbursement": (lambda w: {"kind": "disbursement", "fund": w["fund"], "recipient": w["colony"],
                                "via": w["correspondent"], "amount": "25.00", "currency": "USD",
                                "date": "1926-05",
                                "citation": {"source": w["bulletin"], "locator": "Bulletin 12"}},
                     {"date": ("1926-05-01", "1926-05-31")}),
    "in_kind": (lambda w: {"kind": "in_kind", "fund": w["fund"], "items": "books and newspapers",
                           "recipient": w["colony"], "date": "1925",
                           "citation": {"source": w["bulletin"]}},
                {"date": ("1925-01-01", "1925-12-31")}),
    "committee_transfer": (lambda w: {"kind": "committee_transfer", "fund": w["fund"],
                                      "to_said": "the committee for exiled Bulgarians",
                                      "purpose": "aid to exiled Bulgarians", "date": "1926",
                                      "citation": {"source": w["bulletin"]}},
                           {"date": ("1926-01-01", "1926-12-31")}),
    "aggregate": (lambda w: {"kind": "aggregate", "place": w["kazakhstan"], "date": "1943-01-01",
                             "count": 66, "qualifier": "exact",
                             "group": "Spanish anti-fascists in Kazakhstan",
                             "of_whom": [{"count": 11, "what": "died"}],
                             "said": "out of 66 anti-fascists known to have been in Kazakhstan on "
                                     "1 January 1943, 11 died",
                             "citation": {"source": w["s"]}},
                  {"date": ("1943-01-01", "1943-01-01")}),
    "no_record": (lambda w: {"kind": "no_record", "person": w["vera"], "of": "release",
                             "citation": {"source": w["bulletin"]}},
                  {}),
    "custody_total": (lambda w: {"kind": "custody_total", "person": w["monclus"],
                                 "total": "16 years and 51 days", "days": 5895, "qualifier": "about",
                                 "scope": "all", "said": "16 years and 51 days as a prisoner of the USSR",
                                 "citation": {"source": w["s"]}},
                      {}),
    "statement": (lambda w: {"kind": "statement", "subject": w["monclus"], "property": "residence",
                             "value": w["abiego"], "start": "1936", "citation": {"source": w["s"]},
                             "qualifiers": [{"property": "article", "value": "58-10"}]},
                  {"start": ("1936-01-01", "1936-12-31")}),
    "derivation": (lambda w: {"kind": "derivation", "source": w["bulletin"], "derives_from": w["s"],
                              "relation": "quoted_from", "citation": {"source": w["bulletin"]}},
                   {}),
}


def test_every_kind_has_an_example() -> None:
    """Adding a kind to KINDS without an example here fails."""
    assert set(EXAMPLES) == set(KIND_NAMES)
    assert set(KIND_NAMES) >= {
        "name", "birth", "death", "affiliation", "occupation", "arrest", "accusation", "sentence",
        "custody", "transfer", "escape", "protest", "release", "execution", "role", "membership",
        "letter", "relation", "presence", "labour", "allowance", "donation", "disbursement",
        "in_kind", "committee_transfer", "aggregate", "no_record"}


# -- helpers ----------------------------------------------------------------------------------

def head(api: Api) -> int:
    r = api.get("/events/head")
    assert r.status_code == 200, r.text
    return r.json()["position"]


def default_of(kind: str, field: str) -> Any:
    for f in msgspec.structs.fields(BY_KIND[kind]):
        if f.name == field:
            return f.default if f.default is not msgspec.NODEFAULT else f.default_factory()
    raise KeyError(field)


def assert_as_submitted(kind: str, sent: dict[str, Any], stored: dict[str, Any]) -> None:
    """Every field sent comes back unchanged (a field equal to its default may be left out),
    but the older slots `with`, `recipient` and `via`, which come back as participants in
    their roles (companion, recipient, correspondent: events/participants.py)."""
    moved = {field: p for field, p in legacy(msgspec.convert(sent, AnyClaim))}
    expected = msgspec.json.decode(msgspec.json.encode(normalised(msgspec.convert(sent, AnyClaim))))
    for field, participant in moved.items():
        assert field not in stored, (field, stored)
        assert msgspec.to_builtins(participant) in stored["participants"], (field, stored)
    sent = {field: expected[field] if field in expected or field == "kind" else default_of(kind, field)
            for field in sent}
    for field, value in sent.items():
        value = list(value) if isinstance(value, tuple) else value
        if field in stored:
            got = stored[field]
        else:
            got = default_of(kind, field)
            got = list(got) if isinstance(got, tuple) else got
        assert got == value, (field, value, stored)


def submit_and_read(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    before = head(api)
    r = api.post("/claims", body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "pending" and out["position"] == before + 1
    assert head(api) == before + 1
    r = api.get(f"/claims/{out['id']}", "alice")
    assert r.status_code == 200, r.text
    claim = r.json()
    assert claim["id"] == out["id"] and claim["status"] == "pending"
    assert claim["position"] == out["position"]
    assert re.fullmatch(ACCOUNT_ID, claim["contributor"])  # her own account, by its id
    assert api.get(f"/claims/{out['id']}", "bob").json()["contributor"] == "alice"  # a reviewer: the name
    return claim


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_a_valid_example_is_accepted_pending_and_read_back(kapi: Api, w: dict[str, str], kind: str) -> None:
    make, bounds = EXAMPLES[kind]
    body = make(w)
    claim = submit_and_read(kapi, body)
    assert claim["kind"] == kind
    assert_as_submitted(kind, body, claim["claim"])
    given = {f for f in BY_KIND[kind].DATES if f in body}
    assert set(claim["dates"]) == given == set(bounds)
    for field, (earliest, latest) in bounds.items():
        assert claim["dates"][field]["edtf"] == body[field]
        assert (claim["dates"][field]["earliest"], claim["dates"][field]["latest"]) == (earliest, latest)
    # Pending claims are hidden from anonymous readers and from other contributors.
    assert kapi.get(f"/claims/{claim['id']}").status_code == 404
    assert kapi.get(f"/claims/{claim['id']}", "dave").status_code == 404
    assert kapi.get(f"/claims/{claim['id']}", "bob").status_code == 200


def test_a_name_claim_gets_its_script_guessed(kapi: Api, w: dict[str, str]) -> None:
    claim = submit_and_read(kapi, EXAMPLES["name"][0](w))
    assert claim["claim"]["script"] == "Cyrl"


def test_qualifiers_are_flags_not_wider_bounds(kapi: Api, w: dict[str, str]) -> None:
    execution = submit_and_read(kapi, EXAMPLES["execution"][0](w))["dates"]["date"]
    assert execution["uncertain"] is True and execution["approximate"] is False
    membership = submit_and_read(kapi, EXAMPLES["membership"][0](w))["dates"]["start"]
    assert membership["approximate"] is True and membership["uncertain"] is False


def test_died_in_custody_date_unknown(kapi: Api, w: dict[str, str]) -> None:
    body = {"kind": "death", "person": w["vera"], "manner": "died_in_custody",
            "said": "died in custody, date unknown", "citation": {"source": w["bulletin"]}}
    claim = submit_and_read(kapi, body)
    assert claim["claim"]["manner"] == "died_in_custody" and "date" not in claim["claim"]
    assert claim["dates"] == {}


def test_an_open_end_is_unknown_never_guessed(kapi: Api, w: dict[str, str]) -> None:
    body = {"kind": "custody", "person": w["monclus"], "place": w["samarkand"], "custody": "exile",
            "start": "1948-01-29/..", "citation": {"source": w["s"]}}
    claim = submit_and_read(kapi, body)
    assert claim["dates"]["start"]["earliest"] == "1948-01-29"
    assert claim["dates"]["start"]["latest"] is None
    body = {**body, "start": "/1931"}
    claim = submit_and_read(kapi, body)
    assert claim["dates"]["start"]["earliest"] is None
    assert claim["dates"]["start"]["latest"] == "1931-12-31"


def test_julian_date_before_1918_is_kept_with_gregorian_bounds(kapi: Api, w: dict[str, str]) -> None:
    body = {"kind": "arrest", "person": w["klichevsky"], "date": "1917-10-25", "calendar": "julian",
            "said": "25 October 1917 (Old Style)", "citation": {"source": w["bulletin"]}}
    claim = submit_and_read(kapi, body)
    assert claim["claim"]["date"] == "1917-10-25" and claim["claim"]["calendar"] == "julian"
    date = claim["dates"]["date"]
    assert date["edtf"] == "1917-10-25" and date["calendar"] == "julian"
    assert date["earliest"] == date["latest"] == "1917-11-07"


@pytest.mark.parametrize("old_style, earliest, latest", [
    ("1918-01-31", "1918-02-13", "1918-02-13"),  # the last Julian day in Soviet Russia
    ("1900-02-29", "1900-03-13", "1900-03-13"),  # leap in the Julian calendar only
    ("1900-02", "1900-02-13", "1900-03-13"),
    ("1917", "1917-01-14", "1918-01-13"),
])
def test_julian_bounds_are_gregorian_days(kapi: Api, w: dict[str, str], old_style: str, earliest: str,
                                          latest: str) -> None:
    body = {"kind": "letter", "person": w["n"], "date": old_style, "calendar": "julian",
            "citation": {"source": w["bulletin"]}}
    date = submit_and_read(kapi, body)["dates"]["date"]
    assert (date["edtf"], date["earliest"], date["latest"]) == (old_style, earliest, latest)


@pytest.mark.parametrize("old_style", ["1918-02-01", "1918-02", "1918", "1917/1919", "1917/.."])
def test_julian_dates_that_may_fall_after_the_switch_are_422(kapi: Api, w: dict[str, str], old_style: str) -> None:
    body = {"kind": "letter", "person": w["n"], "date": old_style, "calendar": "julian",
            "citation": {"source": w["bulletin"]}}
    refused(kapi, body, 422, "date", old_style)


def test_amounts_stay_exact_decimal_strings(kapi: Api, w: dict[str, str]) -> None:
    body = {**EXAMPLES["allowance"][0](w), "amount": "6.2500"}
    claim = submit_and_read(kapi, body)
    assert claim["claim"]["amount"] == "6.2500" and claim["claim"]["currency"] == "SUR"


# -- refusals ---------------------------------------------------------------------------------

def refused(api: Api, body: Any, status: int, *named: str, who: str = "alice") -> dict[str, Any]:
    """POST a claim that must be refused with `status`, its detail naming every `named` string;
    the log must not move."""
    before = head(api)
    r = api.post("/claims", body, who)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    for text in named:
        assert text in problem["detail"], (text, problem["detail"])
    if status in (404, 422):
        assert problem["errors"] and {"field", "value"} <= set(problem["errors"][0]), problem
    assert head(api) == before, "a refused claim appended to the log"
    return problem


def date_cases() -> list[tuple[str, str]]:
    return [(kind, field) for kind in DATED_KINDS for field in BY_KIND[kind].DATES]


@pytest.mark.parametrize("kind, field", date_cases())
def test_a_bad_edtf_date_is_422_naming_field_and_value(kapi: Api, w: dict[str, str], kind: str, field: str) -> None:
    body = {**EXAMPLES[kind][0](w), field: "1940-13"}
    problem = refused(kapi, body, 422, field, "1940-13")
    assert problem["errors"][0]["field"] == field and problem["errors"][0]["value"] == "1940-13"


@pytest.mark.parametrize("kind", INTERVAL_KINDS)
def test_a_reversed_interval_is_422(kapi: Api, w: dict[str, str], kind: str) -> None:
    first, second = BY_KIND[kind].INTERVAL
    body = {**EXAMPLES[kind][0](w), first: "1948", second: "1940"}
    problem = refused(kapi, body, 422, first, "1948")
    assert problem["errors"][0]["field"] == first and problem["errors"][0]["value"] == "1948"


@pytest.mark.parametrize("kind", DATED_KINDS)
def test_a_reversed_edtf_interval_in_one_string_is_422(kapi: Api, w: dict[str, str], kind: str) -> None:
    field = BY_KIND[kind].DATES[0]
    body = {k: v for k, v in EXAMPLES[kind][0](w).items() if k not in BY_KIND[kind].DATES}
    body[field] = "1948/1940"
    problem = refused(kapi, body, 422, field, "1948/1940")
    assert problem["errors"][0]["field"] == field and problem["errors"][0]["value"] == "1948/1940"


def money_body(w: dict[str, str], kind: str) -> dict[str, Any]:
    return {**EXAMPLES[kind][0](w), "amount": "25.00", "currency": "USD"}


@pytest.mark.parametrize("kind", MONEY_KINDS)
def test_money_examples_with_amounts_are_accepted(kapi: Api, w: dict[str, str], kind: str) -> None:
    claim = submit_and_read(kapi, money_body(w, kind))
    assert claim["claim"]["amount"] == "25.00" and claim["claim"]["currency"] == "USD"


@pytest.mark.parametrize("kind", MONEY_KINDS)
@pytest.mark.parametrize("amount, shown", [(25.0, "25.0"), (25, "25")])
def test_a_json_number_amount_is_422(kapi: Api, w: dict[str, str], kind: str, amount, shown: str) -> None:
    problem = refused(kapi, {**money_body(w, kind), "amount": amount}, 422, "amount", shown)
    assert problem["errors"][0]["field"] == "amount" and problem["errors"][0]["value"] == amount


@pytest.mark.parametrize("amount", ["6,25", "1e3", "-5", "6.25001", "", "06.25"])
def test_a_malformed_decimal_string_is_422(kapi: Api, w: dict[str, str], amount: str) -> None:
    refused(kapi, {**money_body(w, "donation"), "amount": amount}, 422, "amount")


@pytest.mark.parametrize("kind", MONEY_KINDS)
def test_an_amount_without_currency_is_422(kapi: Api, w: dict[str, str], kind: str) -> None:
    body = money_body(w, kind)
    del body["currency"]
    refused(kapi, body, 422, "currency")


@pytest.mark.parametrize("kind", ["donation", "disbursement", "committee_transfer"])
def test_a_currency_without_amount_is_422(kapi: Api, w: dict[str, str], kind: str) -> None:
    body = money_body(w, kind)
    del body["amount"]
    refused(kapi, body, 422, "amount")


def test_a_bad_currency_code_is_422(kapi: Api, w: dict[str, str]) -> None:
    refused(kapi, {**money_body(w, "donation"), "currency": "dollars"}, 422, "currency", "dollars")


def test_an_unknown_kind_is_422_naming_kind(kapi: Api, w: dict[str, str]) -> None:
    body = {"kind": "gossip", "person": w["monclus"], "citation": {"source": w["s"]}}
    problem = refused(kapi, body, 422, "kind", "gossip")
    assert problem["errors"][0]["field"] == "kind" and problem["errors"][0]["value"] == "gossip"


def test_a_body_without_kind_is_422_naming_kind(kapi: Api, w: dict[str, str]) -> None:
    body = {k: v for k, v in EXAMPLES["death"][0](w).items() if k != "kind"}
    refused(kapi, body, 422, "kind")


def test_a_missing_citation_is_422_naming_citation(kapi: Api, w: dict[str, str]) -> None:
    body = {k: v for k, v in EXAMPLES["death"][0](w).items() if k != "citation"}
    refused(kapi, body, 422, "citation")


def test_a_citation_without_source_is_422(kapi: Api, w: dict[str, str]) -> None:
    body = {**EXAMPLES["death"][0](w), "citation": {"locator": "p. 12"}}
    refused(kapi, body, 422, "source")


@pytest.mark.parametrize("kind, field", [("custody", "custody"), ("custody", "person"),
                                         ("aggregate", "count"), ("aggregate", "group"),
                                         ("no_record", "of"), ("relation", "other"),
                                         ("disbursement", "recipient"), ("allowance", "period")])
def test_a_missing_required_field_is_422_naming_it(kapi: Api, w: dict[str, str], kind: str, field: str) -> None:
    body = {k: v for k, v in EXAMPLES[kind][0](w).items() if k != field}
    refused(kapi, body, 422, field)


def test_an_unknown_extra_field_is_422_naming_it(kapi: Api, w: dict[str, str]) -> None:
    refused(kapi, {**EXAMPLES["death"][0](w), "colour": "red"}, 422, "colour")
    body = EXAMPLES["death"][0](w)
    body["citation"] = {**body["citation"], "page": 12}
    refused(kapi, body, 422, "page")


@pytest.mark.parametrize("field, value", [("manner", "eaten_by_bears"), ("calendar", "hebrew"),
                                          ("person", ""), ("person", "not an id!")])
def test_a_bad_value_is_422_naming_field_and_value(kapi: Api, w: dict[str, str], field: str, value: str) -> None:
    problem = refused(kapi, {**EXAMPLES["death"][0](w), field: value}, 422, field)
    assert problem["errors"][0]["field"] == field and problem["errors"][0]["value"] == value


def test_a_negative_count_is_422(kapi: Api, w: dict[str, str]) -> None:
    refused(kapi, {**EXAMPLES["aggregate"][0](w), "count": -1}, 422, "count", "-1")


def test_julian_on_a_1940_date_is_422(kapi: Api, w: dict[str, str]) -> None:
    body = {**EXAMPLES["death"][0](w), "date": "1940", "calendar": "julian"}
    problem = refused(kapi, body, 422, "date", "1940", "Julian")
    assert problem["errors"][0]["field"] == "date" and problem["errors"][0]["value"] == "1940"


def test_julian_on_a_date_that_may_fall_after_february_1918_is_422(kapi: Api, w: dict[str, str]) -> None:
    refused(kapi, {**EXAMPLES["death"][0](w), "date": "1918", "calendar": "julian"}, 422, "date", "1918")


@pytest.mark.parametrize("raw", [b'{"kind": "death", ', b"not json", b'{"kind": "death"} trailing',
                                 b"\xff\xfe"])
def test_malformed_json_is_400_problem(kapi: Api, raw: bytes) -> None:
    before = head(kapi)
    r = kapi.client.post("/claims", content=raw,
                         headers={**kapi.auth("alice"), "content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["status"] == 400 and r.json()["detail"]
    assert head(kapi) == before


UNKNOWN = "X-NOSUCH01"


@pytest.mark.parametrize("kind, field, what", [
    ("death", "person", "person"), ("death", "place", "place"),
    ("arrest", "organ", "organization"), ("transfer", "from_place", "place"),
    ("transfer", "to_place", "place"), ("relation", "other", "person"),
    ("donation", "fund", "fund"), ("disbursement", "recipient", "person"),
    ("disbursement", "via", "person"), ("committee_transfer", "to", "organization"),
    ("membership", "organization", "organization"), ("release", "destination", "place"),
    ("aggregate", "place", "place"), ("death", "supersedes", "claim"),
])
def test_an_unknown_id_is_404_naming_the_field(kapi: Api, w: dict[str, str], kind: str, field: str, what: str) -> None:
    problem = refused(kapi, {**EXAMPLES[kind][0](w), field: UNKNOWN}, 404, field, UNKNOWN)
    assert problem["errors"][0]["field"] == field and problem["errors"][0]["value"] == UNKNOWN


def test_an_unknown_source_is_404_naming_citation_source(kapi: Api, w: dict[str, str]) -> None:
    body = {**EXAMPLES["death"][0](w), "citation": {"source": UNKNOWN, "locator": "p. 1"}}
    problem = refused(kapi, body, 404, "citation.source", UNKNOWN)
    assert problem["errors"][0]["field"] == "citation.source"


def test_a_place_id_where_a_person_is_expected_is_404(kapi: Api, w: dict[str, str]) -> None:
    refused(kapi, {**EXAMPLES["death"][0](w), "person": w["butyrka"]}, 404, "person", w["butyrka"])


def test_without_a_token_is_401_and_a_reader_role_cannot_write(kapi: Api, w: dict[str, str]) -> None:
    before = head(kapi)
    r = kapi.client.post("/claims", json=EXAMPLES["death"][0](w))
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    r = kapi.client.post("/claims", json=EXAMPLES["death"][0](w), headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert head(kapi) == before


@pytest.mark.parametrize("drop, add, field", [("citation", None, "citation"), ("person", None, "person"),
                                              (None, "colour", "colour")])
def test_errors_name_the_missing_or_unknown_field_itself(kapi: Api, w: dict[str, str], drop, add, field) -> None:
    body = {k: v for k, v in EXAMPLES["death"][0](w).items() if k != drop}
    if add:
        body[add] = "red"
    problem = refused(kapi, body, 422, field)
    assert problem["errors"][0]["field"] == field


@pytest.mark.parametrize("count", ["66", 66.0])
def test_a_count_of_the_wrong_json_type_is_422(kapi: Api, w: dict[str, str], count) -> None:
    refused(kapi, {**EXAMPLES["aggregate"][0](w), "count": count}, 422, "count")


# -- the body size limit --------------------------------------------------------------------------

def test_a_body_over_the_limit_is_413_problem(tmp_path: Path) -> None:
    db = str(tmp_path / "small.db")
    tokens = make_tokens(db)
    with TestClient(create_app(Settings(db=db, max_body_bytes=2000))) as client:
        api = Api(client, tokens)
        s = api.source()
        p = api.person("Vera Martsinkevitch", s)
        small = {"kind": "death", "person": p, "date": "1925-04", "citation": {"source": s},
                 "note": "x" * 1000}
        assert api.post("/claims", small).status_code == 201
        before = head(api)
        r = api.post("/claims", {**small, "note": "x" * 3000})
        assert r.status_code == 413, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["status"] == 413 and r.json()["detail"]
        assert head(api) == before
        # Also when the client streams the body without announcing its length.
        r = client.post("/claims", content=iter([b'{"kind": "death", "note": "', b"x" * 3000, b'"}']),
                        headers={**api.auth("alice"), "content-type": "application/json"})
        assert r.status_code == 413, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert head(api) == before


def test_dates_in_the_examples_are_real_days() -> None:
    """Guard the expectations themselves: every bound listed above is a valid ISO day."""
    for _, bounds in EXAMPLES.values():
        for earliest, latest in bounds.values():
            for day in (earliest, latest):
                if day is not None:
                    datetime.date.fromisoformat(day)
