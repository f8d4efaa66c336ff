"""Accounts and pseudonyms: who entered and checked each record, as each reader may see it.

Every name that holds tokens has one account (table `accounts`, migration 0005: beside the
tokens, backed up, never published), with an opaque, random, stable id (`A-` and 8 characters
of the project's id alphabet). New events carry the account id as their actor and in their
actor fields (`contributor`, `reviewer`), so their rows stay verifiable as published. Rows
written before accounts carry the name itself.

One policy, applied by the functions here wherever an actor leaves the service (the log, claims
and their history, `?contributor=`): reviewers and admins see names (an account id is resolved
to its name); every other reader sees account ids only (a stored name is replaced by its
account's id, and a log row so changed says `pseudonymised: true`, since its content no longer
checks against its digest). A name without an account (never expected: the migration and
`token create` give every name one) is shown to readers as null, never as itself.

No HTTP here; the SQL on `accounts` lives here and in `service/domain/access.py` (tokens).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import msgspec
from starosta.events.errors import Invalid
from starosta.projections import claims as claims_model
from starosta.projections.claims import ClaimOut, ClaimPage
from starosta.projections.rules import Viewer
from starosta.service.domain.ids import ACCOUNT_ID, new_id
from starosta.events.store import Connection

# Top-level fields of event data that name an account (the actor of a claim, a judgement or a
# take-down).
ACTOR_FIELDS = ("contributor", "reviewer", "admin")
_ACCOUNT = re.compile(ACCOUNT_ID)


def is_account_id(value: str | None) -> bool:
    """Return whether `value` is an account id (`A-` and 8 characters), not a name."""
    return value is not None and _ACCOUNT.match(value) is not None


def ensure_account(conn: Connection, name: str, account: str | None = None) -> str:
    """Return the account id of `name`, creating the account when the name has none (in the
    caller's transaction), with a random id or `account` (the demo's fixed, documented ones).
    The same name always keeps its account."""
    row = conn.execute("SELECT id FROM accounts WHERE name = ?", (name,)).fetchone()
    if row is not None:
        return row[0]
    if account is not None and not is_account_id(account):
        raise ValueError(f"{account!r} is not an account id (A- and 8 characters)")
    account = account or new_id("account")
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    conn.execute("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)",
                 (account, name, now))
    return account


def backfill(conn: Connection) -> int:
    """Give an account to every name the log carries as an actor that has none (after an
    import of a log written before accounts); return how many were created."""
    names = [r[0] for r in conn.execute(
        "SELECT DISTINCT actor FROM events WHERE actor IS NOT NULL AND actor <> '' "
        "AND actor NOT IN (SELECT name FROM accounts) AND actor NOT IN (SELECT id FROM accounts)")]
    for name in names:
        if not is_account_id(name):
            ensure_account(conn, name)
    return len(names)


class Directory(msgspec.Struct, frozen=True):
    """The accounts behind a set of actor values: account id -> name, and name -> id."""

    names: dict[str, str]
    ids: dict[str, str]

    def account_of(self, value: str) -> str | None:
        """The account id an actor value (an id or a name) stands for; None when unknown."""
        return value if value in self.names else self.ids.get(value)

    def aliases(self, value: str) -> tuple[str, ...]:
        """Every value that denotes the same account as `value`: its id and its name (just
        `value` when no account is known)."""
        account = self.account_of(value)
        if account is None:
            return (value,)
        return (account, self.names[account])

    def shown(self, value: str | None, viewer: Viewer) -> str | None:
        """An actor value as `viewer` may see it: the name for reviewers and admins, the account
        id for everyone else (None for a name with no account: never the name itself)."""
        if not value:
            return value
        if viewer.reviewer:
            account = self.account_of(value)
            return self.names[account] if account is not None else value
        return self.account_of(value)


def directory(conn: Connection, values: Iterable[str | None]) -> Directory:
    """Return the accounts behind `values` (account ids and names, in any mix)."""
    wanted = sorted({v for v in values if v})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 400):  # within SQLite's parameter bound
        chunk = wanted[start:start + 400]
        marks = ",".join("?" * len(chunk))  # a count of '?', never input
        for account, name in conn.execute(
                f"SELECT id, name FROM accounts WHERE id IN ({marks}) OR name IN ({marks})",
                (*chunk, *chunk)):
            names[account] = name
    return Directory(names, {name: account for account, name in names.items()})


def pseudonymised_data(data: dict[str, Any], directory: Directory) -> tuple[dict[str, Any], bool]:
    """Return event data with each actor field that holds a name replaced by its account id
    (for readers below reviewer), and whether anything was replaced."""
    changed = False
    for field in ACTOR_FIELDS:
        value = data.get(field)
        if isinstance(value, str) and value and not is_account_id(value):
            data = {**data, field: directory.account_of(value)}
            changed = True
    return data, changed


def contributor_filter(conn: Connection, value: str | None, viewer: Viewer) -> tuple[str, ...] | None:
    """Return the stored values `?contributor=VALUE` matches (the account's id and its name,
    as old and new rows carry them), or None without the filter. Readers below reviewer name
    an account by its id only (Invalid for anything else: names are not theirs to probe);
    reviewers and admins also by name."""
    if value is None:
        return None
    if not viewer.reviewer and not is_account_id(value):
        raise Invalid("contributor", value, "name a contributor by account id (A- and 8 "
                      "characters, as claims show it)", "query")
    return directory(conn, [value]).aliases(value)


def shown_claim(claim: ClaimOut, people: Directory, viewer: Viewer) -> ClaimOut:
    """Return a claim with its contributor, contester, dispute and every history actor as
    `viewer` may see them (names for reviewers, account ids for everyone else)."""
    return msgspec.structs.replace(
        claim, contributor=people.shown(claim.contributor, viewer) or "",
        contested_by=people.shown(claim.contested_by, viewer),
        history=[msgspec.structs.replace(h, actor=people.shown(h.actor, viewer) or "")
                 for h in claim.history],
        dispute=None if claim.dispute is None else msgspec.structs.replace(
            claim.dispute, actor=people.shown(claim.dispute.actor, viewer) or ""))


def _actors(claims: Iterable[ClaimOut]) -> list[str | None]:
    return [v for c in claims for v in (c.contributor, c.contested_by, *(h.actor for h in c.history),
                                        c.dispute.actor if c.dispute is not None else None)]


def read_claim(conn: Connection, claim_id: str, viewer: Viewer) -> ClaimOut | None:
    """GET /claims/{id}: the claim `viewer` may see (claims.read), its actors as they may see
    them; None when unknown or hidden."""
    claim = claims_model.read(conn, claim_id, viewer)
    if claim is None:
        return None
    return shown_claim(claim, directory(conn, _actors([claim])), viewer)


def claim_page(conn: Connection, viewer: Viewer, *, contributor: str | None = None,
               **filters: Any) -> ClaimPage:
    """GET /claims: a page of claims (claims.page) with `?contributor=` matched by account and
    every actor as `viewer` may see them."""
    page = claims_model.page(conn, viewer, contributor=contributor_filter(conn, contributor, viewer),
                             **filters)
    people = directory(conn, _actors(page.items))
    return ClaimPage([shown_claim(c, people, viewer) for c in page.items], page.next)
