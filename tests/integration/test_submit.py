"""`starosta submit` (the real command, in a subprocess) against `starosta serve`: a CSV with
good and bad rows is reported row by row with the fields at fault; a second run duplicates
nothing (claims counted through GET /claims); an edited row is flagged and sent as a new
claim; a dry run submits nothing; labels resolve to ids, or the row names the field; JSON
Lines take what a CSV cannot hold."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from starosta.client import Client, PossibleDuplicate
from starosta.events.kinds import Citation
from tests.api.conftest import make_tokens
from tests.conftest import run_cli, start_server, stop

pytestmark = pytest.mark.slow


@dataclass
class Archive:
    base: str
    tokens: dict[str, str]
    source: str
    person: str
    brother: str
    place: str

    def submit(self, path: Path, *more: str, who: str = "alice"):
        return run_cli("submit", str(path), "--server", self.base, "--token", self.tokens[who], *more,
                       timeout=120)

    def claims(self) -> list[dict]:
        """Every claim, as a reviewer lists them (GET /claims, all pages)."""
        with Client(self.base, token=self.tokens["bob"]) as bob:
            return [{"id": c.id, "kind": c.kind, "claim": c.claim} for c in bob.claims()]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    db = str(tmp_path_factory.mktemp("submit") / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        with Client(base, token=tokens["alice"]) as alice:
            source = alice.register_source({"type": "book", "title": "Bulk submission"}).id
            cited = Citation(source=source)
            person = alice.register_person("Vicente Monclús Guallar", cited).id
            brother = alice.register_person("Joaquín Monclús Guallar", cited).id
            twin = alice.register_person("Twin Label", cited).id
            with pytest.raises(PossibleDuplicate) as refused:  # a namesake is 409 until said so
                alice.register_person("Twin Label ", cited)
            assert [c["id"] for c in refused.value.candidates] == [twin]
            alice.register_person("Twin Label", cited, not_same_as=[twin])
            place = alice.register_place("Butyrka", "prison", cited).id
        yield Archive(base, tokens, source, person, brother, place)
    finally:
        stop(proc)


HEADER = ["person", "place", "custody", "start", "end", "citation.source", "citation.locator",
          "citation.via", "with", "said"]


def write_csv(path: Path, archive: Archive, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows([[cell.replace("SRC", archive.source) for cell in row] for row in rows])
    return path


def rows(archive: Archive) -> list[list[str]]:
    return [
        # 1: labels for the person, the place and a companion; a via chain
        ["Vicente Monclús Guallar", "Butyrka", "prison", "1941", "1942", "SRC", "p. 1",
         "Taken from O Crabero|Translated by Paul Sharkey", "Joaquín Monclús Guallar", ""],
        # 2: ids
        [archive.person, archive.place, "camp", "1943", "1947", "SRC", "p. 2", "", "", "in a camp"],
        ["Nobody Registered", "Butyrka", "prison", "1941", "", "SRC", "p. 3", "", "", ""],  # 3: unknown
        ["Twin Label", "Butyrka", "prison", "1941", "", "SRC", "p. 4", "", "", ""],  # 4: ambiguous
        ["Vicente Monclús Guallar", "Butyrka", "jail", "1941", "", "SRC", "p. 5", "", "", ""],  # 5: enum
        ["Vicente Monclús Guallar", "Butyrka", "prison", "1941-13", "", "SRC", "p. 6", "", "", ""],  # 6: date
        ["Vicente Monclús Guallar", "Butyrka", "prison", "1941", "", "S-00000000", "p. 7", "", "", ""],  # 7: 404
        ["Vicente Monclús Guallar", "Butyrka", "prison", "1950", "1949", "SRC", "p. 8", "", "", ""],  # 8: reversed
    ]


def report_of(path: Path) -> dict[int, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {int(r["row"]): r for r in csv.DictReader(f)}


def test_submit_reports_bad_rows_and_a_second_run_duplicates_nothing(archive: Archive, tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "custody.csv", archive, rows(archive))
    report = tmp_path / "report.csv"
    before = len(archive.claims())

    first = archive.submit(sheet, "--kind", "custody", "--report", str(report))
    assert first.returncode == 1, first.stdout + first.stderr
    assert "2 submitted" in first.stdout and "5 invalid" in first.stdout and "1 refused" in first.stdout
    got = report_of(report)
    assert [got[n]["status"] for n in range(1, 9)] == [
        "submitted", "submitted", "invalid", "invalid", "invalid", "invalid", "refused", "invalid"]
    assert {n: got[n]["field"] for n in range(3, 9)} == {
        3: "person", 4: "person", 5: "custody", 6: "start", 7: "citation.source", 8: "start"}
    assert "no person has the label 'Nobody Registered'" in got[3]["error"]
    assert "2 persons have the label 'Twin Label'" in got[4]["error"]
    assert "one of camp, exile" in got[5]["error"] and got[5]["value"] == "jail"
    assert got[6]["value"] == "1941-13"
    assert "row 3: invalid: person:" in first.stderr
    made = archive.claims()
    assert len(made) == before + 2
    by_id = {c["id"]: c for c in made}
    one = by_id[got[1]["claim"]]["claim"]
    assert (one["person"], one["place"]) == (archive.person, archive.place)
    assert one["participants"] == [{"ref": archive.brother, "role": "companion"}]  # `with`, stored
    assert one["citation"]["via"] == ["Taken from O Crabero", "Translated by Paul Sharkey"]

    again = archive.submit(sheet, "--kind", "custody", "--report", str(report))
    assert again.returncode == 1
    assert "2 replayed" in again.stdout and "edited" not in again.stdout
    second = report_of(report)
    assert [second[n]["claim"] for n in (1, 2)] == [got[1]["claim"], got[2]["claim"]]
    assert second[1]["key"] == got[1]["key"]
    assert len(archive.claims()) == before + 2  # nothing duplicated

    edited = rows(archive)
    edited[1][6] = "p. 2, corrected"
    write_csv(sheet, archive, edited)
    third = archive.submit(sheet, "--kind", "custody", "--report", str(report))
    third_report = report_of(report)
    assert "1 edited since the last report" in third.stdout
    assert third_report[2]["edited"] == "yes" and third_report[1]["edited"] == ""
    assert third_report[2]["status"] == "submitted" and third_report[2]["claim"] != got[2]["claim"]
    assert third_report[1]["status"] == "replayed"
    assert len(archive.claims()) == before + 3


def test_a_dry_run_submits_nothing(archive: Archive, tmp_path: Path) -> None:
    before = len(archive.claims())
    bad = write_csv(tmp_path / "bad.csv", archive, rows(archive))
    checked = archive.submit(bad, "--kind", "custody", "--dry-run", "--report", str(tmp_path / "dry.csv"))
    assert checked.returncode == 1 and "dry run" in checked.stdout
    assert report_of(tmp_path / "dry.csv")[1]["status"] == "valid"
    good = write_csv(tmp_path / "good.csv", archive, rows(archive)[:2])
    clean = archive.submit(good, "--kind", "custody", "--dry-run")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "2 valid" in clean.stdout
    assert len(archive.claims()) == before


def test_a_label_typed_with_other_spaces_or_unicode_form_resolves(archive: Archive, tmp_path: Path) -> None:
    """The label's display form (projections.name_keys) is what rows are matched by: NBSP,
    NFD, a zero-width space and doubled spaces name the one record, not none or several."""
    import unicodedata

    typed = ["Vicente\u00a0Monclús  Guallar", unicodedata.normalize("NFD", "Vicente Monclús Guallar"),
             "Vicente Monclús\u200b Guallar "]
    sheet = write_csv(tmp_path / "typed.csv", archive, [
        [label, "Butyrka", "prison", "1941", "", "SRC", "p. 9", "", "", ""] for label in typed])
    checked = archive.submit(sheet, "--kind", "custody", "--dry-run")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "3 valid" in checked.stdout


def test_json_lines_with_a_kind_per_line(archive: Archive, tmp_path: Path) -> None:
    with Client(archive.base, token=archive.tokens["alice"]) as alice:
        original = alice.register_source({"type": "article", "title": "O Crabero"}).id
    lines = [
        {"kind": "aggregate", "place": "Butyrka", "date": "1943-01-01", "count": 66,
         "group": "Spanish anti-fascists", "of_whom": [{"count": 11, "what": "died"}],
         "citation": {"source": archive.source, "via": [{"source": original,
                                                          "relation": "translation_of"}]}},
        {"kind": "death", "person": "Joaquín Monclús Guallar", "date": "1944",
         "citation": {"source": archive.source}},
        {"kind": "death", "person": "Joaquín Monclús Guallar", "citation": {}},
        "not an object",
    ]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n{oops\n",
                    encoding="utf-8")
    report = tmp_path / "report.jsonl"
    done = archive.submit(path, "--report", str(report))
    assert done.returncode == 1
    got = {r["row"]: r for r in map(json.loads, report.read_text("utf-8").splitlines())}
    assert [got[n]["status"] for n in range(1, 6)] == ["submitted", "submitted", "invalid",
                                                        "invalid", "invalid"]
    assert got[3]["errors"][0]["field"] == "citation.source"
    assert got[5]["errors"][0]["field"] == "row"
    death = next(c for c in archive.claims() if c["id"] == got[2]["claim"])
    assert death["claim"]["person"] == archive.brother


def test_participants_in_a_csv_column(archive: Archive, tmp_path: Path) -> None:
    """`participants` holds REF:ROLE items (an id or a label), `participants.said` and
    `participants.certainty` each one's said and certainty in the same order (issue 20)."""
    header = ["person", "place", "custody", "start", "citation.source", "participants",
              "participants.said", "participants.certainty"]
    sheet = tmp_path / "taking-part.csv"
    with sheet.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerow([archive.person, "Butyrka", "prison", "1941", archive.source,
                         f"Joaquín Monclús Guallar:informant|{archive.brother}:witness",
                         "his brother Joaquín|", "|probable"])
        writer.writerow([archive.person, "Butyrka", "prison", "1942", archive.source,
                         "Joaquín Monclús Guallar", "", ""])  # no role
        writer.writerow([archive.person, "Butyrka", "prison", "1943", archive.source,
                         "Nobody Registered:witness", "", ""])  # an unknown label
        writer.writerow([archive.person, "Butyrka", "prison", "1944", archive.source,
                         f"{archive.brother}:bystander", "", ""])  # no such role: the server says
    report = tmp_path / "report.csv"
    done = archive.submit(sheet, "--kind", "custody", "--report", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    got = report_of(report)
    assert [got[n]["status"] for n in range(1, 5)] == ["submitted", "invalid", "invalid", "refused"]
    assert got[2]["field"] == "participants.0" and "REF:ROLE" in got[2]["error"]
    assert got[3]["field"] == "participants.0.ref" and "Nobody Registered" in got[3]["error"]
    assert got[4]["field"] == "participants[0].role"
    made = next(c for c in archive.claims() if c["id"] == got[1]["claim"])
    assert made["claim"]["participants"] == [
        {"ref": archive.brother, "role": "informant", "said": "his brother Joaquín"},
        {"ref": archive.brother, "role": "witness", "certainty": "probable"}]


def test_rows_unsent_when_the_server_is_gone_are_sent_by_the_next_run(archive: Archive, tmp_path: Path) -> None:
    from starosta.client import Retry
    from starosta.service.tools.submit import run
    from tests.conftest import free_port

    sheet = write_csv(tmp_path / "later.csv", archive, [
        [archive.person, archive.place, "exile", "1952", "1953", "SRC", "p. 9", "", "", ""],
        [archive.person, archive.place, "exile", "1954", "1955", "SRC", "p. 10", "", "", ""]])
    fast = Retry(attempts=2, backoff=0.05, max_backoff=0.1, budget=2)
    with Client(f"http://127.0.0.1:{free_port()}", token="x", retry=fast) as gone:
        outcome = run(gone, str(sheet), kind="custody", report=str(tmp_path / "r.csv"))
    assert not outcome.ok and outcome.counts == {"unsent": 2}
    assert outcome.stopped is not None and "row 1" in outcome.stopped
    before = len(archive.claims())
    resent = archive.submit(sheet, "--kind", "custody", "--report", str(tmp_path / "r.csv"))
    assert resent.returncode == 0, resent.stdout + resent.stderr
    assert "2 submitted" in resent.stdout
    assert len(archive.claims()) == before + 2
