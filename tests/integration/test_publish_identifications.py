"""`starosta publish` carries the identifications in force (issue 20): a table a Datasette user
can facet on by kind and certainty, without the reviewers' accounts, without withdrawn ones,
and without those naming a suppressed record. Built through the real app, published by the
real command in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from litestar.testing import TestClient

from starosta.service.api.app import create_app
from starosta.service.settings import Settings
from tests.api.conftest import Api, make_tokens
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def test_the_snapshot_holds_the_identifications_in_force(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    with TestClient(create_app(Settings(db=db))) as client:
        api = Api(client, tokens)
        source = api.source()
        sk, kaplun, third = (api.person(n, source) for n in ("S.– K.–", "Sergei Kaplun", "Someone"))
        wild = api.register("/organizations", {"name": "Wildcat anarchists", "kind": "group",
                                               "citation": {"source": source}})
        seen = api.register("/organizations", {"name": "anarchists seen", "kind": "group",
                                               "citation": {"source": source}})
        for path, body in ((f"/persons/{sk}/identify", {"with": kaplun, "certainty": "probable",
                                                        "reason": "same months",
                                                        "citation": {"source": source, "locator": "p. 3"}}),
                           (f"/organizations/{seen}/identify", {"with": wild, "certainty": "possible",
                                                                "reason": "possibly a sighting"}),
                           (f"/persons/{third}/identify", {"with": sk, "certainty": "possible", "reason": "x"}),
                           (f"/persons/{third}/unidentify", {"with": sk, "reason": "withdrawn"})):
            assert api.post(path, body, "bob").status_code == 200
        butyrki, butyrka = api.place("Butyrki", source), api.place("Butyrka", source)
        assert api.post(f"/places/{butyrki}/merge", {"into": butyrka, "reason": "one prison"},
                        "bob").status_code == 200
        assert api.post(f"/organizations/{seen}/merge", {"into": wild, "reason": "one group"},
                        "bob").status_code == 200
        hidden = api.person("Hidden one", source)
        assert api.post(f"/persons/{hidden}/identify", {"with": kaplun, "certainty": "possible",
                                                        "reason": "x"}, "bob").status_code == 200
        assert api.post(f"/persons/{hidden}/suppress", {"reason": "asked"}, "root").status_code == 200
    out = tmp_path / "public.db"
    done = run_cli("publish", str(out), "--db", db, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = list(sqlite_utils.Database(out)["identifications"].rows)
    assert sorted((r["kind"], r["record_id"], r["other"], r["certainty"]) for r in rows) == sorted([
        ("person", sk, kaplun, "probable"), ("organization", seen, wild, "possible")])
    [person] = [r for r in rows if r["kind"] == "person"]
    assert person["reason"] == "same months" and '"locator":"p. 3"' in person["citation"]
    assert person["position"] > 0 and "reviewer" not in person
    snapshot = sqlite_utils.Database(out)
    assert {r["id"]: r["merged_into"] for r in snapshot["places"].rows} == {butyrki: butyrka, butyrka: None}
    assert {r["id"]: r["merged_into"] for r in snapshot["organizations"].rows} == {seen: wild, wild: None}
