"""The public snapshot's tables, views and their descriptions: one definition that both builds
the database (`service.tools.publish`) and writes its Datasette `metadata.json`."""

from __future__ import annotations

from typing import NamedTuple

FORMAT = 1  # the snapshot's layout: raised when a table or column changes meaning


class Column(NamedTuple):
    type: type
    description: str


class Table(NamedTuple):
    """A published table: where its rows come from (`source`, the read model), what a row is,
    its columns in order, its primary key, its foreign keys as (column, table, column), the
    column Datasette shows for a row linked to, and the columns of its full-text index."""

    name: str
    source: str
    description: str
    columns: dict[str, Column]
    pk: str | tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    label_column: str | None = None
    fts: tuple[str, ...] = ()


JSON = "JSON text"
SYNTHETIC = Column(int, "1 when the record was registered as synthetic (generated or demo data, "
                        "not historical), else 0")
NAMES = Column(str, f"{JSON}: the names of approved name claims about it, in submission order "
                    "(see the table names)")
EXTERNAL_IDS = Column(str, f"{JSON}: identifiers in other catalogues, as registered")


_VALUE_COLUMNS = {  # a property's value, spread for faceting (statements and qualifiers alike)
    "property_id": Column(str, "the property (PR-...; see the table properties)"),
    "property_key": Column(str, "the property's key (nationality, stated_age, memorial_id ...)"),
    "datatype": Column(str, "entity, string, text, date, quantity, money or external_id"),
    "value": Column(str, "the value as text: the string, entity id, external id or EDTF date; "
                         "a text's words; a quantity's or an amount's exact decimal"),
    "value_json": Column(str, f"{JSON}: the value exactly as submitted"),
    "entity_id": Column(str, "the record an entity value names"),
    "amount": Column(str, "a quantity's or an amount's exact decimal string"),
    "min": Column(str, "its lower bound, when given"),
    "max": Column(str, "its upper bound, when given"),
    "unit": Column(str, "a quantity's unit (the property's when the value gives none)"),
    "currency": Column(str, "an amount's currency"),
    "bound": Column(str, "at_most or at_least: the amount is a bound (\"less than $3.25\")"),
    "about": Column(int, "1 when the source gives the value as approximate"),
    "language": Column(str, "a text's language"),
    "url": Column(str, "an external id's URL (the property's url_pattern)"),
}

