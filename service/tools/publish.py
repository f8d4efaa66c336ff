"""`starosta publish`: a public snapshot of the approved archive as a plain SQLite database,
built with sqlite-utils (tables with primary and foreign keys, full-text search, views), with a
`metadata.json` for Datasette.

Everything is read in one read transaction over the archive (a consistent snapshot at one log
position), through the read models' query functions (`projections.snapshot`): nothing pending,
contested, rejected, retracted, superseded or deprecated; no tokens, idempotency keys,
contributors or reviewers. The database is written beside its target and moved into place
only when complete. The same log gives the same rows: `content_hash` (sha256 over every
table's sorted rows) says so, and is stored in the `_snapshot` table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import sqlite_utils

from starosta.events.kinds import NAME_PARTS
from starosta.events.properties import SEEDED_BY_ID, PropertyDef, names_entity, url_of
from starosta.events.store import Connection, EventStore, Head
from starosta.projections import names, registry, snapshot, sql
from starosta.projections.ledger import Ledger, LedgerEntry
from starosta.projections.runner import Runner, content_hash
from starosta.service.tools.publish_schema import FACETS, FORMAT, SNAPSHOT_TABLE, TABLES, VIEWS, Table
from starosta.service.tools.transfer import COMPANIONS, remove_files, sync_directory

_encode = msgspec.json.Encoder().encode
LICENSE = ("No licence is set by the software: the archive's operator states the terms of reuse. "
           "Quotations are short excerpts of the cited sources, whose rights stay with their "
           "authors and publishers.")


class PublishRefused(Exception):
    """The snapshot cannot be made; nothing was written. The message says why, in one line."""


class Published(msgspec.Struct, kw_only=True):
    """What a publish wrote: where, at which log position and head, the content hash, the rows
    per table, the read models it had to bring up to date first, and how long it took."""

    out: str
    metadata: str
    head: Head
    content_hash: str
    rows: dict[str, int]
    rebuilt: list[str]
    seconds: float


def claims_by_kind(out: str) -> dict[str, int]:
    """What a published file's `claims` table counts (issue 22: publish says what it counted):
    its claims per kind, most first (then by kind), the registrations' name claims among them."""
    published = sqlite_utils.Database(out)
    try:
        return dict(published.execute("SELECT kind, COUNT(*) AS n FROM claims GROUP BY kind "
                                      "ORDER BY n DESC, kind").fetchall())
    finally:
        published.close()


def publish(db: str, out: str, metadata_path: str, force: bool = False) -> Published:
    """Publish the archive at `db` to `out` and its Datasette metadata to `metadata_path`.

    Both are built beside their targets (`TARGET.PID.tmp`) and moved into place when complete;
    an existing target is replaced only with `force`. Read models whose code version changed or
    that are behind the log are brought up to date first (as `starosta serve` does). Raises
    PublishRefused (not an archive, a target that appeared meanwhile), RebuildRunning,
    StoreError, the backend's error or OSError; the targets are as they were then.
    """
    from starosta.projections.read_models import default_runner
    from starosta.service.db import open_store

    started = time.monotonic()
    _require_archive(db)
    runner = default_runner()
    store = open_store(db)
    tmp, meta_tmp = f"{out}.{os.getpid()}.tmp", f"{metadata_path}.{os.getpid()}.tmp"
    try:
        rebuilt = _bring_up_to_date(store, runner, db)
        remove_files(tmp, ("", *COMPANIONS))
        head, digest, rows, versions = _build(store, runner, tmp)
        with open(meta_tmp, "wb") as f:
            f.write(msgspec.json.format(_encode(metadata(out, head, digest, versions)), indent=2))
            f.write(b"\n")
            os.fsync(f.fileno())
        for target in (out, metadata_path):
            if not force and os.path.exists(target):  # appeared meanwhile: never replaced
                raise PublishRefused(f"{target} exists: pass --force to replace it")
        remove_files(out, COMPANIONS)  # a -wal or -journal beside it would be read with the new file
        os.replace(tmp, out)
        os.replace(meta_tmp, metadata_path)
        for directory in {os.path.dirname(os.path.abspath(p)) for p in (out, metadata_path)}:
            sync_directory(directory)
    finally:
        remove_files(tmp, ("", *COMPANIONS))
        remove_files(meta_tmp, ("",))
        store.close()
    return Published(out=out, metadata=metadata_path, head=head, content_hash=digest, rows=rows,
                      rebuilt=rebuilt, seconds=time.monotonic() - started)


