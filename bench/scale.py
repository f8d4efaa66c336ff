"""`make bench-scale` (issue 25, item 5): ten million events on this machine, beside 10k and 1M.
Run apart from `make bench` (which stays under 20 minutes); writes its own section of
bench/RESULTS.md (between the markers below, dated), never asserted.

For each size (default 10k, 1M and 10M events), in a work directory removed at the end:

  synth     `starosta synth --persons N/37.8` into a JSONL export: wall time, peak RSS
  import    `starosta import` of that export into a new SQLite file (verify, load, build every
            read model): wall time, peak RSS
  rebuild   `starosta rebuild` of every read model: wall time, events/s, peak RSS
  storage   the file, the log (events and its indexes) and the read models against the JSONL
            export; at the size nearest 1M every table and index (SQLite `dbstat`), by owner
  reads     `starosta serve`, wrk at 16 connections: GET biography of a person with about as
            many approved claims as the busiest person of the smallest size (a stored
            document), GET population at the busiest year of the busiest place, GET the ledger
            of the fund with most entries; each beside the bare GET of a document of the same
            size (bench/ceiling_app.py) in the same run; p99 at each size against the smallest

Then on PostgreSQL at `--postgres-events` (default 1M; the export of that size is reused): a
throwaway cluster (tests/postgres.py), `starosta import` into a fresh schema, `starosta rebuild`,
the size of the schema, and the same three reads (beside the same SQLite figures).

Every command runs in its own process group, bounded by `--step-timeout`; servers and the
cluster are stopped by process group in `finally` blocks; the work directory is removed at the
end (`--keep` keeps it). A step that runs out of time is reported as stopped with the bound it
gives (and the next steps of that size are skipped); what was not measured is listed.

    make bench-scale                                        # 10k, 1M, 10M and PostgreSQL at 1M
    make bench-scale SCALE_ARGS="--sizes 10k,1m --postgres-events 0"
    python bench/scale.py --sizes 10k,1m --export 1m=/path/to/synth-1m.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(BENCH) not in sys.path:  # bench/ is no package
    sys.path.insert(0, str(BENCH))
if str(ROOT) not in sys.path:  # tests/postgres.py, the throwaway cluster
    sys.path.insert(0, str(ROOT))
import sections  # noqa: E402  (bench/sections.py: the report's sections)

BEGIN = ("<!-- bench/scale.py: begin (`make bench-scale` rewrites only what lies between these "
         "two lines) -->")
END = "<!-- bench/scale.py: end -->"
EVENTS_PER_PERSON = 37.8  # what `starosta synth` writes per person (1,020,502 for 27,000)
READ_TARGETS = {"biography": 0.8, "population": 0.5}  # issue 25: x the bare GET of the same size
LOG_TABLES = ("events",)  # the log; everything else is a read model or the archive's own rows


# ---------------------------------------------------------------------------------------------
# arguments


def parse_count(text: str) -> int:
    """'10k' -> 10,000; '1m' / '1M' -> 1,000,000; '2.5m'; '1_000_000'; '0' (none)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text.replace("_", "").replace(",", ""))
    if not m:
        raise argparse.ArgumentTypeError(f"not a count of events: {text!r} (e.g. 10k, 1m, 10000000)")
    value = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    if value != int(value) or value < 0:
        raise argparse.ArgumentTypeError(f"not a whole count of events: {text!r}")
    return int(value)


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({parse_count(x) for x in text.split(",") if x.strip()})
    if not sizes or sizes[0] < 1_000:
        raise argparse.ArgumentTypeError(f"sizes must be at least 1k events: {text!r}")
    return sizes


def parse_export(text: str) -> tuple[int, Path]:
    size, sep, path = text.partition("=")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"--export takes SIZE=PATH (e.g. 1m=var/synth-1m.jsonl): {text!r}")
    return parse_count(size), Path(path)




def finished(record: Path) -> bool:
    """Whether bench/background.py has written the record of an ended command there."""
    try:
        return "rc" in json.loads(record.read_text())
    except (OSError, ValueError):
        return False


def given_record(path: Path, suffix: str) -> dict[str, Any]:
    """The record bench/background.py wrote beside a file made apart from this run (empty if none):
    its wall time less the time it was paused while others measured, CPU time, peak RSS."""
    record = Path(f"{path}{suffix}")
    try:
        saved = json.loads(record.read_text())
    except (OSError, ValueError):
        return {}
    if saved.get("rc") != 0:
        return {}
    keep = ("seconds", "rss_mib", "cpu_s", "paused_s", "wall_s", "finished", "tail")
    return {"apart": True, "timed_out": False, **{k: saved[k] for k in keep if k in saved}}


def persons_for(events: int) -> int:
    return max(1, round(events / EVENTS_PER_PERSON))


