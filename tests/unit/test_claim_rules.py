"""The claim's rules (events/claim_rules.py) as pure functions: given a claim's state, when a
review event, a read or a reader comes, then the status, the figure or the refusal. No HTTP, no
database: the HTTP role matrix tests the wiring, these test the rules."""

from __future__ import annotations

import datetime as dt
from typing import get_args

import pytest
from starosta.events import claim_rules as rules
from starosta.events.errors import Forbidden, Unauthenticated
from starosta.events.kinds import Citation, NameClaim
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRanked,
    ClaimRejected,
    ClaimRetracted,
    ClaimState,
    ClaimSubmitted,
    evolve,
)

ANYONE = rules.Viewer()
ALICE = rules.Viewer(name="alice", account="A-ALICE")
BOB_REVIEWS = rules.Viewer(name="bob", account="A-BOB", reviewer=True)

SUBMITTED = ClaimSubmitted(claim_id="C-1", contributor="A-ALICE",
                           claim=NameClaim(person="P-1", name="Olga",
                                           citation=Citation(source="S-1", locator="p. 1")))
APPROVED = ClaimApproved(claim_id="C-1", reviewer="A-BOB")
REJECTED = ClaimRejected(claim_id="C-1", reviewer="A-BOB", reason="no")
CONTESTED = ClaimContested(claim_id="C-1", reviewer="A-BOB", reason="the register says 1938")
RETRACTED = ClaimRetracted(claim_id="C-1", contributor="A-ALICE", reason="typo")
DEPRECATED = ClaimRanked(claim_id="C-1", reviewer="A-BOB", rank="deprecated", reason="corrected")


# --- the status after each review event ---------------------------------------------------

@pytest.mark.parametrize(("before", "event", "after"), [
    ("", SUBMITTED, "pending"),
    ("pending", APPROVED, "approved"),
    ("pending", REJECTED, "rejected"),
    ("pending", RETRACTED, "retracted"),
    ("pending", CONTESTED, "contested"),  # a pending claim's contest stays private
    ("approved", CONTESTED, "disputed"),  # an approved claim's contest is public
    ("disputed", APPROVED, "approved"),  # contest dismissed
    ("contested", REJECTED, "rejected"),  # contest upheld
    ("approved", DEPRECATED, "approved"),  # a rank changes no status
])
def test_status_after_each_review_event(before, event, after):
    # given a claim that was `before`, when `event` comes, then it is `after`
    assert rules.status_after(before, event) == after


def test_the_review_fold_and_the_rule_agree_on_every_path():
    # given every sequence of review events the state machine allows from submission
    paths = [[APPROVED, CONTESTED, APPROVED], [APPROVED, CONTESTED, REJECTED],
             [CONTESTED, APPROVED], [RETRACTED], [APPROVED, DEPRECATED, CONTESTED]]
    for path in paths:
        # when the fold replays it and the rule is applied step by step
        state: ClaimState | None = None
        status = ""
        for event in [SUBMITTED, *path]:
            state = evolve(state, event)
            status = rules.status_after(status, event)
            # then both give the same status after every event
            assert state.status == status, (path, event)


def test_a_rank_outlives_a_dismissed_contest():
    # given an approved claim ranked deprecated (a claim index keeps status and rank apart)
    status, rank = rules.status_after("pending", APPROVED), DEPRECATED.rank
    assert rules.status_after(status, DEPRECATED) == "approved"  # the rank changes no status
    # when it is contested, then the contest is dismissed
    status = rules.status_after(status, CONTESTED)
    assert status == "disputed" and not rules.counts(status, None, rank, statuses=rules.PUBLIC)
    status = rules.status_after(status, APPROVED)
    # then it is approved again, still ranked deprecated, and still counts nowhere
    assert status == "approved"
    assert not rules.counts(status, None, rank)
    assert not rules.counts(status, None, rank, statuses=rules.WITH_PENDING)
    assert rules.counts(status, None, "normal")  # until the rank is lifted


# --- vocabularies -------------------------------------------------------------------------

def test_vocabularies_are_the_literals_of_the_types():
    assert rules.STATUSES == get_args(rules.Status)
    assert set(rules.STATUSES) == {"pending", "approved", "rejected", "contested", "disputed",
                                   "retracted"}
    assert rules.RANKS == ("preferred", "normal", "deprecated")
    # every status set a read uses is drawn from the vocabulary; none holds an index-only status
    for statuses in (rules.VISIBLE, rules.PUBLIC, rules.COUNTED, rules.WITH_PENDING,
                     rules.CONTESTED, *rules.ALLOWED.values()):
        assert set(statuses) <= set(rules.STATUSES)
    assert rules.DEPRECATED in rules.RANKS and rules.DEPRECATED not in rules.STATUSES  # a rank
    assert rules.SUPPRESSED not in rules.STATUSES  # the one index-only status


# --- which claims count -------------------------------------------------------------------

@pytest.mark.parametrize(("status", "superseded_by", "rank", "suppressed", "counted"), [
    ("approved", None, "normal", False, True),
    ("approved", None, "preferred", False, True),
    ("approved", "C-2", "normal", False, False),  # an approved successor exists
    ("approved", None, "deprecated", False, False),
    ("approved", None, "normal", True, False),  # taken down
    ("disputed", None, "normal", False, False),  # public, but out of figures until resolved
    ("pending", None, "normal", False, False),
    ("suppressed", None, "normal", False, False),  # a claim index's suppressed row
    ("disputed", None, "deprecated", False, False),
])
def test_what_counts_by_default(status, superseded_by, rank, suppressed, counted):
    assert rules.counts(status, superseded_by, rank, suppressed) is counted


