"""The demo archive: loaded through the real API, it holds the worked example in order, with
citations whose quotes stand in the seed texts, every review state, and money only where it is
marked synthetic.

The seed texts are third-party writing and stay outside the repository: the quote check reads
them from the directory STAROSTA_SEEDS names (.ci/run sets it) and is skipped where it is unset."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.tools.demo.load import DEMO_TOKENS, commands, load
from starosta.service.settings import Settings
from tests.conftest import run_cli

REVIEWER = {"Authorization": f"Bearer {DEMO_TOKENS['reviewer'][1]}"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[TestClient]:
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    counts = load(db)
    assert counts["claim"] >= 100 and counts["person"] >= 20
    with TestClient(create_app(Settings(db=db))) as client:
        yield client


def monclus(client: TestClient) -> str:
    hits = client.get("/persons", params={"q": "monclus"}).json()["items"]
    vicente = [h for h in hits if h["label"] == "Vicente Monclús Guallar"]
    assert len(vicente) == 1
    return vicente[0]["id"]


def test_monclus_is_found_and_his_itinerary_is_in_order(demo: TestClient) -> None:
    bio = demo.get(f"/persons/{monclus(demo)}/biography").json()
    # in order of their dates as written (the margins of approximate dates widen `earliest`,
    # not the order: docs/semantics.md, "Vague dates")
    dated = [min(d["earliest"] for d in e["dates"].values() if d.get("earliest"))
             for e in bio["timeline"] if any(d.get("earliest") for d in e["dates"].values())]
    assert dated == sorted(dated)
    days = {e["earliest"] for e in bio["timeline"] if e["earliest"]}
    # every dated step of DOMAIN.md's worked example
    for day in ("1938-01-01", "1940-01-25", "1940-09-01", "1941-09-01", "1942-01-01", "1944-01-01",
                "1948-01-29", "1950-01-01", "1950-04-20", "1951-01-02", "1955-04-01", "1956-01-06"):
        assert day in days, f"no step on {day}"
    kinds = {e["kind"] for e in bio["timeline"]}
    assert {"arrest", "custody", "sentence", "escape", "labour", "release", "custody_total"} <= kinds
    for entry in bio["timeline"]:
        assert entry["citation"]["source"]["id"] and entry["citation"]["source"]["label"]
    # the timeline names the places of his itinerary, in order (DOMAIN.md's worked example)
    stops = [e["fields"]["place"]["label"] for e in bio["timeline"]
             if e["kind"] == "custody" and isinstance(e["fields"].get("place"), dict)]
    wanted = ["Butyrka", "Vorkuta", "Samarkand", "Lubyanka", "Sukhanovka", "Lefortovo"]
    rest = iter(stops)  # each wanted place after the one before it: a subsequence
    assert all(any(w in s for s in rest) for w in wanted), stops
    assert bio["custody"]["stated"] and bio["custody"]["confinement"]["min_days"] > 0


def test_butyrka_in_1951_holds_monclus(demo: TestClient) -> None:
    butyrka = demo.get("/places", params={"q": "butyrka"}).json()["items"][0]["id"]
    population = demo.get(f"/places/{butyrka}/population", params={"at": "1951"}).json()
    assert monclus(demo) in [p["id"] for p in population["certain"]]


def test_every_review_state_shows(demo: TestClient) -> None:
    for status, least in (("approved", 100), ("pending", 3), ("disputed", 1)):
        items = demo.get("/claims", params={"status": status, "limit": 1000}, headers=REVIEWER).json()["items"]
        assert len(items) >= least, status


def seed_texts() -> str:
    """The seed texts (every *.txt in $STAROSTA_SEEDS) as one string; skips the test when the
    variable is unset, fails when it names a directory without them."""
    where = os.environ.get("STAROSTA_SEEDS")
    if not where:
        pytest.skip("STAROSTA_SEEDS is not set: it names the directory of the seed texts (third-party "
                    "writing, kept outside the repository), e.g. STAROSTA_SEEDS=../shared/seeds")
    texts = sorted(Path(where).glob("*.txt"))
    assert texts, f"STAROSTA_SEEDS={where}: no seed texts (*.txt) there"
    return "\n".join(p.read_text("utf-8") for p in texts)


def test_every_quote_stands_in_a_seed_text() -> None:
    seeds = seed_texts()
    quotes = [c["body"]["citation"]["quote"] for c in commands()
              if c["op"] == "claim" and c["body"]["citation"].get("quote")]
    assert len(quotes) >= 100
    missing = [q for q in quotes if q not in seeds]
    assert not missing, missing[:3]
    # the citations of places, organisations (the groups too), persons and funds as well
    others = [(c["ref"], c["body"]["citation"]["quote"]) for c in commands()
              if c["op"] != "claim" and c["body"].get("citation", {}).get("quote")]
    assert len(others) >= 50
    missing_refs = [ref for ref, q in others if q not in seeds]
    assert not missing_refs, missing_refs[:3]


def test_money_appears_only_where_marked_synthetic(demo: TestClient) -> None:
    with_amounts = [c for c in commands() if c["op"] == "claim" and "amount" in c["body"]]
    assert with_amounts
    for fund in demo.get("/funds", params={"limit": 100}).json()["items"]:
        ledger = demo.get(f"/funds/{fund['id']}/ledger").json()
        if ledger["totals"]:
            assert ledger["fund"]["synthetic"] is True, fund["label"]
            assert "synthetic" in fund["label"].lower()


def test_demo_cli_refuses_a_database_with_events(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    first = run_cli("demo", "--db", db, timeout=120)
    assert first.returncode == 0 and "demo-contributor-token" in first.stdout
    again = run_cli("demo", "--db", db)
    assert again.returncode != 0 and "is the demo archive already" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    quiet = run_cli("demo", "--db", db, "--if-empty")
    assert quiet.returncode == 0 and "not loading it again" in quiet.stdout
    events = msgspec.json.decode(run_cli("export", "log", "--db", db).stdout.splitlines()[0])
    assert events["position"] == 1


# -- issue 10, item 13: what the seeds say, with groups, companions, ranges, durations, certainty,
# bounds from the story's order, conflicts and names as written --------------------------------------

def every_claim(client: TestClient, **params: str) -> list[dict]:
    """Every claim the demo reviewer may see (all states), oldest first, filtered as /claims does."""
    out: list[dict] = []
    after = None
    while True:
        page = client.get("/claims", params={**params, "limit": 1000, **({"after": after} if after else {})},
                          headers=REVIEWER).json()
        out += page["items"]
        after = page["next"]
        if not after:
            return out


def entity(client: TestClient, kind: str, q: str, label: str) -> str:
    """The id of the one person, place or organisation with this label found by `q`."""
    hits = [h for h in client.get(f"/{kind}", params={"q": q, "limit": 100}).json()["items"] if h["label"] == label]
    assert len(hits) == 1, (q, label, hits)
    return hits[0]["id"]


def bounds(item: dict, field: str) -> tuple[str | None, str | None]:
    """The earliest and latest possible days of a claim's date field, as the archive computed them."""
    d = item["dates"].get(field)
    return (d["earliest"], d["latest"]) if d else (None, None)