def label(events: int) -> str:
    if events >= 1_000_000 and events % 1_000_000 == 0:
        return f"{events // 1_000_000}M"
    if events >= 1_000 and events % 1_000 == 0:
        return f"{events // 1_000}k"
    return f"{events:,}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/scale.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=parse_sizes, default=parse_sizes("10k,1m,10m"),
                    help="archive sizes in events, comma-separated (default 10k,1m,10m)")
    ap.add_argument("--postgres-events", type=parse_count, default=1_000_000,
                    help="the PostgreSQL size (default 1m; 0 skips PostgreSQL); one of --sizes")
    ap.add_argument("--seed", type=int, default=1, help="starosta synth --seed (default 1)")
    ap.add_argument("--export", type=parse_export, action="append", default=[], metavar="SIZE=PATH",
                    help="use this export file for a size instead of writing one (synth not measured "
                         "then; the file is kept)")
    ap.add_argument("--archive", type=parse_export, action="append", default=[], metavar="SIZE=DB",
                    help="use this imported archive for a size (its export given with --export): no import "
                         "is run; the import's figures come from DB.import.json, the record bench/background.py "
                         "writes (likewise the synth's from EXPORT.synth.json); the archive is kept")
    ap.add_argument("--seconds", type=float, default=5, help="wrk duration per measurement (default 5)")
    ap.add_argument("--warmup", type=float, default=1, help="wrk warm-up before each (default 1 s)")
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds (bare, project), best kept")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    ap.add_argument("--step-timeout", type=float, default=4 * 3600,
                    help="time bound on each synth, import and rebuild (default 4 h)")
    ap.add_argument("--rebuild-max", type=parse_count, default=None,
                    help="no separate `starosta rebuild` above this many events (the import builds "
                         "every read model already; at 10M a rebuild doubles the run)")
    ap.add_argument("--storage-of", type=Path, default=None, metavar="DB",
                    help="only print the storage table of this SQLite archive (opened read-only) "
                         "against --jsonl, and stop")
    ap.add_argument("--jsonl", type=Path, default=None, help="the export --storage-of compares with")
    ap.add_argument("--from-json", type=Path, default=None, metavar="JSON",
                    help="write the section from the figures a run saved with --json (one stopped "
                         "before its end), measuring nothing; with --storage-of DB --storage-size SIZE, "
                         "that archive's storage stands for that size's")
    ap.add_argument("--storage-size", type=parse_count, default=None, help="see --from-json")
    ap.add_argument("--reads", action="store_true",
                    help="with --from-json and --storage-of: also serve that archive and measure its reads")
    ap.add_argument("--start-timeout", type=float, default=900, help="time bound on a server's start")
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench-scale",
                    help="where the exports and databases go (a new directory under it, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md", help="the report")
    ap.add_argument("--no-write", action="store_true", help="print the section, do not write the report")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    args = ap.parse_args(argv)
    args.exports = dict(args.export)
    args.archives = dict(args.archive)
    for size in args.archives:
        if size not in args.exports:
            ap.error(f"--archive {size:,}=...: give its export too (--export {label(size)}=PATH)")
    if args.postgres_events and args.postgres_events not in args.sizes:
        ap.error(f"--postgres-events {args.postgres_events:,} is not one of --sizes "
                 f"({', '.join(f'{s:,}' for s in args.sizes)}): its export is reused")
    for size in args.exports:
        if size not in args.sizes:
            ap.error(f"--export {size:,}=...: {size:,} is not one of --sizes")
    return args


# ---------------------------------------------------------------------------------------------
# storage: every table and index


def owners() -> dict[str, str]:
    """Table name -> the read model that owns it ('log' for the event log)."""
    from starosta.projections.read_models import default_runner

    out = {t: "log" for t in LOG_TABLES}
    for p in default_runner().projections:
        for table in p.ddl:
            out[table] = p.name
    return out


def sqlite_storage(db: Path, read_only: bool = False) -> dict[str, Any]:
    """Pages per table and index (dbstat), by owner; the file checkpointed first (no WAL) unless
    `read_only` (another process's archive: its WAL then holds pages the file does not)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True) if read_only else sqlite3.connect(db, isolation_level=None)
    try:
        if not read_only:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        of = owners()
        objects = {name: (kind, tbl) for kind, name, tbl in
                   conn.execute("SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
        rows = []
        for name, size, cells in conn.execute(
                "SELECT name, sum(pgsize), sum(ncell) FROM dbstat WHERE aggregate = FALSE GROUP BY name"):
            kind, table = objects.get(name, ("table", name))  # sqlite_schema is in no listing
            # an FTS5 table's own tables (name_index_data, ...) belong to whoever owns name_index
            owner = of.get(table) or of.get(table.rsplit("_", 1)[0], "archive")
            rows.append({"name": name, "kind": kind, "table": table, "owner": owner,
                         "bytes": int(size or 0)})
        # a rebuild under way (another process's) has shadow tables `x__gN`: not the archive's
        shadow = sum(r["bytes"] for r in rows if re.search(r"__g\d+$", r["table"]))
        rows = [r for r in rows if not re.search(r"__g\d+$", r["table"])]
        rows.sort(key=lambda r: -r["bytes"])
        docs = document_sizes(conn)
        size = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return {"file": size - shadow, "objects": rows, "documents": docs, "shadow": shadow}


def document_sizes(conn: Any, sample: int = 5_000) -> dict[str, Any]:
    """Stored biography documents: their bytes, and what zlib (level 6) and zstd (level 3, when
    installed) make of a sample of them, compressed one by one (as they would be stored)."""
    import zlib

    try:
        total, n = conn.execute("SELECT coalesce(sum(length(document)), 0), count(*) FROM biographies").fetchone()
        rows = [bytes(r[0]) for r in conn.execute(
            "SELECT document FROM biographies ORDER BY person_id LIMIT ?", (sample,))]
    except Exception as exc:  # noqa: BLE001 - an older schema: say so
        return {"error": str(exc)}
    docs = [zlib.decompress(d) if d[:1] == b"x" else d for d in rows]  # stored compressed or not
    raw = sum(len(d) for d in docs) or 1
    out: dict[str, Any] = {"count": n, "bytes": total, "sample": len(docs),
                           "stored": sum(len(r) for r in rows) / raw,
                           "zlib6": sum(len(zlib.compress(d, 6)) for d in docs) / raw}
    try:
        import zstandard

        c = zstandard.ZstdCompressor(level=3)
        out["zstd3"] = sum(len(c.compress(d)) for d in docs) / raw
    except ImportError:
        pass
    return out


def sqlite_targets(db: Path, person_claims: int | None) -> dict[str, Any]:
    """What to read: a person with about `person_claims` approved claims (the busiest when
    None), the busiest place and its busiest year, the fund with most ledger entries."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return targets(conn, person_claims)
    finally:
        conn.close()


