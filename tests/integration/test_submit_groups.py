"""`starosta submit` (the real command, in a subprocess, against `starosta serve`) with the group
columns of the kinds that take a group as subject (issue 20): `group` by label or id, `count`
or `count.min`/`count.max`; a row naming both a person and a group is reported with the field;
the Python client lists the group's claims (`claims(group=)`) and decodes a member's
biography with the statements shown through the group."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from starosta.client import Client
from starosta.events.kinds import Citation, MembershipClaim
from tests.api.conftest import make_tokens
from tests.conftest import run_cli, start_server, stop

pytestmark = pytest.mark.slow

HEADER = ["group", "person", "count", "count.min", "count.max", "sentence", "term", "date",
          "citation.source", "citation.locator", "said"]


def test_sentences_of_a_group_from_a_csv(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        with Client(base, token=tokens["alice"]) as alice:
            source = alice.register_source({"type": "book", "title": "Group sheet (not historical)"}).id
            cited = Citation(source=source)
            group = alice.register_organization("Test Pilots (not historical)", "group", cited).id
            person = alice.register_person("Test Pilot (not historical)", cited).id
            membership = alice.submit(MembershipClaim(person=person, organization=group,
                                                      certainty="probable", citation=cited)).id
        sheet = tmp_path / "sentences.csv"
        with sheet.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(HEADER)
            writer.writerows([
                # 1: the group by its label, an exact count
                ["Test Pilots (not historical)", "", "8", "", "", "penal_servitude", "8 years",
                 "1940", source, "p. 1", "they were sentenced to 8 years"],
                # 2: by id, a count as a range
                [group, "", "", "4", "5", "death", "", "1941", source, "p. 2", ""],
                # 3: a person and a group: refused by the server (422), the field named
                [group, person, "", "", "", "camp", "", "1941", source, "p. 3", ""],
                # 4: a group nobody registered
                ["No Such Group", "", "", "", "", "camp", "", "1941", source, "p. 4", ""],
            ])
        report = tmp_path / "report.csv"
        done = run_cli("submit", str(sheet), "--kind", "sentence", "--server", base,
                       "--token", tokens["alice"], "--report", str(report), timeout=120)
        assert done.returncode == 1, done.stdout + done.stderr
        with report.open(encoding="utf-8", newline="") as f:
            got = {int(r["row"]): r for r in csv.DictReader(f)}
        assert [got[n]["status"] for n in (1, 2)] == ["submitted", "submitted"]
        assert got[3]["status"] == "refused" and got[3]["field"] == "group"
        assert "exactly one of person and group" in got[3]["error"]
        assert got[4]["status"] == "invalid" and got[4]["field"] == "group"
        with Client(base, token=tokens["bob"]) as bob:
            listed = {c.id: c for c in bob.claims(group=group, status="pending")}
            assert set(listed) == {got[1]["claim"], got[2]["claim"]}
            first, second = listed[got[1]["claim"]].claim, listed[got[2]["claim"]].claim
            assert (first["group"], first["count"], first["sentence"]) == (group, 8, "penal_servitude")
            assert "person" not in first and second["count"] == {"min": 4, "max": 5}
            for claim in (membership, got[1]["claim"]):
                bob.approve(claim)
            bio = bob.biography(person)
        entry = next(e for e in bio.timeline if e.claim == got[1]["claim"])
        assert entry.through == "group" and entry.member_of is not None
        assert entry.member_of.group.id == group
        assert [(m.claim, m.certainty) for m in entry.member_of.memberships] == [(membership, "probable")]
    finally:
        stop(proc)
