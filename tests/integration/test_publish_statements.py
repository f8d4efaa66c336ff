"""`starosta publish` carries statements about statements (issue 21): the claims table's
`attributed_to`, `attributed_to_type` and `denies` columns (facets for a Datasette user) and
the `claim_denials` view, from the demo archive (Mollie Steimer's denial of what the American
press attributed to her), by the real commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def test_the_snapshot_holds_attributions_and_denials(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    loaded = run_cli("demo", "--db", db, timeout=180)
    assert loaded.returncode == 0, loaded.stderr
    out = tmp_path / "public.db"
    done = run_cli("publish", str(out), "--db", db, timeout=120)
    assert done.returncode == 0, done.stderr
    snapshot = sqlite_utils.Database(out)
    facets = list(snapshot.query(
        "SELECT attributed_to_type, count(*) AS n FROM claims WHERE attributed_to IS NOT NULL "
        "GROUP BY attributed_to_type"))
    assert facets == [{"attributed_to_type": "organization", "n": 1}]
    (attributed,) = snapshot.query("SELECT c.id, o.label FROM claims AS c JOIN organizations AS o "
                                   "ON o.id = c.attributed_to")
    assert attributed["label"] == "American press"
    (denial,) = snapshot.query("SELECT * FROM claim_denials")
    assert denial["denied_claim_id"] == attributed["id"]
    assert denial["quote"] == "This statement attributed to me, is a deliberate lie!"
    assert "American press" in denial["denied_quote"]
    assert denial["denied_attributed_to_type"] == "organization"
    # every other claim: no attribution, no denial
    assert snapshot.execute("SELECT count(*) FROM claims WHERE denies IS NOT NULL").fetchone()[0] == 1