def by_quote(items: list[dict], words: str) -> list[dict]:
    return [i for i in items if words in (i["claim"]["citation"].get("quote") or "")]


FOSTER = "Spanish anti-fascists held in the USSR (Foster's three groups)"
FOSTER_PARTS = ("Republican pilot trainees stranded in the USSR (Foster)",
                "Sailors of the Spanish merchant navy stranded in the USSR (Foster)",
                "Spanish civilians who had worked with evacuated children (Foster)",
                "The 18 who accepted Soviet citizenship (Foster)")
PILOTS_40 = "Spanish pilots in the USSR (the group of 40)"


def test_the_spaniards_route_is_told_of_a_group(demo: TestClient) -> None:
    """Foster's abstract: stranded in March 1939, arrested in 1941 and sent to Novosibirsk Transit
    Prison, together in a camp in Kazakhstan from 1942 to 1948, moved near Odessa in 1948; 18
    released, the rest held until 1954 or 1956; work stoppages and hunger strikes."""
    foster = entity(demo, "organizations", "foster", FOSTER)
    parts = [entity(demo, "organizations", "foster", name) for name in FOSTER_PARTS]
    pilots, sailors, civilians, eighteen = parts
    for group in (foster, *parts):
        data = demo.get(f"/organizations/{group}").json()["data"]
        assert data["kind"] == "group"
        assert data.get("parent") == (None if group == foster else foster)
    told = [i for i in every_claim(demo) if i["status"] == "approved"
            and i["claim"].get("group") in (foster, *parts)]

    def one(group: str, kind: str, **fields: str) -> dict:
        found = [i for i in told if i["claim"]["group"] == group and i["kind"] == kind
                 and all(i["claim"].get(k) == v for k, v in fields.items())]
        assert len(found) == 1, (group, kind, fields, found)
        return found[0]

    ussr = entity(demo, "places", "ussr", "USSR")
    novosibirsk = entity(demo, "places", "novosibirsk", "Novosibirsk Transit Prison")
    karaganda = entity(demo, "places", "karaganda", "Karaganda")
    odessa = entity(demo, "places", "odessa", "Camp near Odessa")
    for group in (pilots, sailors):
        assert bounds(one(group, "presence", place=ussr), "start") == ("1939-03-01", "1939-03-31")
        assert bounds(one(group, "arrest"), "date") == ("1941-01-01", "1941-12-31")
        stay = one(group, "custody", place=novosibirsk)
        assert bounds(stay, "start") == ("1941-01-01", "1941-12-31")
        assert bounds(stay, "end") == ("1941-01-01", "1942-12-31")  # together in Kazakhstan by 1942
    assert one(civilians, "arrest")["claim"]["said"] == "Also detained were several civilians"
    camp = one(foster, "custody", place=karaganda)
    assert (bounds(camp, "start"), bounds(camp, "end")) == (("1942-01-01", "1942-12-31"), ("1948-01-01", "1948-12-31"))
    assert demo.get(f"/places/{karaganda}").json()["data"]["parent"] == entity(demo, "places", "kazakhstan", "Kazakhstan")
    moved = one(foster, "transfer", from_place=karaganda, to_place=odessa)
    assert bounds(moved, "date") == ("1948-01-01", "1948-12-31")
    assert bounds(one(foster, "custody", place=odessa), "start") == ("1948-01-01", "1948-12-31")
    released = one(eighteen, "release")
    assert released["claim"]["count"] == 18 and bounds(released, "date") == ("1948-01-01", None)
    rest = one(foster, "custody", place_said="the Gulag system")
    assert rest["claim"]["end"] == "1954/1956" and bounds(rest, "end") == ("1954-01-01", "1956-12-31")
    assert {i["claim"]["protest"] for i in told if i["kind"] == "protest"} == {"work_stoppage", "hunger_strike"}
    # the 66 in Kazakhstan on 1 January 1943 are a count of that group; the 18 of theirs
    counts = {(i["claim"]["group_id"], msgspec.json.encode(i["claim"]["count"]).decode())
              for i in every_claim(demo, kind="aggregate") if i["claim"].get("group_id")}
    assert {(foster, "66"), (eighteen, "18")} <= counts