def targets(conn: Any, person_claims: int | None) -> dict[str, Any]:
    """The same on any DB-API connection (SQLite or psycopg; the one value passed as a parameter)."""
    counts = conn.execute(
        "SELECT r.entity_id, count(*) FROM claim_refs r JOIN claims c ON c.id = r.claim_id "
        "WHERE r.field = 'person' AND c.status = 'approved' GROUP BY r.entity_id").fetchall()
    by_count: dict[int, str] = {}
    for person, n in sorted(counts):
        by_count.setdefault(n, person)
    busiest = max(by_count)
    want = busiest if person_claims is None else person_claims
    n = min(by_count, key=lambda k: (abs(k - want), -k))
    place, place_claims = conn.execute(
        "SELECT place_id, count(*) FROM custody_episodes WHERE status = 'approved' AND place_id IS NOT NULL "
        "GROUP BY place_id ORDER BY count(*) DESC, place_id LIMIT 1").fetchone()
    years: dict[int, int] = {}
    mark = "?" if isinstance(conn, sqlite3.Connection) else "%s"  # the driver's placeholder, never the value
    for start, end in conn.execute(
            "SELECT substr(start_earliest, 1, 4), substr(coalesce(end_latest, start_earliest), 1, 4) "
            f"FROM custody_episodes WHERE status = 'approved' AND place_id = {mark} "
            "AND start_earliest IS NOT NULL", (place,)):
        a, b = int(start), int(end)
        for y in range(a, min(b, a + 30) + 1):
            years[y] = years.get(y, 0) + 1
    year = max(years, key=lambda y: (years[y], -y)) if years else 1937
    fund, entries = conn.execute(
        "SELECT fund_id, count(*) FROM ledger_entries WHERE fund_id IS NOT NULL "
        "GROUP BY fund_id ORDER BY count(*) DESC, fund_id LIMIT 1").fetchone()
    return {"person": by_count[n], "person_claims": n, "busiest_claims": busiest, "place": place,
            "place_claims": place_claims, "year": year, "year_episodes": years.get(year, 0),
            "fund": fund, "fund_entries": entries}


# ---------------------------------------------------------------------------------------------
# the measurements


