"""The population read model: custody episodes by place with their date bounds, and the counts
sources report about unnamed groups at a place, indexed for 'who was held here then'."""

from __future__ import annotations

from starosta.events.kinds import AggregateClaim, CustodyClaim
from starosta.events.review import ClaimSubmitted
from starosta.events.store import Envelope
from starosta.projections.claim_index import ClaimIndex, supersession_ddl


def _iso(d) -> str | None:
    return d.isoformat() if d is not None else None


class PopulationProjection(ClaimIndex):
    name = "population"
    version = 3
    indexed = ("custody_episodes", "place_aggregates")
    ddl = {
        "custody_episodes": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            person_id TEXT NOT NULL, place_id TEXT, custody TEXT NOT NULL,
            start_earliest TEXT, start_latest TEXT, end_earliest TEXT, end_latest TEXT,
            position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_place ON {name} (place_id, start_earliest)",
            "CREATE INDEX {name}_person ON {name} (person_id)"],
        "place_aggregates": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            place_id TEXT NOT NULL, earliest TEXT, latest TEXT, count INTEGER NOT NULL,
            qualifier TEXT NOT NULL, position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_place ON {name} (place_id, earliest)"],
        "population_supersession": supersession_ddl(),
    }

    def rows(self, e: ClaimSubmitted, envelope: Envelope) -> dict[str, list[tuple]]:
        claim = e.claim
        if isinstance(claim, CustodyClaim):
            start, end = e.dates.get("start"), e.dates.get("end")
            return {"custody_episodes": [(
                e.claim_id, "pending", None, claim.person, claim.place, claim.custody,
                _iso(start.earliest) if start else None, _iso(start.latest) if start else None,
                _iso(end.earliest) if end else None, _iso(end.latest) if end else None,
                envelope.position)]}
        if isinstance(claim, AggregateClaim) and claim.place:
            d = e.dates.get("date")
            return {"place_aggregates": [(
                e.claim_id, "pending", None, claim.place, _iso(d.earliest) if d else None,
                _iso(d.latest) if d else None, claim.count, claim.qualifier, envelope.position)]}
        return {}
