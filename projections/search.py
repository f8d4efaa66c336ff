"""The search read model: every public name of persons, places, organisations and funds,
normalised (one transliteration scheme, casefolded, accents dropped) in a full-text index:
SQLite's FTS5, or on PostgreSQL a GIN index over `to_tsvector('simple', normal)` (the
normal form holds only `[a-z0-9]` words, which both engines split alike; transliteration
stays in Python, `projections.names`). Both backends answer the same entities in the same
order (`search`).

Indexed: registration labels and place aliases (public at once), and name claims while they
are approved and not superseded (the rule of `projections.rules`); `name_claims` keeps every name
claim with its status, so a name comes back when the claim superseding it loses its approval.
`name_skeletons` keeps the TR39 skeletons (`projections.name_keys.confusable_keys`) of the same
public names, so that a new registration finds the records whose names look like its own
(`confusable`). `name_surnames` (the surname of every person's name claim given in parts) and
`person_sort_keys` (every person's label) keep their sort keys (`name_keys.sort_string`) for
the listing by surname (`by_surname`), which reads the claims' state and the merges at query
time.
"""

from __future__ import annotations


from typing import Annotated

import msgspec
from msgspec import Meta
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from starosta.events.kinds import NameClaim, StatementClaim
from starosta.events.properties import value_key
from starosta.events.registry import (
    FundRegistered,
    OrganizationRegistered,
    PersonRegistered,
    PlaceRegistered,
)
from starosta.events.claim_rules import status_after
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRejected,
    ClaimRetracted,
    ClaimSubmitted,
)
from starosta.events.store import Connection, Envelope
from starosta.projections import name_keys, names, registry, sql
from starosta.projections.rules import Supersession
from starosta.projections.runner import Projection, Tables


