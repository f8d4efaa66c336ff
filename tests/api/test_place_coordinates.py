"""Places' coordinates (issue 24, i24-places): given at registration with where they come from
(geography, not a claim about the past), shown in GET /places/{id}."""

from __future__ import annotations

from tests.api.conftest import Api


def test_a_place_registered_with_coordinates_and_their_source_shows_both(api: Api) -> None:
    s = api.source()
    r = api.post("/places", {"name": "Vorkuta", "kind": "camp", "latitude": 67.5,
                             "longitude": 64.05, "coordinates_source": "GeoNames, the modern town",
                             "citation": {"source": s}})
    assert r.status_code == 201, r.text
    data = api.get(f"/places/{r.json()['id']}").json()["data"]
    assert (data["latitude"], data["longitude"]) == (67.5, 64.05)
    assert data["coordinates_source"] == "GeoNames, the modern town"


def test_a_source_of_coordinates_without_coordinates_is_refused(api: Api) -> None:
    s = api.source()
    r = api.post("/places", {"name": "Kem", "kind": "camp", "coordinates_source": "GeoNames",
                             "citation": {"source": s}})
    assert r.status_code == 422, r.text
    assert "coordinates_source" in r.json()["detail"]
    unlocated = api.post("/places", {"name": "Monimo", "kind": "other", "citation": {"source": s}})
    assert "latitude" not in api.get(f"/places/{unlocated.json()['id']}").json()["data"]
