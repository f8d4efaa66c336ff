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


def test_a_reviewer_locates_a_place_registered_without_coordinates(api: Api) -> None:
    s = api.source()
    place = api.post("/places", {"name": "Solovki", "kind": "camp",
                                 "citation": {"source": s}}).json()["id"]
    body = {"latitude": 65.02, "longitude": 35.71, "coordinates_source": "GeoNames, the islands"}
    refused = api.post(f"/places/{place}/location", body, who="alice")  # a contributor
    assert refused.status_code == 403, refused.text
    r = api.post(f"/places/{place}/location", body, who="bob")
    assert r.status_code == 201, r.text
    assert r.json()["id"] == place
    data = api.get(f"/places/{place}").json()["data"]
    assert (data["latitude"], data["longitude"], data["coordinates_source"]) == \
        (65.02, 35.71, "GeoNames, the islands")
    again = api.post(f"/places/{place}/location", {**body, "latitude": 65.03,
                                                   "coordinates_source": "a better map"}, who="bob")
    assert again.status_code == 201, again.text
    data = api.get(f"/places/{place}").json()["data"]
    assert (data["latitude"], data["coordinates_source"]) == (65.03, "a better map")  # the latest
    assert data["label"] == "Solovki" and data["kind"] == "camp"  # the rest as registered


def test_a_location_names_its_source_and_a_real_place(api: Api) -> None:
    s = api.source()
    place = api.post("/places", {"name": "Kem", "kind": "camp", "citation": {"source": s}}).json()["id"]
    missing = api.post(f"/places/{place}/location", {"latitude": 64.95, "longitude": 34.58},
                       who="bob")
    assert missing.status_code == 422 and "coordinates_source" in missing.text
    wrong = api.post(f"/places/{place}/location", {"latitude": 95, "longitude": 34.58,
                                                   "coordinates_source": "x"}, who="bob")
    assert wrong.status_code == 422 and "latitude" in wrong.text
    unknown = api.post("/places/PL-NOSUCH01/location", {"latitude": 1, "longitude": 2,
                                                         "coordinates_source": "x"}, who="bob")
    assert unknown.status_code == 404
