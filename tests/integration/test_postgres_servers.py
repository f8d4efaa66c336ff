"""Several servers on one PostgreSQL database, and reads from a streaming replica, on the
throwaway cluster of tests/postgres.py.

Two real `starosta serve` processes start together on one fresh archive (one builds the read
models as the owner, the other waits for it) and take concurrent writes: no write is lost,
duplicated or reordered (positions 1..N, one chain, the same log through both), every write
is readable at once from the server that took it and, with `min_position`, from the other,
and the read models the two servers kept equal a rebuild from the log.

A replica made with pg_basebackup serves GETs (STAROSTA_READ_DB): a GET with `min_position`
waits for it, or answers 503 with Retry-After while its replay is paused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from starosta.projections.read_models import default_runner
from starosta.projections.runner import content_hash
from starosta.service.domain.access import create_tokens
from starosta.service.db import open_event_store
from tests.conftest import launch_server, stop, wait_until_up
from tests.postgres import Cluster, new_archive, streaming_replica

WRITERS, WRITES = 4, 12  # threads, and persons each registers


@pytest.fixture
def archive(postgres_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, dict]]:
    """A fresh archive: (the service's URL, the owner's, tokens by role)."""
    service, owner = new_archive(postgres_cluster)
    monkeypatch.setenv("STAROSTA_OWNER_DB", owner)
    made = create_tokens(service, [("Alice Contributor", "contributor", None),
                                   ("Bob Reviewer", "reviewer", None)])
    yield service, owner, {"contributor": made[0][1], "reviewer": made[1][1]}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_two_servers_on_one_database_take_concurrent_writes(
        archive: tuple[str, str, dict]) -> None:
    service, owner, tokens = archive
    env = {"STAROSTA_OWNER_DB": owner}
    servers = []
    try:
        # started together: one builds the read models, the other waits for it
        procs = [launch_server(service, env=env) for _ in range(2)]
        servers = [wait_until_up(proc, base, wait=120) for proc, base in procs]
        bases = [base for _, base in servers]
        contributor, reviewer = _bearer(tokens["contributor"]), _bearer(tokens["reviewer"])
        with httpx.Client(timeout=30) as http:
            source = http.post(f"{bases[0]}/sources", headers=contributor, json={
                "csl": {"type": "book", "title": "Synthetic test source"}}).json()["id"]

        answers: list[tuple[int, int, str, int]] = []  # (writer, server, id, position)
        failures: list[str] = []
        lock = threading.Lock()

        def writer(number: int) -> None:
            mine, other = bases[number % 2], bases[(number + 1) % 2]
            with httpx.Client(timeout=30) as http:
                for n in range(WRITES):
                    r = http.post(f"{mine}/persons", headers=contributor, json={
                        "name": f"Synthetic Person {number}-{n}", "citation": {"source": source}})
                    if r.status_code != 201:
                        failures.append(f"POST {r.status_code} {r.text}")
                        continue
                    created = r.json()
                    # read-your-writes: at once from the server that took it ...
                    if http.get(f"{mine}/persons/{created['id']}").status_code != 200:
                        failures.append(f"{created['id']} not readable from its own server")
                    # ... and from the other, asked for the write's position
                    seen = http.get(f"{other}/persons/{created['id']}",
                                    params={"min_position": created["position"]})
                    if seen.status_code != 200:
                        failures.append(f"{created['id']} not on the other server: {seen.text}")
                    # review through the other server: writes interleave on both
                    approved = http.post(f"{other}/claims/{created['name_claim']}/approve",
                                         headers=reviewer, json={})
                    if approved.status_code != 200:
                        failures.append(f"approve {approved.status_code} {approved.text}")
                    with lock:
                        answers.append((number, number % 2, created["id"], created["position"]))

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not failures, failures[:5]
        assert len(answers) == WRITERS * WRITES
        positions = [a[3] for a in answers]
        assert len(set(positions)) == len(positions)  # no two writes share a position

        with httpx.Client(timeout=30) as http:
            heads = [http.get(f"{b}/events/head").json() for b in bases]
            assert heads[0] == heads[1]
            total = heads[0]["position"]
            # source: 1 event; each person: registered, name claim submitted, approved (3)
            assert total == 1 + 3 * WRITERS * WRITES
            logs = []
            for b in bases:
                items, after = [], 0
                while True:
                    page = http.get(f"{b}/events", params={"after": after, "limit": 1000}).json()
                    items += page["items"]
                    if not page["next"]:
                        break
                    after = items[-1]["position"]
                logs.append(items)
            assert logs[0] == logs[1]
            assert [e["position"] for e in logs[0]] == list(range(1, total + 1))
            ids = sorted(a[2] for a in answers)
            for person in ids[:8]:
                documents = [http.get(f"{b}/persons/{person}/biography").content for b in bases]
                assert documents[0] == documents[1]
                assert b"Synthetic Person" in documents[0]
            found = http.get(f"{bases[1]}/persons", params={"q": "synthetic person",
                                                            "limit": 100}).json()
            assert {h["id"] for h in found["items"]} == set(ids)

        store = open_event_store(service, owner=True)  # the owner may rebuild
        try:
            assert store.verify().ok
            runner = default_runner()
            live = {p.name: content_hash(store.reader(), list(p.ddl)) for p in runner.projections}
            rebuilt = runner.rebuild_many(store, runner.names())
            assert rebuilt == live  # what the two servers kept is what the log gives
        finally:
            store.close()
    finally:
        for proc, _ in servers:
            stop(proc)


def test_reads_from_a_streaming_replica_wait_for_min_position(
        postgres_cluster: Cluster, archive: tuple[str, str, dict]) -> None:
    from litestar.testing import TestClient

    from starosta.service.api.app import create_app
    from starosta.service.settings import Settings

    service, owner, tokens = archive
    contributor = _bearer(tokens["contributor"])
    with streaming_replica(postgres_cluster) as replica:
        read_db = service.replace(f":{postgres_cluster.port}/", f":{replica.port}/")
        settings = Settings(db=service, read_db=read_db)
        with TestClient(create_app(settings)) as client:
            first = client.post("/sources", headers=contributor,
                                json={"csl": {"type": "book", "title": "Synthetic one"}}).json()
            seen = client.get(f"/sources/{first['id']}", params={"min_position": first["position"]})
            assert seen.status_code == 200, seen.text

            replica.execute("SELECT pg_wal_replay_pause()")
            try:
                second = client.post("/sources", headers=contributor,
                                     json={"csl": {"type": "book", "title": "Synthetic two"}}).json()
                behind = client.get(f"/sources/{second['id']}",
                                    params={"min_position": second["position"]})
                assert behind.status_code == 503, behind.text
                assert behind.headers["retry-after"] == "1"
                detail = behind.json()["detail"]
                assert f"min_position={second['position']}" in detail
                assert f"up to position {first['position']}" in detail  # the replica's own
                assert "waited 2 s" in detail
                # without min_position a read is as stale as the replica: not there yet
                assert client.get(f"/sources/{second['id']}").status_code == 404
                # writes, replays and tokens stay on the primary meanwhile
                third = client.post("/sources", headers=contributor,
                                    json={"csl": {"type": "book", "title": "Synthetic three"}})
                assert third.status_code == 201
            finally:
                replica.execute("SELECT pg_wal_replay_resume()")
            caught_up = client.get(f"/sources/{second['id']}",
                                   params={"min_position": third.json()["position"]})
            assert caught_up.status_code == 200, caught_up.text
            bad = client.get("/persons", params={"min_position": "-1"})
            assert bad.status_code == 422 and "min_position" in bad.text


def test_make_run_serves_the_demo_from_postgresql(postgres_cluster: Cluster) -> None:
    """The README's instruction: `STAROSTA_DB=postgresql://... make run` loads the demo into
    a schema holding nothing (as the owner, STAROSTA_OWNER_DB) and serves it as the service's
    role, with the demo's banner."""
    import os
    import subprocess

    from tests.conftest import ROOT, free_port
    from tests.postgres import empty_schema

    service, owner = empty_schema(postgres_cluster)
    port = free_port()
    proc = subprocess.Popen(["make", "-s", "run"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env={**os.environ, "STAROSTA_DB": service, "STAROSTA_OWNER_DB": owner,
                                 "STAROSTA_PORT": str(port)})
    try:
        _, base = wait_until_up(proc, f"http://127.0.0.1:{port}", wait=180)
        with httpx.Client(base_url=base, timeout=30) as http:
            found = http.get("/persons", params={"q": "Monclús"}).json()["items"]
            assert [hit["label"] for hit in found] == ["Joaquín Monclús Guallar",
                                                       "Vicente Monclús Guallar"]
            biographies = [http.get(f"/persons/{hit['id']}/biography") for hit in found]
            assert all(b.status_code == 200 for b in biographies)
            assert any(b"Vorkuta" in b.content for b in biographies)
            assert http.get("/events/head").json()["position"] > 600
    finally:
        stop(proc)
    assert "DEMO ARCHIVE" in proc.stdout.read()


ROUNDS = 10  # opposite merges; the unguarded servers recorded both ten times out of ten


def test_opposite_merges_through_two_servers_record_exactly_one(
        archive: tuple[str, str, dict]) -> None:
    """Issue 18, finding 1: `POST /persons/A/merge {"into": B}` through one server and
    `POST /persons/B/merge {"into": A}` through the other, one reviewer token each, released
    together: one answers 200, the other 409, every round; both records keep one survivor,
    and the registry the servers kept is what a rebuild of the log gives."""
    service, owner, tokens = archive
    second = create_tokens(service, [("Carol Reviewer", "reviewer", None)])[0][1]
    reviewers = [_bearer(tokens["reviewer"]), _bearer(second)]
    contributor = _bearer(tokens["contributor"])
    env = {"STAROSTA_OWNER_DB": owner}
    servers = []
    try:
        procs = [launch_server(service, env=env) for _ in range(2)]
        servers = [wait_until_up(proc, base, wait=120) for proc, base in procs]
        bases = [base for _, base in servers]
        with httpx.Client(timeout=30) as http:
            source = http.post(f"{bases[0]}/sources", headers=contributor, json={
                "csl": {"type": "book", "title": "Synthetic test source"}}).json()["id"]
            for n in range(ROUNDS):
                a, b = (http.post(f"{bases[0]}/persons", headers=contributor, json={
                    "name": f"Synthetic {name} {n}", "citation": {"source": source}}).json()["id"]
                    for name in ("Klichevsky", "Кличевский"))
                barrier = threading.Barrier(2)
                answers: list[httpx.Response | None] = [None, None]

                def send(i: int, record: str, into: str) -> None:
                    with httpx.Client(timeout=30) as mine:
                        barrier.wait(30)
                        answers[i] = mine.post(f"{bases[i]}/persons/{record}/merge",
                                               headers=reviewers[i],
                                               json={"into": into, "reason": "the same man"})

                threads = [threading.Thread(target=send, args=(0, a, b)),
                           threading.Thread(target=send, args=(1, b, a))]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
                statuses = sorted(r.status_code for r in answers if r is not None)
                assert statuses == [200, 409], [r.text for r in answers if r is not None]
                head = max(http.get(f"{base}/events/head").json()["position"] for base in bases)
                survivors = {http.get(f"{base}/persons/{record}",
                                      params={"min_position": head}).json()["id"]
                             for base in bases for record in (a, b)}
                assert len(survivors) == 1  # both records, on both servers: one survivor
                listed = http.get(f"{bases[1]}/persons", params={"min_position": head,
                                                                 "limit": 1000}).json()["items"]
                assert survivors <= {hit["id"] for hit in listed}

        store = open_event_store(service, owner=True)
        try:
            runner = default_runner()
            registry = runner.get("registry")
            live = content_hash(store.reader(), list(registry.ddl))
            assert runner.rebuild(store, "registry") == live
            assert store.reader().execute("SELECT count(*) FROM judgement_conflicts").fetchone()[0] == 0
        finally:
            store.close()
    finally:
        for proc, _ in servers:
            stop(proc)
