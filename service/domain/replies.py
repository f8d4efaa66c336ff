"""What a command answers (service.domain.commands): a `Decision` (the appends and the typed reply
to complete once they commit) and the reply types. The domain's own vocabulary: the write path
(service.archive) completes and stores these replies; the HTTP layer renders them; the Python
client decodes them. Nothing here reads or writes the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from starosta.events.store import AppendRequest
from starosta.projections import claims as claims_model


class Created(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A registered entity: its id, the position of its registration, the name claim's id."""

    id: str
    position: int = 0
    name_claim: str | None = None


class Submitted(msgspec.Struct, kw_only=True):
    """A submitted claim: pending review."""

    id: str
    status: str = "pending"
    position: int = 0


class Judged(msgspec.Struct, kw_only=True):
    """A reviewer's judgement on a person, place or organisation record (merged, unmerged,
    distinct, identified, unidentified), and the record it names (`other`)."""

    id: str
    judgement: str
    other: str
    position: int = 0


class SuppressionSet(msgspec.Struct, kw_only=True):
    """An admin's take-down (`suppressed` true) or its undoing (false): the claim or entity,
    its kind, the reason, and the position of the public event that says so."""

    id: str
    kind: str
    suppressed: bool
    reason: str
    position: int = 0


class ClaimStateOf(msgspec.Struct, frozen=True):
    """Reply with the claim's state after the decision (completed as a ClaimOut)."""

    claim_id: str


class BulkItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One claim of a bulk review: its state after the decision, or why it was refused
    (`status`: what a single review would have answered)."""

    id: str
    status: int
    claim: claims_model.ClaimOut | None = None
    detail: str | None = None


class BulkOut(msgspec.Struct):
    items: list[BulkItem]


class BulkReviewed(msgspec.Struct, frozen=True):
    """Reply of a bulk review: each claim decided alone, the decided ones committed together
    (completed with their ClaimOut), the refused ones with their status and detail."""

    items: Sequence[BulkItem]


Reply = Created | Submitted | Judged | ClaimStateOf | SuppressionSet | BulkReviewed
REPLY_KINDS: dict[type, str] = {Created: "created", Submitted: "submitted", Judged: "judged",
                                SuppressionSet: "suppression"}


class Decision(msgspec.Struct, frozen=True):
    """What a command decided: the appends, and the reply to complete once they commit.
    `recheck(conn)`, when given, runs again inside the append's transaction (serialised with
    every other append) before the read models apply it: a check of the read models that a
    concurrent write could invalidate (a look-alike name registered meanwhile) raises there
    and the append is rolled back alone. `expects`: the versions of streams the decision
    read but does not write (the store refuses the appends when one of them moved: see
    events.store.Job)."""

    appends: Sequence[AppendRequest]
    reply: Reply
    recheck: Any = None
    expects: Mapping[str, int] = msgspec.field(default_factory=dict)
