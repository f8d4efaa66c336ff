"""A stored biography with no conflict and no agreement is decoded once per ETag (its bytes'
hash): `witnessed` answers it as it is after that, without a decode; one with either is
decoded and reassessed on every read (their independence changes with the links)."""

from __future__ import annotations

import pytest

from starosta.projections import biographies
from starosta.projections.biographies import Document, etag_of


def test_a_document_without_groups_is_decoded_once_per_etag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(biographies, "_UNWITNESSED", {})
    body = b'{"id":"P-1","conflicts":[],"agreements":[]}'
    document = Document(body, etag_of(body))
    assert biographies.witnessed(None, document) is document  # no query: nothing to reassess
    assert document.etag in biographies._UNWITNESSED
    decoded = []
    real = biographies.msgspec.json.decode
    monkeypatch.setattr(biographies.msgspec.json, "decode",
                        lambda *a, **k: decoded.append(1) or real(*a, **k))
    assert biographies.witnessed(None, document) is document and decoded == []


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(biographies, "_UNWITNESSED", {})
    monkeypatch.setattr(biographies, "UNWITNESSED_KEPT", 3)
    for n in range(7):
        body = b'{"id":"P-%d","conflicts":[],"agreements":[]}' % n
        biographies.witnessed(None, Document(body, etag_of(body)))
        assert len(biographies._UNWITNESSED) <= 3