def test_the_named_spaniards_are_members_of_their_group(demo: TestClient) -> None:
    """'8 of the pilots, including Vicente Monclús'; 'Two of the group of 40 pilots, Rafael
    Estrella and Lloret'. Foster's abstract names nobody, so his groups have no named member."""
    forty = entity(demo, "organizations", "group of 40", PILOTS_40)
    eight = entity(demo, "organizations", "butyrka", "The 8 Spanish pilots removed to Butyrka (25-1-1940)")
    members = {(i["claim"]["organization"], i["refs"]["person"]["label"])
               for i in every_claim(demo, kind="membership") if i["status"] == "approved"}
    assert {(forty, "Vicente Monclús Guallar"), (forty, "Rafael Estrella"), (forty, "Lloret"),
            (eight, "Vicente Monclús Guallar")} <= members
    foster = {entity(demo, "organizations", "foster", name) for name in (FOSTER, *FOSTER_PARTS)}
    assert not {org for org, _ in members} & foster
    # the eight as a group: Butyrka from 25-1-1940, then the Vorkuta railway in September 1940
    butyrka = entity(demo, "places", "butyrka", "Butyrka")
    stays = [i for i in every_claim(demo, kind="custody") if i["claim"].get("group") == eight]
    assert {(i["claim"].get("place"), i["claim"].get("count")) for i in stays} >= {(butyrka, 8)}
    # the rest of the forty: inmates in Kasafia in 1943
    rest = entity(demo, "organizations", "kasafia", "The rest of the 40 Spanish pilots (Kasafia, 1943)")
    kasafia = [i for i in every_claim(demo, kind="custody") if i["claim"].get("group") == rest]
    assert len(kasafia) == 1
    assert bounds(kasafia[0], "start")[1] == "1943-12-31" and bounds(kasafia[0], "end")[0] == "1943-01-01"


