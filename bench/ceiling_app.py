"""The ceilings for the HTTP benchmarks: a bare Litestar app, served exactly like the real one.

    GET  /doc/{size}  a stored JSON document of exactly `size` bytes (built once per size,
                      then answered from memory), to compare with a project document of
                      the same size
    POST /claims      the body decoded into a msgspec Struct, answered 201 with a small JSON
                      body (what a write endpoint minus the work)
    GET  /health      {"status": "ok"}: for the start-up check only

    python bench/ceiling_app.py --port 8100   # granian, one worker, uvloop, 127.0.0.1

`main` starts granian with the same arguments as `starosta serve` (service/cli/serve.py), so the
ceiling and the project differ only in what the handlers do.
"""

from __future__ import annotations

import argparse
import itertools

import msgspec
from litestar import Litestar, Response, get, post

_DOCS: dict[int, bytes] = {}
_POSITIONS = itertools.count(1)


def document(size: int) -> bytes:
    """A valid JSON object of exactly `size` bytes (size >= 16), shaped like a list of entries."""
    if size < 16:
        raise ValueError("size must be at least 16 bytes")
    entry = b'{"id":"C-00000000","label":"Synthetic entry (ceiling)","year":1937}'
    head, tail = b'{"items":[', b'],"pad":""}'
    items: list[bytes] = []
    used = len(head) + len(tail)
    while used + len(entry) + (1 if items else 0) <= size:
        used += len(entry) + (1 if items else 0)
        items.append(entry)
    body = head + b",".join(items) + b'],"pad":"' + b"x" * (size - used) + b'"}'
    assert len(body) == size, (len(body), size)
    msgspec.json.decode(body)  # valid JSON
    return body


class Citation(msgspec.Struct, forbid_unknown_fields=False):
    source: str
    locator: str | None = None


class ClaimIn(msgspec.Struct, forbid_unknown_fields=False):
    kind: str
    person: str
    occupation: str
    citation: Citation


class Created(msgspec.Struct):
    id: str
    status: str
    position: int


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/doc/{size:int}", sync_to_thread=False)
def doc(size: int) -> Response[bytes]:
    body = _DOCS.get(size)
    if body is None:
        body = _DOCS[size] = document(size)
    return Response(content=body, media_type="application/json")


@post("/claims", sync_to_thread=False, status_code=201)
def claims(data: ClaimIn) -> Created:
    return Created(id="C-CEILING0", status="pending", position=next(_POSITIONS))


def app() -> Litestar:
    return Litestar([health, doc, claims])


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the bare Litestar ceiling app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    from granian import Granian

    Granian("bench.ceiling_app:app", factory=True, interface="asgi", address=args.host,
            port=args.port, workers=1, loop="uvloop", log_access=False).serve()


if __name__ == "__main__":
    main()