TABLES: tuple[Table, ...] = (
    Table("sources", "registry read model (projections/registry.py, table sources)",
          "Every registered source (a CSL-JSON item): the works the claims cite.", {
              "id": Column(str, "source id (S-...)"),
              "label": Column(str, "its label: the CSL title, else container, archive reference, "
                                   "authors and year"),
              "source_type": Column(str, "archival_file, bulletin, memoir, emigre_press, "
                                         "secondary_work, letter, book, article, web or other"),
              "csl_type": Column(str, "the CSL item's type (book, article, manuscript...)"),
              "title": Column(str, "the CSL item's title, if it has one"),
              "csl": Column(str, f"{JSON}: the CSL-JSON item as registered (the archive's own "
                                 "`synthetic` marker moved to the column synthetic)"),
              "note": Column(str, "the registrar's note on the source"),
              "archive": Column(str, f"{JSON}: archive, fond, opis, delo, folio of an archival file"),
              "via": Column(str, f"{JSON}: how the text reached the archive, as registered"),
              "synthetic": Column(int, "1 when the source was registered as synthetic or its CSL "
                                       "item says so, else 0"),
          }, "id", label_column="label"),
    Table("persons", "registry read model (persons); names from the claims read model",
          "Every person record. A record judged the same person as another is kept, with "
          "merged_into naming the record that survives.", {
              "id": Column(str, "person id (P-...)"),
              "label": Column(str, "the name the record was registered under"),
              "partial": Column(int, "1 when the person is known only in part (\"N. (Central "
                                     "Russia)\")"),
              "merged_into": Column(str, "the surviving record this one was merged into (followed "
                                         "to the end of the chain); null when not merged"),
              "names": NAMES,
              "names_latin": Column(str, "the label and names transliterated to Latin, lowercase, "
                                         "without accents (the archive's search form: "
                                         "Спиридонова is spiridonova)"),
              "external_ids": EXTERNAL_IDS,
              "synthetic": SYNTHETIC,
          }, "id", (("merged_into", "persons", "id"),), "label",
          fts=("label", "names", "names_latin")),
    Table("places", "registry read model (places); names from the claims read model",
          "Every place: prisons, camps, isolators, places of exile, settlements, regions, "
          "countries.", {
              "id": Column(str, "place id (PL-...)"),
              "label": Column(str, "the name it was registered under"),
              "kind": Column(str, "prison, camp, isolator, exile, transit, settlement, region, "
                                  "country or other"),
              "parent": Column(str, "the place it lies in"),
              "aliases": Column(str, f"{JSON}: other names registered with it"),
              "latitude": Column(float, "WGS 84 latitude, if registered"),
              "longitude": Column(float, "WGS 84 longitude, if registered"),
              "identification": Column(str, f"{JSON}: how a source's spelling was identified "
                                            "(said, certainty, note)"),
              "names": NAMES,
              "external_ids": EXTERNAL_IDS,
              "synthetic": SYNTHETIC,
              "merged_into": Column(str, "the surviving place record this one was merged into "
                                         "(followed to the end of the chain); null when not merged"),
          }, "id", (("parent", "places", "id"), ("merged_into", "places", "id")), "label"),
    Table("organizations", "registry read model (organizations); names from the claims read model",
          "Every organisation: aid bodies, committees, colonies and groups of exiles, movements, "
          "unions, parties, repressive organs.", {
              "id": Column(str, "organisation id (O-...)"),
              "label": Column(str, "the name it was registered under"),
              "kind": Column(str, "aid_fund, committee, colony, group, movement, union, party, "
                                  "organ, tribunal or other"),
              "parent": Column(str, "the organisation it belongs to"),
              "names": NAMES,
              "external_ids": EXTERNAL_IDS,
              "synthetic": SYNTHETIC,
              "merged_into": Column(str, "the surviving organisation record this one was merged "
                                         "into (followed to the end of the chain); null when not "
                                         "merged"),
          }, "id", (("parent", "organizations", "id"), ("merged_into", "organizations", "id")),
          "label"),
    Table("funds", "registry read model (funds); names from the claims read model",
          "Every aid fund whose money is kept as a ledger.", {
              "id": Column(str, "fund id (F-...)"),
              "label": Column(str, "the name it was registered under"),
              "organization": Column(str, "the organisation that kept it"),
              "names": NAMES,
              "synthetic": SYNTHETIC,
          }, "id", (("organization", "organizations", "id"),), "label"),
    Table("identifications", "registry read model (projections/registry.py, table identifications)",
          "Doubtful identities: the records a reviewer judged possibly the same (\"said to be the "
          "same as\", Wikidata's P460) without merging them, in force at the snapshot. Each "
          "record keeps its own claims; facet on kind and certainty.", {
              "kind": Column(str, "person, place or organization"),
              "record_id": Column(str, "the record the judgement was sent on"),
              "other": Column(str, "the record it is possibly the same as"),
              "certainty": Column(str, "probable or possible"),
              "reason": Column(str, "the reviewer's reason"),
              "citation": Column(str, f"{JSON}: the source (and locator, quote) the reviewer cites, "
                                      "if any"),
              "position": Column(int, "the log position of the judgement"),
          }, ("record_id", "other")),
    Table("claims", "claims read model (projections/claims.py, table claims)",
          "Every approved claim that is neither superseded by an approved correction nor ranked "
          "deprecated: one cited statement of a source, with its citation and its dates' bounds "
          "(Gregorian days, ISO 8601; null when unknown or open).", {
              "id": Column(str, "claim id (C-...)"),
              "kind": Column(str, "the claim kind: custody, arrest, sentence, release, death, "
                                  "name, aggregate, donation... (docs/semantics.md)"),
              "rank": Column(str, "preferred or normal (a reviewer's rank among readings)"),
              "rank_reason": Column(str, "the reviewer's reason for the rank"),
              "person_id": Column(str, "the claim's person field, if it has one"),
              "place_id": Column(str, "the claim's place field, if it has one"),
              "group_id": Column(str, "the group the claim is about, if any: its group field "
                                      "(a group or colony as the subject in place of a person: "
                                      "custody, sentence, accusation, occupation, death...), or "
                                      "an aggregate's group_id"),
              "count_min": Column(int, "the claim's count, or the low end of its range"),
              "count_max": Column(int, "the claim's count, or the high end of its range"),
              "source_id": Column(str, "the cited source"),
              "locator": Column(str, "where in the source: page, paragraph, bulletin"),
              "quote": Column(str, "the source's words"),
              "via": Column(str, f"{JSON}: the chain the text came through (free text, or "
                                 "{source, relation} links)"),
              "said": Column(str, "the source's own wording of the claim"),
              "certainty": Column(str, "certain, probable, possible or doubtful, as the source "
                                       "says"),
              "note": Column(str, "the contributor's note"),
              "supersedes": Column(str, "the claim this one corrects (which is then not published)"),
              "attributed_to": Column(str, "attributed: the person, organisation or source the "
                                           "cited source says said it (reported speech), if any"),
              "attributed_to_type": Column(str, "person, organization or source: what "
                                                "attributed_to names"),
              "denies": Column(str, "the claim this one denies, if any (both stand; the claim "
                                    "denied may be unpublished: rejected or deprecated since)"),
              "same_event": Column(str, "the claim (of the same kind) this one tells the same "
                                        "event as, if any (issue 22: compared in biographies)"),
              "earliest": Column(str, "the earliest possible day of any of its dates"),
              "latest": Column(str, "the latest possible day of any of its dates; null when one "
                                    "of them is open or unknown"),
              "date_edtf": Column(str, "its date, as written (EDTF)"),
              "date_earliest": Column(str, "earliest possible day of date"),
              "date_latest": Column(str, "latest possible day of date"),
              "start_edtf": Column(str, "its start, as written (EDTF)"),
              "start_earliest": Column(str, "earliest possible day of start"),
              "start_latest": Column(str, "latest possible day of start"),
              "end_edtf": Column(str, "its end, as written (EDTF)"),
              "end_earliest": Column(str, "earliest possible day of end"),
              "end_latest": Column(str, "latest possible day of end"),
              "dates": Column(str, f"{JSON}: every date field with its bounds and flags"),
              "length": Column(str, f"{JSON}: a duration's fewest and most days, if it has one"),
              "claim": Column(str, f"{JSON}: the claim exactly as submitted"),
              "synthetic": Column(int, "1 when it cites a synthetic source or names a synthetic "
                                       "record, else 0"),
              "position": Column(int, "the log position it was submitted at"),
          }, "id", (("person_id", "persons", "id"), ("place_id", "places", "id"),
                    ("group_id", "organizations", "id"),
                    ("source_id", "sources", "id")), fts=("quote", "said")),
    Table("names", "claims read model (approved name claims)",
          "Every name and name variant of a person, place, organisation or fund that an "
          "approved, current name claim gives.", {
              "claim_id": Column(str, "the name claim"),
              "entity_type": Column(str, "person, place, organization or fund"),
              "entity_id": Column(str, "whose name it is"),
              "name": Column(str, "the name, as the source writes it"),
              "script": Column(str, "ISO 15924 script (Latn, Cyrl...)"),
              "name_kind": Column(str, "birth, pseudonym, transliteration, initials, married, "
                                       "nickname, patronymic, variant, religious, official, other"),
              "start_edtf": Column(str, "from when the name was used (EDTF)"),
              "end_edtf": Column(str, "until when (EDTF)"),
              "surname": Column(str, "the surname, when the source gives the name in parts"),
              "given": Column(str, "the given name, when the source gives the name in parts"),
              "patronymic": Column(str, "the patronymic, when the source gives the name in parts"),
              "particle": Column(str, "a particle (de, von, van der), when the source gives it apart"),
          }, "claim_id", (("claim_id", "claims", "id"),)),
    Table("claim_refs", "claims read model (projections/claims.py, table claim_refs)",
          "Which records each published claim names, and in which field.", {
              "claim_id": Column(str, "the claim"),
              "field": Column(str, "the claim's field: person, place, organization, participants "
                                   "(see the table participants for their roles)..."),
              "entity_id": Column(str, "the record named"),
              "entity_type": Column(str, "person, place, organization, fund or source"),
          }, ("claim_id", "field", "entity_id"), (("claim_id", "claims", "id"),)),
    Table("participants", "claims read model (the participants of published claims, as "
                          "projections/claims.py stores them in claim_participants)",
          "Who takes part in each published claim besides its subject, in which role (a "
          "companion, a witness, the informant who relates it, a letter's recipient, an aid "
          "correspondent, a judge, a person encountered...): one row per participant. Facet on "
          "role or entity_type; join claims for the statement, persons or organizations for "
          "the record.", {
              "claim_id": Column(str, "the claim"),
              "ref": Column(str, "the person or organisation taking part (its id)"),
              "entity_type": Column(str, "person or organization"),
              "role": Column(str, "the participant role: companion, witness, informant, author, "
                                  "recipient, correspondent, judge, interrogator, co_accused, "
                                  "encountered, other, or one an admin added (GET /participant-roles)"),
              "said": Column(str, "how the source names them"),
              "certainty": Column(str, "certain, probable, possible or doubtful: how sure their "
                                       "part is"),
          }, ("claim_id", "ref", "role"), (("claim_id", "claims", "id"),)),
    Table("source_links", "claims read model (projections/claims.py, table source_links)",
          "What a cited source derives from (a translation, a quotation, a reprint, an excerpt), "
          "as the via links of published claims' citations say.", {
              "claim_id": Column(str, "the claim whose citation says so"),
              "source_id": Column(str, "the source cited"),
              "derives_from": Column(str, "the source it derives from"),
              "relation": Column(str, "translation_of, quoted_from, reprint_of or excerpt_of"),
          }, ("claim_id", "source_id", "derives_from", "relation"),
          (("claim_id", "claims", "id"), ("source_id", "sources", "id"),
           ("derives_from", "sources", "id"))),
    Table("custody_episodes", "population read model (projections/population.py, table "
                              "custody_episodes)",
          "One row per person a published custody claim puts in custody: its person and each "
          "companion. Bounds are Gregorian days (ISO 8601); an unknown end is never guessed.", {
              "claim_id": Column(str, "the custody claim"),
              "person_id": Column(str, "the person held (the record the claim names)"),
              "role": Column(str, "person (the claim's person) or with (a companion)"),
              "place_id": Column(str, "where; null when the source names no registered place"),
              "place_said": Column(str, "the source's own words for the place, if the claim gives them"),
              "custody": Column(str, "prison, camp, isolator, exile, transit or other"),
              "start_earliest": Column(str, "earliest possible first day"),
              "start_latest": Column(str, "latest possible first day"),
              "end_earliest": Column(str, "earliest possible last day"),
              "end_latest": Column(str, "latest possible last day; null when unknown"),
              "open_bound": Column(str, "for an unknown end: the latest day it can be (the "
                                        "person's next dated custody elsewhere, or death); null "
                                        "when nothing bounds it"),
          }, ("claim_id", "person_id"), (("claim_id", "claims", "id"),
                                         ("person_id", "persons", "id"),
                                         ("place_id", "places", "id"))),
    Table("population_years", "population read model: projections.population.timeline (step "
                              "year), the figures of GET /places/{id}/population/timeline",
          "Who was held at each place, per year, from its first to its last dated episode, stay "
          "or count: count_min persons surely held on some day of the year, count_max those "
          "possibly held (named persons only; counts of unnamed groups are reported, never added "
          "in).", {
              "place_id": Column(str, "the place (its own episodes, not those of places under it)"),
              "year": Column(int, "the year"),
              "count_min": Column(int, "persons surely held there on at least one day of the year"),
              "count_max": Column(int, "persons surely or possibly held there in the year"),
              "reported_claims": Column(str, f"{JSON}: aggregate claims (counts a source reports "
                                             "about people held, dead, shot or arrived there) "
                                             "dated in the year"),
          }, ("place_id", "year"), (("place_id", "places", "id"),)),
    Table("ledger_entries", "ledger read model: projections.ledger.ledger, every page (GET "
                            "/funds/{id}/ledger)",
          "Every counted ledger entry of every fund: donations (in), disbursements and "
          "committee transfers (out), aid in kind. Amounts are exact decimal strings in their "
          "own currency, never converted. A committee transfer to an organisation with a fund "
          "is two rows: out in the sending fund, in in the receiving one.", {
              "claim_id": Column(str, "the claim the entry is"),
              "fund_id": Column(str, "the fund"),
              "kind": Column(str, "donation, disbursement, committee_transfer or in_kind"),
              "direction": Column(str, "in, out or in_kind (never summed)"),
              "amount": Column(str, "exact decimal string"),
              "currency": Column(str, "three-letter code (ISO 4217 or historical: SUR, FRF)"),
              "counterparty_id": Column(str, "the donor or recipient record (merged records as "
                                             "their survivor); null when the source gives only a "
                                             "name"),
              "counterparty_label": Column(str, "its label, or the name the source gives"),
              "via_id": Column(str, "the correspondent the aid passed through"),
              "via_label": Column(str, "the correspondent's label"),
              "details": Column(str, "items given in kind, or a transfer's purpose"),
              "date_edtf": Column(str, "the date as written (EDTF)"),
              "earliest": Column(str, "earliest possible day"),
              "latest": Column(str, "latest possible day"),
              "source_id": Column(str, "the cited source"),
              "locator": Column(str, "where in the source (the bulletin that reported it)"),
          }, ("claim_id", "fund_id"), (("claim_id", "claims", "id"), ("fund_id", "funds", "id"),
                          ("source_id", "sources", "id"))),
    Table("ledger_totals", "ledger read model: projections.ledger.ledger (totals, per_recipient, "
                           "per_period, per_report)",
          "Each fund's totals per currency: for the fund (breakdown fund, key ''), per year of "
          "the earliest possible day (period; 'undated'), per citation locator (report; "
          "'unlocated') and what each recipient was sent (recipient: disbursed only).", {
              "fund_id": Column(str, "the fund"),
              "breakdown": Column(str, "fund, period, report or recipient"),
              "key": Column(str, "'' (fund), a year or 'undated', a locator or 'unlocated', or "
                                 "a recipient's id (its name when it has none)"),
              "key_label": Column(str, "a recipient's label"),
              "currency": Column(str, "three-letter code"),
              "received": Column(str, "exact decimal string; null for recipients"),
              "disbursed": Column(str, "exact decimal string"),
              "balance": Column(str, "received - disbursed; null for recipients"),
          }, ("fund_id", "breakdown", "key", "currency"), (("fund_id", "funds", "id"),)),
    Table("properties", "registry read model (properties) and the seeded vocabulary "
                        "(events/properties.py)",
          "Every property statements and qualifiers use: the seeded vocabulary and those "
          "admins registered.", {
              "id": Column(str, "property id (PR-...)"),
              "key": Column(str, "its fixed key"),
              "label": Column(str, "its label"),
              "datatype": Column(str, "entity, string, text, date, quantity, money or external_id"),
              "description": Column(str, "what it records"),
              "single": Column(int, "1 when one value is expected per subject"),
              "applies_to": Column(str, f"{JSON}: the kinds of record a statement's subject may be "
                                        "(empty: any)"),
              "entity_kinds": Column(str, f"{JSON}: an entity property's value kinds"),
              "unit": Column(str, "a quantity's unit"),
              "url_pattern": Column(str, "an external id's URL, $1 the id"),
              "seeded": Column(int, "1 for the vocabulary defined in code"),
          }, "id", label_column="key"),
    Table("statements", "claims read model (published statement claims)",
          "Each published statement: a property's value for a record, one row each, its value "
          "spread over columns to facet on.", {
              "claim_id": Column(str, "the statement claim"),
              "subject_id": Column(str, "the record the statement is about"),
              "subject_type": Column(str, "person, place, organization, fund or source"),
              **_VALUE_COLUMNS,
              "start": Column(str, "start as written (EDTF)"),
              "end": Column(str, "end as written (EDTF)"),
          }, "claim_id", (("claim_id", "claims", "id"), ("property_id", "properties", "id"))),
    Table("qualifiers", "claims read model (the qualifiers of published claims)",
          "Each qualifier of a published claim (the article on an accusation, an age as stated "
          "on a death, an equivalent on an amount), in the claim's order.", {
              "claim_id": Column(str, "the claim qualified"),
              "n": Column(int, "the qualifier's place in the claim's list (0, 1, ...)"),
              "claim_kind": Column(str, "the claim's kind"),
              **_VALUE_COLUMNS,
          }, ("claim_id", "n"), (("claim_id", "claims", "id"), ("property_id", "properties", "id"))),
)


