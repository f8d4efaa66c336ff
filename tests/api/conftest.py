"""The real app over HTTP with real tokens: a contributor, two reviewers, an admin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from litestar.testing import TestClient

from starosta.service.app import create_app
from starosta.service.access import create_tokens
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

    def register(self, path: str, body: dict) -> str:
        """Register an entity; these helpers' records are distinct on purpose (tests register
        namesakes: two Monclús to merge), so a 409 possible-duplicate is answered once with
        `not_same_as` naming its candidates, as a contributor who knows would."""
        r = self.post(path, body)
        if r.status_code == 409 and r.json().get("type") == "/problems/possible-duplicate" \
                and "not_same_as" not in body:
            r = self.post(path, {**body, "not_same_as": [c["id"] for c in r.json()["candidates"]]})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def person(self, name: str, source: str, **extra) -> str:
        return self.register("/persons", {"name": name, "citation": {"source": source}, **extra})

    def place(self, name: str, source: str, kind: str = "prison", **extra) -> str:
        return self.register("/places", {"name": name, "kind": kind, "citation": {"source": source},
                                         **extra})

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


def make_tokens(db: str) -> dict[str, str]:
    """Migrate `db` (a SQLite file or a PostgreSQL URL) and create the people's tokens."""
    migrate(db)
    made = create_tokens(db, [(name, role, None) for name, role in PEOPLE.items()])
    return {name: token for name, (_, token) in zip(PEOPLE, made)}


BACKENDS = ("sqlite", "postgres")


@pytest.fixture(params=BACKENDS)
def archive_db(request: pytest.FixtureRequest, tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The archive an `api` test runs against, once on each backend: a SQLite file, and a
    fresh schema of the throwaway PostgreSQL cluster (served as the service's role, built by
    the owner's: STAROSTA_OWNER_DB)."""
    if request.param == "sqlite":
        return str(tmp_path / "archive.db")
    from tests.postgres import new_archive

    service, owner = new_archive(request.getfixturevalue("postgres_cluster"))
    monkeypatch.setenv("STAROSTA_OWNER_DB", owner)
    return service


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that also opens the SQLite file itself (`db_path`) runs on SQLite only."""
    items[:] = [item for item in items if not (
        getattr(item, "callspec", None) is not None
        and item.callspec.params.get("archive_db") == "postgres"
        and "db_path" in item.fixturenames)]


def rebuild(archive, name: str) -> str | None:
    """Rebuild one read model of a running app's archive, as `starosta rebuild` would: with
    the archive's own store on SQLite, as the owner (STAROSTA_OWNER_DB) on PostgreSQL, whose
    service role may not create tables. Return its content hash."""
    from starosta.service.db import builder_of

    store = archive.store
    with builder_of(getattr(store, "url", ""), store) as builder:
        return archive.runner.rebuild(builder, name)


@pytest.fixture
def api(archive_db: str) -> Iterator[Api]:
    tokens = make_tokens(archive_db)
    with TestClient(create_app(Settings(db=archive_db))) as client:
        yield Api(client, tokens)
