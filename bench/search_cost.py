"""The search's cost (issue 22): `GET /persons?q=` through the real app on an archive, per
query kind (exact, prefix, Cyrillic, other transliterations, typos), median and worst of
`--repeat` runs, in milliseconds. Nothing is asserted.

    starosta synth --persons 2430 --seed 7 --out var/synth.jsonl --load var/synth.db  # ~100,000 events
    python bench/search_cost.py --db var/synth.db

The queries are built from the archive's own first synthetic labels ("Synthetic Person 00001
Nasentsev"): the surname as stored, its prefix, the whole label, the surname in Cyrillic
(written back from its Latin form), in German spelling, and with one letter dropped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from litestar.testing import TestClient  # noqa: E402

from starosta.service.api.app import create_app  # noqa: E402
from starosta.service.settings import Settings  # noqa: E402

_TO_CYRILLIC = [("shch", "щ"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("zh", "ж"),
                ("yu", "ю"), ("ya", "я"), ("iy", "ий"), ("a", "а"), ("b", "б"), ("v", "в"),
                ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"),
                ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"),
                ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф")]


def cyrillic(word: str) -> str:
    out, rest = "", word.lower()
    while rest:
        for latin, cyr in _TO_CYRILLIC:
            if rest.startswith(latin):
                out, rest = out + cyr, rest[len(latin):]
                break
        else:
            out, rest = out + rest[0], rest[1:]
    return out.capitalize()


def german(word: str) -> str:
    return (word.replace("kh", "ch").replace("ts", "z").replace("sh", "sch").replace("v", "w")
            .replace("vich", "witsch"))


def main() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--persons", type=int, default=5, help="how many labels to query")
    args = parser.parse_args()
    with TestClient(create_app(Settings(db=args.db, synchronous="OFF"))) as client:
        labels = [i["label"] for i in client.get("/persons", params={"limit": 200}).json()["items"]
                  if i["label"].startswith("Synthetic Person")][:args.persons]
        surnames = [label.split()[-1] for label in labels]
        kinds = {
            "exact surname": surnames,
            "prefix": [s[:5] for s in surnames],
            "whole label": labels,
            "Cyrillic surname": [cyrillic(s) for s in surnames],
            "German spelling": [german(s) for s in surnames],
            "typo (a letter dropped)": [s[:3] + s[4:] for s in surnames],
        }
        print(f"{args.db}: {client.get('/persons', params={'limit': 1}).status_code}")
        for kind, queries in kinds.items():
            times, first_ok = [], 0
            for q, label in zip(queries, labels):
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    r = client.get("/persons", params={"q": q, "limit": 20})
                    times.append((time.perf_counter() - start) * 1000)
                items = r.json()["items"]
                first_ok += bool(items) and items[0]["label"] == label
            print(f"{kind:28} median {statistics.median(times):7.1f} ms  worst {max(times):7.1f} ms  "
                  f"first answer right {first_ok}/{len(queries)}  e.g. {queries[0]!r}")


if __name__ == "__main__":
    main()