def default_metadata_path(out: str) -> str:
    """Return where the metadata goes by default: beside OUT, named after it
    (`public.db` -> `public.metadata.json`)."""
    root, ext = os.path.splitext(out)
    return f"{root if ext else out}.metadata.json"


def _require_archive(db: str) -> None:
    """Refuse a database that holds no archive (publishing would otherwise migrate it)."""
    from starosta.service.backends import ArchiveError, backend_for

    try:
        backend_for(db).require_archive()
    except ArchiveError as exc:
        raise PublishRefused(str(exc)) from None


def _bring_up_to_date(store: EventStore, runner: Runner, db: str) -> list[str]:
    """Rebuild the read models whose code version changed and catch up any behind the log;
    return those rebuilt. Writes nothing when all are current (the usual case)."""
    from starosta.service.db import builder_of

    if not _behind(store.reader(), store.head(), runner):
        return []
    with builder_of(db, store) as builder:
        return runner.ensure(store, builder=builder)


def _behind(conn: Connection, head: Head, runner: Runner) -> list[str]:
    """Return the read models whose checkpoint is not at `head` with the code's version."""
    marks = snapshot.checkpoints(conn)
    return [p.name for p in runner.projections if marks.get(p.name) != (p.version, head.position)]


def _build(store: EventStore, runner: Runner, tmp: str) -> tuple[Head, str, dict[str, int], dict[str, int]]:
    """Write the snapshot to `tmp` from one read transaction over the archive; return the head
    it was read at, its content hash, the rows per table and the read models' versions."""
    conn = store.reader()
    sql.begin_snapshot(conn)  # every later read, store.head() too, sees one snapshot
    try:
        head = store.head()
        behind = _behind(conn, head, runner)
        if behind:  # a rebuild swapped in between: readers never see half of one
            raise PublishRefused(f"read models {', '.join(behind)} are not at the head of the log "
                                 "(a rebuild is running?): publish again when it has finished")
        out = sqlite_utils.Database(tmp)
        try:
            out.execute("PRAGMA synchronous = OFF")  # a staging file: synced once, below
            for table in (*TABLES, SNAPSHOT_TABLE):
                _create(out, table)
            rows = _Writer(conn, out).fill()
            for table in TABLES:
                if table.fts:
                    out.table(table.name).enable_fts(table.fts)
            out.index_foreign_keys()
            for view in VIEWS:
                out.create_view(view.name, view.sql.strip())
            digest = content_hash(out.conn, sorted(t.name for t in TABLES))
            versions = {p.name: p.version for p in runner.projections}
            out.table(SNAPSHOT_TABLE.name).insert({
                "format": FORMAT, "log_position": head.position, "head_hash": head.hash,
                "head_recorded_at": head.recorded_at, "content_hash": digest,
                "read_models": _encode(versions).decode()})
            out.conn.commit()
        finally:
            out.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        return head, digest, rows, versions
    finally:
        conn.execute("ROLLBACK")


def _create(out: sqlite_utils.Database, table: Table) -> None:
    pk_columns = (table.pk,) if isinstance(table.pk, str) else table.pk
    out.table(table.name).create({name: c.type for name, c in table.columns.items()}, pk=table.pk,
                           foreign_keys=list(table.foreign_keys), not_null=pk_columns)


def _json(value: Any) -> str | None:
    return None if value is None else _encode(value).decode()


def _flag(value: Any) -> int:
    return int(bool(value))