class Scale:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.run = sections.bench_run()
        self.args, self.work = args, work
        self.sizes: dict[int, dict[str, Any]] = {}
        self.postgres: dict[str, Any] = {}
        self.failures: list[str] = []
        self.ceiling: Any = None
        self.person_claims: int | None = None

    def fail(self, what: str, exc: BaseException) -> None:
        line = f"{what}: {type(exc).__name__}: {' '.join(str(exc).split())[:600]}"
        self.failures.append(line)
        print(f"  FAILED {line}", flush=True)
        traceback.print_exc()

    def bounded(self, cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
        out = self.run.run_bounded(cmd, self.args.step_timeout, env=env or self.run.clean_env(COLUMNS="120", TERM="dumb"))
        if out["rc"] != 0 and not out["timed_out"]:
            raise RuntimeError(f"{' '.join(cmd[1:3])} failed (rc {out['rc']}): {(out['stderr'] + out['stdout'])[-1200:]}")
        return out

    # -- one SQLite size ----------------------------------------------------------------------

    def export_of(self, events: int) -> Path:
        return self.args.exports.get(events) or self.work / f"synth-{label(events)}.jsonl"

    def sqlite_size(self, events: int) -> None:
        run, args = self.run, self.args
        rec: dict[str, Any] = {"target": events, "persons": persons_for(events)}
        self.sizes[events] = rec
        export, db = self.export_of(events), self.work / f"synth-{label(events)}.db"
        name = label(events)
        if events in args.exports:
            rec["synth"] = {"given": str(export), **given_record(export, ".synth.json")}
            print(f"[{name}] using the export {export}", flush=True)
        else:
            print(f"[{name}] starosta synth --persons {rec['persons']:,} --seed {args.seed}", flush=True)
            out = self.bounded([run.STAROSTA, "synth", "--persons", str(rec["persons"]), "--seed", str(args.seed),
                                "--out", str(export)])
            rec["synth"] = {k: out[k] for k in ("seconds", "rss_mib", "timed_out")}
            if out["timed_out"]:
                raise RuntimeError(f"synth stopped after {out['seconds']:.0f} s (--step-timeout)")
            print(f"  {out['seconds']:.0f} s, peak RSS {out['rss_mib']:,.0f} MiB", flush=True)
        rec["jsonl"] = export.stat().st_size
        if events in args.archives:
            db = args.archives[events]
            record, waited = Path(f"{db}.import.json"), time.monotonic()
            if not finished(record):
                print(f"[{name}] waiting for the import run apart ({record}), at most --step-timeout", flush=True)
            while not finished(record) and time.monotonic() - waited < args.step_timeout:
                time.sleep(10)
            if not finished(record):
                raise RuntimeError(f"--archive {name}={db}: its import did not end within --step-timeout ({record})")
            rec["import"] = {"given": str(db), **given_record(db, ".import.json")}
            if not rec["import"].get("seconds"):
                saved = json.loads(record.read_text())
                raise RuntimeError(f"--archive {name}={db}: its import failed (exit {saved.get('rc')}): "
                                   f"{' / '.join(saved.get('tail', []))[-600:]}")
            out = {"stdout": "\n".join(rec["import"].get("tail", [])), **rec["import"]}
            print(f"[{name}] using the archive {db}", flush=True)
        else:
            print(f"[{name}] starosta import ({rec['jsonl'] / 2**20:,.0f} MiB)", flush=True)
            out = self.bounded([run.STAROSTA, "import", str(export), "--db", str(db)])
            rec["import"] = {k: out[k] for k in ("seconds", "rss_mib", "timed_out")}
            if out["timed_out"]:
                raise RuntimeError(f"import stopped after {out['seconds']:.0f} s (--step-timeout)")
        m = re.search(r"imported (\d+) events", out["stdout"])
        rec["events"] = int(m.group(1)) if m else events
        print(f"  {rec['events']:,} events in {out['seconds']:.0f} s, peak RSS {out['rss_mib']:,.0f} MiB", flush=True)
        if args.rebuild_max is None or rec["events"] <= args.rebuild_max:
            print(f"[{name}] starosta rebuild", flush=True)
            rb = run.rebuild(db, rec["events"], timeout=args.step_timeout)
            rec["rebuild"] = rb
            print(f"  {rb['seconds']:.0f} s ({rb['rate']:,.0f} events/s{', stopped' if rb['timed_out'] else ''}), "
                  f"peak RSS {rb['rss_mib']:,.0f} MiB", flush=True)
        rec["storage"] = sqlite_storage(db)
        rec["targets"] = sqlite_targets(db, self.person_claims)
        rec["targets"]["label"] = name
        if self.person_claims is None:
            self.person_claims = rec["targets"]["person_claims"]
        server = run.project_server(f"scale-{name}", db, self.work, timeout=args.start_timeout)
        try:
            rec["reads"] = self.reads(server, rec["targets"])
        finally:
            server.stop()
        if not args.keep and events not in args.archives:
            db.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)

    def reads(self, server: Any, t: dict[str, Any]) -> dict[str, Any]:
        paths = {"biography": f"/persons/{t['person']}/biography",
                 "population": f"/places/{t['place']}/population?at={t['year']}",
                 "ledger": f"/funds/{t['fund']}/ledger"}
        out = {}
        for what, path in paths.items():
            try:
                out[what] = self.compare(server, path)
                p = out[what]["project"]
                print(f"  GET {what}: {p['rps']:,.0f} req/s, p99 {p['p99']:.2f} ms, "
                      f"{out[what]['ratio']:.2f}x the bare GET ({out[what]['bytes']:,} B)", flush=True)
                if out[what]["ratio"] < READ_TARGETS.get(what, 0):
                    out[what]["profile"] = self.profile(f"GET {what}, {t.get('label', '?')} archive", server, path)
            except Exception as exc:  # noqa: BLE001 - measure the other reads
                self.fail(f"GET {what} ({path})", exc)
        return out

    def profile(self, title: str, server: Any, path: str) -> list[str]:
        """A read short of its target: the same load again with py-spy on the server's worker
        (bench/run.py's `profile_http`), as the report's lines."""
        run = self.run
        results = run.Results()
        bench = run.Bench(argparse.Namespace(profile=True, seconds=self.args.seconds,
                                             connections=self.args.connections), results, self.work)
        bench.profile_http(title, run.Row(title, verdict="missed"), server, path)
        self.failures.extend(results.notes)
        return [line for p in results.profiles for line in p.lines()]

    def compare(self, server: Any, path: str) -> dict[str, Any]:
        """The project's GET beside the bare GET of a document of the same size (best rounds)."""
        run, args = self.run, self.args
        if self.ceiling is None:
            self.ceiling = run.ceiling_server(self.work)
        started = time.perf_counter()
        size = len(run.get_ok(server.url(path)))
        first_ms = (time.perf_counter() - started) * 1000
        run.get_ok(self.ceiling.url(f"/doc/{size}"))
        bare, project = [], []
        for _ in range(max(1, args.rounds)):
            bare.append(run.wrk(self.ceiling.url(f"/doc/{size}"), args.seconds, args.connections, warmup=args.warmup))
            project.append(run.wrk(server.url(path), args.seconds, args.connections, warmup=args.warmup))
        b, p = max(bare, key=lambda x: x.rps), max(project, key=lambda x: x.rps)
        keep = ("rps", "p50", "p99", "max", "requests", "non2xx", "socket_errors")
        return {"path": path, "bytes": size, "first_ms": first_ms, "ratio": p.rps / b.rps,
                "project": {k: getattr(p, k) for k in keep}, "bare": {k: getattr(b, k) for k in keep}}

    # -- PostgreSQL ------------------------------------------------------------------------------

    def postgres_size(self, events: int) -> None:
        run = self.run
        pg = self.postgres
        pg["target"] = events
        try:
            from tests.postgres import INSTALL_HINT, empty_schema, server_binaries, start_cluster, stop_cluster
        except ImportError as exc:
            pg["skipped"] = f"tests/postgres.py could not be imported ({exc})"
            return
        if server_binaries() is None:
            pg["skipped"] = INSTALL_HINT
            return
        export = self.export_of(events)
        print(f"[PostgreSQL {label(events)}] starting a throwaway cluster (tests/postgres.py)", flush=True)
        cluster = start_cluster()
        try:
            service_url, owner_url = empty_schema(cluster)
            env = run.clean_env(STAROSTA_OWNER_DB=owner_url, COLUMNS="120", TERM="dumb")
            print(f"[PostgreSQL {label(events)}] starosta import", flush=True)
            out = self.bounded([run.STAROSTA, "import", str(export), "--db", service_url], env=env)
            pg["import"] = {k: out[k] for k in ("seconds", "rss_mib", "timed_out")}
            if out["timed_out"]:
                raise RuntimeError(f"import stopped after {out['seconds']:.0f} s (--step-timeout)")
            m = re.search(r"imported (\d+) events", out["stdout"])
            pg["events"] = int(m.group(1)) if m else events
            print(f"  {out['seconds']:.0f} s", flush=True)
            print(f"[PostgreSQL {label(events)}] starosta rebuild", flush=True)
            started = time.perf_counter()
            out = self.bounded([run.STAROSTA, "rebuild", "--db", service_url], env=env)
            seconds = time.perf_counter() - started
            pg["rebuild"] = {"seconds": seconds, "rate": pg["events"] / seconds, "rss_mib": out["rss_mib"],
                             "timed_out": out["timed_out"]}
            print(f"  {seconds:.0f} s ({pg['events'] / seconds:,.0f} events/s)", flush=True)
            import psycopg

            with psycopg.connect(owner_url, autocommit=True) as conn:
                sizes = conn.execute(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'").fetchall()
                pg["storage"] = {"tables": {name: int(b) for name, b in sizes},
                                 "total": sum(int(b) for _, b in sizes)}
                pg["targets"] = targets(conn, self.person_claims)
                pg["targets"]["label"] = f"PostgreSQL {label(events)}"
            pg["jsonl"] = export.stat().st_size
            port = run.free_port()
            server = run.start_server("scale-postgres", [run.STAROSTA, "serve", "--db", service_url, "--host",
                                                         "127.0.0.1", "--port", str(port)],
                                      port, self.work, timeout=self.args.start_timeout, env=env)
            try:
                pg["reads"] = self.reads(server, pg["targets"])
            finally:
                server.stop()
        finally:
            stop_cluster(cluster)
            print("  cluster stopped", flush=True)

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps({"sizes": self.sizes, "postgres": self.postgres, "failures": self.failures,
                                    "argv": sys.argv[1:]},
                                   indent=1, default=str))

    # -- all -------------------------------------------------------------------------------------

    def measure(self) -> None:
        try:
            for events in self.args.sizes:
                try:
                    self.sqlite_size(events)
                except Exception as exc:  # noqa: BLE001 - the next size may still be measured
                    self.fail(f"the {label(events)} archive (SQLite)", exc)
                if events == self.args.postgres_events:
                    try:
                        self.postgres_size(events)
                    except Exception as exc:  # noqa: BLE001
                        self.fail(f"PostgreSQL at {label(events)}", exc)
                if self.args.json:  # what is measured so far, should the run be stopped
                    self.dump(self.args.json)
                if events not in self.args.exports and not self.args.keep:
                    self.export_of(events).unlink(missing_ok=True)
        finally:
            if self.ceiling is not None:
                self.ceiling.stop()
            self.run.CHILDREN.stop_all()


