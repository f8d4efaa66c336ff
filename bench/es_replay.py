"""The `eventsourcing` library's replay of its SQLite log: the ceiling for `starosta rebuild`.

    python bench/es_replay.py --events 200000 --dir /tmp   # prints one JSON object

One aggregate (a `Dossier`) records --events events (each a note with a ~80-character text
and a year, about the size of a claim's fields), saved in batches of 10,000 into the
library's SQLite recorder (PERSISTENCE_MODULE=eventsourcing.sqlite, a fresh file). Then,
in a new application object (nothing cached), three ways to replay the log are timed:

  notifications  read the application sequence (the library's notification log, what its
                 projections and process applications follow) in pages of 10,000 through
                 the recorder, and turn every record into its domain event with the
                 application's mapper: the full "replay of the log" (rows -> events)
  repository     `app.repository.get(id)`: the aggregate rebuilt from its stream (rows ->
                 events -> mutated aggregate; on Python 3.11 slowed by a runtime Protocol
                 isinstance check per event)
  rows           the same pages read without decoding (a lower bound on the read cost)

`replay` in the output is the fastest of the two honest replays (notifications, repository);
`rows` is reported for context only: it decodes nothing. The garbage collector is frozen
and disabled while timing, as a bulk replay would.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--dir", default=None, help="parent directory of the temporary file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="es-replay-", dir=args.dir) as tmp:
        os.environ.update(PERSISTENCE_MODULE="eventsourcing.sqlite",
                          SQLITE_DBNAME=os.path.join(tmp, "es.db"))
        from eventsourcing.application import Application
        from eventsourcing.domain import Aggregate, event

        class Dossier(Aggregate):
            @event("Created")
            def __init__(self, label: str) -> None:
                self.label = label
                self.notes = 0

            @event("Noted")
            def note(self, text: str, year: int) -> None:
                self.notes += 1

        class Archive(Application):
            pass

        app = Archive()
        text = "Synthetic custody claim (not historical): prison, Butyrka, 1937-1938, p. 12"
        started = time.perf_counter()
        dossier = Dossier(label="Synthetic Person (not historical)")
        for i in range(args.events - 1):
            dossier.note(text=text, year=1918 + i % 40)
            if i % 10_000 == 9_999:
                app.save(dossier)
        app.save(dossier)
        save_seconds = time.perf_counter() - started
        aggregate_id = dossier.id
        del dossier
        app.close()

        rates: dict[str, float] = {}
        app = Archive()
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            to_event = app.mapper.to_domain_event
            started = time.perf_counter()
            count, start = 0, 1
            while True:
                page = app.recorder.select_notifications(start, 10_000)
                if not page:
                    break
                for record in page:
                    to_event(record)
                count += len(page)
                start = page[-1].id + 1
            rates["notifications"] = count / (time.perf_counter() - started)

            started = time.perf_counter()
            rebuilt = app.repository.get(aggregate_id)
            rates["repository"] = (rebuilt.notes + 1) / (time.perf_counter() - started)
            del rebuilt

            started = time.perf_counter()
            count, start = 0, 1
            while True:
                page = app.recorder.select_notifications(start, 10_000)
                if not page:
                    break
                count += len(page)
                start = page[-1].id + 1
            rates["rows"] = count / (time.perf_counter() - started)
        finally:
            gc.enable()
            gc.unfreeze()
            app.close()

    from importlib.metadata import version

    best = max(("notifications", "repository"), key=rates.__getitem__)
    json.dump({"events": args.events, "save_per_s": args.events / save_seconds,
               "replay_per_s": rates[best], "replay_mode": best, "rates": rates,
               "version": version("eventsourcing")}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
