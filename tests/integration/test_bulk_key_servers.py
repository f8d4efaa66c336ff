"""A bulk approval's Idempotency-Key across two real `starosta serve` processes on one
PostgreSQL database (issue 18, finding 8): the same key with two bodies, one sent to each
server at once, applies one body; the same body twice applies it once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from starosta.service.domain.access import create_tokens
from tests.conftest import launch_server, stop, wait_until_up
from tests.postgres import Cluster, new_archive

ROUNDS = 6


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_one_key_raced_across_two_servers_applies_one_body(postgres_cluster: Cluster,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    service, owner = new_archive(postgres_cluster)
    monkeypatch.setenv("STAROSTA_OWNER_DB", owner)
    made = create_tokens(service, [("Alice Contributor", "contributor", None),
                                   ("Bob Reviewer", "reviewer", None)])
    alice, bob = bearer(made[0][1]), bearer(made[1][1])
    servers = []
    try:
        procs = [launch_server(service, env={"STAROSTA_OWNER_DB": owner}) for _ in range(2)]
        servers = [wait_until_up(proc, base, wait=120) for proc, base in procs]
        bases = [base for _, base in servers]
        http = httpx.Client(timeout=60)
        source = http.post(f"{bases[0]}/sources", headers=alice, json={
            "csl": {"type": "book", "title": "Synthetic test source"}}).json()["id"]
        person = http.post(f"{bases[0]}/persons", headers=alice, json={
            "name": "Synthetic Person", "citation": {"source": source}}).json()["id"]

        def pending() -> str:
            r = http.post(f"{bases[0]}/claims", headers=alice, json={
                "kind": "death", "person": person, "date": "1938",
                "citation": {"source": source}})
            assert r.status_code == 201, r.text
            return r.json()["id"]

        def race(bodies: list[dict], key: str) -> list[httpx.Response]:
            barrier = threading.Barrier(2, timeout=10)

            def send(i: int) -> httpx.Response:
                with httpx.Client(timeout=60) as own:
                    barrier.wait()
                    return own.post(f"{bases[i]}/claims/approve", json=bodies[i],
                                    headers={**bob, "Idempotency-Key": key})
            with ThreadPoolExecutor(2) as pool:
                return list(pool.map(send, range(2)))

        def head() -> int:
            return http.get(f"{bases[1]}/events/head").json()["position"]

        for n in range(ROUNDS):
            first, second = pending(), pending()
            before = head()
            answers = race([{"ids": [first]}, {"ids": [second]}], f"two-bodies-{n}")
            assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
            assert head() == before + 1
            statuses = sorted(http.get(f"{bases[0]}/claims/{c}", headers=bob).json()["status"]
                              for c in (first, second))
            assert statuses == ["approved", "pending"]

            both = [pending(), pending()]
            before = head()
            answers = race([{"ids": both}] * 2, f"one-body-{n}")
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            assert answers[0].json() == answers[1].json() and head() == before + 2
        http.close()
    finally:
        for proc, _ in servers:
            stop(proc)
