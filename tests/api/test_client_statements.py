"""The Python client types statements about statements (issue 21): a claim's `attributed_to`
and `denies` on the server's own structs, `claims(denies=, attributed_to=)`, and `rank(...,
citation=)` for a deprecated rank's retracting source; against `starosta serve` (a real server
in a subprocess, real tokens). Synthetic data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from starosta.client import Client, Invalid, NotFound
from starosta.events.kinds import Citation, PresenceClaim
from tests.api.conftest import make_tokens
from tests.conftest import start_server, stop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    db = str(tmp_path_factory.mktemp("client-statements") / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        yield base, tokens
    finally:
        stop(proc)


def test_the_client_submits_attributions_and_denials_and_ranks_with_a_citation(served) -> None:
    base, tokens = served
    with Client(base, token=tokens["alice"]) as alice, Client(base, token=tokens["bob"]) as bob:
        source = alice.register_source({"type": "personal_communication", "title": "Client letter (synthetic)"}).id
        later = alice.register_source({"type": "personal_communication", "title": "Client retraction (synthetic)"}).id
        cited = Citation(source=source, locator="p. 1")
        press = alice.register_organization("Client Press (synthetic)", "other", cited).id
        person = alice.register_person("Client Writer (synthetic)", cited).id
        place = alice.register_place("Client Country (synthetic)", "other", cited).id
        said = alice.submit(PresenceClaim(person=person, place=place, purpose="preferred",
                                          attributed_to=press, citation=cited))
        bob.approve(said.id)
        denial = alice.submit({"kind": "presence", "person": person, "place": place,
                               "purpose": "forced", "denies": said.id, "citation": {"source": source}})
        bob.approve(denial.id)
        assert [c.id for c in alice.claims(denies=said.id)] == [denial.id]
        assert [c.id for c in alice.claims(attributed_to=press)] == [said.id]
        read = alice.claim(said.id)
        assert read.denied_by == [denial.id] and read.claim["attributed_to"] == press
        with pytest.raises(NotFound) as missing:
            alice.submit(PresenceClaim(person=person, place=place, denies="C-NOSUCH00",
                                       citation=cited))
        assert missing.value.fields == ["denies"]
        version = bob.claim(denial.id).version
        with pytest.raises(Invalid) as wrong:
            bob.rank(denial.id, "preferred", "x", version=version, citation=Citation(source=later))
        assert wrong.value.fields == ["citation"]
        ranked = bob.rank(denial.id, "deprecated", "withdrawn", version=version,
                          citation=Citation(source=later, locator="p. 9"))
        assert ranked.rank == "deprecated" and ranked.rank_citation == {"source": later, "locator": "p. 9"}
        document = alice.biography(person)
        (entry,) = [e for e in document.timeline if e.claim == said.id]
        assert entry.attributed_to is not None and entry.attributed_to.id == press
        assert [d.claim for d in entry.denied_by] == [denial.id]
        (gone,) = [e for e in document.deprecated if e.claim == denial.id]
        assert gone.retracted_by is not None and gone.retracted_by["locator"] == "p. 9"