def test_kazakhstan_in_1943_holds_the_spaniards_group(demo: TestClient) -> None:
    kazakhstan = entity(demo, "places", "kazakhstan", "Kazakhstan")
    population = demo.get(f"/places/{kazakhstan}/population",
                          params={"at": "1943", "include_children": "true"}).json()
    foster = entity(demo, "organizations", "foster", FOSTER)
    (group,) = [g for g in population["groups"] if g["id"] == foster]
    assert group["name"] == FOSTER and group["claims"]
    # only through include_children: the camp is under Kazakhstan
    alone = demo.get(f"/places/{kazakhstan}/population", params={"at": "1943"}).json()
    assert foster not in [g["id"] for g in alone["groups"]]
    # the organisation's own timeline tells the route
    org = demo.get(f"/organizations/{foster}").json()
    route = [(e["kind"], (e.get("place") or {}).get("label"), e["earliest"]) for e in org["timeline"]]
    assert route[0] == ("custody", "Karaganda", "1942-01-01")
    assert ("custody", "Camp near Odessa", "1948-01-01") in route


def test_escape_companions_are_named_on_one_claim(demo: TestClient) -> None:
    """'Together with Juan Salas from Barcelona and José Jirones from Reus, Vicente escaped':
    one escape, his, with two companions, no longer three unlinked claims."""
    vicente = monclus(demo)
    salas = entity(demo, "persons", "juan salas", "Juan Salas")
    jirones = entity(demo, "persons", "jose jirones", "José Jirones")
    escapes = by_quote(every_claim(demo, kind="escape"), "Together with Juan Salas")
    assert len(escapes) == 1
    claim = escapes[0]["claim"]
    assert claim["person"] == vicente and "with" not in claim  # stored as participants (issue 20)
    assert sorted(p["ref"] for p in claim["participants"] if p["role"] == "companion") == \
        sorted([salas, jirones])
    assert not [i for i in every_claim(demo, kind="escape") if i["claim"].get("person") in (salas, jirones)]
    # dated by the story's order: after the dispatch to Vorkuta, before September 1941
    assert bounds(escapes[0], "date") == ("1940-09-01", "1941-09-30")
    assert bounds(escapes[0], "recaptured") == ("1940-12-01", "1941-09-30")


def test_people_in_roles_the_demo_could_not_say_before(demo: TestClient) -> None:
    """Issue 20: 'he ran into the Spaniards Francisco Ramón Molina and Juan Blasco Cobo' in the
    secret location (both in role encountered), and 'Lazarevitch relates' the Butyrki regime
    (informant): each in their own biography, with their role, and found by GET /claims."""
    vicente = monclus(demo)
    molina = entity(demo, "persons", "ramon molina", "Francisco Ramón Molina")
    blasco = entity(demo, "persons", "blasco cobo", "Juan Blasco Cobo")
    lazarevitch = entity(demo, "persons", "lazarevitch", "Lazarevitch")
    (encounter,) = by_quote(every_claim(demo, kind="presence"), "he ran into the Spaniards")
    assert encounter["status"] == "approved" and encounter["claim"]["person"] == vicente
    assert [(p["ref"], p["role"]) for p in encounter["claim"]["participants"]] == [
        (molina, "encountered"), (blasco, "encountered")]
    for person in (molina, blasco):
        timeline = demo.get(f"/persons/{person}/biography").json()["timeline"]
        (mine,) = [e for e in timeline if e["claim"] == encounter["id"]]
        assert mine["through"] == "participant" and mine["roles"] == ["encountered"]
        assert mine["fields"]["person"] == {"id": vicente, "label": "Vicente Monclús Guallar"}
    found = demo.get("/claims", params={"participant": molina, "role": "encountered"}).json()
    assert [c["id"] for c in found["items"]] == [encounter["id"]]
    (regime,) = by_quote(every_claim(demo, kind="custody"), "Lazarevitch relates")
    assert regime["status"] == "approved"
    assert regime["claim"]["participants"] == [{"ref": lazarevitch, "role": "informant",
                                               "said": "Lazarevitch"}]
    (told,) = [e for e in demo.get(f"/persons/{lazarevitch}/biography").json()["timeline"]
               if e["claim"] == regime["id"]]
    assert told["through"] == "participant" and told["roles"] == ["informant"]
    assert told["fields"]["place"]["label"] == "Butyrka"
    found = demo.get("/claims", params={"role": "informant"}).json()
    assert [c["id"] for c in found["items"]] == [regime["id"]]


