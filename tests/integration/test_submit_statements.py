"""`starosta submit` (the real command, in a subprocess) against `starosta serve` takes the
columns of statements about statements (issue 21): `attributed_to` as an id or a person's or
organisation's label, `denies` as a claim id; an unknown label and an unseen claim are
reported naming their column. Synthetic data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from starosta.client import Client
from starosta.events.kinds import Citation, PresenceClaim
from tests.api.conftest import make_tokens
from tests.conftest import run_cli, start_server, stop

pytestmark = pytest.mark.slow


def test_submit_takes_attributed_to_and_denies_columns(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        with Client(base, token=tokens["alice"]) as alice, Client(base, token=tokens["bob"]) as bob:
            source = alice.register_source({"type": "book", "title": "Submit statements"}).id
            cited = Citation(source=source)
            press = alice.register_organization("Synthetic Gazette", "other", cited).id
            person = alice.register_person("Synthetic Exile", cited).id
            place = alice.register_place("Synthetic Land", "other", cited).id
            said = alice.submit(PresenceClaim(person=person, place=place, purpose="preferred",
                                              citation=cited)).id
            bob.approve(said)
        sheet = tmp_path / "presence.csv"
        with sheet.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["person", "place", "purpose", "attributed_to", "denies", "citation.source"])
            writer.writerow([person, place, "preferred", "Synthetic Gazette", "", source])  # 1: label
            writer.writerow([person, place, "forced", "", said, source])  # 2: a denial
            writer.writerow([person, place, "x", source, "", source])  # 3: a source's id
            writer.writerow([person, place, "x", "Nobody Known", "", source])  # 4: unknown label
            writer.writerow([person, place, "x", "", "C-00000000", source])  # 5: unseen claim
        report = tmp_path / "report.csv"
        done = run_cli("submit", str(sheet), "--server", base, "--token", tokens["alice"],
                       "--kind", "presence", "--report", str(report), timeout=120)
        assert done.returncode == 1, done.stdout + done.stderr
        with report.open(encoding="utf-8", newline="") as f:
            got = {int(r["row"]): r for r in csv.DictReader(f)}
        assert [got[n]["status"] for n in range(1, 6)] == [
            "submitted", "submitted", "submitted", "invalid", "refused"]
        assert got[4]["field"] == "attributed_to" and got[5]["field"] == "denies"
        with Client(base, token=tokens["bob"]) as bob:
            assert bob.claim(got[1]["claim"]).claim["attributed_to"] == press
            assert bob.claim(got[2]["claim"]).claim["denies"] == said
            assert bob.claim(got[3]["claim"]).claim["attributed_to"] == source
            assert [c.id for c in bob.claims(denies=said)] == [got[2]["claim"]]
    finally:
        stop(proc)