def test_with_pending_pending_and_contested_claims_count_too():
    assert rules.counts("pending", None, statuses=rules.WITH_PENDING)
    assert rules.counts("contested", None, statuses=rules.WITH_PENDING)
    assert not rules.counts("rejected", None, statuses=rules.WITH_PENDING)
    assert not rules.counts("pending", "C-9", statuses=rules.WITH_PENDING)
    assert not rules.counts("disputed", None, "deprecated", statuses=rules.WITH_PENDING)


def test_effective_rank_is_deprecated_while_superseded():
    assert rules.effective_rank("preferred", "C-2") == "deprecated"
    assert rules.effective_rank("preferred", None) == "preferred"


# --- who sees a claim, and who may ask for pending ones -----------------------------------

@pytest.mark.parametrize(("viewer", "status", "contributor", "seen"), [
    (ANYONE, "approved", "A-ALICE", True),
    (ANYONE, "disputed", "A-ALICE", True),
    (ANYONE, "pending", "A-ALICE", False),
    (ALICE, "pending", "A-ALICE", True),  # her own, by account id
    (ALICE, "contested", "alice", True),  # her own, by the name older rows carry
    (ALICE, "pending", "A-OLGA", False),
    (BOB_REVIEWS, "rejected", "A-ALICE", True),
])
def test_who_sees_a_claim(viewer, status, contributor, seen):
    assert rules.may_see(viewer, status, contributor) is seen


def test_a_document_shows_pending_claims_only_when_asked_and_seen():
    assert not rules.shown(ALICE, "pending", "A-ALICE", rules.PUBLIC)
    assert rules.shown(ALICE, "pending", "A-ALICE", rules.WITH_PENDING)
    assert not rules.shown(ALICE, "pending", "A-OLGA", rules.WITH_PENDING)
    assert not rules.shown(BOB_REVIEWS, "rejected", "A-ALICE", rules.WITH_PENDING)


def test_include_pending_on_a_document_needs_a_token():
    # given no include, then anyone reads the public statuses
    assert rules.document_statuses(ANYONE, None) == rules.PUBLIC
    # given include=pending, then any token holder gets the pending statuses
    assert rules.document_statuses(ALICE, "pending") == rules.WITH_PENDING
    # but an anonymous reader is refused
    with pytest.raises(Unauthenticated, match="include=pending needs a token"):
        rules.document_statuses(ANYONE, "pending")


def test_include_pending_on_a_figure_needs_a_reviewer():
    assert rules.counted_statuses(ANYONE, None, "ledgers") == rules.COUNTED
    assert rules.counted_statuses(BOB_REVIEWS, "pending", "ledgers") == rules.WITH_PENDING
    with pytest.raises(Unauthenticated, match="on ledgers needs a reviewer's token"):
        rules.counted_statuses(ANYONE, "pending", "ledgers")
    with pytest.raises(Forbidden, match="on populations needs the reviewer role"):
        rules.counted_statuses(ALICE, "pending", "populations")


def test_only_reviewers_see_suppressed_content():
    assert rules.sees_suppressed(BOB_REVIEWS) and not rules.sees_suppressed(ALICE)


# --- supersession, and merged persons shown as survivors ----------------------------------

def test_the_last_approved_successor_supersedes():
    # given three claims superseding C-1 (one pending) and one superseding C-5, rejected
    found = rules.successors([("C-1", "approved", 10, "C-2"), ("C-1", "approved", 30, "C-4"),
                              ("C-1", "pending", 40, "C-6"), ("C-5", "rejected", 50, "C-7")])
    # then the approved one submitted last wins, and a claim with none approved has none
    assert found == {"C-1": "C-4"}


def test_a_merged_person_is_shown_as_its_survivor():
    survivors, labels = {"P-2": "P-1"}, {"P-1": "Olga Ivanova"}
    assert rules.survivor_label("P-2", survivors, labels) == ("P-1", "Olga Ivanova")
    assert rules.survivor_label("P-1", survivors, labels) == ("P-1", "Olga Ivanova")
    assert rules.survivor_label("P-3", survivors, labels) == ("P-3", None)  # unknown: no label


# --- certain or possible presence in a window ---------------------------------------------

D = dt.date
WINDOW = (D(1938, 1, 1), D(1938, 12, 31))


@pytest.mark.parametrize(("sure", "possible", "found"), [
    ((D(1937, 6, 1), D(1938, 3, 1)), (D(1937, 1, 1), D(1939, 1, 1)), "certain"),  # surely overlaps
    (None, (D(1937, 1, 1), D(1938, 2, 1)), "possible"),  # may overlap, not surely
    (None, (D(1937, 1, 1), None), "possible"),  # an open end: may still be there
    (None, (D(1936, 1, 1), D(1937, 12, 31)), None),  # ends before the window
    (None, (D(1939, 1, 1), None), None),  # starts after it
    (None, None, None),  # no day it may cover
])
def test_presence_in_a_window(sure, possible, found):
    # given a stay's sure bounds and the days it may cover, then it is certain, possible or absent
    assert rules.presence(sure, possible, WINDOW) == found


def test_listing_claims_in_a_private_status_needs_a_token():
    # given an anonymous reader, when they list public statuses (or all), then nothing is raised
    for status in (None, "approved", "disputed"):
        rules.check_listing(ANYONE, status)
    # when they ask for the review queue, then they are refused, naming the status
    with pytest.raises(Unauthenticated, match="status='pending'"):
        rules.check_listing(ANYONE, "pending")
    # a token holder may ask (and sees what may_see allows)
    rules.check_listing(ALICE, "rejected")