# ---------------------------------------------------------------------------------------------
# the section


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 else f"{n / 1024:,.0f} KiB"


def storage_split(rec: dict[str, Any]) -> dict[str, int]:
    split = {"log": 0, "read models": 0, "archive": 0}
    for o in rec["storage"]["objects"]:
        key = "log" if o["owner"] == "log" else "archive" if o["owner"] in ("archive", "?") else "read models"
        split[key] += o["bytes"]
    return split


def _storage_table(rec: dict[str, Any], what: str) -> list[str]:
    st, jsonl = rec["storage"], rec["jsonl"]
    lines = ["", f"### Storage at {what}: every table and index (SQLite dbstat) against the "
                 f"JSONL export ({mib(jsonl)})", "",
             f"The file {mib(st['file'])}, {st['file'] / jsonl:.2f}x the JSONL.", "",
             "| object | kind | owner | size | x JSONL |", "| --- | --- | --- | --- | --- |"]
    for o in st["objects"]:
        if o["bytes"] >= jsonl / 1000:
            lines.append(f"| {o['name']} | {o['kind']}{'' if o['kind'] == 'table' else ' on ' + o['table']} | "
                         f"{o['owner']} | {mib(o['bytes'])} | {o['bytes'] / jsonl:.3f}x |")
    small_objects = [o for o in st["objects"] if o["bytes"] < jsonl / 1000]
    if small_objects:
        lines.append(f"| {len(small_objects)} smaller objects | | | {mib(sum(o['bytes'] for o in small_objects))} | |")
    by_owner: dict[str, int] = {}
    for o in st["objects"]:
        by_owner[o["owner"]] = by_owner.get(o["owner"], 0) + o["bytes"]
    lines += ["", "By owner: " + "; ".join(f"{k} {mib(v)} ({v / jsonl:.2f}x)"
                                           for k, v in sorted(by_owner.items(), key=lambda kv: -kv[1])) + "."]
    d = st.get("documents", {})
    if "zlib6" in d:
        kept = f" ({d['stored']:.2f}x their JSON in a sample of {d['sample']:,})" if "stored" in d else ""
        lines += ["", f"Stored biographies: {d['count']:,} documents, {mib(d['bytes'])} stored{kept}; each "
                      f"compressed alone: zlib level 6 to "
                      f"{d['zlib6']:.2f}x"
                      + (f", zstd level 3 to {d['zstd3']:.2f}x" if "zstd3" in d else "") + " of their bytes."]
    return lines


