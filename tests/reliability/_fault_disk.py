"""A subprocess helper for test_faults.py (not a test module): the real app on a failing disk.

    python _fault_disk.py DB

Builds an archive at DB (tokens, a source, a person), serves it with Litestar's TestClient, then
caps the size of every file this process may grow (RLIMIT_FSIZE) at the sizes they have now,
with SIGXFSZ ignored: SQLite's next write past them fails with EFBIG, which it reports as
SQLITE_IOERR_WRITE, as it would a failing disk. It writes until a write is refused, reads, lifts
the cap and writes again, then prints one JSON line of what it saw (the test asserts on it).

Run in its own process because the cap holds for every file the process writes.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from litestar.testing import TestClient  # noqa: E402

from starosta.service.api.app import create_app  # noqa: E402
from starosta.service.settings import Settings  # noqa: E402
from tests.api.conftest import Api, make_tokens  # noqa: E402

MAX_WRITES = 500


def head(client: TestClient) -> int:
    return client.get("/events/head").json()["position"]


def answer(r) -> dict:
    return {"status": r.status_code, "type": r.headers.get("content-type", ""),
            "retry_after": r.headers.get("retry-after"),
            "replayed": r.headers.get("idempotent-replayed"), "body": r.json()}


def main(db: str) -> dict:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails, not the process
    tokens = make_tokens(db)
    seen: dict = {}
    with TestClient(create_app(Settings(db=db))) as client:
        api = Api(client, tokens)
        source = api.source("Failing disk notes (test)")
        person = api.person("Maria Spiridonova", source)
        biography = client.get(f"/persons/{person}/biography").json()
        files = [Path(db + suffix) for suffix in ("", "-wal", "-shm")]
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max(f.stat().st_size for f in files), hard))
        try:
            writes = []
            for i in range(MAX_WRITES):
                before = head(client)
                body = {"kind": "occupation", "person": person,
                        "occupation": f"occupation {i} " + "x" * 150,
                        "citation": {"source": source}}
                r = api.post("/claims", body, "alice", **{"Idempotency-Key": f"io-{i}"})
                writes.append({**answer(r), "head_before": before, "head_after": head(client)})
                if r.status_code != 201:
                    seen["refused"] = {"key": f"io-{i}", "body": body}
                    break
            seen["writes"] = writes
            seen["retry_while_failing"] = answer(api.post("/claims", seen["refused"]["body"], "alice", **{
                "Idempotency-Key": seen["refused"]["key"]})) if "refused" in seen else None
            seen["reads"] = {path: client.get(path).status_code for path in (
                "/health", f"/persons/{person}/biography", "/events?after=0", "/persons?q=spiridonova")}
            seen["biography_unchanged"] = client.get(f"/persons/{person}/biography").json() == biography
            seen["head_while_failing"] = head(client)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        if "refused" in seen:
            retry = api.post("/claims", seen["refused"]["body"], "alice",
                             **{"Idempotency-Key": seen["refused"]["key"]})
            seen["retry_after_recovery"] = answer(retry)
        seen["head_after_recovery"] = head(client)
        seen["verify"] = client.app.state.archive.store.verify().ok
    return seen


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])), flush=True)