def test_ranges_a_colony_of_4_to_20_and_a_minimum_of_10_to_12_roubles(demo: TestClient) -> None:
    colonies = by_quote(every_claim(demo, kind="aggregate"), "4 or 5 or even 20")
    assert [i["claim"]["count"] for i in colonies] == [{"min": 4, "max": 20}]
    sk = entity(demo, "persons", "north of siberia", "S.– K.– (North of Siberia)")
    allowances = [i for i in every_claim(demo, kind="allowance", person=sk) if i["status"] == "approved"]
    amounts = {msgspec.json.encode(i["claim"]["amount"]).decode() for i in allowances}
    assert amounts == {'"6.25"', '{"min":"10","max":"12"}'}
    assert {(i["claim"]["currency"], i["claim"]["period"]) for i in allowances} == {("SUR", "month")}


def test_durations_the_text_gives(demo: TestClient) -> None:
    vicente = monclus(demo)
    mine = [i for i in every_claim(demo, person=vicente) if i["status"] == "approved"]

    def told(words: str, kind: str = "custody") -> dict:
        found = [i for i in by_quote(mine, words) if i["kind"] == kind]
        assert len(found) == 1, words
        return found[0]

    six = told("after six months locked up")  # at Kizobabad: custody, six months
    assert (six["kind"], six["claim"]["duration"]) == ("custody", "P6M")
    # the story's bounds (1938 to June 1939, start and end), narrowed by the six months
    assert bounds(six, "start") == ("1938-01-01", "1939-01-01")
    assert bounds(six, "end") == ("1938-06-30", "1939-06-30")
    two = told("two hungry, wretched years")  # banished to Samarkand on 29-1-1948
    assert (two["kind"], two["claim"]["duration"]) == ("custody", "P2Y")
    assert bounds(two, "end") == ("1950-01-28", "1950-01-28")  # no end written: the duration gives it
    five = told("a further five years locked up")
    assert (five["kind"], five["claim"]["duration"], five["dates"]) == ("custody", "P5Y", {})  # cannot fit the story's bounds
    assert told("spent 18 years living in the USSR", "presence")["claim"]["duration"] == "P18Y"
    others = {i["claim"]["duration"] for i in every_claim(demo, kind="custody")
              if i["claim"].get("person") in (entity(demo, "persons", "ramon sanz", "Ramón Sanz Almudévar"),
                                               entity(demo, "persons", "steimer", "Mollie Steimer"))
              and i["claim"].get("duration")}
    assert others == {"P4Y", "P2Y"}  # 'jailed for 4 years'; 'two years in an American prison'


def test_undated_steps_of_the_itinerary_are_bounded_by_the_story(demo: TestClient) -> None:
    vicente = monclus(demo)
    presences = {i["claim"]["place"]: i for i in every_claim(demo, person=vicente, kind="presence")
                 if i["status"] == "approved" and i["claim"].get("place")}
    school = presences[entity(demo, "places", "moscow", "Moscow")]
    assert bounds(school, "start") == ("1939-06-01", "1939-09-30")
    assert bounds(school, "end") == ("1939-09-01", "1940-01-25")
    monimo = presences[entity(demo, "places", "monimo", "Monimo")]
    assert bounds(monimo, "start") == bounds(monimo, "end") == ("1939-09-01", "1940-01-25")
    for place in ("Rouen", "Leningrad"):
        step = presences[entity(demo, "places", place.lower(), place)]
        assert bounds(step, "start") == bounds(step, "end") == ("1938-01-01", "1939-06-30")
    # the disputed presence at Kizobabad (approved, then contested) is superseded by the custody its contest asks for
    old = [i for i in every_claim(demo, person=vicente, kind="presence") if i["status"] == "disputed"]
    assert len(old) == 1 and old[0]["superseded_by"]
    new = demo.get(f"/claims/{old[0]['superseded_by']}").json()
    assert (new["status"], new["kind"], new["claim"]["duration"]) == ("approved", "custody", "P6M")


def test_the_forty_pilots_against_the_38_strong_team(demo: TestClient) -> None:
    """Two counts of one registered group that disagree, one of them undated: a conflict by the
    rule of ../shared/API.md (Resolutions, Groups)."""
    forty = entity(demo, "organizations", "group of 40", PILOTS_40)
    counts = [i for i in every_claim(demo, kind="aggregate")
              if i["status"] == "approved" and i["claim"].get("group_id") == forty]
    assert sorted(i["claim"]["count"] for i in counts) == [38, 40]
    assert len({i["claim"]["status"] for i in counts}) == 1
    assert any(not i["dates"] for i in counts)  # the 38-strong team: undated


