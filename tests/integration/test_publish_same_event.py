"""`starosta publish` carries a claim's `same_event` (issue 22) in the claims table: built
through the real app, published by the real command in a subprocess."""

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


def test_the_snapshot_holds_same_event_links(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    tokens = make_tokens(db)
    with TestClient(create_app(Settings(db=db))) as client:
        api = Api(client, tokens)
        source, other = api.source(), api.source("Memorial")
        person = api.person("Someone arrested", source)
        first = api.claim({"kind": "arrest", "person": person, "date": "1937",
                           "citation": {"source": source}})
        second = api.claim({"kind": "arrest", "person": person, "date": "1937-07",
                            "same_event": first, "citation": {"source": other}})
        for claim in (first, second):
            assert api.post(f"/claims/{claim}/approve", {}, "bob").status_code == 200
    out = tmp_path / "public.db"
    done = run_cli("publish", str(out), "--db", db, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r["same_event"] for r in sqlite_utils.Database(out)["claims"].rows
            if r["kind"] == "arrest"}
    assert rows == {first: None, second: first}
