"""Properties through the Python client and `starosta submit` (the real command, in a
subprocess) against `starosta serve`: an admin registers a property and a contributor uses it at
once; statements and qualifiers come typed (StatementClaim, PropertyValue); a CSV's `property`,
`value` and `qualifiers` columns become statements and qualifiers, a value its datatype refuses
is reported with its field before anything is sent, and the claims are found by property and
value."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from starosta.client import Client, Forbidden, Invalid
from starosta.events.kinds import Citation, DeathClaim, PropertyValue, StatementClaim
from starosta.events.properties import ValueObject
from tests.api.conftest import make_tokens
from tests.conftest import run_cli, start_server, stop

pytestmark = pytest.mark.slow


@dataclass
class Served:
    base: str
    tokens: dict[str, str]
    source: str
    person: str
    place: str

    def client(self, who: str) -> Client:
        return Client(self.base, token=self.tokens[who])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db = str(tmp_path_factory.mktemp("props") / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        with Client(base, token=tokens["alice"]) as alice:
            source = alice.register_source({"type": "book", "title": "Record cards"}).id
            person = alice.register_person("Santiago Guallar", Citation(source=source)).id
            place = alice.register_place("Karaganda", "exile", Citation(source=source)).id
        yield Served(base, tokens, source, person, place)
    finally:
        stop(proc)


def test_the_client_registers_lists_and_uses_properties(served: Served) -> None:
    with served.client("root") as root, served.client("alice") as alice, served.client("bob") as bob:
        with pytest.raises(Forbidden):
            alice.register_property("card_no", "card", "external_id")
        made = root.register_property("card_no", "card number", "external_id", single=True,
                                      url_pattern="https://example.org/card/$1")
        prop = alice.property_of("card_no")
        assert prop.id == made.id and prop.datatype == "external_id" and not prop.seeded
        assert [p.key for p in alice.properties().items][-1] == "card_no"
        assert alice.property_of("stated_age").unit == "years"
        cited = Citation(source=served.source)
        statement = alice.submit(StatementClaim(subject=served.person, property="card_no",
                                                value="A-17", citation=cited)).id
        death = alice.submit(DeathClaim(person=served.person, date="1990", citation=cited, qualifiers=(
            PropertyValue(property="stated_age", value=ValueObject(amount="86", unit="years")),))).id
        with pytest.raises(Invalid) as refused:
            alice.submit(DeathClaim(person=served.person, citation=cited, qualifiers=(
                PropertyValue(property="stated_age", value="86"),)))
        assert refused.value.fields == ["qualifiers[0].value"]
        for claim_id in (statement, death):
            bob.approve(claim_id)
        assert [c.id for c in alice.claims(property="card_no", value="a-17")] == [statement]
        assert [c.id for c in alice.claims(property=prop.id)] == [statement]
        (found,) = alice.claims(property="stated_age", value="86")
        assert found.id == death and found.claim["qualifiers"][0]["value"]["amount"] == "86"
        bio = alice.biography(served.person)
        assert [g.property.key for g in bio.statements] == ["card_no"]
        assert bio.statements[0].claims[0].fields["url"] == "https://example.org/card/A-17"
        assert bio.deaths[0].qualifiers[0].property.key == "stated_age"


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_submit_takes_property_value_and_qualifier_columns(served: Served, tmp_path: Path) -> None:
    s, p = served.source, served.person
    statements = write(tmp_path / "statements.csv",
                       ["subject", "property", "value", "value.amount", "value.currency",
                        "value.at_most", "start", "citation.source", "qualifiers"], [
        ["Santiago Guallar", "nationality", "Spanish", "", "", "", "", s, ""],  # a label
        [p, "residence", served.place, "", "", "", "1948", s, "article=58-10"],
        [p, "conditions", '{"text": "the regime of the prison", "language": "en"}', "", "", "", "",
         s, ""],
        [p, "equivalent", "", "3.25", "USD", "true", "", s, ""],
        [p, "stated_age", "86", "", "", "", "", s, ""],  # refused: a quantity is an object
        [p, "nationality", "Spanish", "", "", "", "", s, "article"],  # refused: no =value
    ])
    done = run_cli("submit", str(statements), "--kind", "statement", "--server", served.base,
                   "--token", served.tokens["alice"], timeout=120)
    assert done.returncode != 0
    assert "row 5: invalid: value:" in done.stdout + done.stderr
    assert "row 6: invalid: qualifiers[0]:" in done.stdout + done.stderr
    deaths = write(tmp_path / "deaths.csv", ["person", "date", "citation.source", "qualifiers"], [
        [p, "1990", s, 'stated_age={"amount": "86", "unit": "years"}|article=58-10'],
        [p, "1991", s, "stated_age=86"],  # refused before sending: a quantity is an object
    ])
    done = run_cli("submit", str(deaths), "--kind", "death", "--server", served.base,
                   "--token", served.tokens["alice"], timeout=120)
    assert "row 2: invalid: qualifiers[1].value" not in done.stdout  # one qualifier only there
    assert "row 2: invalid: qualifiers[0].value" in done.stdout + done.stderr
    with served.client("bob") as bob:
        mine = [c for c in bob.claims(source=s) if c.kind in ("statement", "death")]
        by_property = {c.claim.get("property"): c.claim for c in mine if c.kind == "statement"}
        assert by_property["residence"]["value"] == served.place
        assert by_property["residence"]["qualifiers"] == [{"property": "article", "value": "58-10"}]
        assert by_property["conditions"]["value"] == {"text": "the regime of the prison", "language": "en"}
        assert by_property["equivalent"]["value"] == {"amount": "3.25", "currency": "USD", "at_most": True}
        assert by_property["nationality"]["subject"] == p  # the label resolved
        (death,) = [c for c in mine if c.kind == "death" and c.claim.get("date") == "1990"
                    and len(c.claim.get("qualifiers", ())) == 2]
        assert death.claim["qualifiers"][0] == {"property": "stated_age",
                                                "value": {"amount": "86", "unit": "years"}}
        assert [c.id for c in bob.claims(property="article", value="58-10")] == sorted(
            [death.id, next(c.id for c in mine if c.claim.get("property") == "residence")],
            key=lambda i: [c.id for c in mine].index(i))