class View(NamedTuple):
    name: str
    description: str
    sql: str


# the columns a Datasette user is offered to facet a table on (metadata.json `facets`)
FACETS: dict[str, list[str]] = {"participants": ["role", "entity_type"]}

VIEWS: tuple[View, ...] = (
    View("person_custody", "Each person's custody episodes with labels, in date order: merged "
                           "records under the surviving record; the citation of each.", """
SELECT coalesce(p.merged_into, p.id) AS person_id, coalesce(alive.label, p.label) AS person,
       e.role, e.custody, e.place_id, pl.label AS place, e.place_said,
       e.start_earliest, e.start_latest, e.end_earliest, e.end_latest, e.open_bound,
       e.claim_id, c.source_id, s.label AS source, c.locator, c.quote
FROM custody_episodes AS e
JOIN persons AS p ON p.id = e.person_id
LEFT JOIN persons AS alive ON alive.id = p.merged_into
LEFT JOIN places AS pl ON pl.id = e.place_id
JOIN claims AS c ON c.id = e.claim_id
JOIN sources AS s ON s.id = c.source_id
ORDER BY person, person_id, e.start_earliest, e.claim_id"""),
    View("place_population", "Yearly population figures per place, with the place's label and "
                             "kind.", """
SELECT y.place_id, pl.label AS place, pl.kind, y.year, y.count_min, y.count_max, y.reported_claims
FROM population_years AS y JOIN places AS pl ON pl.id = y.place_id
ORDER BY place, y.place_id, y.year"""),
    View("claim_citations", "Every published claim with the labels of its person, place and "
                            "source.", """
SELECT c.id AS claim_id, c.kind, c.rank, c.person_id, p.label AS person, c.place_id,
       pl.label AS place, c.earliest, c.latest, c.source_id, s.label AS source, c.locator,
       c.quote, c.synthetic
FROM claims AS c
LEFT JOIN persons AS p ON p.id = c.person_id
LEFT JOIN places AS pl ON pl.id = c.place_id
JOIN sources AS s ON s.id = c.source_id
ORDER BY c.earliest IS NULL, c.earliest, c.id"""),
    View("fund_ledger", "Every ledger entry with its fund's label and synthetic flag and its "
                        "source's label, in ledger order (undated last).", """
SELECT e.fund_id, f.label AS fund, f.synthetic, e.claim_id, e.kind, e.direction, e.amount,
       e.currency, e.counterparty_id, e.counterparty_label, e.via_id, e.via_label, e.details,
       e.date_edtf, e.earliest, e.latest, e.source_id, s.label AS source, e.locator
FROM ledger_entries AS e JOIN funds AS f ON f.id = e.fund_id JOIN sources AS s ON s.id = e.source_id
ORDER BY fund, e.fund_id, e.earliest IS NULL, e.earliest, e.claim_id"""),
    View("claim_denials", "Every published claim that denies another, beside the claim it denies "
                          "(null columns when that claim is not published) and whom that claim "
                          "is attributed to.", """
SELECT d.id AS claim_id, d.kind, d.person_id, d.source_id, s.label AS source, d.quote, d.said,
       d.denies AS denied_claim_id, c.kind AS denied_kind, c.quote AS denied_quote,
       c.said AS denied_said, c.attributed_to AS denied_attributed_to, c.attributed_to_type AS
       denied_attributed_to_type
FROM claims AS d
JOIN sources AS s ON s.id = d.source_id
LEFT JOIN claims AS c ON c.id = d.denies
WHERE d.denies IS NOT NULL
ORDER BY d.id"""),
)

SNAPSHOT_TABLE = Table(
    "_snapshot", "the event log (events) and the publish command",
    "Where the snapshot was made: one row.", {
        "format": Column(int, "the snapshot layout's version"),
        "log_position": Column(int, "the last log position the snapshot includes"),
        "head_hash": Column(str, "the hash chain's head at that position (starosta verify "
                                 "--expect-head HASH checks a copy of the log holds it)"),
        "head_recorded_at": Column(str, "when that event was recorded (UTC)"),
        "content_hash": Column(str, "sha256 over the rows of every table above, each sorted: "
                                    "the same log gives the same hash"),
        "read_models": Column(str, f"{JSON}: the read models' code versions"),
    }, "format")
