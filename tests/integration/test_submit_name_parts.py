"""`starosta submit` (the real command, in a subprocess) against `starosta serve` with names in
parts (issue 20, item 4): the CSV columns `parts.surname`, `parts.given`, `parts.patronymic`,
`parts.particle` become the name claim's `parts`; a row giving parts to a place's name is
invalid before anything is sent (the server's rule, claim_rules.parts_refusal), one whose part
the server refuses (a bidi control) is reported with the field `parts.surname`. All names are
synthetic (not historical)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.integration.test_submit import Archive, archive, report_of  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

HEADER = ["kind", "person", "place", "name", "name_kind", "parts.surname", "parts.given",
          "parts.patronymic", "parts.particle", "citation.source"]


def test_name_parts_columns_make_the_claims_parts(archive: Archive, tmp_path: Path) -> None:  # noqa: F811
    sheet = tmp_path / "names.csv"
    with sheet.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows([
            ["name", "Vicente Monclús Guallar", "", "Testov, Test Testovich", "variant", "Testov",
             "Test", "Testovich", "", archive.source],  # 1: three parts, the person by label
            ["name", archive.person, "", "Test de Prueba", "other", "Prueba", "", "", "de",
             archive.source],  # 2: a particle, and no given name (an empty cell leaves it out)
            ["name", "", "Butyrka", "Test Prison", "other", "Prison", "", "", "", archive.source],  # 3
            ["name", archive.person, "", "Test Hidden", "other", "\u202eHidden", "", "", "",
             archive.source],  # 4: refused by the server
            ["name", archive.person, "", "Test No Parts", "variant", "", "", "", "", archive.source],  # 5
        ])
    report = tmp_path / "report.csv"
    done = archive.submit(sheet, "--report", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    got = report_of(report)
    assert [got[n]["status"] for n in range(1, 6)] == ["submitted", "submitted", "invalid", "refused",
                                                        "submitted"]
    assert got[3]["field"] == "parts" and "person" in got[3]["error"]
    assert got[4]["field"] == "parts.surname" and "U+202E" in got[4]["value"]
    made = {c["id"]: c["claim"] for c in archive.claims()}
    assert made[got[1]["claim"]]["person"] == archive.person
    assert made[got[1]["claim"]]["parts"] == {"surname": "Testov", "given": "Test", "patronymic": "Testovich"}
    assert made[got[2]["claim"]]["parts"] == {"surname": "Prueba", "particle": "de"}
    assert "parts" not in made[got[5]["claim"]]
