"""Participants in roles on every claim (issue 20, item 1), through the real HTTP API on both
backends: the role vocabulary (seeded, extended by admins), the checks at submission, the legacy
fields stored as participants, every participant's biography, `GET /claims?participant=&role=`,
populations counting companions and ledgers reading recipients and correspondents. All data
here is synthetic (not historical)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, assert_problem
from tests.api.test_groups import World, held

SEEDED = ["companion", "witness", "informant", "author", "recipient", "correspondent", "judge",
          "interrogator", "co_accused", "encountered", "other"]


def approve(api: Api, *claims: str) -> None:
    for claim in claims:
        r = api.post(f"/claims/{claim}/approve", {"reason": "checked"}, "bob")
        assert r.status_code == 200, r.text


def bio(api: Api, person: str) -> dict:
    r = api.get(f"/persons/{person}/biography")
    assert r.status_code == 200, r.text
    return r.json()


def entry_of(api: Api, person: str, claim: str) -> dict:
    (found,) = [e for e in bio(api, person)["timeline"] if e["claim"] == claim]
    return found


def org(api: Api, name: str, kind: str, source: str) -> str:
    return api.register("/organizations", {"name": name, "kind": kind, "citation": {"source": source}})


def dotted(field: str) -> str:
    return field.replace("[", ".").replace("]", "")


def listed(api: Api, **params: Any) -> list[str]:
    r = api.get("/claims", **params)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_the_role_vocabulary_is_seeded_and_admins_extend_it(api: Api) -> None:
    r = api.get("/participant-roles")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["key"] for i in items] == SEEDED and all(i["seeded"] for i in items)
    body = {"key": "cellmate", "label": "cellmate", "description": "held in the same cell"}
    assert_problem(api.post("/participant-roles", body, None), 401)
    assert_problem(api.post("/participant-roles", body, "alice"), 403)
    assert_problem(api.post("/participant-roles", body, "bob"), 403)
    r = api.post("/participant-roles", body, "root")
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "cellmate" and r.json()["position"] > 0
    items = api.get("/participant-roles").json()["items"]
    assert items[-1] == {**body, "position": r.json()["position"]}
    # the log's event names the admin by account id, never by name, to readers
    (event,) = [e for e in api.get("/events", None, limit=1000).json()["items"]
                if e["type"] == "participant_role.added"]
    assert event["stream_id"] == "participant-role-cellmate" and event["data"]["key"] == "cellmate"
    assert event["data"]["admin"].startswith("A-") and "root" not in str(event)
    assert_problem(api.post("/participant-roles", body, "root"), 409, "cellmate")
    assert_problem(api.post("/participant-roles", {**body, "key": "witness"}, "root"), 409, "witness")
    for bad in ("Cellmate", "x", "cell mate", "1cell", "a" * 42):
        problem = assert_problem(api.post("/participant-roles", {**body, "key": bad}, "root"), 422)
        assert problem["errors"][0]["field"] == "key", problem
    # the new role is usable at once
    s = api.source("Synthetic memoir (test, not historical)")
    p, q = (api.person(f"Test Prisoner {n} (synthetic)", s) for n in "AB")
    prison = api.place("Test Prison (synthetic)", s)
    claim = api.claim({"kind": "custody", "person": p, "custody": "prison", "place": prison,
                       "participants": [{"ref": q, "role": "cellmate"}], "citation": {"source": s}})
    approve(api, claim)
    mine = entry_of(api, q, claim)
    assert mine["through"] == "participant" and mine["roles"] == ["cellmate"]


def test_an_encounter_is_in_every_participant_s_biography(api: Api) -> None:
    s = api.source("Synthetic memoir (test, not historical)")
    hero, a, b, teller = (api.person(f"Test Person {n} (synthetic)", s) for n in "HABT")
    claim = api.claim({
        "kind": "presence", "person": hero, "place_said": "a secret location (synthetic)",
        "start": "1937", "participants": [
            {"ref": a, "role": "encountered", "said": "A. (synthetic)"},
            {"ref": b, "role": "encountered", "certainty": "probable"},
            {"ref": teller, "role": "informant"}, {"ref": a, "role": "witness"}],
        "citation": {"source": s, "quote": "he ran into A. and B. (synthetic)"}})
    stored = api.get(f"/claims/{claim}", "alice").json()
    assert stored["claim"]["participants"][0] == {"ref": a, "role": "encountered", "said": "A. (synthetic)"}
    assert stored["refs"]["participants[2].ref"] == {"id": teller, "label": "Test Person T (synthetic)"}
    # pending: no public biography shows it yet; a reviewer's include=pending does
    assert claim not in [e["claim"] for e in bio(api, a)["timeline"]]
    pending = api.get(f"/persons/{b}/biography", "bob", include="pending").json()["timeline"]
    assert [(e["through"], e["roles"]) for e in pending if e["claim"] == claim] == [
        ("participant", ["encountered"])]
    approve(api, claim)
    head = api.get("/health").json()["head"]
    then = api.get(f"/persons/{teller}/biography", as_of=str(head)).json()  # replayed from streams
    assert [(e["through"], e["roles"]) for e in then["timeline"] if e["claim"] == claim] == [
        ("participant", ["informant"])]
    mine = entry_of(api, hero, claim)
    assert "through" not in mine and "roles" not in mine
    assert [(p["ref"]["id"], p["role"]) for p in mine["fields"]["participants"]] == [
        (a, "encountered"), (b, "encountered"), (teller, "informant"), (a, "witness")]
    assert mine["fields"]["participants"][1]["ref"]["label"] == "Test Person B (synthetic)"
    assert mine["fields"]["participants"][1]["certainty"] == "probable"
    for person, roles in ((a, ["encountered", "witness"]), (b, ["encountered"]), (teller, ["informant"])):
        theirs = entry_of(api, person, claim)
        assert theirs["through"] == "participant" and theirs["roles"] == roles
        assert theirs["fields"]["person"]["id"] == hero
    # GET /claims filters by participant and role
    other = api.claim({"kind": "occupation", "person": b, "occupation": "shepherd (synthetic)",
                       "participants": [{"ref": teller, "role": "witness"}], "citation": {"source": s}})
    approve(api, other)
    assert listed(api, participant=a) == [claim]
    assert listed(api, participant=teller) == [claim, other]
    assert listed(api, participant=teller, role="informant") == [claim]
    assert listed(api, participant=teller, role="witness") == [other]
    assert listed(api, role="encountered") == [claim]
    assert listed(api, participant=hero) == []  # the subject is no participant
    assert listed(api, person=teller) == [claim, other]  # the entity filter reaches participants too
    problem = assert_problem(api.get("/claims", role="Not A Role"), 422)
    assert "role" in problem["detail"]


def test_an_organisation_takes_part_and_its_claims_list_it(api: Api) -> None:
    s = api.source()
    person = api.person("Test Exile (synthetic)", s)
    committee = org(api, "Test Committee (synthetic)", "committee", s)
    claim = api.claim({"kind": "sentence", "person": person, "sentence": "exile",
                       "participants": [{"ref": committee, "role": "judge", "said": "the Board"}],
                       "citation": {"source": s}})
    approve(api, claim)
    assert listed(api, participant=committee, role="judge") == [claim]
    mine = entry_of(api, person, claim)
    assert mine["fields"]["participants"] == [
        {"ref": {"id": committee, "label": "Test Committee (synthetic)"}, "role": "judge",
         "said": "the Board"}]


def test_submission_checks_each_participant(api: Api) -> None:
    s = api.source()
    person, other = (api.person(f"Test Accused {n} (synthetic)", s) for n in "XY")
    place = api.place("Test Prison (synthetic)", s)
    group = org(api, "Test Group (synthetic)", "group", s)
    base = {"kind": "accusation", "person": person, "accusation": "a test charge (synthetic)",
            "citation": {"source": s}}
    cases: list[tuple[list[dict], int, str]] = [
        ([{"ref": other, "role": "bystander"}], 422, "participants[0].role"),
        ([{"ref": "P-ZZZZZZZZ", "role": "witness"}], 404, "participants[0].ref"),
        ([{"ref": place, "role": "witness"}], 404, "participants[0].ref"),  # a place takes no part
        ([{"ref": group, "role": "companion"}], 422, "participants[0].ref"),  # a companion is a person
        ([{"ref": other, "role": "witness"}, {"ref": other, "role": "witness"}], 422, "participants[1]"),
        ([{"ref": person, "role": "witness"}], 422, "participants[0]"),  # the subject itself
        ([{"ref": other, "role": "Witness"}], 422, "participants[0].role"),
        ([{"ref": other}], 422, "participants[0].role"),
        ([{"ref": other, "role": "witness", "extra": 1}], 422, "participants[0].extra"),
    ]
    for participants, status, field in cases:
        problem = assert_problem(api.post("/claims", {**base, "participants": participants}), status)
        # decoding names a field with dots (participants.0.role), the checks with brackets
        assert dotted(problem["errors"][0]["field"]) == dotted(field), (participants, problem)
    too_many = [{"ref": other, "role": "witness"}] * 201
    assert_problem(api.post("/claims", {**base, "participants": too_many}), 422, "participants")
    # one person in two roles is fine; a group in a role other than companion too
    ok = api.claim({**base, "participants": [{"ref": other, "role": "witness"},
                                             {"ref": other, "role": "co_accused"},
                                             {"ref": group, "role": "other"}]})
    assert ok
    # the legacy `with` and a participant companion are one list: a companion named twice
    escape = {"kind": "escape", "person": person, "outcome": "escaped", "with": [other],
              "participants": [{"ref": other, "role": "companion"}], "citation": {"source": s}}
    problem = assert_problem(api.post("/claims", escape), 422)
    assert problem["errors"][0]["field"] == "participants[0]" or problem["errors"][0]["field"] == "with"
    # a group claim's group is never its participant
    stay = {"kind": "custody", "group": group, "custody": "camp", "place": place,
            "participants": [{"ref": group, "role": "other"}], "citation": {"source": s}}
    assert_problem(api.post("/claims", stay), 422, "participants[0]")


def test_legacy_fields_are_stored_as_participants(api: Api) -> None:
    s = api.source("Bulletin (test, not historical)", source_type="bulletin")
    person, correspondent, author = (api.person(f"Test Exile {n} (synthetic)", s) for n in "RCA")
    colony = org(api, "Test Colony (synthetic)", "colony", s)
    fund = api.register("/funds", {"name": "Test Fund (synthetic)", "citation": {"source": s}})
    sent = api.claim({"kind": "disbursement", "fund": fund, "recipient": person, "via": correspondent,
                      "via_said": "through comrade C. (synthetic)", "amount": "25.00",
                      "currency": "USD", "date": "1926-05", "citation": {"source": s}})
    letter = api.claim({"kind": "letter", "person": author, "recipient": colony,
                        "recipient_said": "the colony (synthetic)", "date": "1925",
                        "citation": {"source": s}})
    stored = api.get(f"/claims/{sent}", "alice").json()["claim"]
    assert "recipient" not in stored and "via" not in stored and "via_said" not in stored
    assert stored["participants"] == [
        {"ref": person, "role": "recipient"},
        {"ref": correspondent, "role": "correspondent", "said": "through comrade C. (synthetic)"}]
    stored = api.get(f"/claims/{letter}", "alice").json()["claim"]
    assert stored["participants"] == [{"ref": colony, "role": "recipient",
                                       "said": "the colony (synthetic)"}]
    assert "recipient_said" not in stored
    approve(api, sent, letter)
    # the ledger reads the recipient and the correspondent from the participants
    ledger = api.get(f"/funds/{fund}/ledger").json()
    (entry,) = ledger["entries"]
    assert entry["counterparty"]["id"] == person and entry["via"]["id"] == correspondent
    assert ledger["per_recipient"][0]["recipient"]["id"] == person
    reached = {i["claim"]: i["reached"] for i in api.get(f"/persons/{correspondent}/aid").json()["items"]}
    assert reached == {sent: "as_correspondent"}
    # a disbursement given its recipient as a participant is the same entry
    second = api.claim({"kind": "disbursement", "fund": fund, "amount": "5", "currency": "USD",
                        "participants": [{"ref": person, "role": "recipient"}],
                        "citation": {"source": s}})
    approve(api, second)
    assert api.get(f"/funds/{fund}/ledger").json()["totals"]["USD"]["disbursed"] == "30.00"
    # a disbursement without any recipient is refused
    problem = assert_problem(api.post("/claims", {"kind": "disbursement", "fund": fund,
                                                  "citation": {"source": s}}), 422)
    assert problem["errors"][0]["field"] == "recipient"
    # the recipient's and the correspondent's biographies show them in their roles
    assert entry_of(api, correspondent, sent)["roles"] == ["correspondent"]
    assert entry_of(api, person, sent)["roles"] == ["recipient"]
    assert listed(api, participant=colony, role="recipient") == [letter]


def test_companions_given_as_participants_are_counted_held(api: Api) -> None:
    world = World(api, api.source("A test memoir (not historical)"))
    prison = world.place("Test Prison", "prison")
    p, c1, c2, w = (world.person(n) for n in ("Prisoner", "Companion One", "Companion Two", "Witness"))
    claim = world.claim({"kind": "custody", "person": p, "custody": "prison", "place": prison,
                         "start": "1940", "end": "1942", "with": [c1],
                         "participants": [{"ref": c2, "role": "companion"},
                                          {"ref": w, "role": "witness"}]})
    body = world.population(prison, "1941")
    assert set(held(body, "certain")) == {p, c1, c2}  # a witness is not held there
    assert (body["count_min"], body["count_max"]) == (3, 3)
    assert held(body, "certain")[c2]["claims"] == [claim]


def examples_of(body: dict) -> list[dict]:
    """A request body's example values, where Litestar puts them (its schema's `examples`) or
    where OpenAPI may (the media type's named `examples`)."""
    media = body["content"]["application/json"]
    named = [e["value"] for e in media.get("examples", {}).values()]
    return named + list(media["schema"].get("examples", []))


def test_the_openapi_document_gives_every_participant_operation_an_example(api: Api) -> None:
    import msgspec

    from starosta.events.kinds import AnyClaim
    from starosta.projections.registry import ParticipantRoles

    schema = api.get("/schema/openapi.json").json()
    roles = schema["paths"]["/participant-roles"]
    answer = roles["get"]["responses"]["200"]["content"]["application/json"]
    (example,) = answer["examples"].values()
    msgspec.convert(example["value"], ParticipantRoles)  # an answer of the endpoint
    assert [e["key"] for e in examples_of(roles["post"]["requestBody"])] == ["cellmate"]
    params = {p["name"]: p for p in schema["paths"]["/claims"]["get"]["parameters"]}
    for name in ("participant", "role"):
        assert params[name]["examples"] and params[name]["description"], params[name]
    with_participants = [e for e in examples_of(schema["paths"]["/claims"]["post"]["requestBody"])
                         if "participants" in e]
    assert {p["role"] for e in with_participants for p in e["participants"]} >= {"encountered", "informant"}
    for value in with_participants:
        msgspec.convert(value, AnyClaim)  # type: ignore[call-overload]


def _version_1(archive, claim_id: str, claim, contributor: str = "A-OLDWRITR") -> None:
    """Append a claim as the code before participants stored it: `claim.submitted` at schema
    version 1, its legacy fields as sent (the store's own catalogue with that version)."""
    from starosta.events.base import EventTypes
    from starosta.events.catalog import CATALOG
    from starosta.events.review import ClaimSubmitted
    from starosta.events.store import AppendRequest, Metadata, NewEvent

    old = EventTypes()
    for cls in CATALOG.types():
        tag = cls.__struct_config__.tag
        old.add(cls, 1 if tag == "claim.submitted" else CATALOG.schema_version(tag))
    store = archive.store
    current, store.catalog = store.catalog, old
    try:
        archive.commit_sync([AppendRequest(claim_id, [NewEvent(ClaimSubmitted(
            claim_id=claim_id, contributor=contributor, claim=claim))], 0)],
            Metadata(actor=contributor))
    finally:
        store.catalog = current


def test_claims_stored_before_participants_replay_with_them(api: Api) -> None:
    """A stored version-1 `claim.submitted` (legacy `with`, `recipient`, `via`) is upcast when
    the log is read: rebuilt read models, biographies, ledgers and the log's rows agree."""
    from starosta.events.kinds import Citation, DisbursementClaim, EscapeClaim
    from tests.api.conftest import rebuild

    s = api.source("Old log (test, not historical)")
    leader, a, correspondent = (api.person(f"Test Old {n} (synthetic)", s) for n in "LAC")
    fund = api.register("/funds", {"name": "Test Old Fund (synthetic)", "citation": {"source": s}})
    archive = api.client.app.state.archive
    _version_1(archive, "C-OLDESCP1", EscapeClaim(citation=Citation(source=s), person=leader,
                                                  outcome="escaped", with_=(a,)))
    _version_1(archive, "C-OLDDISB1", DisbursementClaim(
        citation=Citation(source=s), fund=fund, recipient=leader, via=correspondent,
        via_said="through C. (synthetic)", amount="7.50", currency="USD"))
    rows = {e["stream_id"]: e for e in api.get("/events", "root", limit=1000).json()["items"]}
    assert rows["C-OLDESCP1"]["schema_version"] == 1 and rows["C-OLDESCP1"]["data"]["claim"]["with"] == [a]
    for name in ("claims", "ledger", "population", "biographies"):  # read from the log
        rebuild(archive, name)
    approve(api, "C-OLDESCP1", "C-OLDDISB1")
    escape = api.get("/claims/C-OLDESCP1").json()["claim"]
    assert "with" not in escape and escape["participants"] == [{"ref": a, "role": "companion"}]
    assert entry_of(api, a, "C-OLDESCP1")["roles"] == ["companion"]
    assert listed(api, participant=a, role="companion") == ["C-OLDESCP1"]
    sent = api.get("/claims/C-OLDDISB1").json()["claim"]
    assert sent["participants"] == [{"ref": leader, "role": "recipient"},
                                    {"ref": correspondent, "role": "correspondent",
                                     "said": "through C. (synthetic)"}]
    (entry,) = api.get(f"/funds/{fund}/ledger").json()["entries"]
    assert entry["counterparty"]["id"] == leader and entry["via"]["id"] == correspondent
