"""The demo says it (issue 21, item 7): Mollie Steimer's letter reports what the American press
attributed to her, and denies it; her biography shows the attributed statement as such and her
denial beside it, both ways, and GET /claims?denies= finds the denial. Quotes exact: the
demo's quote check (tests/integration/test_demo.py) covers these lines too."""

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


def test_the_demo_lines_are_an_attribution_and_its_denial() -> None:
    by_ref = {c["ref"]: c for c in commands()}
    attributed, denial = by_ref["steimer-press-happy"]["body"], by_ref["steimer-denial"]["body"]
    assert attributed["attributed_to"] == "@american-press"
    assert denial["denies"] == "@steimer-press-happy"
    assert "American press" in attributed["citation"]["quote"]
    assert denial["citation"]["quote"] == "This statement attributed to me, is a deliberate lie!"


def test_steimers_biography_shows_the_press_statement_attributed_and_her_denial_beside_it(
        demo: TestClient) -> None:
    hits = [h for h in demo.get("/persons", params={"q": "Steimer"}).json()["items"]
            if h["label"] == "Mollie Steimer"]
    assert len(hits) == 1
    document = demo.get(f"/persons/{hits[0]['id']}/biography").json()
    attributed = [e for e in document["timeline"] if e.get("attributed_to")]
    assert len(attributed) == 1
    (said,) = attributed
    assert said["attributed_to"]["label"] == "American press"
    assert "attributed" in said["flags"] and "denied" in said["flags"]
    (denial,) = said["denied_by"]
    assert denial["citation"]["quote"] == "This statement attributed to me, is a deliberate lie!"
    assert denial["said"] == "I was deeply grieved when I was forced to leave that country"
    (denying,) = [e for e in document["timeline"] if e["claim"] == denial["claim"]]
    assert denying["denies"]["claim"] == said["claim"]
    assert denying["denies"]["attributed_to"]["label"] == "American press"
    found = demo.get("/claims", params={"denies": said["claim"]}).json()["items"]
    assert [c["id"] for c in found] == [denial["claim"]]
    press = said["attributed_to"]["id"]
    assert [c["id"] for c in demo.get("/claims", params={"attributed_to": press}).json()["items"]] \
        == [said["claim"]]
