"""Load the demo archive (archive.jsonl beside this module) through the real API in-process,
with the fixed, documented demo tokens: every command is checked as a contributor's would be."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from typing import Any

import msgspec

from starosta.service.domain.access import create_token
from starosta.service.tools.demo import marker
from starosta.service.tools.demo.marker import AlreadyDemo, NotNew
from starosta.service.settings import Settings

__all__ = ["DEMO_TOKENS", "AlreadyDemo", "DemoError", "NotNew", "claim_archive", "load"]

# Fixed and documented (README): public, so demo databases only: `load` goes only into a new
# database, and `starosta serve` keeps an archive where they work on loopback (marker.py).
DEMO_TOKENS = {
    "contributor": ("Demo Contributor", "demo-contributor-token"),
    "reviewer": ("Demo Reviewer", "demo-reviewer-token"),
    "admin": ("Demo Admin", "demo-admin-token"),
}
SECOND_REVIEWER = ("Demo Second Reviewer", "demo-reviewer-2-token")  # contests one claim
# Fixed account ids of the demo's people (what readers see in place of their names), so that a
# demo archive's log and documents are the same wherever it is loaded, on either backend.
DEMO_ACCOUNTS = {"Demo Contributor": "A-DEM0C0NT", "Demo Reviewer": "A-DEM0REVW",
                 "Demo Admin": "A-DEM0ADMN", "Demo Second Reviewer": "A-DEM0REV2"}
PATHS = {"source": "/sources", "person": "/persons", "place": "/places",
         "organization": "/organizations", "fund": "/funds", "claim": "/claims"}


class DemoError(Exception):
    """The demo archive could not be loaded; the message names the line."""


def commands() -> list[dict[str, Any]]:
    """Return the demo archive's commands, in order."""
    text = resources.files("starosta.service.tools.demo").joinpath("archive.jsonl").read_text("utf-8")
    return [msgspec.json.decode(line) for line in text.splitlines() if line.strip()]


def resolve(value: Any, ids: dict[str, str], line: int) -> Any:
    """Replace every '@ref' string in a body by the id created for that ref."""
    if isinstance(value, str) and value.startswith("@"):
        if value[1:] not in ids:
            raise DemoError(f"line {line}: {value} is used before it is defined")
        return ids[value[1:]]
    if isinstance(value, dict):
        return {k: resolve(v, ids, line) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids, line) for v in value]
    return value


def claim_archive(db: str) -> None:
    """Make the new database `db` the demo archive: migrate it (creating the file), then, in one
    write transaction that sees no events, no tokens and no marker, write the marker
    (marker.LOADING) and the demo's tokens. The only way the demo's tokens are ever created.

    Raises AlreadyDemo when `db` carries the marker, NotNew when it is not new (checked before
    migrating, and again inside the transaction).
    """
    from starosta.service.db import migrate, open_event_store

    state = marker.demo_state(db, owner=True)
    if state is not None:
        raise AlreadyDemo(state)
    held = marker.what_is_there(db)
    if held is not None:
        raise NotNew(held)
    migrate(db)
    store = open_event_store(db, owner=True)  # the owner's, on PostgreSQL: it writes tokens
    try:
        with store.write_transaction() as tx:
            marker.claim(tx)  # nothing there, or it raises: another `demo` got here first
            for role, (name, token) in [*DEMO_TOKENS.items(), ("reviewer", SECOND_REVIEWER)]:
                create_token(tx, name, role, token, DEMO_ACCOUNTS[name])
    finally:
        store.close()


def _loaded(db: str) -> None:
    from starosta.service.db import open_event_store

    store = open_event_store(db, owner=True)
    try:
        with store.write_transaction() as tx:
            marker.mark(tx, marker.LOADED)
    finally:
        store.close()


# what `load` counts besides its ops (issue 22: the demo says what it counted)
NAME_CLAIMS, APPROVED, DISPUTED, PENDING = "name claims", "approved", "disputed", "left pending"
TALLIES = (NAME_CLAIMS, APPROVED, DISPUTED, PENDING)


def load(db: str, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Load the demo archive into the new database `db` (see `claim_archive`); return counts per op.

    Raises AlreadyDemo or NotNew (nothing written), DemoError naming the line when the API
    refuses a command.
    """
    from litestar.testing import TestClient

    from starosta.service.api.app import create_app

    claim_archive(db)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    bearer = {role: {"Authorization": f"Bearer {token}"} for role, (_, token) in DEMO_TOKENS.items()}
    second = {"Authorization": f"Bearer {SECOND_REVIEWER[1]}"}
    ids: dict[str, str] = {}
    counts: dict[str, int] = {}
    todo = commands()
    with TestClient(create_app(Settings(db=db))) as client:
        for number, command in enumerate(todo, start=1):
            op, body = command["op"], resolve(command["body"], ids, number)
            answer = client.post(PATHS[op], json=body, headers=bearer["contributor"])
            if answer.status_code != 201:
                raise DemoError(f"line {number} ({command.get('ref')}): {answer.status_code} {answer.text}")
            created = answer.json()
            ids[command["ref"]] = created["id"]
            claim = created["id"] if op == "claim" else created.get("name_claim")
            review = command.get("review", "approve")
            if claim and review != "pending":
                _decide(client, claim, "approve", {}, bearer["reviewer"], number)
                if isinstance(review, dict) and "contest" in review:
                    _decide(client, claim, "contest", {"reason": review["contest"]}, second, number)
            counts[op] = counts.get(op, 0) + 1
            if claim:  # what the log holds besides: each registration's name claim, the reviews
                if op != "claim":
                    counts[NAME_CLAIMS] = counts.get(NAME_CLAIMS, 0) + 1
                outcome = (PENDING if review == "pending" else
                           DISPUTED if isinstance(review, dict) and "contest" in review else APPROVED)
                counts[outcome] = counts.get(outcome, 0) + 1
            if progress:
                progress(number, len(todo))
    _loaded(db)
    return counts


def _decide(client, claim: str, action: str, body: dict, headers: dict, number: int) -> None:
    answer = client.post(f"/claims/{claim}/{action}", json=body, headers=headers)
    if answer.status_code != 200:
        raise DemoError(f"line {number}: {action} {claim}: {answer.status_code} {answer.text}")