def render(scale: Scale, info: dict[str, str], command: str, started: dt.datetime) -> list[str]:
    args, sizes = scale.args, scale.sizes
    done = [s for s in args.sizes if s in sizes]
    cols = [label(s) for s in done]
    lines = [BEGIN, "", f"## Ten million events (bench/scale.py, {started:%Y-%m-%d %H:%M} UTC)", "",
             f"`{command}`: {info.get('nproc', '?')} cores, {info.get('cpu', '?')}; load "
             f"{os.getloadavg()[0]:.2f} at the end; wrk -c{args.connections}, {args.seconds:g} s per load "
             f"(best of {args.rounds} round(s)), each read beside the bare GET of a document of the same "
             "size in the same run. Times are wall times of the commands on a machine other work shares.", ""]
    if not done:
        return lines + ["Nothing was measured.", *[f"- {f}" for f in scale.failures], "", END]
    lines += ["| measure | " + " | ".join(cols) + " |", "| --- |" + " --- |" * len(cols)]

    def row(name: str, fn: Any) -> None:
        cells = []
        for s in done:
            try:
                cells.append(fn(sizes[s]) or "")
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    def took(step: dict[str, Any], events: int) -> str:
        if "given" in step and "seconds" not in step:
            return "(export given)"
        apart = ""
        if step.get("apart"):
            apart = (f"; run apart beside this run (bench/background.py), finished {step.get('finished', '?')}, "
                     f"{step.get('cpu_s', 0):,.0f} CPU-s, paused {step.get('paused_s', 0):,.0f} s while others measured "
                     "(not counted)")
        return (f"{'> ' if step.get('timed_out') else ''}{step['seconds']:,.0f} s ({events / step['seconds']:,.0f} ev/s), "
                f"peak RSS {step['rss_mib']:,.0f} MiB{apart}")

    row("events (persons)", lambda r: f"{r['events']:,} ({r['persons']:,})")
    row("`starosta synth`", lambda r: took(r["synth"], r["events"]))
    row("`starosta import` (verify, load, build)", lambda r: took(r["import"], r["events"]))
    row("`starosta rebuild`, every read model", lambda r: took(r["rebuild"], r["events"]))
    row("JSONL export", lambda r: mib(r["jsonl"]))
    row("SQLite file / JSONL (target <= 1.5x)", lambda r: f"{mib(r['storage']['file'])}, {r['storage']['file'] / r['jsonl']:.2f}x")
    row("the log with its indexes / JSONL (target <= 1.0x)", lambda r: f"{storage_split(r)['log'] / r['jsonl']:.2f}x")
    row("read models / JSONL", lambda r: f"{storage_split(r)['read models'] / r['jsonl']:.2f}x")
    small = sizes[done[0]]
    for what, title in (("biography", "GET biography (stored document)"), ("population", "GET population, busiest place"),
                        ("ledger", "GET ledger, busiest fund")):
        row(f"{title}: req/s, p99, x bare GET", lambda r, w=what: read_cell(r["reads"][w], args.seconds))
        row(f"{title}: p99 / p99 at {cols[0]}" + (" (target <= 1.5x)" if what == "biography" else ""),
            lambda r, w=what: "" if not r["reads"][w]["project"].get("requests", 1) else
            f"{r['reads'][w]['project']['p99'] / small['reads'][w]['project']['p99']:.2f}x")
    row("what was read", lambda r: (f"person {r['targets']['person']} ({r['targets']['person_claims']} approved claims), "
                                    f"place {r['targets']['place']} at {r['targets']['year']} "
                                    f"({r['targets']['year_episodes']:,} episodes), fund {r['targets']['fund']} "
                                    f"({r['targets']['fund_entries']:,} entries)"))
    pg = scale.postgres
    if pg:
        lines += ["", f"### PostgreSQL at {label(pg['target'])} events, beside SQLite at the same size", ""]
        if "skipped" in pg:
            lines.append(f"Not measured: {pg['skipped']}")
        else:
            sq = sizes.get(pg["target"], {})
            lines += ["| measure | PostgreSQL | SQLite |", "| --- | --- | --- |"]

            def both(name: str, fn: Any) -> None:
                cells = []
                for r in (pg, sq):
                    try:
                        cells.append(fn(r) or "")
                    except (KeyError, TypeError, ZeroDivisionError):
                        cells.append("")
                lines.append(f"| {name} | {cells[0]} | {cells[1]} |")

            both("`starosta import`", lambda r: took(r["import"], r["events"]))
            both("`starosta rebuild`", lambda r: took(r["rebuild"], r["events"]))
            both("database / JSONL", lambda r: (f"{mib(r['storage']['total'])}, {r['storage']['total'] / r['jsonl']:.2f}x"
                                                if "total" in r["storage"] else
                                                f"{mib(r['storage']['file'])}, {r['storage']['file'] / r['jsonl']:.2f}x"))
            for what in ("biography", "population", "ledger"):
                both(f"GET {what}: req/s, p99, x bare GET", lambda r, w=what: read_cell(r["reads"][w], args.seconds))
    near = min(done, key=lambda s: abs(s - 1_000_000))
    rec = sizes[near]
    if "storage" in rec:
        lines += _storage_table(rec, f"{label(near)} events")
    big = max(done)
    if big < 10_000_000 and 1_000_000 in sizes and "rebuild" in sizes[1_000_000]:
        r = sizes[1_000_000]
        steps = [r["synth"].get("seconds", 0), r["import"]["seconds"], r["rebuild"]["seconds"]]
        lines += ["", f"10M events not run here: from the 1M figures, linear, about "
                      f"{10 * sum(steps) / 3600:.1f} h for synth, import and rebuild "
                      f"({', '.join(f'{10 * x / 60:,.0f} min' for x in steps)}), and about "
                      f"{10 * r['storage']['file'] / 2**30:,.1f} GiB of SQLite file beside "
                      f"{10 * r['jsonl'] / 2**30:,.1f} GiB of JSONL."]
    lines += misses(scale, done)
    if scale.failures:
        lines += ["", "Not measured:", *[f"- {f}" for f in scale.failures]]
    return lines + ["", END]