class _Writer:
    """Reads the public rows of the archive (`conn`, inside the read transaction) and inserts
    them into the snapshot (`out`), table by table, each in primary key order."""

    def __init__(self, conn: Connection, out: sqlite_utils.Database) -> None:
        self.conn, self.out = conn, out
        self.rows: dict[str, int] = {}
        self.kind_of: dict[str, str] = {}  # entity id -> person, place, organization, fund, source
        self.synthetic: set[str] = set()
        self.names: dict[str, list[dict[str, Any]]] = {}  # entity id -> its name rows
        self.place_said: dict[str, str] = {}  # custody claim -> the place as its source says it
        self.published: set[str] = set()
        self.participants: list[dict[str, Any]] = []  # the published claims' participants
        self.properties = registry.properties(conn)
        self.property_of = {ref: p for p in self.properties for ref in (p.id, p.key)}
        self.statements: list[dict[str, Any]] = []
        self.qualifiers: list[dict[str, Any]] = []

    def insert(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        count = 0

        def counted() -> Iterator[dict[str, Any]]:
            nonlocal count
            for row in rows:
                count += 1
                yield row

        self.out.table(table).insert_all(counted(), batch_size=1000)
        self.rows[table] = count

    def fill(self) -> dict[str, int]:
        """Insert every table's rows; return how many each got."""
        entities = {kind: list(snapshot.registered(self.conn, kind))
                    for kind in ("source", "person", "place", "organization", "fund")}
        for kind, found in entities.items():
            for entity_id, _, data in found:
                self.kind_of[entity_id] = kind
                if data.get("synthetic") or (kind == "source" and data["csl"].get("synthetic")):
                    self.synthetic.add(entity_id)
        self.insert("claims", self.claims())  # first: entities list the names it finds
        self.insert("sources", (self.source(*e) for e in entities["source"]))
        alive = registry.survivors(self.conn, [e[0] for e in entities["person"]])
        self.insert("persons", (self.person(*e, alive.get(e[0])) for e in entities["person"]))
        merged = {kind: registry.survivors(self.conn, [e[0] for e in entities[kind]],
                                           registry.ENTITY_TABLES[kind])
                  for kind in ("place", "organization")}  # issue 20: merged places, organisations
        self.insert("places", ({**self.place(*e), "merged_into": merged["place"].get(e[0])}
                               for e in entities["place"]))
        self.insert("organizations", ({**self.organization(*e),
                                       "merged_into": merged["organization"].get(e[0])}
                                      for e in entities["organization"]))
        self.insert("funds", (self.fund(*e) for e in entities["fund"]))
        self.insert("identifications", (
            {"kind": kind, "record_id": record, "other": other, "certainty": certainty,
             "reason": reason, "citation": citation, "position": position}
            for kind, record, other, certainty, reason, citation, position
            in snapshot.identifications(self.conn)))
        self.insert("names", sorted((row for rows in self.names.values() for row in rows),
                                    key=lambda r: r["claim_id"]))
        self.insert("claim_refs", ({"claim_id": c, "field": f, "entity_id": e,
                                    "entity_type": self.kind_of.get(e)}
                                   for c, f, e in snapshot.claim_refs(self.conn, self.published)))
        self.insert("participants", ({**p, "entity_type": self.kind_of.get(p["ref"])} for p in sorted(
            self.participants, key=lambda p: (p["claim_id"], p["ref"], p["role"]))))
        self.insert("source_links", ({"claim_id": c, "source_id": s, "derives_from": d,
                                      "relation": r}
                                     for c, s, d, r in snapshot.source_links(self.conn, self.published)))
        self.insert("properties", (self.property_row(p) for p in sorted(self.properties, key=lambda p: p.id)))
        self.insert("statements", sorted(self.statements, key=lambda r: r["claim_id"]))
        self.insert("qualifiers", sorted(self.qualifiers, key=lambda r: (r["claim_id"], r["n"])))
        self.insert("custody_episodes", self.episodes())
        self.insert("population_years", self.population([e[0] for e in entities["place"]]))
        funds = [e[0] for e in entities["fund"]]
        ledgers = [(fund, *snapshot.fund_ledger(self.conn, fund)) for fund in funds]
        self.insert("ledger_entries", (self.entry(e) for _, _, entries in ledgers for e in entries))
        self.insert("ledger_totals", (row for fund, ledger, _ in ledgers
                                      for row in self.totals(fund, ledger)))
        return self.rows

    # -- entities ---------------------------------------------------------------------------

    def _names(self, entity_id: str) -> list[str]:
        return [row["name"] for row in self.names.get(entity_id, [])]

    def source(self, source_id: str, label: str, data: dict[str, Any]) -> dict[str, Any]:
        csl = {k: v for k, v in data["csl"].items() if k != "synthetic"}
        return {"id": source_id, "label": label, "source_type": data.get("source_type", "other"),
                "csl_type": csl.get("type"), "title": csl.get("title"), "csl": _json(csl),
                "note": data.get("note"), "archive": _json(data.get("archive")),
                "via": _json(data.get("via", [])), "synthetic": _flag(source_id in self.synthetic)}

    def person(self, person_id: str, label: str, data: dict[str, Any],
               merged_into: str | None) -> dict[str, Any]:
        given = self._names(person_id)
        latin = dict.fromkeys(n for n in map(names.normalise, (label, *given)) if n)
        return {"id": person_id, "label": label, "partial": _flag(data.get("partial")),
                "merged_into": merged_into, "names": _json(given), "names_latin": " ".join(latin),
                "external_ids": _json(data.get("external_ids", {})),
                "synthetic": _flag(data.get("synthetic"))}

    def place(self, place_id: str, label: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"id": place_id, "label": label, "kind": data.get("kind"), "parent": data.get("parent"),
                "aliases": _json(data.get("aliases", [])), "latitude": data.get("latitude"),
                "longitude": data.get("longitude"),
                "identification": _json(data.get("identification")),
                "names": _json(self._names(place_id)),
                "external_ids": _json(data.get("external_ids", {})),
                "synthetic": _flag(data.get("synthetic"))}

    def organization(self, organization_id: str, label: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"id": organization_id, "label": label, "kind": data.get("kind"),
                "parent": data.get("parent"), "names": _json(self._names(organization_id)),
                "external_ids": _json(data.get("external_ids", {})),
                "synthetic": _flag(data.get("synthetic"))}

    def fund(self, fund_id: str, label: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"id": fund_id, "label": label, "organization": data.get("organization"),
                "names": _json(self._names(fund_id)), "synthetic": _flag(data.get("synthetic"))}

    # -- claims -----------------------------------------------------------------------------

    def claims(self) -> Iterator[dict[str, Any]]:
        for c in snapshot.public_claims(self.conn):
            self.published.add(c.id)
            claim, citation = c.claim, c.claim["citation"]
            if c.kind == "name":
                self._name(c)
            elif c.kind == "custody" and isinstance(claim.get("place_said"), str):
                self.place_said[c.id] = claim["place_said"]
            elif c.kind == "statement":
                self.statements.append({
                    "claim_id": c.id, "subject_id": claim["subject"],
                    "subject_type": self.kind_of.get(claim["subject"]),
                    **self.value_columns(claim["property"], claim["value"]),
                    "start": claim.get("start"), "end": claim.get("end")})
            self.participants += [{"claim_id": c.id, "ref": p["ref"], "role": p["role"],
                                   "said": p.get("said"), "certainty": p.get("certainty")}
                                  for p in claim.get("participants", ())]
            for n, q in enumerate(claim.get("qualifiers", ())):
                self.qualifiers.append({"claim_id": c.id, "n": n, "claim_kind": c.kind,
                                        **self.value_columns(q["property"], q["value"])})
            yield {"id": c.id, "kind": c.kind, "rank": c.rank, "rank_reason": c.rank_reason,
                   "person_id": _text(claim.get("person")), "place_id": _text(claim.get("place")),
                   "group_id": _text(claim.get("group_id" if c.kind == "aggregate" else "group")),
                   **_counts(claim.get("count")),
                   "source_id": citation["source"], "locator": citation.get("locator"),
                   "quote": citation.get("quote"), "via": _json(citation.get("via", [])),
                   "said": claim.get("said"), "certainty": claim.get("certainty"),
                   "note": claim.get("note"), "supersedes": c.supersedes,
                   **self._statement_links(claim), **_bounds(c.dates),
                   "dates": _json(c.dates), "length": _json(c.length), "claim": _json(claim),
                   "synthetic": _flag(self._synthetic(claim)), "position": c.position}

    @staticmethod
    def property_row(p: PropertyDef) -> dict[str, Any]:
        return {"id": p.id, "key": p.key, "label": p.label, "datatype": p.datatype,
                "description": p.description, "single": _flag(p.single),
                "applies_to": _json(list(p.applies_to)), "entity_kinds": _json(list(p.entity_kinds)),
                "unit": p.unit, "url_pattern": p.url_pattern, "seeded": _flag(p.id in SEEDED_BY_ID)}

    def value_columns(self, ref: str, value: Any) -> dict[str, Any]:
        """A property value spread over the statements' and qualifiers' value columns."""
        p = self.property_of[ref]
        obj = value if isinstance(value, dict) else {}
        text = value if isinstance(value, str) else obj.get("text", obj.get("amount"))
        entity = value if names_entity(p, value) else None
        return {"property_id": p.id, "property_key": p.key, "datatype": p.datatype, "value": text,
                "value_json": _json(value), "entity_id": entity, "amount": obj.get("amount"),
                "min": obj.get("min"), "max": obj.get("max"),
                "unit": obj.get("unit", p.unit) if "amount" in obj and p.datatype == "quantity" else None,
                "currency": obj.get("currency"),
                "bound": "at_most" if obj.get("at_most") else "at_least" if obj.get("at_least") else None,
                "about": _flag(obj.get("about")), "language": obj.get("language"),
                "url": url_of(p, value) if isinstance(value, str) else None}

    def _statement_links(self, claim: dict[str, Any]) -> dict[str, Any]:
        """The claims table's columns of statements about statements (issue 21): whom the
        claim is attributed to and that record's type, and the claim it denies."""
        attributed = _text(claim.get("attributed_to"))
        return {"attributed_to": attributed,
                "attributed_to_type": self.kind_of.get(attributed) if attributed else None,
                "denies": _text(claim.get("denies")),
                "same_event": _text(claim.get("same_event"))}  # issue 22

    def _name(self, c: snapshot.PublicClaim) -> None:
        claim = c.claim
        for kind in ("person", "place", "organization", "fund"):
            if isinstance(claim.get(kind), str):
                self.names.setdefault(claim[kind], []).append({
                    "claim_id": c.id, "entity_type": kind, "entity_id": claim[kind],
                    "name": claim["name"], "script": claim.get("script"),
                    "name_kind": claim.get("name_kind", "variant"),
                    "start_edtf": claim.get("start"), "end_edtf": claim.get("end"),
                    **{part: claim.get("parts", {}).get(part) for part in NAME_PARTS}})
                return

    def _synthetic(self, claim: dict[str, Any]) -> bool:
        """A claim citing a synthetic source or naming a synthetic record, in any field."""
        values = [claim["citation"]["source"], *(p["ref"] for p in claim.get("participants", ()))]
        for value in claim.values():
            values += value if isinstance(value, list) else [value]
        return any(isinstance(v, str) and v in self.synthetic for v in values)

    # -- populations and ledgers ------------------------------------------------------------

    def episodes(self) -> Iterator[dict[str, Any]]:
        for e in snapshot.custody_episodes(self.conn):
            row = msgspec.structs.asdict(e)
            row["place_said"] = self.place_said.get(e.claim_id)
            yield row

    def population(self, places: list[str]) -> Iterator[dict[str, Any]]:
        for place_id in places:
            for period in snapshot.yearly_population(self.conn, place_id):
                yield {"place_id": place_id, "year": int(period.period),
                       "count_min": period.count_min, "count_max": period.count_max,
                       "reported_claims": _json([r.claim for r in period.reported])}

    @staticmethod
    def entry(e: LedgerEntry) -> dict[str, Any]:
        party, via = e.counterparty, e.via
        return {"claim_id": e.claim, "fund_id": e.fund.id if e.fund else None, "kind": e.kind, "direction": e.direction,
                "amount": e.amount, "currency": e.currency,
                "counterparty_id": party.id if party else None,
                "counterparty_label": party.label if party else None,
                "via_id": via.id if via else None, "via_label": via.label if via else None,
                "details": e.details, "date_edtf": e.date,
                "earliest": e.earliest.isoformat() if e.earliest else None,
                "latest": e.latest.isoformat() if e.latest else None,
                "source_id": e.citation.source.id, "locator": e.citation.locator}

    @staticmethod
    def totals(fund_id: str, ledger: Ledger) -> Iterator[dict[str, Any]]:
        def row(breakdown: str, key: str, currency: str, received: str | None, disbursed: str,
                balance: str | None, label: str | None = None) -> dict[str, Any]:
            return {"fund_id": fund_id, "breakdown": breakdown, "key": key, "key_label": label,
                    "currency": currency, "received": received, "disbursed": disbursed,
                    "balance": balance}

        for currency, t in sorted(ledger.totals.items()):
            yield row("fund", "", currency, t.received, t.disbursed, t.balance)
        for breakdown, figures in (("period", ledger.per_period), ("report", ledger.per_report)):
            for key, by_currency in sorted(figures.items()):
                for currency, t in sorted(by_currency.items()):
                    yield row(breakdown, key, currency, t.received, t.disbursed, t.balance)
        for r in ledger.per_recipient:
            for currency, sent in sorted(r.sent.items()):
                yield row("recipient", r.recipient.id or r.recipient.label, currency, None, sent,
                          None, r.recipient.label)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _counts(count: Any) -> dict[str, int | None]:
    """The claims table's count columns: an integer count is both ends, a range its two."""
    if isinstance(count, dict):
        return {"count_min": count.get("min"), "count_max": count.get("max")}
    return {"count_min": count, "count_max": count} if isinstance(count, int) else {
        "count_min": None, "count_max": None}


def _bounds(dates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The claims table's date columns: each of date, start and end as written with its
    bounds; the earliest day of any date, and the latest (null when one of them is open)."""
    out: dict[str, Any] = {}
    for field in ("date", "start", "end"):
        value = dates.get(field) or {}
        out[f"{field}_edtf"] = value.get("edtf")
        out[f"{field}_earliest"] = value.get("earliest")
        out[f"{field}_latest"] = value.get("latest")
    lows = [v["earliest"] for v in dates.values() if v.get("earliest")]
    highs = [v.get("latest") for v in dates.values()]
    known = [h for h in highs if h]
    out["earliest"] = min(lows) if lows else None
    out["latest"] = max(known) if highs and len(known) == len(highs) else None
    return out


# -- metadata.json --------------------------------------------------------------------------

def metadata(out: str, head: Head, digest: str, versions: dict[str, int]) -> dict[str, Any]:
    """Return the Datasette metadata of a snapshot written to `out`: titles, descriptions and
    the source of every table and view, and the log position and head it was made at."""
    database = os.path.splitext(os.path.basename(out))[0]
    at = f"log position {head.position}, head hash {head.hash}"
    tables: dict[str, Any] = {}
    for table in (*TABLES, SNAPSHOT_TABLE):
        tables[table.name] = {
            "title": table.name.replace("_", " ").strip(), "description": table.description,
            "source": f"{table.source}; {at}",
            "columns": {name: c.description for name, c in table.columns.items()}}
        if table.label_column:
            tables[table.name]["label_column"] = table.label_column
        if table.name in FACETS:
            tables[table.name]["facets"] = FACETS[table.name]
    for view in VIEWS:
        tables[view.name] = {"title": view.name.replace("_", " "), "description": view.description,
                             "source": f"a view over the tables above; {at}"}
    return {
        "title": "starosta: the approved archive (public snapshot)",
        "description": (
            "Cited claims about anarchists and socialists imprisoned and exiled in Soviet Russia, "
            "and the aid funds that kept them alive: every approved, current claim with its "
            "citation, the persons, places, organisations, funds and sources they name, custody "
            f"episodes, yearly populations and ledgers, as the archive stood at {at} (recorded "
            f"{head.recorded_at}). Nothing pending, contested, rejected or retracted; no "
            "contributor or reviewer names. Rows marked synthetic = 1 are generated or demo "
            "data, not history."),
        "license": LICENSE,
        "source": f"starosta event log, {at}",
        "about": "starosta publish",
        "databases": {database: {
            "title": "starosta public snapshot",
            "description": f"Made by `starosta publish` at {at}; content hash {digest}.",
            "source": f"starosta event log, {at}",
            "tables": tables}},
        "snapshot": {"format": FORMAT, "log_position": head.position, "head_hash": head.hash,
                     "head_recorded_at": head.recorded_at, "content_hash": digest,
                     "read_models": versions},
    }
