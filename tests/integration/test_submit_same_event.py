"""`starosta submit` (the real command, in a subprocess) against `starosta serve` takes a
`same_event` column (issue 22): a claim id of the same kind; an unseen claim is refused naming
the column, and so is a claim of another kind. Synthetic data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from starosta.client import Client
from starosta.events.kinds import ArrestClaim, Citation, ReleaseClaim
from tests.api.conftest import make_tokens
from tests.conftest import run_cli, start_server, stop

pytestmark = pytest.mark.slow


def test_submit_takes_a_same_event_column(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        with Client(base, token=tokens["alice"]) as alice, Client(base, token=tokens["bob"]) as bob:
            source = alice.register_source({"type": "book", "title": "Submit same events"}).id
            cited = Citation(source=source)
            person = alice.register_person("Synthetic Prisoner", cited).id
            arrest = alice.submit(ArrestClaim(person=person, date="1937", citation=cited)).id
            release = alice.submit(ReleaseClaim(person=person, release="release", date="1940",
                                                citation=cited)).id
            bob.approve(arrest)
            bob.approve(release)
        sheet = tmp_path / "arrests.csv"
        with sheet.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["person", "date", "same_event", "citation.source"])
            writer.writerow([person, "1937-07", arrest, source])  # 1: the same arrest
            writer.writerow([person, "1937", "C-00000000", source])  # 2: unseen claim
            writer.writerow([person, "1937", release, source])  # 3: another kind
        report = tmp_path / "report.csv"
        done = run_cli("submit", str(sheet), "--server", base, "--token", tokens["alice"],
                       "--kind", "arrest", "--report", str(report), timeout=120)
        assert done.returncode == 1, done.stdout + done.stderr
        with report.open(encoding="utf-8", newline="") as f:
            got = {int(r["row"]): r for r in csv.DictReader(f)}
        assert [got[n]["status"] for n in range(1, 4)] == ["submitted", "refused", "refused"]
        assert got[2]["field"] == "same_event" and got[3]["field"] == "same_event"
        with Client(base, token=tokens["bob"]) as bob:
            assert bob.claim(got[1]["claim"]).claim["same_event"] == arrest
    finally:
        stop(proc)
