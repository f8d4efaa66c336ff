"""Load the demo archive (archive.jsonl beside this module) through the real API in-process,
with the fixed, documented demo tokens: every command is checked as a contributor's would be."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from typing import Any

import msgspec

from starosta.service.access import create_tokens
from starosta.service.db import open_store
from starosta.service.settings import Settings

# Fixed and documented (README): demo databases only; `starosta demo` refuses a non-empty one.
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
    text = resources.files("starosta.service.demo").joinpath("archive.jsonl").read_text("utf-8")
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


def is_empty(db: str) -> bool:
    """Return True when the database has no events (or does not exist yet)."""
    store = open_store(db)
    try:
        return store.head().position == 0
    finally:
        store.close()


def load(db: str, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Load the demo archive into the empty database `db`; return counts per op.

    Raises DemoError naming the line when the API refuses a command.
    """
    from litestar.testing import TestClient

    from starosta.service.app import create_app

    if not is_empty(db):
        raise DemoError(f"{db} already holds events: the demo loads only into an empty database")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    create_tokens(db, [(name, role, token, DEMO_ACCOUNTS[name])
                       for role, (name, token) in DEMO_TOKENS.items()]
                  + [(SECOND_REVIEWER[0], "reviewer", SECOND_REVIEWER[1],
                      DEMO_ACCOUNTS[SECOND_REVIEWER[0]])])
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
            if progress:
                progress(number, len(todo))
    return counts


def _decide(client, claim: str, action: str, body: dict, headers: dict, number: int) -> None:
    answer = client.post(f"/claims/{claim}/{action}", json=body, headers=headers)
    if answer.status_code != 200:
        raise DemoError(f"line {number}: {action} {claim}: {answer.status_code} {answer.text}")
