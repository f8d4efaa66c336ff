"""The real app over HTTP with real tokens (a contributor, two reviewers, an admin), each test on
its own copy of an archive built once per session (`Template`, `api`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.domain.access import create_tokens
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
def backend(request: pytest.FixtureRequest) -> str:
    """The database an `api` (or `archive_db`) test runs on: each test runs once on each."""
    return request.param


@pytest.fixture
def archive_db(backend: str, request: pytest.FixtureRequest, tmp_path,
               monkeypatch: pytest.MonkeyPatch) -> str:
    """A new archive for a test that fills it itself: a SQLite path holding nothing yet, or a
    fresh, migrated schema of the throwaway PostgreSQL cluster (served as the service's role,
    built by the owner's: STAROSTA_OWNER_DB)."""
    if backend == "sqlite":
        return str(tmp_path / "archive.db")
    from tests.postgres import new_archive

    service, owner = new_archive(request.getfixturevalue("postgres_cluster"))
    monkeypatch.setenv("STAROSTA_OWNER_DB", owner)
    return service


@dataclass(frozen=True)
class Template:
    """An archive built once per session (per worker), migrated, holding the people's tokens
    and every read model built: each `api` test gets a copy of it."""

    db: str  # the SQLite file, or the PostgreSQL template database's service URL
    tokens: dict[str, str]


def _fill(db: str) -> dict[str, str]:
    """Make the people's tokens in the migrated archive `db` and build its read models, as
    the app's start would; close everything (a copy is taken of it next)."""
    from starosta.service.db import open_archive

    tokens = make_tokens(db)
    open_archive(db).close()
    return tokens


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = str(tmp_path_factory.mktemp("template") / "archive.db")
    return Template(path, _fill(path))


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster) -> Template:
    from tests.postgres import template_database

    service, owner = template_database(postgres_cluster)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STAROSTA_OWNER_DB", owner)
        return Template(service, _fill(service))


@pytest.fixture(scope="session")
def postgres_copies(postgres_cluster, postgres_template: Template) -> Iterator:
    """The template's copies, one made ahead (tests.postgres.Copies)."""
    from tests.postgres import Copies

    copies = Copies(postgres_cluster)
    try:
        yield copies
    finally:
        copies.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that also opens the SQLite file itself (`db_path`) runs on SQLite only."""
    items[:] = [item for item in items if not (
        getattr(item, "callspec", None) is not None
        and item.callspec.params.get("backend") == "postgres"
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
def api(backend: str, request: pytest.FixtureRequest, tmp_path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The app over HTTP on a copy of the session's template archive (`Template`): the SQLite
    file copied to tmp_path/archive.db (`db_path`), or on PostgreSQL a database made with
    CREATE DATABASE ... TEMPLATE (one ahead) and dropped after the test. Each test has its
    own copy."""
    if backend == "sqlite":
        template: Template = request.getfixturevalue("sqlite_template")
        db = str(tmp_path / "archive.db")
        for suffix in ("", "-wal"):  # the log is checkpointed on close; a WAL left is copied too
            if os.path.exists(template.db + suffix):
                shutil.copyfile(template.db + suffix, db + suffix)
        copies, name = None, ""
    else:
        template = request.getfixturevalue("postgres_template")
        copies = request.getfixturevalue("postgres_copies")
        db, owner, name = copies.take()
        monkeypatch.setenv("STAROSTA_OWNER_DB", owner)
    try:
        with TestClient(create_app(Settings(db=db))) as client:
            yield Api(client, dict(template.tokens))
    finally:
        if copies is not None:
            copies.drop(name)
