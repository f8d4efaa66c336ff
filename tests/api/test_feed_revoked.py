"""A revoked token's open live feed (issue 18, finding 7): the feed asks again whether its
token is live every TOKEN_RECHECK_SECONDS and before sending each page of events, so that a
reviewer's feed revoked by `starosta token revoke` ends within seconds and sends nothing
unredacted after the revocation, instead of streaming pending claims until its timeout."""

from __future__ import annotations

import subprocess
import threading
import time

import httpx
import msgspec
import pytest
from starosta.events.kinds import Citation, DeathClaim
from starosta.service.domain.access import list_tokens
from starosta.service.api.log import TOKEN_RECHECK_SECONDS
from starosta.service.db import open_event_store

from tests.api.conftest import make_tokens
from tests.api.test_stream import Served, seed, served  # noqa: F401  (the fixture)
from tests.conftest import STAROSTA, start_server, stop

pytestmark = pytest.mark.slow


def _token_id(db: str, name: str) -> str:
    store = open_event_store(db)
    try:
        return next(t.id for t in list_tokens(store.reader()) if t.name == name)
    finally:
        store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def feed_archive(request: pytest.FixtureRequest, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """`starosta serve` on a SQLite file, or as the service's role on a fresh PostgreSQL
    schema (built and revoked as the owner: STAROSTA_OWNER_DB)."""
    if request.param == "sqlite":
        db, env = str(tmp_path / "archive.db"), {}
    else:
        from tests.postgres import new_archive

        db, owner = new_archive(request.getfixturevalue("postgres_cluster"))
        monkeypatch.setenv("STAROSTA_OWNER_DB", owner)  # for this process and the CLI's
        env = {"STAROSTA_OWNER_DB": owner}
    tokens = make_tokens(db)
    proc, base = start_server(db, env=env)
    archive = Served(db, base, tokens, proc)
    try:
        yield archive
    finally:
        stop(archive.proc)  # type: ignore[arg-type]


def test_a_revoked_reviewers_feed_ends_and_sends_nothing_unredacted_after(
        feed_archive: Served) -> None:
    served = feed_archive
    _, hidden = seed(served)
    head = httpx.get(f"{served.base}/events/head").json()["position"]
    items: list[tuple[float, dict]] = []
    ended_at: list[float] = []

    def follow() -> None:
        with httpx.stream("GET", f"{served.base}/events/stream", params={"timeout": 120},
                          headers=served.auth("bob"), timeout=60) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data: "):
                    items.append((time.monotonic(), msgspec.json.decode(line[6:])))
        ended_at.append(time.monotonic())

    reader = threading.Thread(target=follow)
    reader.start()
    deadline = time.monotonic() + 10
    while len(items) < head:  # the feed sent the log so far: the reviewer sees the pending claim
        assert time.monotonic() < deadline, items
        time.sleep(0.05)
    assert any(i["stream_id"] == hidden and not i["redacted"] for _, i in items)

    token_id = _token_id(served.db, "bob")
    done = subprocess.run([STAROSTA, "token", "revoke", token_id, "--db", served.db],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    revoked_at = time.monotonic()
    with served.client("alice") as alice:  # a new pending claim, after the revocation
        source = alice.register_source({"type": "book", "title": "After revocation"}).id
        person = alice.register_person("Hidden After", Citation(source=source)).id
        after = alice.submit(DeathClaim(person=person, date="1939",
                                        citation=Citation(source=source))).id
    reader.join(timeout=30)
    assert not reader.is_alive(), "the revoked feed kept streaming"
    assert ended_at[0] - revoked_at < TOKEN_RECHECK_SECONDS + 3  # not the 120 s timeout
    late = [i for at, i in items if at > revoked_at]
    assert late == [], late  # nothing at all after the revocation: the check precedes each page
    assert all(i["stream_id"] != after for _, i in items)


def test_an_anonymous_feed_is_not_asked_for_a_token(served: Served) -> None:
    """The recheck concerns feeds opened with a token; an anonymous feed runs to its timeout."""
    seed(served)
    started = time.monotonic()
    with httpx.stream("GET", f"{served.base}/events/stream", params={"timeout": 3},
                      timeout=30) as r:
        lines = list(r.iter_lines())
    assert time.monotonic() - started >= 3
    assert not any("revoked" in line for line in lines)
