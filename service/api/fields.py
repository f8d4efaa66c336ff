"""What every field of the OpenAPI document means (issue 22, item 7): the one glossary that
gives a description to every schema property the code leaves undescribed.

A field described where it is declared (msgspec `Meta(description=...)`, a Parameter's
description) keeps its own text; every other property of a component schema takes the text
given here for "<Schema>.<field>" or, failing that, for its field name (the same name means
the same thing across the answers: `earliest` is always a date's earliest possible day).
tests/api/test_openapi_descriptions.py counts the properties left without one: none.
docs/semantics.md ("i22-queries") says where these texts come from.
"""

from __future__ import annotations

from typing import Any

# "<Schema>.<field>": a field whose meaning depends on the schema it is in
BY_SCHEMA: dict[str, str] = {
    "Problem.type": "A URI reference naming the kind of problem (RFC 9457), e.g. /problems/validation",
    "Problem.title": "A short summary of the kind of problem (RFC 9457)",
    "Problem.status": "The HTTP status code (RFC 9457)",
    "Problem.detail": "What went wrong with this request, naming the field and the value sent",
    "Problem.instance": "The path of the request that failed (RFC 9457)",
}

# a field name -> what it means wherever it appears
BY_NAME: dict[str, str] = {
    "about": "The value is approximate (\"about\", \"some\")",
    "accusation": "What the person was accused of, as the source words it",
    "action": "The review action: approve, reject, contest, retract or rank",
    "actor": "Who did it, as an account id (A- and 8 characters) to readers below reviewer, by name to reviewers and admins",
    "affiliation": "The current the person belonged to, as written (anarchist, anarcho-syndicalist, Left SR, CNT...)",
    "affiliations": "The person's affiliations (their approved affiliation claims)",
    "agreements": "Claims of independent sources that agree on a value",
    "aliases": "Other names the entry is known by",
    "amount": "An amount of money as a decimal string (never a float), in `currency`",
    "applies_to": "The kinds of entity a property may be stated about (person, place, organization, fund, source); empty: any",
    "approximate": "The date is approximate (EDTF `~`)",
    "archive": "The archive that holds the document (its name), with its reference",
    "as_of": "The log position the answer shows the archive as of",
    "at": "The date or span asked about, with its earliest and latest day",
    "at_least": "The value is a lower bound (\"at least\", \"upwards of\")",
    "at_most": "The value is an upper bound (\"at most\", \"less than\")",
    "attributed_to": "Whom the claim attributes the statement to (a person, organisation or source: {id, label} or an id)",
    "authority_said": "The authority (court, troika, NKVD organ) as the source names it, when not registered",
    "balance": "Received minus disbursed, per currency, exact amounts only",
    "births": "The person's birth claims",
    "calendar": "The calendar the claim's dates are written in (gregorian, julian); stored dates are Gregorian",
    "candidates": "Existing records that may be the same entity ({id, label}); register anyway with `not_same_as`",
    "causation_id": "The event this event was caused by, when any",
    "certain": "Surely true on a day of the span asked about (a list: the entries that surely are)",
    "certainty": "How sure the source or the contributor is: certain, probable, presumed or uncertain",
    "citation": "Where the claim comes from: a registered source, its locator, the quoted words and the chain (`via`) it reached the source through",
    "claim": "A claim's id (C- and 8 characters)",
    "claims": "The ids of the claims behind this entry",
    "claims_next": "The cursor of the next page of the source's claims (GET /claims?source=ID&after=); null on the last",
    "conflicts": "Values claims give that cannot both be true, each with its claims and sources",
    "confinement": "Days in prison, camp or other confinement (bounds)",
    "contested_by": "The contest that disputes the claim, while it stands",
    "contributor": "Who submitted the claim: an account id (A- and 8 characters) below reviewer, by name to reviewers and admins",
    "count": "How many people the claim is about: an integer or {min, max}",
    "count_max": "At most this many (named persons only; groups and reported counts are never added)",
    "count_min": "At least this many (named persons only; groups and reported counts are never added)",
    "counterparty": "Who the money came from or went to ({id, label}, or as the source says)",
    "csl": "The source's bibliographic record in CSL-JSON",
    "currency": "The currency, as an ISO 4217 code or a historical one (e.g. SUR for Soviet roubles)",
    "custody": "The kind of custody: prison, camp, exile, psychiatric hospital...",
    "data": "The record's registration data, as registered",
    "datatype": "The datatype the property's values take (text, decimal, date, entity, external_id...)",
    "date": "A date as written (EDTF: 1937, 1937-05, 1937-05-02, 1937~, ../1922)",
    "dates": "The claim's dates as written, by field (EDTF)",
    "days": "A length in days",
    "deaths": "The person's death and execution claims",
    "delo": "The file (delo) number of an archival reference",
    "deprecated": "Entries a reviewer deprecated (rank), shown apart and counted nowhere",
    "derived": "The registered sources that derive from this one",
    "derives_from": "The registered sources this one derives from (translation, quotation, reprint, excerpt, edition)",
    "description": "A description in prose",
    "destination": "Where the person went on release ({id, label})",
    "destination_said": "The destination as the source names it, when not registered",
    "detail": "What the entry says, in prose",
    "details": "The particulars of the entry",
    "digest": "The SHA-256 digest chaining this event to the one before (hex)",
    "direction": "received (into the fund) or disbursed (out of it)",
    "disbursed": "Money paid out of the fund, per currency",
    "dispute": "While the claim is disputed: the contest (who, why, the counter-citation)",
    "distinct_from": "Records a judgement says are not this one",
    "donor": "Who gave the money ({id, label}), or null when unknown",
    "duration": "A length of time as written (ISO 8601 duration, e.g. P5Y)",
    "earliest": "The earliest possible day (ISO date); null when open",
    "edtf": "The date or span as written (EDTF)",
    "end": "When it ended (EDTF as written); absent when unknown",
    "entity_kinds": "The kinds of entity it applies to",
    "entries": "The ledger's entries, in date order",
    "episodes": "The spans of custody counted",
    "errors": "One item per field refused: the field, the value sent and why",
    "event_id": "The event's id (UUID)",
    "exile": "Days in exile (bounds)",
    "external_ids": "Identifiers of the record in other databases (Memorial's, Wikidata's...), by scheme",
    "field": "The field refused (a body field's path, a query parameter's or a header's name)",
    "fields": "The claim's other fields, entities as {id, label}",
    "flags": "Marks on the entry (disputed, pending, open_end...)",
    "folio": "The folio (list) numbers of an archival reference",
    "fond": "The fond number of an archival reference",
    "from": "Where from ({id, label})",
    "from_place": "Where the transfer started ({id, label})",
    "fund": "A fund's id (F- and 8 characters), or {id, label}",
    "given": "The given name, as the source gives it",
    "group": "A group or colony ({id, label} or its id), or a count's group as the source words it",
    "group_id": "The registered group the count is about, when any",
    "groups": "The groups (organisations of kind group or colony) held there, counted apart",
    "hash": "The content hash (hex)",
    "head": "The log's last position",
    "history": "The claim's review actions, oldest first",
    "id": "The record's id (a prefix and 8 characters: P- person, PL- place, O- organisation, F- fund, S- source, C- claim, PR- property)",
    "identification": "The identification judgement's id and certainty",
    "identified_with": "Records a judgement identifies with this one (possibly the same person), with its certainty",
    "ids": "Ids",
    "in": "Where the refused value was sent: body, query, path or header",
    "independent": "Whether the sources are independent (no shared ancestor by descent or `via`)",
    "instance": "The path of the request that failed (RFC 9457)",
    "into": "The surviving record the merge went into",
    "items": "This page's entries",
    "judgement": "The identity judgement: same, distinct or identified",
    "key": "A short stable key (lowercase, digits, underscores)",
    "kind": "The kind (a claim's kind, a place's kind, an organisation's kind...)",
    "label": "The current label (name) of the record",
    "labour": "The forced labour, as the source words it",
    "latest": "The latest possible day (ISO date); null when open",
    "latitude": "Latitude in decimal degrees (WGS 84)",
    "coordinates_source": ("Where a place's coordinates come from (a gazetteer, a map): "
                           "geography, not a claim about the past"),
    "length": "A length as written and its bounds",
    "locator": "Where in the source (page, folio, paragraph)",
    "longitude": "Longitude in decimal degrees (WGS 84)",
    "manner": "How the person died (executed, died_in_camp, ...)",
    "matched": "The name or identifier the query matched",
    "max": "The largest value",
    "max_days": "The most days it may have lasted",
    "member_of": "The group the person was in it through, with the membership's certainty",
    "members": "Persons with approved membership claims of the group",
    "memberships": "The membership claims behind it",
    "merged_from": "Records merged into this one",
    "message": "Why the value was refused",
    "min": "The smallest value",
    "min_days": "The fewest days it may have lasted",
    "name": "A name as written",
    "name_claim": "The name claim that gives it",
    "name_kind": "What kind of name: birth, pseudonym, transliteration, initials, married, nickname, patronymic, variant, religious, official, other",
    "names": "Every name of the record (approved ones; pending and contested ones to those who may see them), with kind, script and span",
    "narrowed": "The dates other claims narrowed this one by",
    "next": "The cursor of the next page (pass as `after`); null on the last",
    "nonce": "A random value hashed into the event so its digest cannot be guessed",
    "note": "A contributor's or reviewer's note",
    "occupation": "The occupation, as written",
    "of": "What the figure is of",
    "of_whom": "The subsets of people the count is of",
    "open": "Claims whose end stays unknown",
    "open_end": "A stay whose end nothing bounds",
    "open_episodes": "Spans of custody with no end",
    "opis": "The inventory (opis) number of an archival reference",
    "or_string": "Whether a plain string is also accepted as a value",
    "organization": "An organisation's id (O- and 8 characters) or {id, label}",
    "other": "The other person of a relation ({id, label})",
    "outcome": "How it ended",
    "parent": "The record it belongs under (a place in a place, an organisation in an organisation)",
    "partial": "Only part of the document is known or was read",
    "particle": "A name particle (de, von, van der)",
    "parts": "The name in parts as the source gives them (surname, given, patronymic, particle)",
    "patronymic": "The patronymic, as the source gives it",
    "pattern": "A regular expression values must match",
    "payer_said": "Who paid, as the source says, when not registered",
    "per_period": "Totals per period",
    "per_recipient": "Totals per recipient",
    "per_report": "Totals per report (bulletin), per currency",
    "period": "The year or month (YYYY or YYYY-MM)",
    "place": "A place's id (PL- and 8 characters) or {id, label}",
    "place_said": "The place as the source names it, when not registered",
    "places": "The places counted",
    "position": "The log position (a whole number; the write's `position` for read-your-writes)",
    "possible": "May be true on a day of the span asked about, not surely",
    "preferred": "The claims a reviewer ranked preferred",
    "property": "A property ({id, key, label, datatype} or its id or key)",
    "protest": "The protest, as written",
    "pseudonymised": "Whether the names in it are pseudonymised",
    "purpose": "What the money was for",
    "qualifier": "How the count is qualified: exact, about, at_least, at_most",
    "qualifiers": "Further statements about the claim (property and value)",
    "quote": "The source's words, quoted exactly",
    "rank": "The reviewers' rank: preferred, normal or deprecated",
    "rank_reason": "Why the rank was set",
    "reached": "Whether the aid reached the person: certain or possible",
    "reason": "Why, in words",
    "received": "Money received into the fund, per currency",
    "recipient": "Who received it ({id, label})",
    "recipient_said": "The recipient as the source names it, when not registered",
    "recorded_at": "When it was recorded (UTC, ISO 8601)",
    "redacted": "Whether personal data was removed from it",
    "refs": "The records the claim names, by field",
    "relation": "How they are related",
    "release": "The release, as the claim gives it",
    "reported": "Counts sources report (never added to the counts of named persons)",
    "request_id": "The request that wrote the event (X-Request-Id)",
    "requested": "The id asked for, when it was merged into the record answered",
    "resolves_contest": "The contest this action resolves",
    "role": "A participant's role",
    "roles": "The roles the person had in it",
    "said": "What the source says, in its own words",
    "schema_version": "The version of the event's schema",
    "scope": "What is counted: confinement, exile or all",
    "script": "The script of the name (ISO 15924: Latn, Cyrl...)",
    "seeded": "Shipped with the archive (a seeded vocabulary), not registered by a user",
    "sent": "When it was sent",
    "sentence": "The sentence (penal_servitude, death, exile...)",
    "single": "Whether the property takes one value per subject",
    "source": "A source's id (S- and 8 characters) or {id, label}",
    "source_type": "The kind of source (CSL type: book, article, manuscript...)",
    "start": "When it began (EDTF as written); absent when unknown",
    "stated": "Lengths the sources state, as written",
    "statements": "The person's statements (values of properties)",
    "status": "The review status: pending, approved, rejected, contested, disputed or retracted",
    "step": "year or month",
    "stream_id": "The stream (record) the event belongs to",
    "submitted_at": "When the claim was submitted (UTC, ISO 8601)",
    "superseded_by": "The claim that replaced this one",
    "supersedes": "The claim this one replaces",
    "suppressed": "The take-down in force (reason and when), or true where a name is suppressed",
    "suppression": "The take-down in force, when any",
    "surname": "The surname, as the source gives it",
    "synthetic": "Synthetic test data, not historical",
    "term": "The term as written",
    "term_iso": "The term as an ISO 8601 duration",
    "text": "The text",
    "through": "How the entry reaches this record (a group's id, \"participant\", \"value\"...)",
    "timeline": "Entries in date order (by their bounds; undated last)",
    "title": "A short summary of the kind of problem (RFC 9457)",
    "to_place": "Where the transfer went ({id, label})",
    "to_said": "The receiver as the source names it, when not registered",
    "total": "A total (bounds)",
    "totals": "Totals per currency",
    "type": "The record's type",
    "uncertain": "The date is uncertain (EDTF `?`)",
    "undated": "Entries without a date, not counted in any period",
    "unit": "The unit of the values",
    "url": "A URL",
    "url_pattern": "A URL template an identifier makes a link with ($1 is the identifier)",
    "value": "The value, in the property's datatype",
    "version": "The record's version (for ETag and If-Match)",
    "via": "The chain the citation reached the source through (translated by, taken from...)",
    "what": "What it is",
    "with": "Companions (persons) named with the person",
}


def describe(document: dict[str, Any]) -> None:
    """Give every property of every component schema (and of the objects nested in them) a
    description: its own when it has one, else BY_SCHEMA's, else BY_NAME's."""
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        _describe(name, schema)


def _describe(name: str, schema: Any) -> None:
    if not isinstance(schema, dict):
        return
    for field, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and "description" not in prop:
            text = BY_SCHEMA.get(f"{name}.{field}") or BY_NAME.get(field)
            if text is not None:
                prop["description"] = text
        _describe(name, prop)
    for key in ("items", "additionalProperties"):
        _describe(name, schema.get(key))
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, ()):
            _describe(name, sub)


def undescribed(document: dict[str, Any]) -> list[str]:
    """"<Schema>.<field>" of every component schema property without a description."""
    out: list[str] = []

    def walk(name: str, schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        for field, prop in (schema.get("properties") or {}).items():
            if not isinstance(prop, dict) or "description" not in prop:
                out.append(f"{name}.{field}")
            walk(name, prop)
        for key in ("items", "additionalProperties"):
            walk(name, schema.get(key))
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, ()):
                walk(name, sub)
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        walk(name, schema)
    return out
