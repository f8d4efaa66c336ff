"""The claim's rules, each written once, as pure functions (no database, no HTTP): the status
after each review event, the status and rank vocabularies, which claims count in figures, who
sees a claim and who may ask for pending ones. The review fold (events/review.py), every read
model (projections/) and the controllers call these; projections/rules.py holds their SQL form.

Review: pending -> approved | rejected | contested | retracted (by its contributor);
approved -> disputed (contested after approval: public, marked, out of computed figures);
contested or disputed -> approved (contest dismissed) | rejected (contest upheld). A rank
(preferred, normal, deprecated) changes no status.

Visibility: an approved claim is public, and so is a disputed one (shown marked `disputed`, with
the contest, but counted in no figure until the contest is resolved); any other claim is seen
by reviewers (and admins) and by the contributor who submitted it. Pending and contested claims
enter documents only when the reader asks for them (`include=pending`); rejected and retracted
ones never do.

Counting: a claim counts in a figure (populations, totals, ledgers, conflicts, agreements) when
its status is among those the read asks for (COUNTED, or WITH_PENDING for a reviewer's
include=pending), no approved claim supersedes it, it is not ranked deprecated and not
suppressed. Read models that index claims (projections/claim_index.py) keep the review status
in `status` and the rank in `rank`, as the claims read model does, and fold only the suppression
into the status they store ('suppressed': never among the statuses a read asks for), so there
the predicate reads `status`, `rank` and `superseded_by`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, cast, get_args

import msgspec
from starosta.events.dates import Day, may_meet, surely_meets
from starosta.events.errors import Forbidden, Unauthenticated
from starosta.events.kinds import NAME_PARTS, NameParts

Status = Literal["pending", "approved", "rejected", "contested", "disputed", "retracted"]
STATUSES: tuple[Status, ...] = get_args(Status)
# Wikibase's ranks: a reviewer marks the preferred reading among several, or deprecates one
# (with a reason); every other claim is normal
Rank = Literal["preferred", "normal", "deprecated"]
RANKS: tuple[Rank, ...] = get_args(Rank)
Action = Literal["approve", "reject", "contest", "retract", "rank"]
Presence = Literal["certain", "possible"]

# The rank that takes a claim out of every figure (a Rank)
DEPRECATED: str = "deprecated"
# The status a claim index's rows hold besides a claim's own: a suppressed claim (its own
# status kept aside until unsuppressed)
SUPPRESSED: str = "suppressed"

# A contest's two states: on a pending claim (private, like the claim) and on an approved one
# ("disputed": public, so that readers learn the statement is disputed and why)
CONTESTED: tuple[Status, ...] = ("contested", "disputed")
# Statuses anyone may read (VISIBLE), a document shows by default (PUBLIC), figures count by
# default (COUNTED), and with include=pending (WITH_PENDING)
VISIBLE: tuple[Status, ...] = ("approved", "disputed")
PUBLIC: tuple[Status, ...] = VISIBLE
COUNTED: tuple[Status, ...] = ("approved",)
WITH_PENDING: tuple[Status, ...] = ("approved", "disputed", "pending", "contested")

# The statuses from which each action may be taken
ALLOWED: dict[Action, tuple[Status, ...]] = {
    "approve": ("pending", "contested", "disputed"),
    "reject": ("pending", "contested", "disputed"),
    "contest": ("pending", "approved"),
    "retract": ("pending",),
    "rank": ("approved",),
}

# The status each review event gives, by its tag (a contest's depends on the status before:
# contested_status)
_AFTER: dict[str, str] = {"claim.submitted": "pending", "claim.approved": "approved",
                          "claim.rejected": "rejected", "claim.retracted": "retracted"}


def contested_status(previous: str) -> str:
    """Return the status a contest gives a claim that was `previous`: "disputed" when it was
    public (approved, whatever its rank), else "contested"."""
    return "disputed" if previous == "approved" else "contested"


def status_after(previous: str, event: object) -> str:
    """Return a claim's status after a review `event` (claim.submitted, .approved, .rejected,
    .contested, .retracted) on a claim that was `previous` ("" before submission). Any other
    event, a rank among them, changes no status."""
    tag = getattr(type(event), "__struct_config__").tag
    if tag == "claim.contested":
        return contested_status(previous)
    return _AFTER.get(tag, previous)


# The status each action of a claim's review history (the claims read model's
# `claim_reviews.action`) gives; a contest's depends on the status before, a rank gives none
_AFTER_ACTION: dict[str, str] = {"submit": "pending", "approve": "approved",
                                 "reject": "rejected", "retract": "retracted"}


def review_state(actions: Iterable[str]) -> tuple[str, str, int]:
    """Return (status, rank, version) of a claim after the actions of its review history, in
    version order ('submit', 'approve', 'reject', 'contest', 'retract', 'rank:<rank>'): the
    fold events/review.py: evolve makes over a claim's events, from the history's rows, so that a
    claim as of a log position is its history up to it, without replaying its stream."""
    status, rank, version = "", "normal", 0
    for action in actions:
        version += 1
        if action == "contest":
            status = contested_status(status)
        elif action.startswith("rank:"):
            rank = action.removeprefix("rank:")
        else:
            status = _AFTER_ACTION.get(action, status)
    return status, rank, version


def effective_rank(rank: str, superseded_by: str | None) -> Rank:
    """A claim's effective rank: deprecated while an approved successor exists, else its own
    (normal unless a reviewer ranked it)."""
    # a stored rank is a Rank: 'normal' by default, else a ClaimRanked's (validated) rank
    return cast(Rank, DEPRECATED if superseded_by is not None else rank)


def counts(status: str, superseded_by: str | None, rank: str = "normal", suppressed: bool = False,
           statuses: Sequence[str] = COUNTED) -> bool:
    """Return True when a claim counts in a figure read with `statuses`: its status is among
    them, no approved claim supersedes it, it is not ranked deprecated and not suppressed."""
    return (status in statuses and effective_rank(rank, superseded_by) != DEPRECATED
            and not suppressed)


class Viewer(msgspec.Struct, frozen=True):
    """Who reads: a name and an account id (None when anonymous) and whether they review
    (reviewers and admins)."""

    name: str | None = None
    reviewer: bool = False
    admin: bool = False
    account: str | None = None

    @property
    def aliases(self) -> tuple[str, ...]:
        """The values that denote this reader as a claim's contributor: the account id (new
        rows) and the name (rows written before accounts)."""
        return tuple(v for v in (self.account, self.name) if v)


def is_own(viewer: Viewer, contributor: str) -> bool:
    """Return True when `contributor` (an account id, or a name in older rows) is `viewer`."""
    return contributor in viewer.aliases


def may_see(viewer: Viewer, status: str, contributor: str) -> bool:
    """Return True when `viewer` may read a claim in `status` submitted by `contributor`."""
    return status in VISIBLE or viewer.reviewer or is_own(viewer, contributor)


def sees_suppressed(viewer: Viewer) -> bool:
    """Return True when `viewer` reads the content of a suppressed claim or entity (marked
    suppressed): reviewers and admins. Everyone else sees only that it was suppressed, when and
    why, in every read (documents, figures, search, the log, the feed, snapshots, as_of)."""
    return viewer.reviewer


def shown(viewer: Viewer, status: str, contributor: str, statuses: Sequence[str]) -> bool:
    """Return True when a claim enters a document read with `statuses` (PUBLIC or
    WITH_PENDING): its status is among them and the viewer may see it."""
    return status in statuses and may_see(viewer, status, contributor)


def document_statuses(viewer: Viewer, include: str | None) -> tuple[Status, ...]:
    """Return the statuses a document (a biography) shows: PUBLIC, or with include=pending
    WITH_PENDING, which any token holder may ask for (each then sees the pending claims they
    may see: `shown`); Unauthenticated without a token."""
    if include != "pending":
        return PUBLIC
    if viewer.name is None:
        raise Unauthenticated("include=pending needs a token: pending claims are visible to "
                              "reviewers and to their contributors")
    return WITH_PENDING


def check_listing(viewer: Viewer, status: str | None) -> None:
    """Raise Unauthenticated when an anonymous reader lists claims in a status anyone may not
    read (the review queue, rejected claims...): a token holder lists those they may see."""
    if status not in (None, *VISIBLE) and viewer.name is None:
        raise Unauthenticated(f"status={status!r}: listing claims that are not approved "
                              "needs a token")


def counted_statuses(viewer: Viewer, include: str | None, what: str) -> tuple[Status, ...]:
    """Return the statuses a figure (a population, a ledger) counts: COUNTED, or with
    include=pending WITH_PENDING, which only reviewers may ask for (Unauthenticated without a
    token, Forbidden below reviewer)."""
    if include != "pending":
        return COUNTED
    if viewer.name is None:
        raise Unauthenticated(f"include=pending on {what} needs a reviewer's token")
    if not viewer.reviewer:
        raise Forbidden(f"include=pending on {what} needs the reviewer role")
    return WITH_PENDING


def successors(successions: Iterable[tuple[str, str, int, str]]) -> dict[str, str]:
    """Return claim superseded -> the claim superseding it, given (claim superseded, status,
    submission position, id) of every superseding claim: of the approved ones, the one
    submitted last (the supersession rule)."""
    best: dict[str, tuple[int, str]] = {}
    for target, status, position, claim_id in successions:
        if status == "approved" and (target not in best or position > best[target][0]):
            best[target] = (position, claim_id)
    return {target: claim_id for target, (_, claim_id) in best.items()}


def survivor_label(entity_id: str, survivors: dict[str, str],
                   labels: dict[str, str]) -> tuple[str, str | None]:
    """Return how a reader is shown an entity a document names: (its merge survivor's id, else
    its own, and that id's current label, or None when it has none), given merged record ->
    survivor and id -> label."""
    shown = survivors.get(entity_id, entity_id)
    return shown, labels.get(shown)


def presence(sure: tuple[Day, Day] | None, possible: tuple[Day | None, Day | None] | None,
             window: tuple[Day, Day]) -> Presence | None:
    """Return whether someone is at a place on a day of `window`: "certain" when their stay
    surely meets it (`sure`: the stay's sure_meet_bounds, events.dates.surely_meets),
    "possible" when it may (`possible`: the days it may cover, None when none), else None."""
    if surely_meets(sure, *window):
        return "certain"
    if possible is not None and may_meet(possible[0], possible[1], *window):
        return "possible"
    return None


def participant_refusal(named: Sequence[tuple[str, str, str]],
                        subjects: dict[str, str]) -> tuple[str, str, str] | None:
    """Return why a claim's participants are refused, as (field, value, message), or None.
    `named`: (field as sent, ref, role) for every participant in order (its `participants`,
    then the legacy `with`, `recipient`, `via`: events.participants.named); `subjects`: ref ->
    the field naming it as the claim's subject (`person`, `group`). A (ref, role) pair is named
    once (one person may take several roles); the claim's subject is never its participant."""
    seen: dict[tuple[str, str], str] = {}
    for field, ref, role in named:
        if (ref, role) in seen:
            return field, ref, (f"a companion is named twice: {ref}" if role == "companion" else
                                f"{ref} is named twice in role {role} (also in {seen[(ref, role)]})")
        seen[(ref, role)] = field
        if ref in subjects:
            return field, ref, (f"{ref} is the claim's {subjects[ref]}, not a participant"
                                + (" (a companion)" if role == "companion" else ""))
    return None


def subject_problem(person: str | None, group: str | None,
                    count: object | None) -> tuple[str, object, str] | None:
    """Return what is wrong with the subject of a kind that takes a person or a group (issue
    20: sentence, accusation, occupation, affiliation, death, execution, labour, letter,
    relation) as (field, value, message), or None: it names exactly one of person and group,
    and a count only with a group. (That the group is an organisation of kind group or colony
    is checked against the registry.)"""
    if person is not None and group is not None:
        return "group", group, "a claim names exactly one of person and group"
    if person is None and group is None:
        return "person", None, "a claim names exactly one of person and group"
    if count is not None and group is None:
        return "count", count, "a count goes with a group"
    return None


# -- names in parts (issue 20) -------------------------------------------------------------------

class SurnameCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """A name claim that gives a surname, as the person listing reads it: its status, the
    claim superseding it (approved), its rank, whether it is suppressed, and its submission
    position."""

    surname: str
    status: str
    superseded_by: str | None = None
    rank: str = "normal"
    suppressed: bool = False
    position: int


def chosen_surname(candidates: Iterable[SurnameCandidate]) -> str | None:
    """The surname a person is listed by (`GET /persons?order=surname`): of their name claims
    with a surname that count (approved, not superseded, not ranked deprecated, not
    suppressed: `counts`), the preferred one, else the earliest submitted; None when none
    counts (the person is then listed after, by label)."""
    best: tuple[bool, int, str] | None = None
    for c in candidates:
        if counts(c.status, c.superseded_by, c.rank, c.suppressed):
            mine = (c.rank != "preferred", c.position, c.surname)
            best = mine if best is None or mine < best else best
    return best[2] if best is not None else None


def parts_refusal(parts: NameParts | None, subject: str) -> tuple[str, str] | None:
    """Why a name claim's `parts` are refused, as (field, message), or None: parts go with a
    person's name only (`subject`: the entity field the claim names), and name at least one
    part."""
    if parts is None:
        return None
    if subject != "person":
        return "parts", "a name in parts is a person's: parts go with `person` only"
    if all(getattr(parts, part) is None for part in NAME_PARTS):
        return "parts", "name at least one part: surname, given, patronymic or particle"
    return None


# -- statements about statements (issue 21) ---------------------------------------------------
# A claim may be attributed (`attributed_to`: the cited source says that someone else said it)
# to a person, an organisation or a source; another claim may deny it (`denies`). A deprecated
# rank may cite the source that retracts the claim.

ATTRIBUTABLE: tuple[str, ...] = ("person", "organization", "source")


def rank_citation_problem(rank: str, cited: bool) -> str | None:
    """Return why a rank may not carry a citation, or None: only a deprecated rank cites (the
    source that retracts the claim)."""
    if cited and rank != DEPRECATED:
        return (f"a citation goes with a deprecated rank only (the retracting source), not with "
                f"{rank!r}")
    return None


def denial_problem(denies: str | None, supersedes: str | None) -> str | None:
    """Return why a claim may not deny the claim it names, or None. A denial stands beside the
    claim it denies (both are shown); a correction replaces it (`supersedes`): one claim does
    not do both to the same claim."""
    if denies is not None and denies == supersedes:
        return ("a claim either supersedes (corrects) or denies another, not both: a denial "
                "stands beside the claim it denies")
    return None


def denials(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Return denied claim -> the claims denying it (sorted), from (denying, denied) pairs."""
    out: dict[str, list[str]] = {}
    for denying, denied in pairs:
        out.setdefault(denied, []).append(denying)
    return {k: sorted(set(v)) for k, v in out.items()}