def read_cell(read: dict[str, Any], seconds: float) -> str:
    """req/s, p99 and the ratio of one read; a load in which no answer came is said so (its p99
    would read 0)."""
    p = read["project"]
    if not p.get("requests", 1):
        return (f"no answer within the {seconds:g} s load at 16 connections (the first alone took "
                f"{read.get('first_ms', 0) / 1000:,.1f} s), 0.00x")
    return f"{p['rps']:,.0f}, {p['p99']:.2f} ms, {read['ratio']:.2f}x"


def misses(scale: Any, done: list[int]) -> list[str]:
    """Every figure short of issue 25's target, with its profile (reads) and what would close it
    (bench/run.py's CLOSERS)."""
    what_closes = (scale.run if hasattr(scale, "run") else sections.bench_run()).what_closes
    found: list[str] = []
    profiles: list[str] = []
    small = scale.sizes[done[0]] if done else {}
    for s in done:
        rec, name = scale.sizes[s], label(s)
        try:
            whole, log = rec["storage"]["file"] / rec["jsonl"], storage_split(rec)["log"] / rec["jsonl"]
        except (KeyError, ZeroDivisionError):
            whole = log = 0.0
        if whole > 1.5:
            found.append(f"- storage at {name}: the file {whole:.2f}x the JSONL (<= 1.5x): "
                         + what_closes("storage: the SQLite archive"))
        if log > 1.0:
            found.append(f"- storage at {name}: the log {log:.2f}x the JSONL (<= 1.0x): " + what_closes("storage: the log"))
        for what, read in (rec.get("reads") or {}).items():
            if read["ratio"] < READ_TARGETS.get(what, 0):
                found.append(f"- GET {what} at {name}: {read['ratio']:.2f}x the bare GET (>= {READ_TARGETS[what]:g}x): "
                             + what_closes(f"GET {what}"))
                profiles += read.get("profile") or []
        try:
            p99 = rec["reads"]["biography"]["project"]["p99"] / small["reads"]["biography"]["project"]["p99"]
        except (KeyError, TypeError, ZeroDivisionError):
            p99 = 0.0
        if p99 > 1.5:
            found.append(f"- biography p99 at {name}: {p99:.2f}x the {label(done[0])} archive's (<= 1.5x): the stored "
                         "document is one row found by primary key at every size; a p99 that grows comes from the "
                         "page cache (the file outgrows it), see the profile of the read if taken")
    for what, read in ((scale.postgres or {}).get("reads") or {}).items():
        if read["ratio"] < READ_TARGETS.get(what, 0):
            found.append(f"- GET {what} on PostgreSQL at {label(scale.postgres['target'])}: {read['ratio']:.2f}x the bare "
                         f"GET (>= {READ_TARGETS[what]:g}x, the SQLite target): " + what_closes("GET biography on PostgreSQL"))
            profiles += read.get("profile") or []
    if not found and not profiles:
        return []
    lines = ["", "### Short of issue 25's targets, and what would close each", "", *found]
    if profiles:
        lines += ["", "Where the time goes (py-spy on the server's worker, the same load again):", "", *profiles]
    return lines