def test_martsinkevitch_died_against_murdered(demo: TestClient) -> None:
    vera = entity(demo, "persons", "martsinkevitch", "Vera Alexandrovna Martsinkevitch")
    deaths = [i for i in every_claim(demo, person=vera, kind="death") if i["status"] == "approved"]
    assert {i["claim"]["manner"] for i in deaths} == {"died_in_camp", "killed"}
    assert {(i["claim"]["date"], i["claim"]["place"]) for i in deaths} == {("1925-04", deaths[0]["claim"]["place"])}
    conflicts = demo.get(f"/persons/{vera}/biography").json()["conflicts"]
    manner = [c for c in conflicts if c["kind"] == "death_manner"]
    assert len(manner) == 1 and sorted(manner[0]["claims"]) == sorted(i["id"] for i in deaths)


def test_persons_as_the_source_writes_them(demo: TestClient) -> None:
    n = entity(demo, "persons", "central russia", "N. (Central Russia)")
    sk = entity(demo, "persons", "north of siberia", "S.– K.– (North of Siberia)")
    letter = [i for i in every_claim(demo, person=n, kind="letter")]
    assert [i["claim"]["person_said"] for i in letter] == ["N. (Central Russia)"]
    said = {i["kind"]: i["claim"].get("person_said") for i in every_claim(demo, person=sk)
            if i["kind"] in ("letter", "allowance")}
    assert said == {"letter": "S.– K.– (North of Siberia)", "allowance": "S.– K.– (North of Siberia)"}
    brothers = by_quote(every_claim(demo, kind="relation"), "his brother Manuel")
    assert [i["claim"]["other_said"] for i in brothers] == ["his brother Manuel"]


def test_certainty_where_the_seed_hedges(demo: TestClient) -> None:
    """'most likely members of the CNT and the collective', said of the eight Abiego residents
    jailed, then shot; 'Kizobabad [presumably Kirovabad]'."""
    likely = by_quote(every_claim(demo), "most likely members of the CNT")
    assert len(likely) == 16 and {i["claim"]["certainty"] for i in likely} == {"probable"}
    assert {i["kind"] for i in likely} == {"affiliation", "membership"}
    assert len({i["claim"]["person"] for i in likely}) == 8
    kizobabad = by_quote(every_claim(demo, kind="custody"), "after six months locked up")
    assert [i["claim"]["certainty"] for i in kizobabad] == ["probable"]


# -- issue 20, item 6: statements about groups ---------------------------------------------------

def test_the_pilots_and_the_abiego_men_are_the_subjects_of_their_statements(demo: TestClient) -> None:
    """'they were sentenced to 8 years' penal servitude, accused of being Trotskyists and fifth
    columnists' is the eight pilots'; 'They were all young men, farmers, shepherds and shearers'
    is the Abiego men's: each is the group's claim, on its record, and in each named member's
    biography through the group."""
    eight = entity(demo, "organizations", "butyrka", "The 8 Spanish pilots removed to Butyrka (25-1-1940)")
    steps = demo.get(f"/organizations/{eight}").json()["timeline"]
    said = {s["kind"]: s["fields"] for s in steps if s["kind"] in ("sentence", "accusation")}
    assert said == {"sentence": {"sentence": "penal_servitude", "term": "8 years' penal servitude",
                                 "term_iso": "P8Y"},
                    "accusation": {"accusation": "Trotskyists and fifth columnists"}}
    bio = demo.get(f"/persons/{monclus(demo)}/biography").json()
    through = {e["kind"] for e in bio["timeline"] if e.get("through") == "group"
               and e["member_of"]["group"]["id"] == eight}
    assert {"sentence", "accusation", "custody", "transfer"} <= through
    abiego = entity(demo, "organizations", "abiego", "Abiego residents jailed, then shot (1936-1945)")
    jobs = every_claim(demo, group=abiego, kind="occupation")
    assert sorted(i["claim"]["occupation"] for i in jobs) == ["farmers", "shearers", "shepherds"]
    assert {i["status"] for i in jobs} == {"approved"}
    members = demo.get(f"/organizations/{abiego}").json()["members"]
    assert len(members) == 8
    for member in members:
        bio = demo.get(f"/persons/{member['id']}/biography").json()
        shown = sorted(e["fields"]["occupation"] for e in bio["timeline"] if e.get("through") == "group")
        assert shown == ["farmers", "shearers", "shepherds"], member
