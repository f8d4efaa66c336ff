"""The Python client with names in parts (issue 20, item 4), against `starosta serve` (a real
server in a subprocess): a person registered with `parts` and a name claim typed with
`NameParts`, read back on the record and listed by `persons_by_surname` (every page). All
names are synthetic (not historical)."""

from __future__ import annotations

import pytest

from starosta.client import Invalid
from starosta.events.kinds import Citation, NameClaim, NameParts
from starosta.projections.search import SearchHit
from tests.api.test_client import Served, served  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def test_parts_through_the_client(served: Served) -> None:  # noqa: F811
    with served.client("alice") as alice, served.client("bob") as bob, served.client() as anyone:
        source = alice.register_source({"type": "book", "title": "Client cards (synthetic)"}).id
        cited = Citation(source=source)
        first = alice.register_person("Test Zubova (synthetic)", cited,
                                      parts={"given": "Test", "surname": "Zubova"})
        second = alice.register_person("Test Abramova (synthetic)", cited).id
        named = alice.submit(NameClaim(person=second, name="Abramova, Test", citation=cited,
                                       parts=NameParts(surname="Abramova", given="Test")))
        bob.approve(first.name_claim)
        bob.approve(named.id)
        record = anyone.entity("persons", second)
        assert {"surname": "Abramova", "given": "Test"} in [n.get("parts") for n in record["names"]]
        hits = list(anyone.persons_by_surname(page_size=1))
        assert all(isinstance(h, SearchHit) for h in hits)
        assert [(h.id, h.surname) for h in hits[:2]] == [(second, "Abramova"), (first.id, "Zubova")]
        assert [h.id for h in anyone.persons_by_surname("zubova")] == [first.id]
        with pytest.raises(Invalid) as refused:
            alice.submit(NameClaim(person=second, name="Nobody", citation=cited, parts=NameParts()))
        assert refused.value.errors[0].field == "parts"