def storage_lines(db: Path, jsonl: Path) -> list[str]:
    """The storage table of an existing archive (read-only) against its export."""
    rec = {"storage": sqlite_storage(db, read_only=True), "jsonl": jsonl.stat().st_size}
    return _storage_table(rec, db.name)


def from_json(args: argparse.Namespace) -> int:
    """The section from a saved run (bench figures only: nothing is measured again)."""
    saved = json.loads(args.from_json.read_text())
    scale = argparse.Namespace(sizes={int(k): v for k, v in saved["sizes"].items()}, postgres=saved["postgres"],
                               failures=saved["failures"], args=args)
    if args.storage_of is not None and args.storage_size in scale.sizes:
        rec = scale.sizes[args.storage_size]
        rec["storage"] = sqlite_storage(args.storage_of, read_only=True)
        scale.failures.append(f"storage at {label(args.storage_size)} measured on a copy of the imported archive "
                              "(live tables only), the run being stopped during its rebuild")
        if args.reads:
            smallest = scale.sizes[min(scale.sizes)]
            measurer = Scale(args, Path(tempfile.mkdtemp(prefix="scale-reads-", dir=args.work)))
            measurer.person_claims = smallest.get("targets", {}).get("person_claims")
            rec["targets"] = sqlite_targets(args.storage_of, measurer.person_claims)
            try:
                server = measurer.run.project_server("scale-reads", args.storage_of, measurer.work,
                                                     timeout=args.start_timeout)
                try:
                    rec["reads"] = measurer.reads(server, rec["targets"])
                finally:
                    server.stop()
            finally:
                if measurer.ceiling is not None:
                    measurer.ceiling.stop()
                measurer.run.CHILDREN.stop_all()
                shutil.rmtree(measurer.work, ignore_errors=True)
            scale.failures.extend(measurer.failures)
    args.sizes = [s for s in args.sizes if s in scale.sizes]
    started = dt.datetime.fromtimestamp(args.from_json.stat().st_mtime, dt.UTC)
    lines = render(scale, run_info(), " ".join(["python bench/scale.py", *saved.get("argv", [])]), started)
    print("\n".join(lines))
    if not args.no_write:
        sections.replace(args.out, lines, BEGIN, END)
    return 0


def run_info() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json is not None:
        return from_json(args)
    if args.storage_of is not None:
        if args.jsonl is None:
            print("--storage-of needs --jsonl (the export to compare with)", file=sys.stderr)
            return 2
        print("\n".join(storage_lines(args.storage_of, args.jsonl)))
        return 0
    started = dt.datetime.now(dt.UTC)
    args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="scale-", dir=args.work))
    scale = Scale(args, work)
    scale.run.stop_on_sigterm()
    info = scale.run.machine()
    command = " ".join(["python bench/scale.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"bench-scale: sizes {', '.join(label(s) for s in args.sizes)}; work files in {work}", flush=True)
    try:
        if not scale.run.have_wrk():
            return 2
        scale.measure()
    except KeyboardInterrupt as exc:
        scale.failures.append(f"interrupted ({exc}); the table holds what was measured before")
    finally:
        scale.run.CHILDREN.stop_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    lines = render(scale, info, command, started)
    print("\n".join(lines), flush=True)
    if args.json:
        scale.dump(args.json)
    if not args.no_write:
        sections.replace(args.out, lines, BEGIN, END)
        print(f"wrote the scale section of {args.out}", flush=True)
    return 1 if scale.failures else 0


if __name__ == "__main__":
    sys.exit(main())
