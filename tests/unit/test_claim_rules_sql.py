"""The SQL form of the "counts" rule (projections/rules.py) selects exactly the rows the pure
predicate (events/claim_rules.py: counts) counts: its text evaluated by SQLite in memory, over rows
of every status a claim index holds."""

from __future__ import annotations

import sqlite3

from starosta.events import claim_rules as rules
from starosta.projections.rules import COUNTS_APPROVED, counts_sql


def test_the_sql_form_selects_what_the_predicate_counts():
    # given claim index rows of every kind (the review status in `status`, a suppression folded
    # into it, the rank in `rank`, as indexes keep them)
    rows = [(f"C-{i}", status, superseded_by, rank)
            for i, (status, superseded_by, rank) in enumerate(
                (s, b, r) for s in (*rules.STATUSES, rules.SUPPRESSED)
                for b in (None, "C-99") for r in rules.RANKS)]
    db = sqlite3.connect(":memory:")  # the rule's SQL text, evaluated; no archive involved
    db.execute("CREATE TABLE t (claim_id TEXT, status TEXT, superseded_by TEXT, rank TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    for statuses in (rules.COUNTED, rules.WITH_PENDING, rules.PUBLIC):
        # when the SQL form filters them
        where, args = counts_sql(statuses)
        selected = {r[0] for r in db.execute(f"SELECT claim_id FROM t WHERE {where}", args)}
        # then it keeps exactly the rows the predicate counts
        assert selected == {c for c, s, b, r in rows if rules.counts(s, b, r, statuses=statuses)}
    approved = {r[0] for r in db.execute(f"SELECT claim_id FROM t WHERE {COUNTS_APPROVED}")}
    assert approved == {c for c, s, b, r in rows if rules.counts(s, b, r)}
    where = counts_sql(rules.COUNTED, "c")[0]
    assert where.startswith("c.superseded_by IS NULL AND c.status IN")
    assert where.endswith("AND c.rank <> 'deprecated'")
