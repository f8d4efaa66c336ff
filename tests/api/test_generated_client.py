"""A client generated from the served document works: openapi-python-client (a real generator,
not ours) builds a package from /schema/openapi.json with no warning, and that package reads a
biography and submits a claim against `starosta serve` on the demo archive, getting typed
answers, and typed problem documents for errors."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from starosta.service.tools.demo.load import DEMO_TOKENS, load
from tests.conftest import start_server, stop

GENERATOR = str(Path(sys.executable).with_name("openapi-python-client"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = str(tmp_path_factory.mktemp("generated") / "demo.db")
    load(db)
    proc, base = start_server(db)
    try:
        yield base
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def generated(served: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The package openapi-python-client generates from the served document, imported."""
    out = tmp_path_factory.mktemp("client")
    document = out / "openapi.json"
    document.write_bytes(httpx.get(f"{served}/schema/openapi.json", timeout=10).content)
    # the generator runs ruff (a dependency of it) from PATH on what it wrote
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run([GENERATOR, "generate", "--path", str(document), "--meta", "none",
                          "--output-path", str(out / "starosta_client")],
                         capture_output=True, text=True, timeout=300, cwd=out, env=env)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "WARNING" not in output and "omitted" not in output, output
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("starosta_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.startswith("starosta_client")]:
            del sys.modules[name]


@pytest.mark.slow
def test_the_generated_client_reads_a_biography(served: str, generated) -> None:
    from starosta_client import AuthenticatedClient, Client
    from starosta_client.api.biographies import persons_person_id_biography_biography as bio
    from starosta_client.api.registry import persons_find
    from starosta_client.models import Biography, Problem, SearchPage

    with Client(base_url=served) as client:  # a reader: no token
        found = persons_find.sync(client=client, q="monclus")
        assert isinstance(found, SearchPage)
        vicente = next(h for h in found.items if h.label == "Vicente Monclús Guallar")
        anonymous = bio.sync(vicente.id, client=client)  # type: ignore[arg-type]
        assert isinstance(anonymous, Biography), anonymous
    # the generator types operations with an optional token as AuthenticatedClient; with one:
    with AuthenticatedClient(base_url=served, token=DEMO_TOKENS["contributor"][1]) as client:
        document = bio.sync(vicente.id, client=client)
        assert isinstance(document, Biography), document
        assert document.label == "Vicente Monclús Guallar"
        assert any(entry.kind == "custody" for entry in document.timeline)
        missing = bio.sync_detailed("P-NOBODY", client=client)
        assert missing.status_code == 404 and isinstance(missing.parsed, Problem)
        assert missing.parsed.errors[0].field == "person_id"


@pytest.mark.slow
def test_the_generated_client_submits_a_claim(served: str, generated) -> None:
    from starosta_client import AuthenticatedClient
    from starosta_client.api.claims import claims_claim_id_read, claims_submit
    from starosta_client.api.registry import persons_find, sources_register
    from starosta_client.models import (
        Citation,
        ClaimOut,
        OccupationClaim,
        Problem,
        SourceIn,
        SourceInCsl,
        Submitted,
    )
    from starosta_client.models.created import Created

    token = DEMO_TOKENS["contributor"][1]
    with AuthenticatedClient(base_url=served, token=token) as client:
        csl = SourceInCsl.from_dict({"type": "document",
                                     "title": "Generated-client notes (not historical)"})
        source = sources_register.sync(client=client, body=SourceIn(csl=csl))
        assert isinstance(source, Created), source
        person = persons_find.sync(client=client, q="monclus").items[0].id
        claim = OccupationClaim(kind="occupation", person=person,
                                occupation="generated-client test (not historical)",
                                citation=Citation(source=source.id))
        submitted = claims_submit.sync(client=client, body=claim)
        assert isinstance(submitted, Submitted) and submitted.status == "pending"
        read = claims_claim_id_read.sync(submitted.id, client=client)
        assert isinstance(read, ClaimOut) and read.status == "pending"
        # an error comes back typed, naming the field
        bad = OccupationClaim(kind="occupation", person=person, occupation="x",
                              citation=Citation(source="S-NOWHERE"))
        refused = claims_submit.sync_detailed(client=client, body=bad)
        assert refused.status_code == 404 and isinstance(refused.parsed, Problem)
        assert refused.parsed.errors[0].field == "citation.source"
