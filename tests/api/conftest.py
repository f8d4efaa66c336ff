"""The real app over HTTP with real tokens: a contributor, two reviewers, an admin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from litestar.testing import TestClient

from starosta.events.store import connect
from starosta.service.app import create_app
from starosta.service.access import create_token
from starosta.service.db import migrate
from starosta.service.settings import Settings


@dataclass
class Api:
    """A test client plus bearer headers for each role, and helpers to register entities."""

    client: TestClient
    tokens: dict[str, str]

    def auth(self, who: str | None) -> dict[str, str]:
        """Headers for `who` (alice: contributor, dave: second contributor, bob and carol:
        reviewers, root: admin; None: anonymous)."""
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}

    def post(self, path: str, body: object, who: str | None = "alice", **headers: str):
        return self.client.post(path, json=body, headers={**self.auth(who), **headers})

    def get(self, path: str, who: str | None = None, **params):
        return self.client.get(path, params=params, headers=self.auth(who))

    def source(self, title: str = "10 Años en la URSS", **extra) -> str:
        r = self.post("/sources", {"csl": {"type": "book", "title": title}, **extra})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def person(self, name: str, source: str, **extra) -> str:
        r = self.post("/persons", {"name": name, "citation": {"source": source}, **extra})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def place(self, name: str, source: str, kind: str = "prison", **extra) -> str:
        r = self.post("/places", {"name": name, "kind": kind, "citation": {"source": source}, **extra})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def claim(self, body: dict, who: str = "alice") -> str:
        r = self.post("/claims", body, who)
        assert r.status_code == 201, r.text
        return r.json()["id"]


PROBLEM = "application/problem+json"


def assert_problem(r, status: int, *named: str) -> dict:
    """Assert an RFC 9457 answer with `status`, whose detail names each of `named`."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    for word in named:
        assert word in body["detail"], (word, body)
    return body


PEOPLE = {"alice": "contributor", "dave": "contributor", "bob": "reviewer", "carol": "reviewer",
          "root": "admin"}


def make_tokens(db_path: str) -> dict[str, str]:
    migrate(db_path)
    conn = connect(db_path)
    tokens = {name: create_token(conn, name, role)[1] for name, role in PEOPLE.items()}
    conn.close()
    return tokens


@pytest.fixture
def api(db_path: str) -> Iterator[Api]:
    tokens = make_tokens(db_path)
    with TestClient(create_app(Settings(db=db_path))) as client:
        yield Api(client, tokens)
