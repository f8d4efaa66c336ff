"""The ledger's stored totals, kept current event by event as entries start and stop counting,
always equal the totals summed afresh from the entries that count (approved, not superseded),
to the last decimal place shown; and they equal the tables a rebuild from the log makes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from starosta.events.kinds import Citation, CommitteeTransferClaim, DisbursementClaim, DonationClaim
from starosta.events.registry import FundRegistered
from starosta.events.store import Metadata
from starosta.projections import ledger
from starosta.projections.rules import COUNTED as PUBLIC  # what figures count
from starosta.projections.runner import content_hash
from starosta.service.domain.commands import submission
# Principal as the world's own module imports it (its home is moving between service modules)
from tests.integration.test_projection_determinism import Principal, World, _review

AMOUNTS = ["10", "6.25", "0.1250", "3.5", "100.00", "7", None]
CURRENCIES = ["USD", "SUR"]
DATES = ["1926", "1926-05", "1927-01-15", None]
FUNDS = ["F1", "F2"]


class LedgerWorld(World):
    """The determinism test's world, with a second fund and ledger entries of every shape."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.append("F2", FundRegistered(fund_id="F2", label="Second Fund"))
        self.entries: list[str] = []

    def run(self, op: tuple) -> None:
        if op[0] != "entry":
            super().run(op)
            return
        _, kind, fund, amount, currency, date, who, locator, supersede = op
        if not self.persons:
            return
        cite = Citation(source="S1", locator=f"Bulletin {locator}" if locator else None)
        common = dict(fund=FUNDS[fund], amount=AMOUNTS[amount], date=DATES[date], citation=cite,
                      currency=CURRENCIES[currency] if AMOUNTS[amount] else None)
        claim = [DonationClaim(donor=f"Group {who}", **common),
                 DisbursementClaim(recipient=self.persons[who % len(self.persons)], **common),
                 CommitteeTransferClaim(to_said=f"Committee {who % 2}", **common)][kind]
        if supersede and self.entries:
            older = self.entries[-1 - supersede % len(self.entries)]
            claim = msgspec.structs.replace(claim, supersedes=older)
        cid = self.new("C")
        request = submission(self.archive.read(), cid, claim, Principal("T1", "alice", "contributor"))
        self.archive.commit_sync([request], Metadata(actor="alice"))
        self.claims.append(cid)
        self.entries.append(cid)


entry = st.tuples(st.just("entry"), st.integers(0, 2), st.integers(0, 1),
                  st.integers(0, len(AMOUNTS) - 1), st.integers(0, 1),
                  st.integers(0, len(DATES) - 1), st.integers(0, 5), st.integers(0, 2),
                  st.integers(0, 3))
ops = st.one_of(entry, entry, _review, _review, _review,
                st.tuples(st.just("person"), st.integers(0, 3)),
                st.tuples(st.just("merge"), st.integers(0, 9), st.integers(0, 9)),
                st.tuples(st.just("unmerge"), st.integers(0, 9)))


def assert_totals_current(world: LedgerWorld) -> None:
    conn = world.archive.read()
    for fund in FUNDS:
        stored, count, undated = ledger._stored(conn, fund)
        summed, count_now, undated_now = ledger._computed(conn, fund, PUBLIC)
        assert stored == summed, fund  # the strings: "0.00" is not "0"
        assert (count, undated) == (count_now, undated_now), fund
        public = ledger.ledger(conn, fund, PUBLIC, limit=1000)
        assert public.count == len(public.entries) and public.next is None


# approve, contest, supersede by an approved correction, contest the correction, approve again
SCRIPTED = [("entry", 1, 0, 1, 0, 1, 0, 1, 0), ("review", -1, "approve", "bob"),
            ("entry", 0, 0, 0, 0, 0, 1, 0, 0), ("review", -1, "approve", "bob"),
            ("review", 0 + 4, "contest", "carol"),
            ("entry", 1, 0, 4, 0, 2, 0, 2, 2), ("review", -1, "approve", "bob"),
            ("review", -1, "contest", "carol"), ("review", -1, "approve", "bob"),
            ("entry", 1, 0, 2, 0, 3, 0, 0, 1), ("review", -1, "approve", "carol"),
            ("merge", 0, 1), ("unmerge", 0)]
# "10" + "0.1250" is "10.1250"; the precise one contested, "10" again (not "10.0000")
DECIMALS = [("entry", 0, 0, 0, 0, 0, 1, 0, 0), ("review", -1, "approve", "bob"),
            ("entry", 0, 0, 2, 0, 0, 1, 0, 0), ("review", -1, "approve", "bob"),
            ("review", -1, "contest", "carol")]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(SCRIPTED)
@example(DECIMALS)
@given(st.lists(ops, min_size=1, max_size=60))
def test_stored_totals_equal_the_entries_that_count(commands) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = LedgerWorld(str(Path(tmp) / "archive.db"))
        for op in commands:
            world.run(op)
            assert_totals_current(world)
        store, runner = world.archive.store, world.archive.runner
        projection = runner.get("ledger")
        live = content_hash(store.reader(), list(projection.ddl))
        assert runner.rebuild(store, "ledger") == live
        assert_totals_current(world)
        store.close()
