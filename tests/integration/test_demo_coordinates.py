"""The demo's places carry coordinates where the place is identified (modern geography, with
where it comes from), and none where the seeds leave it unidentified or it is a region."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from starosta.service.tools.demo.load import commands, load


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[TestClient]:
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    load(db)
    with TestClient(create_app(Settings(db=db))) as client:
        yield client


def place(client: TestClient, name: str) -> dict:
    hits = client.get("/places", params={"q": name}).json()["items"]
    assert hits, name
    return client.get(f"/places/{hits[0]['id']}").json()["data"]


def test_the_demos_identified_places_have_coordinates_and_say_where_they_come_from(demo) -> None:
    for name, lat, lon in [("Butyrka", 55.78, 37.59), ("Vorkuta", 67.5, 64.05),
                           ("Samarkand", 39.65, 66.96), ("Kirovabad", 40.68, 46.36)]:
        data = place(demo, name)
        assert (data["latitude"], data["longitude"]) == (lat, lon), name
        assert "modern geography, not a claim of the seeds" in data["coordinates_source"]
    for name in ["Monimo", "Kasafia", "Siberia", "USSR"]:  # unidentified, a region, a country
        assert "latitude" not in place(demo, name), name


def test_every_located_demo_place_says_where_its_coordinates_come_from() -> None:
    located = [c for c in commands() if c["op"] == "place" and "latitude" in c["body"]]
    assert len(located) >= 20
    for c in located:
        body = c["body"]
        assert -90 <= body["latitude"] <= 90 and -180 <= body["longitude"] <= 180, c["ref"]
        assert body["coordinates_source"].startswith("modern geography"), c["ref"]
        assert round(body["latitude"], 2) == body["latitude"], c["ref"]  # rounded, approximate
