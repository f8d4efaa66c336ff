"""The service skeleton over HTTP: health, the log, its head, the schema, problem+json."""

from __future__ import annotations

import msgspec
import pytest
from litestar.testing import TestClient

from starosta.events.chain import GENESIS, chain_hash
from starosta.events.registry import PersonRegistered
from starosta.service.api.app import create_app
from starosta.service.db import open_store
from starosta.service.settings import Settings


def fill(db_path: str, n: int) -> None:
    store = open_store(db_path)
    for i in range(n):
        store.append(f"person-{i}", [PersonRegistered(person_id=f"P{i}", label=f"Person {i}")], 0)
    store.close()


def test_health_answers_with_the_head(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok", "head": 0}


def test_log_pages_cover_every_position_once(db_path: str) -> None:
    fill(db_path, 25)
    with TestClient(create_app(Settings(db=db_path))) as client:
        seen, after = [], "0"
        while after is not None:
            page = client.get("/events", params={"after": after, "limit": 10}).json()
            seen += [e["position"] for e in page["items"]]
            after = page["next"]
        assert seen == list(range(1, 26))


def test_log_rows_carry_what_a_reader_needs_to_verify_the_chain(db_path: str) -> None:
    fill(db_path, 5)
    with TestClient(create_app(Settings(db=db_path))) as client:
        items = client.get("/events").json()["items"]
        head = client.get("/events/head").json()
    previous = GENESIS
    for item in items:
        assert item["data"]["type"] == item["type"] == "person.registered"
        previous = chain_hash(previous, item["digest"])
        assert previous == item["hash"]
    assert head == {"position": 5, "hash": previous, "recorded_at": items[-1]["recorded_at"]}


@pytest.mark.parametrize("query, field, value", [
    ("after=-1", "after", "-1"),
    ("after=abc", "after", "abc"),
    ("limit=0", "limit", "0"),
    ("limit=5000", "limit", "5000"),
])
def test_bad_paging_is_422_problem_naming_field_and_value(client: TestClient, query, field, value) -> None:
    r = client.get(f"/events?{query}")
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 422 and body["title"]
    assert field in body["detail"] and value in body["detail"]
    assert body["errors"][0]["field"] == field and body["errors"][0]["value"] == value


def test_unknown_path_is_404_problem(client: TestClient) -> None:
    r = client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["instance"] == "/no/such/thing"


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    r = client.delete("/events")
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")


def test_openapi_schema_documents_every_route(client: TestClient) -> None:
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/health", "/events", "/events/head"} <= set(paths)
    params = {p["name"] for p in paths["/events"]["get"]["parameters"]}
    assert params == {"after", "limit", "min_position"}
    assert client.get("/schema").status_code == 200


def test_app_creation_touches_nothing(tmp_path) -> None:
    db = tmp_path / "never.db"
    create_app(Settings(db=str(db)))
    assert not db.exists()  # the lifespan opens the database, not create_app


def test_settings_from_env_name_the_bad_variable() -> None:
    with pytest.raises(ValueError, match="STAROSTA_PORT='eighty'"):
        Settings.from_env({"STAROSTA_PORT": "eighty"})
    with pytest.raises(ValueError, match="STAROSTA_SYNCHRONOUS"):
        Settings.from_env({"STAROSTA_SYNCHRONOUS": "sometimes"})
    s = Settings.from_env({"STAROSTA_DB": "/x.db", "STAROSTA_PORT": "9000"}, port=9001)
    assert (s.db, s.port) == ("/x.db", 9001)


def test_request_body_limit_is_configured(db_path: str) -> None:
    app = create_app(Settings(db=db_path, max_body_bytes=1234))
    assert app.request_max_body_size == 1234


def test_problem_documents_are_valid_rfc9457(client: TestClient) -> None:
    body = msgspec.json.decode(client.get("/events?limit=x").content)
    assert set(body) >= {"title", "status", "detail", "type"}


def test_every_request_body_is_documented_with_an_example(client: TestClient) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            media = body["content"]["application/json"]
            examples = media.get("examples") or media.get("example") or media["schema"].get("examples")
            assert examples, f"{method.upper()} {path} has no example body"


def test_min_position_waits_then_answers_503_and_is_documented_on_every_get(tmp_path) -> None:
    """Without a replica the read models are never behind a committed write: a GET with the
    position a write answered is served at once; a position the log has not reached, or not
    a position, is 422 naming it (the wait and its 503 are a replica's:
    tests/integration/test_postgres_servers.py). Every GET of the OpenAPI document takes it."""
    from tests.api.conftest import make_tokens

    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    with TestClient(create_app(Settings(db=db, min_position_wait=0.3))) as c:
        made = c.post("/sources", json={"csl": {"type": "book", "title": "t"}},
                      headers={"Authorization": f"Bearer {tokens['alice']}"}).json()
        assert c.get(f"/sources/{made['id']}",
                     params={"min_position": made["position"]}).status_code == 200
        ahead = c.get("/persons", params={"min_position": made["position"] + 1})
        assert ahead.status_code == 422  # no write answered it: nothing to wait for
        assert f"the log ends at position {made['position']}" in ahead.json()["detail"]
        for bad in ("x", "-1", "1.5", str(2**63)):
            r = c.get("/persons", params={"min_position": bad})
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["errors"][0]["field"] == "min_position"
        paths = c.get("/schema/openapi.json").json()["paths"]
        gets = [(p, ops["get"]) for p, ops in paths.items() if "get" in ops]
        assert len(gets) > 10
        for path, operation in gets:
            assert "min_position" in {p["name"] for p in operation.get("parameters", [])}, path
