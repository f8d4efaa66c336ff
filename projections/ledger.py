"""The ledger read model: what each fund received, sent and passed on, as cited entries with
exact decimal amounts (kept as the strings given; summed with Decimal, never floats)."""

from __future__ import annotations

from starosta.events.kinds import (
    CommitteeTransferClaim,
    DisbursementClaim,
    DonationClaim,
    InKindClaim,
    kind_of,
)
from starosta.events.review import ClaimSubmitted
from starosta.events.store import Envelope
from starosta.projections.claim_index import ClaimIndex, supersession_ddl


class LedgerProjection(ClaimIndex):
    name = "ledger"
    version = 3
    indexed = ("ledger_entries",)
    ddl = {
        "ledger_entries": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, status TEXT NOT NULL, superseded_by TEXT,
            fund_id TEXT NOT NULL, kind TEXT NOT NULL, direction TEXT NOT NULL,
            amount TEXT, currency TEXT, counterparty TEXT, via TEXT, details TEXT,
            earliest TEXT, latest TEXT, edtf TEXT, source_id TEXT NOT NULL, locator TEXT,
            position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_fund ON {name} (fund_id, earliest)",
            "CREATE INDEX {name}_counterparty ON {name} (counterparty)",
            "CREATE INDEX {name}_via ON {name} (via)"],
        "ledger_supersession": supersession_ddl(),
    }

    def rows(self, e: ClaimSubmitted, envelope: Envelope) -> dict[str, list[tuple]]:
        c = e.claim
        match c:
            case DonationClaim():
                direction, counterparty, via, details = "in", c.donor, None, None
            case DisbursementClaim():
                direction, counterparty, via, details = "out", c.recipient, c.via, None
            case CommitteeTransferClaim():
                direction, counterparty, via, details = "out", c.to or c.to_said, None, c.purpose
            case InKindClaim():
                direction, counterparty, via, details = "in_kind", c.recipient, c.via, c.items
            case _:
                return {}
        d = e.dates.get("date")
        return {"ledger_entries": [(
            e.claim_id, "pending", None, c.fund, kind_of(c),
            direction, getattr(c, "amount", None), getattr(c, "currency", None), counterparty, via,
            details, d.earliest.isoformat() if d and d.earliest else None,
            d.latest.isoformat() if d and d.latest else None, d.edtf if d else None,
            c.citation.source, c.citation.locator, envelope.position)]}
