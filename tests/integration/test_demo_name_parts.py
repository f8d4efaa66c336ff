"""Names in parts in the demo and its snapshot (issue 20, item 4): the demo gives parts only
where the seed texts set them apart (the brothers Vicente and Joaquín share "Monclús Guallar";
the review's "[Aron] Baron" inserts the first name; the heading "Mollie ‘Alexander Berkman in
skirts’ Steimer" puts the nickname between the two), `GET /persons?order=surname` lists them
first, by surname, everyone else after by label; `starosta publish` carries the parts in its
`names` table."""

from __future__ import annotations

import pytest

from starosta.projections.name_keys import sort_key
from tests.integration.test_publish import Published, published  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def test_the_demo_lists_persons_by_surname(published: Published) -> None:  # noqa: F811
    hits, after = [], None
    while True:
        params = {"order": "surname", "limit": 25, **({"after": after} if after else {})}
        r = published.api.get("/persons", params=params)
        assert r.status_code == 200, r.text
        hits += r.json()["items"]
        after = r.json()["next"]
        if after is None:
            break
    assert [(h["label"], h["surname"]) for h in hits[:4]] == [
        ("Aron Baron", "Baron"), ("Joaquín Monclús Guallar", "Monclús Guallar"),
        ("Vicente Monclús Guallar", "Monclús Guallar"), ("Mollie Steimer", "Steimer")]
    rest = [h["label"] for h in hits[4:]]
    assert all(h["surname"] is None for h in hits[4:]) and rest == sorted(rest, key=sort_key)
    assert len(hits) == len({h["id"] for h in hits})
    listing = published.api.get("/persons", params={"limit": 100}).json()["items"]
    assert {h["id"] for h in hits} == {h["id"] for h in listing}  # the same persons, reordered


def test_the_snapshot_names_table_carries_the_parts(published: Published) -> None:  # noqa: F811
    db = published.snapshot()
    rows = {r["name"]: r for r in db.query(
        "SELECT name, surname, given, patronymic, particle FROM names WHERE entity_type = 'person'")}
    assert rows["Vicente Monclús Guallar"] == {"name": "Vicente Monclús Guallar", "surname": "Monclús Guallar",
                                               "given": "Vicente", "patronymic": None, "particle": None}
    assert rows["Aron Baron"]["given"] == "Aron" and rows["Aron Baron"]["surname"] == "Baron"
    assert rows["Maria Spiridonova"]["surname"] is None  # the seed does not set her names apart
