"""Claim events and the review state machine (a pure fold over a claim's stream; the rules
it folds by are events/claim_rules.py).

pending -> approved | rejected | contested | retracted (by its contributor);
approved -> disputed (contested after approval: public, marked, out of computed figures);
contested or disputed -> approved (contest dismissed) | rejected (contest upheld).
Nobody reviews their own claim; the reviewer who contested may not resolve the contest.
Only an approved claim is ranked (preferred, normal, deprecated), never by its contributor.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

import msgspec
from starosta.events.base import Event
from starosta.events.claim_rules import (  # noqa: F401  (re-exported: the review's vocabulary)
    ALLOWED,
    CONTESTED,
    Action,
    Rank,
    Status,
    contested_status,
    status_after,
)
from starosta.events.dates import DateValue, Length
from starosta.events.errors import Conflict, Forbidden
from starosta.events.kinds import AnyClaim, Citation


class ClaimSubmitted(Event, frozen=True, tag="claim.submitted", omit_defaults=True):
    """A contributor submitted a claim, as written, with the checked bounds of its dates."""

    claim_id: str
    contributor: str
    claim: AnyClaim
    dates: dict[str, DateValue] = {}
    length: Length | None = None  # the claim's `duration` in days, computed at submission


class ClaimApproved(Event, frozen=True, tag="claim.approved", omit_defaults=True):
    """A reviewer approved the claim (for a contested claim: the contest was dismissed)."""

    claim_id: str
    reviewer: str
    reason: str | None = None
    resolves_contest: bool = False


class ClaimRejected(Event, frozen=True, tag="claim.rejected", omit_defaults=True):
    """A reviewer rejected the claim (for a contested claim: the contest was upheld)."""

    claim_id: str
    reviewer: str
    reason: str
    resolves_contest: bool = False


class ClaimContested(Event, frozen=True, tag="claim.contested", omit_defaults=True):
    """A reviewer contested the claim, with a reason and perhaps a counter-citation."""

    claim_id: str
    reviewer: str
    reason: str
    citation: Citation | None = None


class ClaimRetracted(Event, frozen=True, tag="claim.retracted", omit_defaults=True):
    """The claim's contributor withdrew it while it was pending."""

    claim_id: str
    contributor: str
    reason: str


class ClaimRanked(Event, frozen=True, tag="claim.ranked", omit_defaults=True):
    """A reviewer ranked an approved claim: preferred, normal, or deprecated with a reason.
    A deprecated claim stays listed (under `deprecated`) but leaves totals, populations and
    ledgers; the rank outlives a contest that is dismissed. A deprecated rank may cite the
    source that retracts the claim (`citation`), kept in the claim's history."""

    claim_id: str
    reviewer: str
    rank: Rank
    reason: str | None = None
    citation: Citation | None = None  # a deprecated rank's retracting source (issue 21)


# What an admin may take down: a claim, or an entity's label and names
SuppressedKind = Literal["claim", "person", "place", "organization", "fund", "source"]


def suppression_stream(target: str) -> str:
    """Return the stream of a target's suppressions (its own, so that a take-down never moves
    the version a review or a judgement of the target expects)."""
    return f"suppression-{target}"


class ContentSuppressed(Event, frozen=True, tag="content.suppressed", omit_defaults=True):
    """An admin took down a claim's content, or an entity's label and names, from readers, with
    a reason; the log keeps the content, reviewers and admins still read it."""

    target: str
    target_kind: SuppressedKind
    admin: str
    reason: str


class ContentUnsuppressed(Event, frozen=True, tag="content.unsuppressed", omit_defaults=True):
    """An admin undid a suppression, with a reason: readers see the content again."""

    target: str
    target_kind: SuppressedKind
    admin: str
    reason: str


class ClaimState(msgspec.Struct, frozen=True, kw_only=True):
    """What the review of one claim has come to, and the stream version it was read at."""

    claim_id: str
    status: Status
    contributor: str
    contested_by: str | None = None
    rank: Rank = "normal"
    version: int = 1




def evolve(state: ClaimState | None, event: Event) -> ClaimState:
    """Return the claim's state after `event`."""
    match event:
        case ClaimSubmitted(claim_id=cid, contributor=who):
            return ClaimState(claim_id=cid, status="pending", contributor=who)
    assert state is not None, "a claim stream starts with claim.submitted"
    v = state.version + 1
    status = status_after(state.status, event)
    match event:
        case ClaimApproved() | ClaimRejected():
            return msgspec.structs.replace(state, status=status, contested_by=None, version=v)
        case ClaimContested(reviewer=who):
            return msgspec.structs.replace(state, status=status, contested_by=who, version=v)
        case ClaimRetracted():
            return msgspec.structs.replace(state, status=status, version=v)
        case ClaimRanked(rank=rank):
            return msgspec.structs.replace(state, rank=rank, version=v)
    return msgspec.structs.replace(state, version=v)


def check(state: ClaimState, action: Action, actor: str | Collection[str], is_reviewer: bool) -> None:
    """Raise Forbidden or Conflict unless `actor` may take `action` on a claim in `state`.

    `actor` is every value that denotes the acting account in the log (its account id, and
    the name that rows written before accounts carry): the rules compare accounts, so a
    claim submitted under a name and a decision taken under its account id are one actor."""
    actors = (actor,) if isinstance(actor, str) else tuple(actor)
    shown = actors[0] if actors else ""
    if action == "retract":
        if state.contributor not in actors:
            raise Forbidden(f"only the claim's contributor may retract {state.claim_id}")
    else:
        if not is_reviewer:
            raise Forbidden(f"{action} needs the reviewer role")
        if state.contributor in actors:
            raise Forbidden(f"nobody reviews their own claim: {state.claim_id} was "
                                     f"submitted by {shown}")
        if state.status in CONTESTED and state.contested_by in actors and action != "contest":
            raise Forbidden(f"{shown} contested {state.claim_id}; another reviewer "
                                     "must resolve the contest")
    if state.status not in ALLOWED[action]:
        raise Conflict(f"claim {state.claim_id} is {state.status}: {action} is allowed "
                                 f"only when it is {' or '.join(ALLOWED[action])}")