class SearchProjection(Projection):
    """Names -> entities, searchable by any variant in any script."""

    name = "search"
    version = 8  # 4: name_skeletons; 5: disputed names (contested once approved); 6: name_surnames;
    # 7: statement_ids (external identifiers); 8: name_variants, name_grams, registered_ids (issue 22)
    ddl = {
        "name_index": ["""CREATE VIRTUAL TABLE {name} USING fts5(
            normal, entity_kind UNINDEXED, entity_id UNINDEXED, name UNINDEXED,
            claim_id UNINDEXED, tokenize = 'unicode61', prefix = '2 3 4')"""],
        # every name claim with its review status: indexed while approved and not superseded
        "name_claims": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
            name TEXT NOT NULL, status TEXT NOT NULL)"""],
        # FTS5 cannot index claim_id: this maps a name claim to its row, so that removing a
        # name is a lookup, not a scan of the whole index
        "name_index_claims": ["""CREATE TABLE {name} (
            claim_id TEXT NOT NULL, fts_rowid INTEGER NOT NULL, PRIMARY KEY (claim_id, fts_rowid))"""],
        "search_supersession": Supersession.ddl(),
        # the public names' look-alike keys: registration finds records named like it
        "name_skeletons": ["""CREATE TABLE {name} (
            skeleton TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
            name TEXT NOT NULL, claim_id TEXT)""",
            "CREATE INDEX {name}_skeleton ON {name} (entity_kind, skeleton)",
            "CREATE INDEX {name}_claim ON {name} (claim_id)"],
        # the surname every person's name claim with parts gives (as submitted, never changed):
        # the person listing by surname (`by_surname`) reads the claim's state beside it
        "name_surnames": ["""CREATE TABLE {name} (
            claim_id TEXT PRIMARY KEY, entity_id TEXT NOT NULL, surname TEXT NOT NULL,
            sort_key TEXT NOT NULL, position INTEGER NOT NULL)""",
            "CREATE INDEX {name}_entity ON {name} (entity_id)"],
        # every person's label as the listing by surname sorts it (name_keys.sort_string)
        "person_sort_keys": ["""CREATE TABLE {name} (
            entity_id TEXT PRIMARY KEY, sort_key TEXT NOT NULL)"""],
    }
    # every statement whose value is a string, by its key (properties.value_key), with the
    # claim's status: a search finds the subjects of approved external-id statements (the
    # properties whose datatype is external_id are read at query time: seeded or registered)
    ddl["statement_ids"] = ["""CREATE TABLE {name} (
        claim_id TEXT PRIMARY KEY, subject TEXT NOT NULL, property TEXT NOT NULL,
        value_key TEXT NOT NULL, status TEXT NOT NULL)""",
        "CREATE INDEX {name}_key ON {name} (value_key)"]
    # issue 22: every public name's variant keys (name_keys.variant_keys: words joined by " ",
    # a word's keys by "|"), and their trigrams (name_keys.grams), the portable table that
    # narrows a search before rapidfuzz ranks (`variant_search`); the same on both backends
    ddl["name_variants"] = ["""CREATE TABLE {name} (
        entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL, name TEXT NOT NULL,
        normal TEXT NOT NULL, keys TEXT NOT NULL, claim_id TEXT)""",
        "CREATE INDEX {name}_entity ON {name} (entity_id)",
        "CREATE INDEX {name}_claim ON {name} (claim_id)"]
    # the `external_ids` a registration gives (scheme -> value), by value_key: found exactly
    ddl["registered_ids"] = ["""CREATE TABLE {name} (
        entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL, scheme TEXT NOT NULL,
        value_key TEXT NOT NULL)""",
        "CREATE INDEX {name}_key ON {name} (value_key)"]
    ddl["name_grams"] = ["""CREATE TABLE {name} (
        gram TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
        name TEXT NOT NULL, claim_id TEXT)""",
        "CREATE INDEX {name}_gram ON {name} (entity_kind, gram)",
        "CREATE INDEX {name}_claim ON {name} (claim_id)"]
    # PostgreSQL: a plain table, its claim_id indexed (FTS5 could not), and a GIN index of
    # its words; name_index_claims keeps the same shape (fts_rowid 0: rows go by claim_id)
    ddl_postgres = {
        **ddl,
        "name_index": ["""CREATE TABLE {name} (
            normal TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
            name TEXT NOT NULL, claim_id TEXT)""",
            "CREATE INDEX {name}_words ON {name} USING gin (to_tsvector('simple', normal))",
            "CREATE INDEX {name}_claim ON {name} (claim_id)"],
    }

    def apply(self, conn: Connection, envelope: Envelope, t: Tables) -> None:
        e = envelope.event
        registered = getattr(e, "external_ids", None)
        if registered and isinstance(e, (PersonRegistered, PlaceRegistered, OrganizationRegistered)):
            kind = {PersonRegistered: "person", PlaceRegistered: "place",
                    OrganizationRegistered: "organization"}[type(e)]
            entity = getattr(e, f"{kind}_id")
            conn.executemany(f"INSERT INTO {t['registered_ids']} VALUES (?, ?, ?, ?)",
                             [(kind, entity, scheme, value_key(value))
                              for scheme, value in sorted(registered.items())])
        match e:
            case PersonRegistered():
                self._index(conn, t, "person", e.person_id, e.label, None)
                conn.execute(f"INSERT INTO {t['person_sort_keys']} VALUES (?, ?)",
                             (e.person_id, name_keys.sort_string(e.label)))
            case PlaceRegistered():
                for label in (e.label, *e.aliases):
                    self._index(conn, t, "place", e.place_id, label, None)
                if e.identification is not None:
                    self._index(conn, t, "place", e.place_id, e.identification.said, None)
            case OrganizationRegistered():
                self._index(conn, t, "organization", e.organization_id, e.label, None)
            case FundRegistered():
                self._index(conn, t, "fund", e.fund_id, e.label, None)
            case ClaimSubmitted(claim=claim):
                Supersession.submitted(conn, t["search_supersession"], e.claim_id, claim.supersedes,
                                       envelope.position)
                if isinstance(claim, NameClaim):
                    kind, entity = next((k, getattr(claim, k)) for k in
                                        ("person", "place", "organization", "fund")
                                        if getattr(claim, k) is not None)
                    conn.execute(f"INSERT INTO {t['name_claims']} VALUES (?, ?, ?, ?, 'pending')",
                                 (e.claim_id, kind, entity, claim.name))
                    if kind == "person" and claim.parts is not None and claim.parts.surname is not None:
                        conn.execute(f"INSERT INTO {t['name_surnames']} VALUES (?, ?, ?, ?, ?)",
                                     (e.claim_id, entity, claim.parts.surname,
                                      name_keys.sort_string(claim.parts.surname), envelope.position))
                if isinstance(claim, StatementClaim) and isinstance(claim.value, str):
                    conn.execute(f"INSERT INTO {t['statement_ids']} VALUES (?, ?, ?, ?, 'pending')",
                                 (e.claim_id, claim.subject, claim.property, value_key(claim.value)))
            case ClaimApproved() | ClaimRejected() | ClaimContested() | ClaimRetracted():
                before = conn.execute(f"SELECT status FROM {t['name_claims']} WHERE claim_id = ?",
                                      (e.claim_id,)).fetchone()
                status = status_after(before[0] if before else "", e)
                conn.execute(f"UPDATE {t['name_claims']} SET status = ? WHERE claim_id = ?",
                             (status, e.claim_id))
                conn.execute(f"UPDATE {t['statement_ids']} SET status = ? WHERE claim_id = ?",
                             (status_after(self._status(conn, t, e.claim_id), e), e.claim_id))
                self._sync(conn, t, e.claim_id)
                changed = Supersession.reviewed(conn, t["search_supersession"], e.claim_id, status)
                if changed is not None:
                    self._sync(conn, t, changed[0])

    @staticmethod
    def _status(conn, t, claim_id: str) -> str:
        row = conn.execute(f"SELECT status FROM {t['statement_ids']} WHERE claim_id = ?",
                           (claim_id,)).fetchone()
        return row[0] if row else ""

    def _sync(self, conn, t, claim_id: str) -> None:
        """Index a name claim while it is approved and not superseded; unindex it otherwise."""
        row = conn.execute(f"SELECT entity_kind, entity_id, name, status FROM {t['name_claims']} "
                           "WHERE claim_id = ?", (claim_id,)).fetchone()
        if row is None:
            return
        wanted = row[3] == "approved" and Supersession.successor(
            conn, t["search_supersession"], claim_id) is None
        indexed = conn.execute(f"SELECT 1 FROM {t['name_index_claims']} WHERE claim_id = ?",
                               (claim_id,)).fetchone() is not None
        if wanted and not indexed:
            self._index(conn, t, row[0], row[1], row[2], claim_id)
        elif indexed and not wanted:
            self._unindex(conn, t, claim_id)

    @staticmethod
    def _index(conn, t, kind: str, entity: str, name: str, claim_id: str | None) -> None:
        conn.executemany(f"INSERT INTO {t['name_skeletons']} (skeleton, entity_kind, entity_id, name, "
                         f"claim_id) VALUES (?, ?, ?, ?, ?)",
                         [(k, kind, entity, name, claim_id) for k in name_keys.confusable_keys(name)])
        normal = names.normalise(name)
        variants = name_keys.variant_keys(name)
        if variants:
            conn.execute(f"INSERT INTO {t['name_variants']} (entity_kind, entity_id, name, normal, keys, "
                         f"claim_id) VALUES (?, ?, ?, ?, ?, ?)",
                         (kind, entity, name, normal, " ".join("|".join(w) for w in variants), claim_id))
            conn.executemany(f"INSERT INTO {t['name_grams']} (gram, entity_kind, entity_id, name, claim_id) "
                             f"VALUES (?, ?, ?, ?, ?)",
                             [(g, kind, entity, name, claim_id) for g in
                              sorted({g for word in variants for k in word for g in name_keys.grams(k)})])
        if normal:
            cursor = conn.execute(f"INSERT INTO {t['name_index']} (normal, entity_kind, entity_id, name, "
                                  f"claim_id) VALUES (?, ?, ?, ?, ?)", (normal, kind, entity, name, claim_id))
            if claim_id is not None:
                rowid = cursor.lastrowid if sql.dialect(conn) == sql.SQLITE else 0
                conn.execute(f"INSERT INTO {t['name_index_claims']} VALUES (?, ?)",
                             (claim_id, rowid))

    @staticmethod
    def _unindex(conn, t, claim_id: str) -> None:
        conn.execute(f"DELETE FROM {t['name_skeletons']} WHERE claim_id = ?", (claim_id,))
        conn.execute(f"DELETE FROM {t['name_variants']} WHERE claim_id = ?", (claim_id,))
        conn.execute(f"DELETE FROM {t['name_grams']} WHERE claim_id = ?", (claim_id,))
        rows = conn.execute(f"SELECT fts_rowid FROM {t['name_index_claims']} WHERE claim_id = ?",
                            (claim_id,)).fetchall()
        if rows:
            if sql.dialect(conn) == sql.SQLITE:
                conn.executemany(f"DELETE FROM {t['name_index']} WHERE rowid = ?", rows)
            else:
                conn.execute(f"DELETE FROM {t['name_index']} WHERE claim_id = ?", (claim_id,))
            conn.execute(f"DELETE FROM {t['name_index_claims']} WHERE claim_id = ?", (claim_id,))


# The one ranking query of both backends, around each dialect's match clause: each entity
# once, by its first name in (normal form, name) order; entities by that name, then by id.
# Suppressed entities, and names from suppressed name claims, are found by no one (the registry's
# suppressions in force, read at query time: a take-down needs no re-indexing).
_RANKED = ("SELECT entity_id, name FROM (SELECT entity_id, name, normal, row_number() OVER "
           "(PARTITION BY entity_id ORDER BY normal, name) AS n FROM name_index WHERE {match} "
           "AND entity_kind = ? AND entity_id NOT IN (SELECT target FROM suppressions) "
           "AND (claim_id IS NULL OR claim_id NOT IN (SELECT target FROM suppressions))) AS m "
           "WHERE n = 1 ORDER BY normal, entity_id LIMIT ?")
_MATCH = {sql.SQLITE: "name_index MATCH ?",
          sql.POSTGRES: "to_tsvector('simple', normal) @@ to_tsquery('simple', ?)"}


def search(conn: Connection, entity_kind: str, q: str, limit: int) -> list[tuple[str, str]]:
    """Return (entity id, matched name) for at most `limit` entities of a kind whose names
    match `q`, each entity once, in the same order on both backends:

    1. entities with a name holding every query word as a whole word ("exact"), then
    2. entities with a name holding every query word as a word prefix;
    3. within each, by the matched name's normal form (bytewise), then the name, then the id.

    The words are `names.query_words(q)`; an entity's matched name is its first name in that
    order among those that match.
    """
    dialect = sql.dialect(conn)
    statement = _RANKED.format(match=_MATCH[dialect])
    expression = names.fts_query if dialect == sql.SQLITE else names.tsquery
    found: dict[str, str] = {}
    for prefix in (False, True):
        match = expression(q, prefix=prefix)
        if match is None:
            return []
        for entity_id, name in conn.execute(statement, (match, entity_kind, limit)):
            found.setdefault(entity_id, name)
    if len(found) < limit:
        for entity_id, name in variant_search(conn, entity_kind, q, limit):
            found.setdefault(entity_id, name)
    return list(found.items())[:limit]


#: A query word matches a name's word by similarity when their variant keys are at most this
#: many edits apart (rapidfuzz's Levenshtein distance) for a query key of up to 5 letters, one
#: more for longer ones (two typos in "Spiridonova"), and their lengths differ by one letter at
#: most ("Klichevsk" is no typo of "Klichev"); ranked by rapidfuzz's ratio (0-100).
MAX_EDITS = 1
#: Names a search's trigrams narrow to before rapidfuzz ranks them (most shared trigrams first).
CANDIDATE_CAP = 2000
# The narrowing query: names of a kind sharing at least `?` of the trigrams of the query's
# rarest word (the fewest rows in name_grams), not suppressed (as _RANKED), most shared first;
# the other words are checked by `name_rank`, so a common word ("Person") costs nothing.
_NARROW = ("SELECT entity_id, name FROM name_grams WHERE entity_kind = ? AND gram IN ({marks}) "
           "AND entity_id NOT IN (SELECT target FROM suppressions) "
           "AND (claim_id IS NULL OR claim_id NOT IN (SELECT target FROM suppressions)) "
           "GROUP BY entity_id, name HAVING COUNT(*) >= ? "
           "ORDER BY COUNT(*) DESC, entity_id, name LIMIT ?")
_GRAM_ROWS = "SELECT gram, COUNT(*) FROM name_grams WHERE entity_kind = ? AND gram IN ({marks}) GROUP BY gram"


def word_tier(query: tuple[str, ...], word: tuple[str, ...]) -> tuple[int, float]:
    """How one query word's variant keys match one name word's: (2, 100) a shared key, (3, 100)
    a key the prefix of another (3 letters or more), (4, ratio) rapidfuzz's best ratio of two
    keys at most :data:`MAX_EDITS` (+1 beyond 5 letters) apart; (9, 0) no match. Pure.

    >>> word_tier(("monklus",), ("monklus",)), word_tier(("spiri",), ("spiridonova",))
    ((2, 100.0), (3, 100.0))
    >>> word_tier(("spiridonva",), ("spiridonova",))[0], word_tier(("blasco",), ("spiridonova",))[0]
    (4, 9)
    """
    if set(query) & set(word):
        return 2, 100.0
    if any(len(q) >= 3 and w.startswith(q) for q in query for w in word):
        return 3, 100.0
    close = [fuzz.ratio(q, w) for q in query for w in word if abs(len(q) - len(w)) <= 1
             and Levenshtein.distance(q, w, score_cutoff=MAX_EDITS + (len(q) > 5)) <= MAX_EDITS + (len(q) > 5)]
    return (4, max(close)) if close else (9, 0.0)


def name_rank(query: tuple[tuple[str, ...], ...], name: tuple[tuple[str, ...], ...]) -> tuple[int, float] | None:
    """A name's rank for a query, both as variant keys word by word: every query word must match
    one of the name's words (any order); the rank is the worst word's tier and the words' mean
    similarity (negated, so that smaller is better). None: no match. Pure.

    >>> name_rank((("steimer",), ("moli",)), (("moli",), ("steimer",)))
    (2, -100.0)
    >>> name_rank((("moli",), ("zapata",)), (("moli",), ("steimer",))) is None
    True
    """
    if not query or not name:
        return None
    best = []
    for q in query:
        tier = min((word_tier(q, w) for w in name), key=lambda t: (t[0], -t[1]))
        if tier[0] == 9:
            return None
        best.append(tier)
    return max(t[0] for t in best), -sum(t[1] for t in best) / len(best)


def variant_search(conn: Connection, entity_kind: str, q: str, limit: int) -> list[tuple[str, str]]:
    """Return (entity id, matched name) for at most `limit` entities of a kind a query finds by
    variant keys (issue 22): the query's words as `name_keys.variant_keys`, the names sharing
    a third of the trigrams of the query's rarest word (`name_grams`) narrowed in SQL, then ranked in Python by `name_rank` (variant key, variant prefix, similarity), then
    the matched name's normal form, the name, the id. The same on both backends (the SQL only
    narrows; the order is Python's)."""
    query = name_keys.variant_keys(q[:names.MAX_QUERY_CHARS])[:names.MAX_QUERY_TOKENS]
    query = tuple(tuple(k[:names.MAX_TOKEN_CHARS] for k in w) for w in query)
    if not query:
        return []
    per_word = [sorted({g for k in word for g in name_keys.grams(k)}) for word in query]
    wanted = sorted({g for word in per_word for g in word})
    counts = dict(conn.execute(_GRAM_ROWS.format(marks=",".join("?" * len(wanted))),
                               (entity_kind, *wanted)).fetchall())
    # the rarest word: fewest name_grams rows over its trigrams (ties: the first in the query)
    rarest = min(range(len(query)), key=lambda i: (sum(counts.get(g, 0) for g in per_word[i]), i))
    needed = max(1, -(-min(len(name_keys.grams(k)) for k in query[rarest]) // 3))
    rows = conn.execute(_NARROW.format(marks=",".join("?" * len(per_word[rarest]))),
                        (entity_kind, *per_word[rarest], needed, CANDIDATE_CAP)).fetchall()
    if not rows:
        return []
    candidates = {(r[0], r[1]) for r in rows}
    ids = sorted({r[0] for r in rows})
    ranked: list[tuple[tuple[int, float], str, str, str]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for entity_id, name, normal, keys in conn.execute(
                f"SELECT entity_id, name, normal, keys FROM name_variants WHERE entity_kind = ? "
                f"AND entity_id IN ({','.join('?' * len(chunk))})", (entity_kind, *chunk)):
            if (entity_id, name) not in candidates:
                continue
            rank = name_rank(query, tuple(tuple(w.split("|")) for w in keys.split(" ")))
            if rank is not None:
                ranked.append((rank, normal, name, entity_id))
    ranked.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    found: dict[str, str] = {}
    for _, _, name, entity_id in ranked:
        found.setdefault(entity_id, name)
        if len(found) == limit:
            break
    return list(found.items())


def by_external_id(conn: Connection, entity_kind: str, q: str, limit: int) -> list[tuple[str, str]]:
    """Return (entity id, the id as matched) of the entities of a kind that an approved
    statement of an external-id property (seeded or registered) gives the value `q` (compared
    by properties.value_key), not superseded, not suppressed; by entity id."""
    props = registry.external_id_properties(conn)
    marks = ",".join("?" * len(props))
    rows = conn.execute(
        f"SELECT DISTINCT s.subject, s.claim_id FROM statement_ids AS s WHERE s.value_key = ? "
        f"AND s.property IN ({marks}) AND s.status = 'approved' "
        "AND s.claim_id NOT IN (SELECT target FROM suppressions) "
        "AND s.subject NOT IN (SELECT target FROM suppressions) ORDER BY s.subject, s.claim_id",
        (value_key(q.strip()), *props)).fetchall()
    out: dict[str, str] = {}
    # the external_ids of a registration (issue 22), public with the record
    for (entity,) in conn.execute(
            "SELECT DISTINCT entity_id FROM registered_ids WHERE value_key = ? AND entity_kind = ? "
            "AND entity_id NOT IN (SELECT target FROM suppressions) ORDER BY entity_id",
            (value_key(q.strip()), entity_kind)).fetchall():
        out.setdefault(entity, q.strip())
    for subject, claim_id in rows:
        if subject not in out and registry.exists(conn, entity_kind, subject) and \
                Supersession.successor(conn, "search_supersession", claim_id) is None:
            out[subject] = q.strip()
    return list(out.items())[:limit]


def confusable(conn: Connection, entity_kind: str, keys: list[str],
               limit: int = 20) -> list[tuple[str, str]]:
    """Return (entity id, public name) of entities of a kind with a public name (a label, an
    alias, an approved name claim) sharing one of `keys` (`name_keys.confusable_keys`), each
    entity once, by id; at most `limit`."""
    if not keys:
        return []
    marks = ", ".join("?" * len(keys))
    rows = conn.execute(f"SELECT entity_id, MIN(name) FROM name_skeletons WHERE entity_kind = ? "
                        f"AND skeleton IN ({marks}) GROUP BY entity_id ORDER BY entity_id LIMIT ?",
                        (entity_kind, *keys, limit))
    return [(r[0], r[1]) for r in rows]


class SearchHit(msgspec.Struct, kw_only=True):
    """A record found; `identified_with`: the records a reviewer judged it possibly the same
    as (identifications in force, issue 20), empty for most."""

    id: str
    label: str
    matched: str | None
    identified_with: list[registry.IdentifiedAs] = []
    surname: Annotated[str | None, Meta(
        description="With order=surname: the surname the person is listed by (null: none, "
                    "listed after, by label)", examples=["Monclús Guallar"])] = None


class SearchPage(msgspec.Struct):
    items: list[SearchHit]
    next: str | None


SEARCH_CAP = 1000  # entities a search ranks before paging (merged records fold into survivors)


def find(conn: Connection, kind: str, q: str | None, offset: int, limit: int,
         order: str | None = None) -> SearchPage:
    """Search (or list, without q) entities of a kind, best first; merged persons answer as
    their survivors, each once across all pages. `order="surname"` (persons only) orders the
    same entities by surname instead (`by_surname`), each hit with its `surname`."""
    if order == "surname":
        return by_surname(conn, q, offset, limit)
    if q:
        ranked: dict[str, str | None] = {}
        # an external identifier (a Memorial record, a Wikidata item) first: it names one record
        found = by_external_id(conn, kind, q, SEARCH_CAP) + search(conn, kind, q, SEARCH_CAP)
        alive = registry.survivors(conn, [f[0] for f in found], registry.ENTITY_TABLES[kind]) \
            if kind in registry.MERGED_KINDS else {}
        for entity_id, matched in found:
            ranked.setdefault(alive.get(entity_id, entity_id), matched)
        hits = list(ranked.items())[offset:offset + limit + 1]
    else:
        hits = [(i, None) for i in registry.list_page(conn, kind, limit + 1, offset)]
    labels = registry.labels(conn, [h[0] for h in hits[:limit]])
    possibly = registry.identified_with(conn, kind, [h[0] for h in hits[:limit]]) \
        if kind in registry.MERGED_KINDS else {}
    items = [SearchHit(id=entity_id, label=labels.get(entity_id, entity_id), matched=matched,
                       identified_with=possibly.get(entity_id, []))
             for entity_id, matched in hits[:limit]]
    return SearchPage(items, str(offset + limit) if len(hits) > limit else None)


def _found_persons(conn: Connection, q: str) -> dict[str, str | None]:
    """Person -> matched name of a search (as `find` ranks them), merged records as their
    survivors, once."""
    ranked: dict[str, str | None] = {}
    found = search(conn, "person", q, SEARCH_CAP)
    alive = registry.survivors(conn, [f[0] for f in found])
    for entity_id, matched in found:
        ranked.setdefault(alive.get(entity_id, entity_id), matched)
    return ranked


# The listing by surname, in SQL on both backends (the rule's pure form:
# claim_rules.chosen_surname; the alphabet's: name_keys.sort_key, stored as sort_string):
# `grouped` maps every person record named by a surname to its merge survivor (walking up its
# merges; UNION, so that a cycle in old data ends the walk, its records then surviving
# nowhere); `ranked` numbers each survivor's name claims with
# a surname that count (approved, not superseded, not deprecated, not suppressed, nor of a
# suppressed record), preferred first, then by submission; every unmerged person follows with
# that surname (none for a suppressed person), persons without one after, by label (a
# suppressed person's as "[suppressed]": its place says nothing of its name), then id. The
# name claims with a surname drive the join (`ordered_join`): they are few beside all claims.
_BY_SURNAME = """WITH RECURSIVE up (id, above) AS (
    SELECT DISTINCT entity_id, entity_id FROM name_surnames
    UNION
    SELECT u.id, p.merged_into FROM up AS u JOIN persons AS p ON p.id = u.above
    WHERE p.merged_into IS NOT NULL),
grouped AS (
    SELECT u.id, u.above AS survivor FROM up AS u JOIN persons AS p ON p.id = u.above
    WHERE p.merged_into IS NULL),
ranked AS (
    SELECT g.survivor, s.surname, s.sort_key, row_number() OVER (PARTITION BY g.survivor
        ORDER BY CASE WHEN c.rank = 'preferred' THEN 0 ELSE 1 END, s.position) AS n
    FROM name_surnames AS s {join} claims AS c ON c.id = s.claim_id
    {join} grouped AS g ON g.id = s.entity_id
    WHERE c.status = 'approved' AND c.superseded_by IS NULL AND c.rank <> 'deprecated'
    AND s.claim_id NOT IN (SELECT target FROM suppressions)
    AND s.entity_id NOT IN (SELECT target FROM suppressions)),
listed AS (
    SELECT p.id, CASE WHEN t.target IS NULL THEN r.surname END AS surname,
        CASE WHEN t.target IS NULL THEN r.sort_key END AS surname_key,
        CASE WHEN t.target IS NULL THEN COALESCE(k.sort_key, '') ELSE ? END AS label_key
    FROM persons AS p LEFT JOIN person_sort_keys AS k ON k.entity_id = p.id
    LEFT JOIN suppressions AS t ON t.target = p.id
    LEFT JOIN ranked AS r ON r.survivor = p.id AND r.n = 1
    WHERE p.merged_into IS NULL {only})
SELECT id, surname FROM listed
ORDER BY CASE WHEN surname IS NULL THEN 1 ELSE 0 END, surname_key, label_key, id LIMIT ? OFFSET ?"""


def by_surname(conn: Connection, q: str | None, offset: int, limit: int) -> SearchPage:
    """Persons (merge survivors; with `q`, those a search finds) by the surname they are
    listed by (`_BY_SURNAME`), a page of them from `offset`, each with its `surname`."""
    found: dict[str, str | None] = {}
    only, args = "", []
    if q:
        found = _found_persons(conn, q)
        if not found:
            return SearchPage([], None)
        only, args = f"AND p.id IN ({','.join('?' * len(found))})", list(found)
    rows = conn.execute(_BY_SURNAME.format(only=only, join=sql.ordered_join(conn)),
                        (name_keys.sort_string(registry.SUPPRESSED_LABEL), *args, limit + 1, offset)).fetchall()
    labels = registry.labels(conn, [r[0] for r in rows[:limit]])
    possibly = registry.identified_with(conn, "person", [r[0] for r in rows[:limit]])
    items = [SearchHit(id=i, label=labels.get(i, i), matched=found.get(i), surname=surname,
                       identified_with=possibly.get(i, []))
             for i, surname in rows[:limit]]
    return SearchPage(items, str(offset + limit) if len(rows) > limit else None)
