"""The Python client (`starosta.client`) against `starosta serve`: a real server in a
subprocess, real tokens. Registering, submitting, reviewing with If-Match, reading the read
models and iterating every paged list; typed exceptions naming the field; and retries that
never duplicate a claim: an idempotent replay appends nothing, and an answer lost on the wire
is recovered by the retry with the same Idempotency-Key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from starosta.client import (
    AsyncClient,
    Client,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Retry,
    Unauthorized,
    Unavailable,
)
from starosta.events.kinds import Citation, CustodyClaim, DeathClaim, DonationClaim, OccupationClaim
from starosta.projections.biographies import Biography
from starosta.service.feed import LogEvent
from tests.api.conftest import make_tokens
from tests.conftest import free_port, start_server, stop

pytestmark = pytest.mark.slow


@dataclass
class Served:
    base: str
    tokens: dict[str, str]

    def client(self, who: str | None = None, **kwargs) -> Client:
        return Client(self.base, token=self.tokens[who] if who else "", **kwargs)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db = str(tmp_path_factory.mktemp("client") / "archive.db")
    tokens = make_tokens(db)
    proc, base = start_server(db)
    try:
        yield Served(base, tokens)
    finally:
        stop(proc)


def test_round_trip_register_submit_approve_read(served: Served) -> None:
    with served.client("alice") as alice, served.client("bob") as bob, served.client() as anyone:
        source = alice.register_source({"type": "book", "title": "Client round trip"}).id
        cited = Citation(source=source, locator="p. 3")
        person = alice.register_person("Olga Taratuta", cited).id
        place = alice.register_place("Client Isolator", "isolator", cited).id
        fund = alice.register_fund("Client Fund", cited).id
        alice.register_organization("Client Colony", "colony", cited)
        stay = alice.submit(CustodyClaim(person=person, place=place, custody="isolator",
                                         start="1929", end="1932", citation=cited))
        assert stay.status == "pending"
        gift = alice.submit({"kind": "donation", "fund": fund, "donor": "a Chicago group",
                             "amount": "25.00", "currency": "USD", "date": "1926",
                             "citation": {"source": source}})
        pending = alice.claim(stay.id)
        # her own account id (A-...) to her; her name only to reviewers (issue 18)
        assert pending.version == 1 and pending.contributor.startswith("A-")
        assert bob.claim(stay.id).contributor == "alice"

        approved = bob.approve(stay.id, "read against p. 3", version=pending.version)
        assert approved.status == "approved" and approved.version == 2
        assert bob.last_response is not None and bob.last_response.headers["ETag"] == '"2"'
        bob.approve(gift.id)

        biography = anyone.biography(person)
        assert isinstance(biography, Biography) and biography.label == "Olga Taratuta"
        assert [e.claim for e in biography.timeline] == [stay.id]
        population = anyone.population(place, "1930")
        assert [held.id for held in population.certain] == [person]
        ledger = anyone.ledger(fund)
        assert ledger.totals["USD"].received == "25.00"
        assert [e.claim for e in anyone.ledger_entries(fund)] == [gift.id]
        assert [hit.id for hit in anyone.search("persons", "taratuta")] == [person]
        assert anyone.entity("places", place)["label"] == "Client Isolator"
        assert anyone.source(source)["id"] == source


def test_participants_and_their_roles_through_the_client(served: Served) -> None:
    """Issue 20: a claim's participants typed as the server's own structs, the role vocabulary
    read and extended, claims listed by participant and role."""
    from starosta.events.kinds import Participant, PresenceClaim

    with served.client("alice") as alice, served.client("bob") as bob, \
            served.client("root") as root, served.client() as anyone:
        source = alice.register_source({"type": "book", "title": "Client participants"}).id
        cited = Citation(source=source)
        hero = alice.register_person("Client Traveller (synthetic)", cited).id
        met = alice.register_person("Client Stranger (synthetic)", cited).id
        added = root.add_participant_role("fellow_traveller", "fellow traveller",
                                          "travelled with the claim's person (synthetic test role)")
        assert added.id == "fellow_traveller"
        roles = anyone.participant_roles().items
        assert roles[0].key == "companion" and roles[-1].key == "fellow_traveller" and not roles[-1].seeded
        claim = alice.submit(PresenceClaim(person=hero, place_said="a secret location", citation=cited,
                                           participants=(Participant(ref=met, role="encountered",
                                                                     said="the stranger"),
                                                         Participant(ref=met, role="fellow_traveller"))))
        bob.approve(claim.id)
        assert anyone.claim(claim.id).claim["participants"][0] == {
            "ref": met, "role": "encountered", "said": "the stranger"}
        assert [c.id for c in anyone.claims(participant=met, role="fellow_traveller")] == [claim.id]
        assert [c.id for c in anyone.claims(participant=met, role="witness")] == []
        (entry,) = [e for e in anyone.biography(met).timeline if e.claim == claim.id]
        assert entry.through == "participant" and entry.roles == ["encountered", "fellow_traveller"]


def test_iterators_walk_every_page(served: Served) -> None:
    with served.client("alice") as alice, served.client("root") as root:
        source = alice.register_source({"type": "document", "title": "Paging"}).id
        person = alice.register_person("Paged Person", Citation(source=source)).id
        ids = [alice.submit(OccupationClaim(person=person, occupation=f"trade {i}",
                                            citation=Citation(source=source))).id for i in range(5)]
        mine = [c.id for c in alice.claims(person=person, kind="occupation", page_size=2)]
        assert mine == ids  # three pages, oldest first
        head = root.head().position
        events = list(root.events(after=0, page_size=7))
        assert [e.position for e in events] == list(range(1, head + 1))
        assert all(isinstance(e, LogEvent) for e in events)
        assert list(root.events(after=head)) == []
        hits = list(alice.search("persons", page_size=1))
        assert person in [h.id for h in hits] and len(hits) == len({h.id for h in hits})


def test_errors_are_typed_and_name_the_field(served: Served) -> None:
    with served.client("alice") as alice, served.client("bob") as bob:
        source = alice.register_source({"type": "book", "title": "Errors"}).id
        person = alice.register_person("Erring Person", Citation(source=source)).id
        with pytest.raises(Invalid) as bad_date:
            alice.submit(CustodyClaim(person=person, custody="prison", start="1940-13",
                                      citation=Citation(source=source)))
        assert bad_date.value.status == 422 and bad_date.value.fields == ["start"]
        assert bad_date.value.errors[0].value == "1940-13" and "EDTF" in bad_date.value.detail
        with pytest.raises(Invalid) as missing:  # a dict is checked before it is sent
            alice.submit({"kind": "birth", "citation": {"source": source}})
        assert missing.value.status is None and missing.value.fields == ["person"]
        with pytest.raises(Invalid) as no_subject:  # a death's subject: a person or a group
            alice.submit({"kind": "death", "citation": {"source": source}})
        assert no_subject.value.status == 422 and no_subject.value.fields == ["person"]
        with pytest.raises(NotFound) as unknown:
            alice.submit(DeathClaim(person="P-NOBODY00", citation=Citation(source=source)))
        assert unknown.value.fields == ["person"]
        with pytest.raises(Unauthorized):
            Client(served.base, token="not-a-token").health()
        claim = alice.submit(DeathClaim(person=person, citation=Citation(source=source))).id
        with pytest.raises(Forbidden):
            alice.approve(claim)
        bob.approve(claim, version=1)
        with pytest.raises(Conflict) as stale:
            bob.reject(claim, "too late", version=1)
        assert stale.value.status == 409


def test_token_from_the_environment(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAROSTA_TOKEN", served.tokens["alice"])
    monkeypatch.setenv("STAROSTA_SERVER", served.base)
    with Client() as alice:
        assert alice.register_source({"type": "book", "title": "From the environment"}).id


def test_an_idempotent_replay_appends_nothing(served: Served) -> None:
    with served.client("alice") as alice, served.client("root") as root:
        source = alice.register_source({"type": "book", "title": "Replays"}).id
        person = alice.register_person("Replayed Person", Citation(source=source)).id
        claim = DeathClaim(person=person, date="1938", citation=Citation(source=source))
        first = alice.submit(claim, idempotency_key="replay-test-1")
        assert alice.last_response.headers.get("Idempotent-Replayed") is None
        head = root.head().position
        again = alice.submit(claim, idempotency_key="replay-test-1")
        assert again.id == first.id and again.position == first.position
        assert alice.last_response.headers["Idempotent-Replayed"] == "true"
        assert root.head().position == head
        assert [c.id for c in alice.claims(person=person, kind="death")] == [first.id]


class LosesFirstAnswers(httpx.BaseTransport):
    """A real transport that lets the first `n` POSTs reach the server and be committed, then
    drops their answers, as a connection cut after the server answered would."""

    def __init__(self, n: int) -> None:
        self.inner, self.left, self.keys = httpx.HTTPTransport(), n, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            self.keys.append(request.headers["Idempotency-Key"])
            if self.left:
                self.left -= 1
                response.read()
                response.close()
                raise httpx.ReadError("connection reset after the request was sent", request=request)
        return response


def test_a_retry_after_a_lost_answer_does_not_duplicate_the_claim(served: Served) -> None:
    root = served.client("root")
    with served.client("alice") as alice:
        source = alice.register_source({"type": "book", "title": "Lost answers"}).id
        person = alice.register_person("Retried Person", Citation(source=source)).id
    lossy = LosesFirstAnswers(2)
    fast = Retry(attempts=4, backoff=0.05, max_backoff=0.2, budget=10)
    with Client(served.base, token=served.tokens["alice"], retry=fast, transport=lossy) as alice:
        head = root.head().position
        answer = alice.submit(DeathClaim(person=person, date="1937", citation=Citation(source=source)))
        assert alice.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(lossy.keys) == 3 and len(set(lossy.keys)) == 1  # one key, reused by each retry
    assert root.head().position == head + 1  # one event: the claim, once
    assert [c.id for c in root.claims(person=person, kind="death")] == [answer.id]
    root.close()


def test_retries_are_bounded_when_the_server_is_gone() -> None:
    fast = Retry(attempts=3, backoff=0.05, max_backoff=0.1, budget=5)
    with Client(f"http://127.0.0.1:{free_port()}", token="x", retry=fast) as nowhere:
        with pytest.raises(Unavailable) as gone:
            nowhere.submit(DeathClaim(person="P-00000001", citation=Citation(source="S-00000001")))
    assert gone.value.status is None and "3 attempts" in gone.value.detail


def test_the_async_client(served: Served) -> None:
    async def scenario() -> None:
        async with AsyncClient(served.base, token=served.tokens["alice"]) as alice, \
                AsyncClient(served.base, token=served.tokens["carol"]) as carol:
            source = (await alice.register_source({"type": "book", "title": "Async"})).id
            fund = (await alice.register_fund("Async Fund", Citation(source=source))).id
            gift = await alice.submit(DonationClaim(fund=fund, donor="Berlin group", amount="10.00",
                                                    currency="DEM", citation=Citation(source=source)))
            approved = await carol.approve(gift.id, version=1)
            assert approved.status == "approved"
            assert (await alice.ledger(fund)).totals["DEM"].balance == "10.00"
            with pytest.raises(Invalid):
                await alice.submit({"kind": "donation"})
            positions = [e.position async for e in alice.events(after=0, page_size=50)]
            head = (await alice.head()).position
            assert positions == list(range(1, head + 1))
            followed = []
            async for event in alice.follow(after=head - 2, timeout=2):
                followed.append(event.position)
                if len(followed) == 2:
                    break
            assert followed == [head - 1, head]

    asyncio.run(scenario())


def test_the_readme_example_runs_against_the_demo(tmp_path, capsys: pytest.CaptureFixture) -> None:
    import re

    from starosta.service.tools.demo.load import load
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("## Python client"):readme.index("## Bulk submission")]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    db = str(tmp_path / "demo.db")
    load(db)
    proc, base = start_server(db)
    try:
        exec(code.replace("http://127.0.0.1:8000", base), {})
    finally:
        stop(proc)
    printed = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"C-\w+ pending", printed[0])
    said = re.search(r"# (\w+) \(typed: a Biography\)\n```", section).group(1)
    assert printed[1] == said


def test_the_client_imports_no_litestar() -> None:
    import subprocess
    import sys

    probe = ("import sys, starosta.client, starosta.service.tools.submit; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'litestar', 'granian'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def test_suppress_and_unsuppress_through_the_client(served: Served) -> None:
    with served.client("alice") as alice, served.client("bob") as bob, \
            served.client("root") as root, served.client() as anyone:
        source = alice.register_source({"type": "book", "title": "Client take-down"}).id
        cited = Citation(source=source, quote="Client-take-down-words")
        person = alice.register_person("Client Taken", Citation(source=source)).id
        stay = alice.submit(OccupationClaim(person=person, occupation="printer", citation=cited)).id
        bob.approve(stay)
        with pytest.raises(Forbidden):
            bob.suppress("claims", stay, "not an admin")
        taken = root.suppress("claims", stay, "a take-down")
        assert (taken.id, taken.kind, taken.suppressed, taken.reason) == (stay, "claim", True, "a take-down")
        shown = anyone.claim(stay)
        assert shown.suppressed is not None and shown.suppressed.reason == "a take-down"
        assert shown.claim == {}
        assert [t.claim for t in anyone.biography(person).suppressed] == [stay]
        assert root.suppress("persons", person, "asked").kind == "person"
        assert anyone.entity("persons", person)["label"] == "[suppressed]"
        assert root.unsuppress("persons", person, "withdrawn").suppressed is False
        assert root.unsuppress("claims", stay, "withdrawn").suppressed is False
        assert anyone.claim(stay).claim["occupation"] == "printer"


def test_identifications_and_place_merges_through_the_client(served: Served) -> None:
    """Issue 20: identify and unidentify (persons, organisations), merge places, with the
    reviewer's token; typed refusals."""
    with served.client("alice") as alice, served.client("bob") as bob, served.client() as anyone:
        source = alice.register_source({"type": "book", "title": "Client identities"}).id
        cite = Citation(source=source)
        sk = alice.register_person("S.– K.– client", cite).id
        kaplun = alice.register_person("Kaplun client", cite).id
        judged = bob.identify(sk, kaplun, "probable", "same months in Butyrki", Citation(source=source, locator="p. 3"))
        assert (judged.id, judged.judgement, judged.other) == (sk, "identified", kaplun)
        [shown] = anyone.entity("persons", kaplun)["identified_with"]
        assert (shown["id"], shown["certainty"], shown["citation"]["locator"]) == (sk, "probable", "p. 3")
        assert [i.id for i in anyone.biography(sk).identified_with] == [kaplun]
        with pytest.raises(Conflict):
            bob.identify(kaplun, sk, "possible", "again")
        with pytest.raises(Forbidden):
            alice.identify(sk, kaplun, "possible", "a contributor")
        assert bob.unidentify(kaplun, sk, "two men").judgement == "unidentified"
        a = alice.register_place("Butyrki client", "prison", cite).id
        b = alice.register_place("Butyrka client", "prison", cite).id
        assert bob.merge(a, b, "one prison", kind="places").judgement == "merged"
        assert anyone.entity("places", a)["id"] == b
        assert bob.unmerge(a, "no", kind="places").judgement == "unmerged"
        assert bob.distinct(a, b, "two prisons", kind="places").judgement == "distinct"
        with pytest.raises(Conflict):
            bob.identify(a, b, "possible", "?", kind="places")
        wild = alice.register_organization("Wildcat client", "group", cite).id
        seen = alice.register_organization("anarchists seen client", "group", cite).id
        assert bob.identify(seen, wild, "possible", "possibly a sighting", kind="organizations").other == wild
        [hit] = [h for h in anyone.search("organizations", "Wildcat client") if h.id == wild]
        assert [i.id for i in hit.identified_with] == [seen]
