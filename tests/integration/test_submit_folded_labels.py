"""Issue 22: `starosta submit` (the real command, in a subprocess, against `starosta serve`)
takes a label when exactly one record has a name with its case-, accent- and space-folded key
(`name_keys.label_key`): "vicente monclus guallar" and the alias "бутырка" resolve; a label
matching no record's key, or several, is refused with "did you mean" and the candidates' ids."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from starosta.client import Client
from starosta.events.kinds import Citation
from tests.api.conftest import make_tokens
from tests.conftest import run_cli, start_server, stop

pytestmark = pytest.mark.slow

HEADER = ["person", "place", "custody", "start", "citation.source", "citation.locator"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    db = str(tmp_path_factory.mktemp("folded") / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        with Client(base, token=tokens["alice"]) as alice:
            source = alice.register_source({"type": "book", "title": "Folded labels"}).id
            cited = Citation(source=source)
            ids = {"base": base, "token": tokens["alice"], "source": source,
                   "vicente": alice.register_person("Vicente Monclús Guallar", cited).id,
                   "joaquin": alice.register_person("Joaquín Monclús Guallar", cited).id,
                   "butyrka": alice.register_place("Butyrka", "prison", cited, aliases=["Бутырка"]).id}
        yield ids
    finally:
        stop(proc)


def submit(archive: dict[str, str], tmp_path: Path, rows: list[list[str]]) -> dict[int, dict[str, str]]:
    sheet, report = tmp_path / "rows.csv", tmp_path / "report.csv"
    with sheet.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows([[*row, archive["source"], f"p. {n}"] for n, row in enumerate(rows, 1)])
    run_cli("submit", str(sheet), "--server", archive["base"], "--token", archive["token"],
            "--kind", "custody", "--dry-run", "--report", str(report), timeout=120)
    with report.open(encoding="utf-8", newline="") as f:
        return {int(r["row"]): r for r in csv.DictReader(f)}


def test_folded_labels_resolve_and_near_ones_are_refused_with_did_you_mean(
        archive: dict[str, str], tmp_path: Path) -> None:
    got = submit(archive, tmp_path, [
        ["vicente monclus guallar", "Бутырка", "prison", "1941"],     # 1: folded label, alias
        ["VICENTE  MONCLÚS GUALLAR", "бутырка", "prison", "1941"],    # 2: case, spaces
        ["Vicente Monclus", "Butyrka", "prison", "1941"],             # 3: no record's key
        ["Monclús Guallar", "Butyrka", "prison", "1941"],             # 4: two candidates
        ["Nobody At All", "Butyrka", "prison", "1941"],               # 5: nothing near
    ])
    assert [got[n]["status"] for n in range(1, 6)] == ["valid", "valid", "invalid", "invalid", "invalid"], got
    assert got[3]["field"] == "person"
    assert "did you mean Vicente Monclús Guallar (" + archive["vicente"] + ")" in got[3]["error"]
    assert "did you mean" in got[4]["error"]
    assert archive["vicente"] in got[4]["error"] and archive["joaquin"] in got[4]["error"]
    assert "did you mean" not in got[5]["error"] and "register it" in got[5]["error"]
