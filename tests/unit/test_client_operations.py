"""The Python client's operations are described once (`starosta.client.Operations`) and both
clients expose each of them: `Client` answering at once, `AsyncClient` as a coroutine (paged
lists as iterators and async iterators). Descriptions are pure: no server, no HTTP."""

from __future__ import annotations

import asyncio
import inspect

from starosta.client import AsyncClient, Call, Client, Operations, Pages, operation, paged
from starosta.events.kinds import Citation, DeathClaim
from starosta.service.domain.replies import Submitted

OPERATIONS = {name: value for name, value in vars(Operations).items()
              if isinstance(value, (operation, paged))}


def test_both_clients_expose_every_operation_with_its_signature_and_doc() -> None:
    sync, async_ = Client("http://127.0.0.1:9"), AsyncClient("http://127.0.0.1:9")
    try:
        for name, described in OPERATIONS.items():
            for client in (sync, async_):
                method = getattr(client, name)
                assert inspect.signature(method) == inspect.signature(described.describe), name
                assert method.__doc__ and method.__doc__ == described.describe.__doc__, name
            assert inspect.iscoroutinefunction(getattr(async_, name)) == isinstance(
                described, operation), name
    finally:
        sync.close()
        asyncio.run(async_.aclose())


def test_a_review_is_described_with_its_if_match_and_its_reason() -> None:
    call = Operations.rank("C-1", "preferred", "the better source", version=4)
    assert (call.method, call.path, call.headers) == ("POST", "/claims/C-1/rank", {"If-Match": '"4"'})
    assert call.body == b'{"rank":"preferred","reason":"the better source"}'
    assert Operations.approve("C-1").body is None and Operations.approve("C-1").headers == {}


def test_a_submission_is_described_with_its_key_and_the_claim_as_sent() -> None:
    claim = DeathClaim(person="P-1", date="1937", citation=Citation(source="S-1"))
    call = Operations.submit(claim, idempotency_key="k-1")
    assert isinstance(call, Call) and call.type is Submitted and call.key == "k-1"
    headers, _ = call.prepared()
    assert headers["Idempotency-Key"] == "k-1"
    assert Operations.submit({"kind": "death", "person": "P-1", "date": "1937",
                              "citation": {"source": "S-1"}}).body == call.body


def test_a_paged_list_names_its_items_and_leaves_unset_filters_out() -> None:
    pages = Operations.ledger_entries("F-1", page_size=10)
    assert isinstance(pages, Pages) and pages.items == "entries"
    assert pages.call.prepared()[1] == {"limit": 10}
    claims = Operations.claims(status="approved", page_size=5)
    assert claims.items == "items" and claims.call.prepared()[1] == {"status": "approved", "limit": 5}
