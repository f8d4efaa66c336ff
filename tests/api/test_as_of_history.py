"""A biography `as_of` a position is computed from the claims read model (each claim's row and
its review history up to the position: projections/claims.py: claims_as_of), not by replaying
every claim's stream (issue 23, item 3). Here the set-based answer is compared, at every
position of an archive built through the real app, for readers, a contributor and a reviewer,
with the replay it replaces (kept below as the reference: each claim's stream read and folded
by events/review.py: evolve), on an archive with approvals, rejections, contests (on pending and
approved claims, dismissed and upheld), ranks (preferred, deprecated with a retracting
citation), supersessions, denials both ways, a retraction, a suppression and a merge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from starosta.events.claim_rules import PUBLIC, WITH_PENDING, denials, shown, successors
from starosta.events.kinds import kind_of
from starosta.events.review import (
    ClaimContested,
    ClaimRanked,
    ClaimSubmitted,
    evolve,
)
from starosta.projections import biographies, registry
from starosta.projections import claims as claims_model
from starosta.projections.claims import ClaimView, Dispute
from starosta.projections.rules import Viewer, sees_suppressed
from tests.api.conftest import Api
from tests.api.test_biography import Ctx, approve, submit
from tests.api.test_biography import ctx as ctx  # noqa: F401  (the fixture)


# -- the replay the set-based read replaces (as it stood before issue 23) ----------------------

def _replayed(conn, store, ids: list[str], position: int, viewer: Viewer,
              statuses: Sequence[str]) -> list[ClaimView]:
    states: dict[str, Any] = {}
    reasons: dict[str, str | None] = {}
    retractions: dict[str, Any] = {}
    disputes: dict[str, Dispute] = {}
    for claim_id in dict.fromkeys([*ids, *claims_model.successors_of(conn, ids, position)]):
        state, submitted, first = None, None, 0
        for envelope in store.read_stream(claim_id, up_to_position=position):
            state = evolve(state, envelope.event)
            if isinstance(envelope.event, ClaimSubmitted):
                submitted, first = envelope.event, envelope.position
            elif isinstance(envelope.event, ClaimRanked):
                reasons[claim_id] = envelope.event.reason
                retractions[claim_id] = (msgspec.to_builtins(envelope.event.citation)
                                         if envelope.event.citation else None)
            elif isinstance(envelope.event, ClaimContested):
                c = envelope.event
                disputes[claim_id] = Dispute(
                    reason=c.reason, position=envelope.position, recorded_at=envelope.recorded_at,
                    citation=msgspec.to_builtins(c.citation) if c.citation else None)
        if state is not None and submitted is not None:
            states[claim_id] = (state, submitted, first)
    successor = successors((s.claim.supersedes, st.status, first, cid) for cid, (st, s, first)
                           in states.items() if s.claim.supersedes)
    views = []
    for claim_id in ids:
        if (entry := states.get(claim_id)) is None:
            continue
        state, submitted, first = entry
        if not shown(viewer, state.status, state.contributor, statuses):
            continue
        claim = msgspec.to_builtins(submitted.claim)
        views.append(ClaimView(id=claim_id, kind=claim["kind"], status=state.status,
                               contributor=state.contributor, version=state.version,
                               position=first, claim=claim, dates=dict(submitted.dates),
                               superseded_by=successor.get(claim_id), rank=state.rank,
                               rank_reason=reasons.get(claim_id), length=submitted.length,
                               dispute=disputes.get(claim_id) if state.status == "disputed" else None,
                               rank_citation=retractions.get(claim_id)))
    suppressed = claims_model.suppressed_claims(conn, [v.id for v in views])
    for view in views:
        view.suppressed = suppressed.get(view.id)
    return views


def _links(conn, store, views: list[ClaimView], position: int, viewer: Viewer,
           statuses: Sequence[str]) -> None:
    pairs = claims_model.deniers_submitted(conn, [v.id for v in views], position)
    targets = {v.claim["denies"] for v in views if isinstance(v.claim.get("denies"), str)}
    linked: dict[str, claims_model.Linked] = {}
    for claim_id in sorted({p[0] for p in pairs} | targets):
        state, submitted = None, None
        for envelope in store.read_stream(claim_id, up_to_position=position):
            state = evolve(state, envelope.event)
            if isinstance(envelope.event, ClaimSubmitted):
                submitted = envelope.event
        if state is None or submitted is None or not shown(viewer, state.status, state.contributor,
                                                             statuses):
            continue
        claim = submitted.claim
        linked[claim_id] = claims_model.Linked(
            claim=claim_id, kind=kind_of(claim), status=state.status,
            citation=msgspec.to_builtins(claim.citation), said=claim.said,
            attributed_to=claim.attributed_to)
    if not sees_suppressed(viewer):
        for claim_id in claims_model.suppressed_claims(conn, list(linked)):
            del linked[claim_id]
    by_denied = denials(pairs)
    for v in views:
        v.denied_by = [linked[c] for c in by_denied.get(v.id, ()) if c in linked]
        if isinstance(v.claim.get("denies"), str):
            v.denied = linked.get(v.claim["denies"], claims_model.Linked(claim=v.claim["denies"]))


def replay_as_of(conn, store, person_id: str, position: int, recorded_at: str | None,
                 viewer: Viewer, statuses: Sequence[str]) -> biographies.Document | None:
    found = registry.entity(conn, "person", person_id)
    if found is None or found[3] > position:
        return None
    alive, merged = registry.group_as_of(conn, person_id, position)
    group = [alive, *merged]
    views = _replayed(conn, store, claims_model.claim_ids_of(conn, group, position), position,
                      viewer, statuses)
    groups = sorted(biographies.memberships_of(views, set(group)))
    group_views = [v for v in _replayed(conn, store, claims_model.claim_ids_of(conn, groups, position),
                                        position, viewer, statuses)
                   if v.claim.get("group") in groups] if groups else []
    _links(conn, store, views, position, viewer, statuses)
    _links(conn, store, group_views, position, viewer, statuses)
    labels = biographies.labels_of(conn, biographies.referenced(views)
                                   | biographies.referenced(group_views) | set(group))
    person = registry.entity(conn, "person", alive)
    assert person is not None
    bio = biographies.assemble(person, views, labels, merged,
                               biographies.AsOf(position=position, recorded_at=recorded_at),
                               viewer, registry.suppression_of(conn, alive), group_views=group_views)
    if alive != person_id:
        bio = msgspec.structs.replace(bio, requested=person_id)
    return biographies._document(bio)


# -- the archive ---------------------------------------------------------------------------------

def ok(r) -> dict:
    assert r.status_code in (200, 201), r.text
    return r.json()


def etag(api: Api, claim: str) -> str:
    return api.get(f"/claims/{claim}", "bob").headers["etag"]


def test_as_of_from_the_review_history_equals_the_replay_at_every_position(api: Api, ctx: Ctx) -> None:
    person = api.person("Francisco Ponzán", ctx.source)
    twin = api.person("F. Ponzan (a list)", ctx.source)
    a, b = ctx.place("Butyrka"), ctx.place("Lefortovo")
    first, _ = submit(api, ctx.custody(person, a, "1940-01-25", "1940-09"))
    second, _ = submit(api, ctx.custody(person, b, "1941", "1942"))
    death, _ = submit(api, ctx.death(person, "1944-10-17"))
    other_death, _ = submit(api, ctx.death(person, "1945", source=ctx.other_source), "dave")
    pending_contested, _ = submit(api, ctx.custody(person, a, "1939", "1939"))
    retracted, _ = submit(api, ctx.custody(person, b, "1938", "1938"))
    about_twin, _ = submit(api, ctx.custody(twin, b, "1950", "1951"))
    approve(api, first, second, death, other_death, about_twin)
    # a rank each way, a deprecated one with its retracting source
    ok(api.post(f"/claims/{death}/rank", {"rank": "preferred", "reason": "the registry"}, "bob",
                **{"If-Match": etag(api, death)}))
    ok(api.post(f"/claims/{other_death}/rank", {
        "rank": "deprecated", "reason": "retracted by its author",
        "citation": {"source": ctx.source, "locator": "p. 2"}}, "carol",
        **{"If-Match": etag(api, other_death)}))
    # a supersession: approved, then a second successor left pending
    successor, _ = submit(api, ctx.custody(person, b, "1941-02", "1942-11", supersedes=second))
    approve(api, successor)
    submit(api, ctx.custody(person, b, "1941-03", "1942-10", supersedes=second), "dave")
    # contests: on a pending claim (private), on an approved one (disputed), dismissed, upheld
    ok(api.post(f"/claims/{pending_contested}/contest", {"reason": "no such record"}, "carol"))
    ok(api.post(f"/claims/{first}/contest", {"reason": "a misreading",
                                            "citation": {"source": ctx.other_source}}, "carol"))
    approve(api, first)  # the contest dismissed
    ok(api.post(f"/claims/{first}/contest", {"reason": "again"}, "carol"))
    ok(api.post(f"/claims/{retracted}/retract", {"reason": "mine, wrong"}, "alice"))
    # denials both ways: a denial of an approved claim, approved; one left pending
    denial, _ = submit(api, {**ctx.death(person, "1946"), "denies": death, "said": "not so"})
    approve(api, denial)
    submit(api, {**ctx.custody(person, a, "1960", "1961"), "denies": successor}, "dave")
    ok(api.post(f"/claims/{pending_contested}/reject", {"reason": "upheld"}, "bob"))
    ok(api.post(f"/claims/{about_twin}/suppress", {"reason": "privacy"}, "root"))
    ok(api.post(f"/persons/{twin}/merge", {"into": person, "reason": "the same"}, "bob"))
    approve(api, first)  # disputed, then dismissed again

    archive = api.client.app.state.archive
    conn, store = archive.read(), archive.store
    head = store.head().position
    alice = claims_model.status_of(conn, first)
    assert alice is not None
    readers = [(Viewer(), PUBLIC), (Viewer(name="bob", reviewer=True), WITH_PENDING),
               (Viewer(name="alice", account=alice[1]), WITH_PENDING)]
    compared = 0
    for position in range(1, head + 1):
        for who in (person, twin):
            for viewer, statuses in readers:
                new = biographies.read_as_of(conn, who, position, "t", viewer, statuses)
                old = replay_as_of(conn, store, who, position, "t", viewer, statuses)
                assert (new and new.body) == (old and old.body), (position, who, viewer)
                compared += new is not None
    assert compared > 100
    # and the documents differ along the way (the comparison is not of empty documents)
    distinct = {biographies.read_as_of(conn, person, p, "t", Viewer(name="bob", reviewer=True),
                                       WITH_PENDING).body  # type: ignore[union-attr]
                for p in range(head - 30, head + 1)}
    assert len(distinct) > 10
