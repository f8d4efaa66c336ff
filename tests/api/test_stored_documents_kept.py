"""A stored biography read again (issue 25, item 6: `biographies.stored` asks for the row's ETag
and for its document only when the ETag is not the one it kept): every read answers the
document stored now, the bytes the read model holds with their ETag, on both backends, through
changes of the document, whether the kept copy is used or not."""

from __future__ import annotations

from starosta.projections import biographies
from starosta.projections.biographies import etag_of
from tests.api.conftest import Api


def row(api: Api, person: str) -> tuple[bytes, str]:
    conn = api.client.app.state.archive.read()
    body, etag = conn.execute("SELECT document, etag FROM biographies WHERE person_id = ?",
                              (person,)).fetchone()
    body = biographies.inflated(body)  # zlib-compressed on SQLite, text on PostgreSQL
    return (body.encode() if isinstance(body, str) else bytes(body)), etag


def test_every_read_answers_the_document_stored_now(api: Api) -> None:
    source = api.source()
    who = api.person("Vicente Monclús Guallar", source)
    path = f"/persons/{who}/biography"
    seen = set()
    for step in range(3):
        for _ in range(2):  # the second read of each state is answered from the kept copy
            r = api.client.get(path)
            assert r.status_code == 200
            body, etag = row(api, who)
            assert (r.content, r.headers["etag"]) == (body, etag)
            assert etag_of(body) == etag
            assert api.get(path, "bob").content == body  # Litestar's way reads the same
        seen.add(etag)
        claim = api.claim({"kind": "occupation", "person": who, "occupation": f"printer {step}",
                           "citation": {"source": source}})
        assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    assert len(seen) == 3  # each approval changed the document, and each read saw it


def test_a_kept_copy_is_never_answered_for_another_etag(api: Api) -> None:
    source = api.source()
    who = api.person("Joaquín Monclús Guallar", source)
    conn = api.client.app.state.archive.read()
    first = biographies.stored(conn, who)
    assert first is not None
    biographies._KEPT[who] = (first.etag, b'{"not": "the document"}')  # as if kept wrongly
    assert biographies.stored(conn, who).body == b'{"not": "the document"}'  # same ETag: kept
    claim = api.claim({"kind": "occupation", "person": who, "occupation": "typesetter",
                       "citation": {"source": source}})
    assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    now = biographies.stored(conn, who)
    assert now.etag != first.etag and (now.body, now.etag) == row(api, who)
    assert biographies.stored(api.client.app.state.archive.read(), "P-UNKNOWN") is None
