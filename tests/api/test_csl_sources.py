"""Every valid CSL-JSON item registers and reads back (issue 10): items of every CSL type, with
a title and without one (letters, interviews, archive files), written here (no external test
suite is copied); an untitled item's label is built from its container, archive reference,
authors and year."""

from __future__ import annotations

import pytest

from starosta.service.domain.csl import validator
from tests.api.conftest import Api

TYPES = validator().schema["properties"]["type"]["enum"]


def test_the_schema_knows_the_csl_types() -> None:
    assert len(TYPES) >= 40 and {"book", "personal_communication", "interview", "manuscript",
                                 "post-weblog", "article-newspaper"} <= set(TYPES)


# The CSL types are the schema's and the label rule's, not the database's: each type on SQLite;
# what a PostgreSQL archive stores and reads back of an item is tested on both backends below.
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("csl_type", TYPES)
def test_every_csl_type_registers_with_and_without_a_title(api: Api, csl_type: str) -> None:
    titled = {"type": csl_type, "title": f"A {csl_type} (test, not historical)",
              "author": [{"family": "Tester", "given": "T."}], "issued": {"date-parts": [[1926, 5]]}}
    untitled = {"type": csl_type, "author": [{"literal": "N. (Central Russia)"}],
                "issued": {"date-parts": [[1926]]}, "archive": "Test archive (not historical)",
                "archive_location": "f. 1, op. 2, d. 3"}
    for csl, label in ((titled, titled["title"]),
                       (untitled, "Test archive (not historical), f. 1, op. 2, d. 3; "
                                  "N. (Central Russia) (1926)")):
        answer = api.post("/sources", {"csl": csl})
        assert answer.status_code == 201, answer.text
        source = api.get(f"/sources/{answer.json()['id']}").json()
        assert source["data"]["csl"] == csl and source["label"] == label


@pytest.mark.parametrize("csl, label", [
    ({"type": "personal_communication", "author": [{"family": "Steimer", "given": "Mollie"}],
      "recipient": [{"family": "Sarnoff", "given": "Lily"}]}, "Steimer, Mollie"),
    ({"type": "interview", "interviewer": [{"literal": "Test Interviewer"}],
      "issued": {"raw": "1990"}}, "interview (1990)"),
    ({"type": "manuscript", "archive": "Test archive", "archive_location": "box 4"},
     "Test archive, box 4"),
    ({"type": "article-newspaper", "container-title": "Freedom", "issued": {"date-parts": [[1924, 1]]}},
     "Freedom (1924)"),
    ({"type": "document", "id": "zotero-1234", "title": "With an id of its own"},
     "With an id of its own"),
])
def test_an_untitled_item_is_labelled_from_what_it_has(api: Api, csl: dict, label: str) -> None:
    answer = api.post("/sources", {"csl": csl})
    assert answer.status_code == 201, answer.text
    assert api.get(f"/sources/{answer.json()['id']}").json()["label"] == label
    hits = api.get("/claims", source=answer.json()["id"])
    assert hits.status_code == 200
