"""The Python client's `claims(organization=)` (issue 22, item 6) against `starosta serve` (a
real server in a subprocess, real tokens), and an unknown query parameter refused as Invalid.
Synthetic data."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from starosta.client import Client
from starosta.events.kinds import Citation, MembershipClaim
from tests.api.conftest import make_tokens
from tests.conftest import start_server, stop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    db = str(tmp_path_factory.mktemp("client-queries") / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        yield base, tokens
    finally:
        stop(proc)


def test_the_client_lists_the_claims_naming_an_organization(served) -> None:
    base, tokens = served
    with Client(base, token=tokens["alice"]) as alice, Client(base, token=tokens["bob"]) as bob:
        source = alice.register_source({"type": "personal_communication", "title": "Client memo (synthetic)"}).id
        cited = Citation(source=source, locator="p. 1")
        party = alice.register_organization("Client Party (synthetic)", "party", cited).id
        other = alice.register_organization("Client Other (synthetic)", "party", cited).id
        person = alice.register_person("Client Member (synthetic)", cited).id
        mine = alice.submit(MembershipClaim(person=person, organization=party, start="1925", citation=cited))
        alice.submit(MembershipClaim(person=person, organization=other, citation=cited))
        bob.approve(mine.id)
        found = [c.id for c in alice.claims(organization=party, kind="membership")]
        assert found == [mine.id]
    r = httpx.get(f"{base}/claims", params={"organisation": party})
    assert r.status_code == 422 and "organisation" in r.text
