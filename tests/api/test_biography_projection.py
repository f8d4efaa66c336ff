"""Biographies are a projection: stored, encoded documents kept current in the transaction that
changes them, recomputed once per committed batch, served with an ETag."""

from __future__ import annotations

import msgspec

from starosta.events.kinds import Citation, CustodyClaim
from starosta.events.review import ClaimApproved
from starosta.events.store import AppendRequest, Metadata, NewEvent
from starosta.projections import biographies
from starosta.projections.biographies import BiographiesProjection
from starosta.service.domain.access import Principal
from starosta.service.domain.commands import submission
from starosta.service.db import open_archive
from tests.api.conftest import Api


def _approve(api: Api, claim: str, who: str = "bob") -> None:
    r = api.post(f"/claims/{claim}/approve", None, who)
    assert r.status_code == 200, r.text


def test_etag_and_if_none_match(api: Api) -> None:
    s = api.source()
    p = api.person("Vera Martsinkevitch", s)
    first = api.client.get(f"/persons/{p}/biography")
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"')
    again = api.client.get(f"/persons/{p}/biography", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    # a pending claim changes nothing public: the same document, the same ETag
    c = api.claim({"kind": "death", "person": p, "date": "1925", "citation": {"source": s}})
    assert api.client.get(f"/persons/{p}/biography",
                          headers={"If-None-Match": etag}).status_code == 304
    _approve(api, c)
    changed = api.client.get(f"/persons/{p}/biography", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert [e["claim"] for e in changed.json()["deaths"]] == [c]


def test_pending_claims_leave_the_public_document_untouched(api: Api) -> None:
    s = api.source()
    p = api.person("Aron Baron", s)
    body = api.get(f"/persons/{p}/biography").content
    for n in range(40):
        api.claim({"kind": "occupation", "person": p, "occupation": f"pending {n}",
                   "citation": {"source": s}})
    assert api.get(f"/persons/{p}/biography").content == body
    assert len(api.get(f"/persons/{p}/biography", "bob", include="pending").json()["timeline"]) == 40


def test_one_recomputation_per_committed_batch(db_path: str) -> None:
    archive = open_archive(db_path)
    try:
        projection = next(p for p in archive.runner.projections if isinstance(p, BiographiesProjection))
        from starosta.events.registry import PersonRegistered, PlaceRegistered, SourceRegistered
        meta = Metadata(actor="alice")
        archive.commit_sync([AppendRequest("S1", [NewEvent(SourceRegistered(
            source_id="S1", csl={"type": "book", "title": "t"}))], 0),
            AppendRequest("P1", [NewEvent(PersonRegistered(person_id="P1", label="Monclús"))], 0),
            AppendRequest("PL1", [NewEvent(PlaceRegistered(place_id="PL1", label="Butyrka",
                                                          kind="prison"))], 0)], meta)
        alice = Principal("T1", "alice", "contributor")
        claims = []
        for n, year in enumerate(("1940", "1941", "1942", "1943", "1944")):
            claim = CustodyClaim(person="P1", place="PL1", custody="prison", start=year,
                                 citation=Citation(source="S1"))
            request = submission(archive.read(), f"C{n}", claim, alice)
            archive.commit_sync([request], meta)
            claims.append(f"C{n}")
        before = projection.recomputed
        # five approvals about one person in one append: one document computed
        archive.commit_sync([AppendRequest(c, [NewEvent(ClaimApproved(claim_id=c, reviewer="bob"))], 1)
                             for c in claims], Metadata(actor="bob"))
        assert projection.recomputed == before + 1
        row = archive.read().execute("SELECT document, etag FROM biographies WHERE person_id = 'P1'").fetchone()
        assert len(msgspec.json.decode(biographies.inflated(row[0]))["timeline"]) == 5
    finally:
        archive.store.close()


def test_a_correction_about_another_person_updates_both(api: Api) -> None:
    s = api.source()
    a = api.person("Manuel Sanz", s)
    b = api.person("Fernando Sanz", s)
    place = api.place("Kem", s)
    old = api.claim({"kind": "custody", "person": a, "place": place, "custody": "camp",
                     "start": "1933", "citation": {"source": s}})
    _approve(api, old)
    assert [e["claim"] for e in api.get(f"/persons/{a}/biography").json()["timeline"]] == [old]
    new = api.claim({"kind": "custody", "person": b, "place": place, "custody": "camp",
                     "start": "1933", "supersedes": old, "citation": {"source": s}})
    _approve(api, new)
    assert api.get(f"/persons/{a}/biography").json()["timeline"] == []
    assert [e["claim"] for e in api.get(f"/persons/{b}/biography").json()["timeline"]] == [new]
    r = api.post(f"/claims/{new}/contest", {"reason": "the source names Manuel"}, "carol")
    assert r.status_code == 200, r.text
    assert [e["claim"] for e in api.get(f"/persons/{a}/biography").json()["timeline"]] == [old]
    # the disputed correction stays in b's document, marked, with its contest
    [entry] = api.get(f"/persons/{b}/biography").json()["timeline"]
    assert (entry["claim"], entry["flags"]) == (new, ["disputed"])
    assert entry["dispute"]["reason"] == "the source names Manuel"


def test_the_stored_document_equals_one_assembled_on_demand(api: Api) -> None:
    s = api.source()
    p = api.person("Maria Spiridonova", s)
    place = api.place("Tashkent", s, kind="exile")
    for start in ("1923", "1928-04"):
        _approve(api, api.claim({"kind": "custody", "person": p, "place": place, "custody": "exile",
                                 "start": start, "citation": {"source": s, "locator": "p. 1"}}))
    stored = api.get(f"/persons/{p}/biography").json()
    head = api.get("/events/head").json()["position"]
    on_demand = api.get(f"/persons/{p}/biography", as_of=str(head)).json()
    assert on_demand.pop("as_of")["position"] == head
    stored.pop("as_of")
    assert stored == on_demand


def test_a_merge_relabels_the_documents_that_name_the_merged_record(api: Api) -> None:
    s = api.source()
    vicente = api.person("Vicente Monclús Guallar", s)
    brother = api.person("Manuel (his brother)", s)
    survivor = api.person("Manuel Monclús", s)
    _approve(api, api.claim({"kind": "relation", "person": vicente, "other": brother,
                             "relation": "brother", "citation": {"source": s}}))
    other = api.get(f"/persons/{vicente}/biography").json()["timeline"][0]["fields"]["other"]
    assert other == {"id": brother, "label": "Manuel (his brother)"}
    r = api.post(f"/persons/{brother}/merge", {"into": survivor, "reason": "one person"}, "bob")
    assert r.status_code == 200, r.text
    other = api.get(f"/persons/{vicente}/biography").json()["timeline"][0]["fields"]["other"]
    assert other == {"id": survivor, "label": "Manuel Monclús"}
    r = api.post(f"/persons/{brother}/unmerge", {"reason": "two brothers after all"}, "bob")
    assert r.status_code == 200, r.text
    other = api.get(f"/persons/{vicente}/biography").json()["timeline"][0]["fields"]["other"]
    assert other == {"id": brother, "label": "Manuel (his brother)"}


def test_if_none_match_takes_weak_tags_and_lists(api: Api) -> None:
    p = api.person("Mollie Steimer", api.source())
    etag = api.client.get(f"/persons/{p}/biography").headers["etag"]
    for header in (f"W/{etag}", f'"other", {etag}', "*"):
        assert api.client.get(f"/persons/{p}/biography",
                              headers={"If-None-Match": header}).status_code == 304, header
    assert api.client.get(f"/persons/{p}/biography",
                          headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_claim_answer_names_what_it_refers_to(api: Api) -> None:
    s = api.source("The Guillotine at Work")
    p = api.person("Aron Baron", s)
    place = api.place("Butyrka", s)
    c = api.claim({"kind": "custody", "person": p, "place": place, "custody": "prison",
                   "start": "1921", "citation": {"source": s, "locator": "p. 12"}})
    body = api.get(f"/claims/{c}", "alice").json()
    assert body["claim"]["place"] == place  # the claim as submitted, unchanged
    assert body["refs"] == {"person": {"id": p, "label": "Aron Baron"},
                            "place": {"id": place, "label": "Butyrka"},
                            "citation.source": {"id": s, "label": "The Guillotine at Work"}}
    listed = api.get("/claims", "bob", person=p, kind="custody").json()["items"]
    assert [i["refs"]["place"]["label"] for i in listed] == ["Butyrka"]


def test_a_relation_is_turned_round_in_the_other_person_s_biography(api: Api) -> None:
    """Issue 10: in the brother's biography the relation names Vicente as the other, not the
    brother himself; the claim's own words stay under `as_stated`."""
    s = api.source()
    vicente = api.person("Vicente Monclús Guallar", s)
    brother = api.person("Manuel (his brother)", s)
    mother = api.person("Test Mother (not historical)", s)
    for other, relation in ((brother, "brother"), (mother, "child")):
        _approve(api, api.claim({"kind": "relation", "person": vicente, "other": other,
                                 "relation": relation, "citation": {"source": s}}))
    own = {e["fields"]["other"]["id"]: e["fields"]["relation"]
           for e in api.get(f"/persons/{vicente}/biography").json()["timeline"]}
    assert own == {brother: "brother", mother: "child"}  # as stated, in the subject's own
    for person, converse in ((brother, "sibling"), (mother, "parent")):
        (entry,) = [e for e in api.get(f"/persons/{person}/biography").json()["timeline"]
                    if e["kind"] == "relation"]
        fields = entry["fields"]
        assert fields["person"]["id"] == person and fields["other"]["id"] == vicente
        assert fields["relation"] == converse
        assert fields["as_stated"]["person"]["id"] == vicente
        assert fields["as_stated"]["other"]["id"] == person
    # the stored document and the one computed on demand agree
    head = api.get("/events/head").json()["position"]
    stored = api.get(f"/persons/{mother}/biography").json()
    on_demand = api.get(f"/persons/{mother}/biography", as_of=str(head)).json()
    stored.pop("as_of"), on_demand.pop("as_of")
    assert stored == on_demand


def test_deaths_told_with_different_manners_are_a_conflict(api: Api) -> None:
    """Issue 10, item 9: "died" against "murdered" (Vera Martsinkevitch at Kem) shows side by
    side, even when date and place agree; an unknown manner disagrees with nothing."""
    s = api.source()
    p = api.person("Test Prisoner (not historical)", s)
    kem = api.place("Test Kem (not historical)", s, kind="camp")
    made = [api.claim({"kind": "death", "person": p, "date": "1925-04", "place": kem,
                       "manner": manner, "citation": {"source": s}})
            for manner in ("died_in_custody", "killed", "unknown")]
    for claim in made:
        _approve(api, claim)
    conflicts = api.get(f"/persons/{p}/biography").json()["conflicts"]
    (manner,) = [c for c in conflicts if c["kind"] == "death_manner"]
    assert sorted(manner["claims"]) == sorted(made[:2])
    assert "died_in_custody" in manner["detail"] and "killed" in manner["detail"]
    assert not [c for c in conflicts if c["kind"] == "death"]  # same date and place


def test_a_writes_answer_waits_for_the_documents_it_changed(api: Api, monkeypatch) -> None:
    """Issue 25: the serving writer only marks a changed document stale and a settler thread
    assembles it; the write's answer waits until its documents are settled, so its caller's
    next read shows it (read your writes), while readers meanwhile get the last settled one."""
    import threading

    from starosta.projections import biographies

    s = api.source()
    p = api.person("Olga Romanova", s)
    c = api.claim({"kind": "death", "person": p, "date": "1931", "citation": {"source": s}})
    before = api.client.get(f"/persons/{p}/biography").content
    held, real = threading.Event(), biographies.settle_stale

    def settle(store, tables, limit=16):
        held.wait(60)
        return real(store, tables, limit)

    monkeypatch.setattr(biographies, "settle_stale", settle)
    answer: dict = {}
    writer = threading.Thread(target=lambda: answer.setdefault(
        "r", api.post(f"/claims/{c}/approve", None, "bob")))
    writer.start()
    writer.join(0.5)
    assert writer.is_alive()  # committed, but not answered while its document is unsettled
    assert api.client.get(f"/persons/{p}/biography").content == before  # the last settled one
    held.set()
    writer.join(60)
    assert answer["r"].status_code == 200, answer["r"].text
    assert [e["claim"] for e in api.client.get(f"/persons/{p}/biography").json()["deaths"]] == [c]
def test_stored_documents_are_compressed_on_sqlite_and_served_as_computed(db_path: str) -> None:
    """SQLite keeps a document zlib-compressed (PostgreSQL's TEXT column keeps the JSON, which
    it compresses itself): `stored` answers the very bytes computed, with the ETag of those
    bytes, compressed or not (a row written before compression reads as it was)."""
    archive = open_archive(db_path)
    try:
        from starosta.events.registry import PersonRegistered, PlaceRegistered, SourceRegistered
        meta = Metadata(actor="alice")
        archive.commit_sync([
            AppendRequest("S1", [NewEvent(SourceRegistered(source_id="S1", csl={"type": "book", "title": "T"}))], 0),
            AppendRequest("P1", [NewEvent(PersonRegistered(person_id="P1", label="Monclús"))], 0),
            AppendRequest("PL1", [NewEvent(PlaceRegistered(place_id="PL1", label="Butyrka", kind="prison"))], 0)],
            meta)
        alice = Principal("T1", "alice", "contributor")
        for n in range(30):
            claim = CustodyClaim(person="P1", place="PL1", custody="prison", start=str(1900 + n),
                                 citation=Citation(source="S1"))
            archive.commit_sync([submission(archive.read(), f"C{n}", claim, alice)], meta)
            archive.commit_sync([AppendRequest(f"C{n}", [NewEvent(ClaimApproved(claim_id=f"C{n}", reviewer="bob"))],
                                               1)], Metadata(actor="bob"))
        conn = archive.read()
        raw, etag = conn.execute("SELECT document, etag FROM biographies WHERE person_id = 'P1'").fetchone()
        document = biographies.stored(conn, "P1")
        group = ["P1"]
        computed = biographies._document(biographies.compute(conn, group, biographies.PUBLIC,
                                                             biographies.Viewer()))
        assert document is not None and document.body == computed.body and document.etag == etag
        assert biographies.etag_of(document.body) == etag
        assert raw[:1] == b"x" and len(raw) < len(document.body) / 2  # compressed, and well
        assert biographies.inflated(raw) == computed.body  # inflated from the row: the same bytes
        # an uncompressed row (an archive written before) and PostgreSQL's text read as they are
        assert biographies.inflated(computed.body) is computed.body
        assert biographies.inflated(computed.body.decode()) == computed.body.decode()
    finally:
        archive.store.close()
