"""Bulk submission (`starosta submit`): claims from a CSV file (one kind per file) or JSON
Lines, checked row by row, their entities resolved by label, then submitted through the Python
client, with a report. Safe to run again: each row's Idempotency-Key is derived from its kind
and its canonical body after label resolution, so a row sent before is answered with its first
answer and nothing is appended twice.

CSV mapping (the README has it too): a column per field, named as in the API (`person`,
`place`, `start`, `custody`...); nested fields by dotted names (`citation.source`,
`citation.locator`, `citation.quote`, `count.min`, `count.max`, `amount.min`, `amount.max`,
a name's parts `parts.surname`, `parts.given`, `parts.patronymic`, `parts.particle`);
list fields split on `|` (`with`, `citation.via`); participants in a `participants` column of
`REF:ROLE` items split on `|` (`P-4G7K2M9Q:witness|Molina:encountered`: an id or a label, the
last colon, a role), with optional `participants.said` and `participants.certainty` columns
giving each one's said and certainty in the same order (`|`-separated, an empty item for
none); an empty cell leaves the field out; numbers
are read from the text ("66"); a `kind` column, or `--kind`, names the kind (the same on every
row). Statements about statements (issue 21): `attributed_to` (the id of a person, organisation
or source, or a person's or organisation's label) and `denies` (a claim id) are columns like
any other; so is `same_event` (issue 22: the id of a claim of the same kind telling one event). What a CSV cannot hold (an aggregate's `of_whom`, `via` links to registered sources) is
written in JSON Lines: one claim object per line, as POST /claims takes it.

Properties and qualifiers: a statement's `subject`, `property` (id or key) and `value` columns;
a value that is an object is written as JSON in its cell (`{"amount": "86", "unit": "years"}`)
or as dotted columns (`value.amount`, `value.unit`, `value.currency`, `value.at_most` ...). The
`qualifiers` column holds `property=value` pairs split on `|` (`article=58-10|place=PL-4G7K2M9Q`),
each value a string or a JSON object (`stated_age={"amount": "86", "unit": "years"}`); a value
holding `|` is written in JSON Lines. Values of the seeded properties are checked by their
datatype before sending (events.properties.check_value); others by the server.

Entities by label: a cell of an entity field (`person`, `place`, `group`, `with`, `fund`,
`recipient`, ...) that is not an id of the archive's shape (`P-4G7K2M9Q`) is a label, looked up
through the search endpoints and kept when exactly one entity of the field's kind has that
label (its display form, `projections.name_keys.display_form`: NFC, invisible characters
dropped, spaces collapsed, case kept); none or several: the row is reported with the field and,
for several, their ids. (Registering a second record whose name looks like another's is a 409
`/problems/possible-duplicate` unless the contributor says it is another one, so several
records under one label are namesakes someone vouched for, and the row must name its id.) Sources have no search: `citation.source` is an id.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from starosta.client import Client, EntityKind, StarostaError, Unavailable, field_of
from starosta.events.claim_rules import parts_refusal
from starosta.events.errors import DomainError, Invalid
from starosta.events.kinds import KINDS, Claim, NameClaim, StatementClaim, kind_of
from starosta.events.properties import SEEDED_BY_ID, SEEDED_BY_KEY, ValueRefused, check_value
from starosta.projections import name_keys
from starosta.service.domain.commands import check_ranges, checked_dates
from starosta.service.domain.ids import PREFIXES

BY_KIND: dict[str, type[Claim]] = {k.__struct_config__.tag: k for k in KINDS}  # type: ignore[misc]
LIST_SEPARATOR = "|"
# Entity kinds as fields name them -> the search endpoints that find them by label
SEARCHED: dict[str, tuple[EntityKind, ...]] = {
    "person": ("persons",), "place": ("places",), "organization": ("organizations",),
    "fund": ("funds",), "any": ("persons", "organizations"),
    "entity": ("persons", "places", "organizations", "funds")}
_ID_PREFIX = {"persons": PREFIXES["person"], "places": PREFIXES["place"],
              "organizations": PREFIXES["organization"], "funds": PREFIXES["fund"]}
_ID_SHAPE = re.compile(r"^(?P<prefix>[A-Z]{1,2})-[0-9A-Z]{8}$")
UNRESOLVED = "X-UNRESOLVED"  # stands in for a label not found, so the row's other fields are checked


# -- rows ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """What is wrong with a row: the field (dotted), the message, the value."""

    field: str
    message: str
    value: Any = None


@dataclass
class Row:
    """One row of the input and what became of it."""

    number: int  # 1 = the first row under a CSV header, or the first line of JSON Lines
    data: dict[str, Any] | None  # the row as nested fields (None when it could not be read)
    digest: str  # of the row as written: a previous report's digest that differs = edited
    kind: str | None = None
    claim: Claim | None = None
    body: bytes | None = None  # the canonical body sent
    key: str | None = None
    problems: list[Problem] = field(default_factory=list)
    status: str = "invalid"  # valid, submitted, replayed, invalid, refused, unsent
    claim_id: str | None = None
    edited: bool = False

    @property
    def ok(self) -> bool:
        return self.status in ("valid", "submitted", "replayed")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_rows(path: str, kind: str | None) -> tuple[list[Row], str | None]:
    """Read a CSV or JSON Lines file (by its suffix: .jsonl, .ndjson, .json are JSON Lines)
    into rows of nested fields; return them and the file's kind (from `kind`, else its rows).
    Raises ValueError when the file is not readable as such."""
    text = Path(path).read_text(encoding="utf-8-sig")
    if Path(path).suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = list(_jsonl_rows(text))
    else:
        rows = list(_csv_rows(text, kind))
    return rows, kind or next((r.data.get("kind") for r in rows if r.data and r.data.get("kind")), None)


def _jsonl_rows(text: str) -> Iterator[Row]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        row = Row(number, None, _digest(line.strip()))
        try:
            value = json.loads(line)
        except ValueError as exc:
            row.problems.append(Problem("row", f"not JSON: {exc}"))
        else:
            if isinstance(value, dict):
                row.data = value
            else:
                row.problems.append(Problem("row", "a line holds one claim: a JSON object", value))
        yield row


def _csv_rows(text: str, kind: str | None) -> Iterator[Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise ValueError("the CSV file has no header row: name a column after each field")
    columns = [c.strip() for c in reader.fieldnames]
    cls = BY_KIND.get(kind) if kind else None
    for number, cells in enumerate(reader, 1):
        raw = [cells.get(name) for name in reader.fieldnames]
        row = Row(number, None, _digest(json.dumps(raw, ensure_ascii=False)))
        if None in cells:  # more cells than the header names
            row.problems.append(Problem("row", f"{len(cells[None])} cell(s) beyond the header's "
                                        f"{len(columns)} columns", cells[None]))
            yield row
            continue
        flat = {column: (value or "").strip() for column, value in zip(columns, raw, strict=True)}
        row_kind = flat.get("kind") or kind
        lists = list_fields(BY_KIND[row_kind]) if row_kind in BY_KIND else list_fields(cls) if cls else set()
        taking_part = participants_of(flat, row)
        row.data = nest(flat, lists)
        if taking_part:
            row.data["participants"] = taking_part
        yield row


PARTICIPANT_COLUMNS = ("participants", "participants.said", "participants.certainty")


def participants_of(flat: dict[str, str], row: Row) -> list[dict[str, str]]:
    """Take a CSV row's participant columns out of `flat` and return its participants:
    `participants` holds `REF:ROLE` items split on `|` (REF an id or a label: the last `:`
    ends it, so a label may hold colons), `participants.said` and `participants.certainty`
    the said and certainty of each, in the same order, split on `|` (an empty item: none).
    A malformed item is a problem of the row, named `participants.N`."""
    cells = {column: flat.pop(column, "") for column in PARTICIPANT_COLUMNS}
    items = [i.strip() for i in cells["participants"].split(LIST_SEPARATOR)] if cells["participants"] else []
    extras = {name.split(".")[1]: [v.strip() for v in cells[name].split(LIST_SEPARATOR)]
              for name in PARTICIPANT_COLUMNS[1:] if cells[name]}
    out: list[dict[str, str]] = []
    for i, item in enumerate(items):
        ref, colon, role = item.rpartition(":")
        if not colon or not ref.strip() or not role.strip():
            row.problems.append(Problem(f"participants.{i}", "a participant is written REF:ROLE "
                                        "(an id or a label, a colon, a role: P-4G7K2M9Q:witness)", item))
            continue
        participant = {"ref": ref.strip(), "role": role.strip()}
        for name, values in extras.items():
            if i < len(values) and values[i]:
                participant[name] = values[i]
        out.append(participant)
    for name, values in extras.items():
        if len(values) > len(items):
            row.problems.append(Problem(f"participants.{name}", f"{len(values)} items for "
                                        f"{len(items)} participants", cells[f"participants.{name}"]))
    return out


def nest(flat: dict[str, str], lists: set[str]) -> dict[str, Any]:
    """Turn {"citation.source": "S-1", "with": "P-1|P-2", "count": ""} into
    {"citation": {"source": "S-1"}, "with": ["P-1", "P-2"]}: empty cells left out."""
    out: dict[str, Any] = {}
    for column, value in flat.items():
        if value == "":
            continue
        parts = column.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = ([item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]
                               if column in lists else value)
    return out


def list_fields(cls: type[msgspec.Struct] | None, prefix: str = "") -> set[str]:
    """The dotted wire names of a struct's list fields (`with`, `citation.via`), found from
    its types (msgspec's own inspection), nested structs included."""
    if cls is None:
        return set()
    found: set[str] = set()
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)  # `cls` is a Struct class
    for f in info.fields:
        name = prefix + f.encode_name
        for t in _alternatives(f.type):
            if isinstance(t, (msgspec.inspect.VarTupleType, msgspec.inspect.ListType)):
                found.add(name)
            elif isinstance(t, msgspec.inspect.StructType) and not prefix:
                found |= list_fields(t.cls, name + ".")
    return found


def _alternatives(t: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    while isinstance(t, msgspec.inspect.Metadata):
        t = t.type
    if isinstance(t, msgspec.inspect.UnionType):
        return [a for u in t.types for a in _alternatives(u)]
    return [t]


# -- labels -----------------------------------------------------------------------------------------

def normal_label(text: str) -> str:
    """A label as compared: its display form (NFC, invisible characters dropped, spaces
    collapsed, trimmed, case kept)."""
    return name_keys.display_form(text)


def looks_like_id(value: str, kinds: tuple[EntityKind, ...]) -> bool:
    """True when `value` has the shape of an id of one of `kinds` (`P-4G7K2M9Q`)."""
    match = _ID_SHAPE.match(value)
    return match is not None and match["prefix"] in {_ID_PREFIX[k] for k in kinds}


class Labels:
    """Labels resolved to ids through the search endpoints, each looked up once per run."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.found: dict[tuple[tuple[EntityKind, ...], str], list[str] | str] = {}
        #: issue 22: per label, the records its folded key matched (id, label) and, when one
        #: did not, the search's first answers ("did you mean")
        self.folded: dict[tuple[tuple[EntityKind, ...], str], tuple[list[tuple[str, str]],
                                                                  list[tuple[str, str]]]] = {}

    def match(self, kinds: tuple[EntityKind, ...], label: str) -> tuple[list[tuple[str, str]],
                                                                     list[tuple[str, str]]] | str:
        """Issue 22: the records of `kinds` one of whose names (label, or the name the search
        matched) has the label's folded key (`name_keys.label_key`: case, accents and spaces
        folded), as (id, label); and the search's first five answers, the "did you mean"
        candidates. A message when the search itself refused the label."""
        wanted = name_keys.label_key(label)
        cache_key = (kinds, wanted)
        if cache_key not in self.folded:
            same: list[tuple[str, str]] = []
            near: list[tuple[str, str]] = []
            try:
                for kind in kinds:
                    for n, hit in enumerate(self.client.search(kind, normal_label(label), page_size=100)):
                        names = {name_keys.label_key(hit.label)} | (
                            {name_keys.label_key(hit.matched)} if hit.matched else set())
                        if wanted not in names and n < 10:  # its other names: aliases, name claims
                            names |= {name_keys.label_key(x) for x in
                                      names_of(self.client.entity(kind, hit.id))}
                        (same if wanted in names else near).append((hit.id, hit.label))
            except Unavailable:
                raise
            except StarostaError as exc:
                return f"cannot be searched for: {exc.detail}"
            same = list(dict.fromkeys(same))
            self.folded[cache_key] = (same, [h for h in dict.fromkeys(near) if h not in same][:5])
        return self.folded[cache_key]

    def resolve(self, kinds: tuple[EntityKind, ...], label: str) -> list[str] | str:
        """The ids of the entities of `kinds` whose label is `label` (a message when the
        search itself refused the label)."""
        wanted = normal_label(label)
        cache_key = (kinds, wanted)
        if cache_key not in self.found:
            ids: list[str] = []
            try:
                for kind in kinds:
                    ids += [hit.id for hit in self.client.search(kind, wanted, page_size=1000)
                            if normal_label(hit.label) == wanted]
                self.found[cache_key] = list(dict.fromkeys(ids))
            except Unavailable:
                raise
            except StarostaError as exc:
                self.found[cache_key] = f"cannot be searched for: {exc.detail}"
        return self.found[cache_key]


def resolve_labels(row: Row, cls: type[Claim], labels: Labels) -> None:
    """Replace the labels of a row's entity fields by ids, noting each that is unknown or
    ambiguous as a problem of its field."""
    assert row.data is not None
    for name, entity in cls.REFS.items():
        value = row.data.get(name)
        if isinstance(value, str):
            row.data[name] = _resolved(row, name, value, entity, labels)
    for name, entity in cls.MANY.items():
        values = row.data.get(name)
        if isinstance(values, list):
            row.data[name] = [_resolved(row, f"{name}.{i}", v, entity, labels) if isinstance(v, str) else v
                              for i, v in enumerate(values)]
    taking_part = row.data.get("participants")
    if isinstance(taking_part, list):  # a person or an organisation, by id or label
        for i, participant in enumerate(taking_part):
            if isinstance(participant, dict) and isinstance(participant.get("ref"), str):
                participant["ref"] = _resolved(row, f"participants.{i}.ref", participant["ref"],
                                               "any", labels)
    attributed = row.data.get("attributed_to")  # issue 21: a person's or organisation's label,
    if isinstance(attributed, str) and not _ID_SHAPE.match(attributed):  # or any id (a source's)
        row.data["attributed_to"] = _resolved(row, "attributed_to", attributed, "any", labels)


def _resolved(row: Row, name: str, value: str, entity: str, labels: Labels) -> str:
    kinds = SEARCHED.get(entity)
    if kinds is None or looks_like_id(value, kinds):
        return value
    what = " or ".join(k[:-1] for k in kinds)
    found = labels.match(kinds, value)
    if isinstance(found, str):
        row.problems.append(Problem(name, f"the label {found}", value))
        return UNRESOLVED
    same, near = found
    if len(same) == 1:
        return same[0][0]
    if not same:
        hint = f"; did you mean {did_you_mean(near)}?" if near else " (register it, or write its id)"
        row.problems.append(Problem(name, f"no {what} has the label {value!r}{hint}", value))
    else:
        row.problems.append(Problem(name, f"{len(same)} {what}s have the label {value!r}: did you "
                                    f"mean {did_you_mean(same[:5])}? write the id", value))
    return UNRESOLVED


def names_of(record: dict[str, Any]) -> list[str]:
    """Every public name of a record as `GET /{kind}/{id}` answers it: its label, its aliases
    (places) and its names (approved name claims)."""
    data = record.get("data") or {}
    out = [record.get("label"), *(data.get("aliases") or []),
           *((n or {}).get("name") for n in record.get("names") or [])]
    return [x for x in out if isinstance(x, str)]


def did_you_mean(candidates: list[tuple[str, str]]) -> str:
    """Candidates as a refusal names them: "Vicente Monclús Guallar (P-4G7K2M9Q) or ...".

    >>> did_you_mean([("P-4G7K2M9Q", "Vicente Monclús Guallar"), ("P-5H8L3N0R", "Joaquín Monclús")])
    'Vicente Monclús Guallar (P-4G7K2M9Q) or Joaquín Monclús (P-5H8L3N0R)'
    """
    return " or ".join(f"{label} ({entity})" for entity, label in candidates)


# -- checking --------------------------------------------------------------------------------------

def choices(cls: type[msgspec.Struct], dotted: str) -> list[str]:
    """The values a Literal field (`custody`, `citation.via.0.relation`) takes, from its type."""
    node: Any = msgspec.inspect.type_info(cls)
    for part in dotted.split("."):
        if part.isdigit():
            node = next((t.item_type for t in _alternatives(node) if hasattr(t, "item_type")), None)
            continue
        structs = [t for t in _alternatives(node) if isinstance(t, msgspec.inspect.StructType)]
        node = next((f.type for s in structs for f in s.fields if f.encode_name == part), None)
        if node is None:
            return []
    return [str(v) for t in _alternatives(node) if isinstance(t, msgspec.inspect.LiteralType)
            for v in t.values]


def _value_at(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def idempotency_key(kind: str, body: bytes) -> str:
    """The key of a claim: its kind and its canonical body (an edited row gets a new one)."""
    digest = hashlib.sha256(kind.encode("utf-8") + b"\n" + body).hexdigest()
    return f"starosta-submit-{kind}-{digest}"


def check(row: Row, kind: str | None, labels: Labels | None) -> None:
    """Check a row: its kind, its labels (resolved when `labels` is given), its types
    against the kind's struct, its dates and ranges (the server's own rules); on success the
    row has its claim, canonical body and key, and status `valid`."""
    if row.data is None:
        return
    row_kind = row.data.get("kind") or kind
    if row_kind is None:
        row.problems.append(Problem("kind", "no kind: add a `kind` column or pass --kind"))
        return
    if kind is not None and row_kind != kind:
        row.problems.append(Problem("kind", f"one kind per file: this file holds {kind} claims",
                                    row_kind))
        return
    cls = BY_KIND.get(row_kind)
    if cls is None:
        row.problems.append(Problem("kind", f"not a claim kind; one of {', '.join(BY_KIND)}", row_kind))
        return
    row.kind, row.data["kind"] = row_kind, row_kind
    property_cells(row)
    if labels is not None:
        resolve_labels(row, cls, labels)
    try:
        claim = msgspec.convert(row.data, cls, strict=False)
    except msgspec.ValidationError as exc:
        name, message = field_of(exc)
        if message.startswith("Invalid enum value"):
            message += f": one of {', '.join(choices(cls, name))}"
        row.problems.append(Problem(name, message, _value_at(row.data, name)))
        return
    check_seeded_values(row, claim)
    try:
        checked_dates(claim)
        check_ranges(claim)
        check_parts(claim)
    except DomainError as exc:
        for e in exc.errors or [{"field": "row", "message": exc.detail}]:
            row.problems.append(Problem(str(e.get("field")), str(e.get("message")), e.get("value")))
        return
    if row.problems:  # labels not found: the rest of the row was checked, nothing to send
        return
    row.claim = claim
    row.body = msgspec.json.encode(claim)
    row.key = idempotency_key(kind_of(claim), row.body)
    row.status = "valid"


def check_parts(claim: Claim) -> None:
    """A name claim's parts by the server's rule (claim_rules.parts_refusal): a person's
    only, at least one part; raise Invalid naming `parts` otherwise."""
    if isinstance(claim, NameClaim):
        subject = next((f for f in ("person", "place", "organization", "fund") if getattr(claim, f)), "")
        refused = parts_refusal(claim.parts, subject)
        if refused is not None:
            raise Invalid(refused[0], msgspec.to_builtins(claim.parts), refused[1])


def _cell_value(row: Row, name: str, text: str) -> Any:
    """A value cell: a JSON object when it starts with "{", else the string."""
    if not text.startswith("{"):
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        row.problems.append(Problem(name, f"not a JSON object: {exc}", text))
        return text


def property_cells(row: Row) -> None:
    """Read a CSV row's property values: `value` as a string or a JSON object, and the
    `qualifiers` cell's `property=value` pairs (split on `|` already) as {"property", "value"}."""
    assert row.data is not None
    if isinstance(row.data.get("value"), str):
        row.data["value"] = _cell_value(row, "value", row.data["value"])
    qualifiers = row.data.get("qualifiers")
    if isinstance(qualifiers, list):
        out: list[Any] = []
        for i, item in enumerate(qualifiers):
            if not isinstance(item, str):
                out.append(item)  # JSON Lines: {"property", "value"} as POST /claims takes it
                continue
            prop, sep, value = item.partition("=")
            if not sep or not prop.strip() or not value.strip():
                row.problems.append(Problem(f"qualifiers[{i}]", "a qualifier is written "
                                            "property=value (article=58-10)", item))
                continue
            out.append({"property": prop.strip(),
                        "value": _cell_value(row, f"qualifiers[{i}].value", value.strip())})
        row.data["qualifiers"] = out


def check_seeded_values(row: Row, claim: Claim) -> None:
    """Check the values of the seeded properties by their datatype (the server's own rule);
    a property unknown here (registered by an admin) is left to the server."""
    items = [(f"qualifiers[{i}]", q.property, q.value) for i, q in enumerate(claim.qualifiers)]
    if isinstance(claim, StatementClaim):
        items.insert(0, ("", claim.property, claim.value))
    for where, ref, value in items:
        prop = SEEDED_BY_ID.get(ref) or SEEDED_BY_KEY.get(ref)
        if prop is None:
            continue
        try:
            check_value(prop, value, f"{where}.value" if where else "value")
        except ValueRefused as exc:
            row.problems.append(Problem(exc.field, exc.message, exc.value))


def submit_row(client: Client, row: Row) -> None:
    """Submit a valid row (its key makes a second run answer with the first claim).
    Raises Unavailable when the server cannot be reached within the client's retry bounds."""
    assert row.claim is not None and row.body is not None
    try:
        answer = client.submit(row.claim, idempotency_key=row.key)  # sends row.body
    except Unavailable:
        raise
    except StarostaError as exc:
        row.status = "refused"
        row.problems += [Problem(e.field, e.message, e.value) for e in exc.errors] or [
            Problem("row", f"{exc.status} {exc.title}: {exc.detail}")]
        return
    replayed = client.last_response is not None and \
        client.last_response.headers.get("Idempotent-Replayed") == "true"
    row.status, row.claim_id = ("replayed" if replayed else "submitted"), answer.id


# -- reports ----------------------------------------------------------------------------------------

REPORT_COLUMNS = ("row", "status", "claim", "field", "error", "value", "edited", "key", "digest")


def is_jsonl(path: str) -> bool:
    return Path(path).suffix.lower() in (".jsonl", ".ndjson", ".json")


def previous_digests(path: str | None) -> dict[int, str]:
    """Row number -> digest, from a report an earlier run wrote at `path` (empty if none)."""
    if not path or not Path(path).is_file():
        return {}
    text = Path(path).read_text(encoding="utf-8")
    records: Iterable[dict[str, Any]]
    if is_jsonl(path):
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        records = csv.DictReader(io.StringIO(text, newline=""))
    out: dict[int, str] = {}
    for record in records:
        try:
            out[int(record["row"])] = str(record["digest"])
        except (KeyError, TypeError, ValueError):
            continue
    return out


def mark_edited(rows: list[Row], previous: dict[int, str]) -> None:
    for row in rows:
        row.edited = row.number in previous and previous[row.number] != row.digest


def write_report(path: str, rows: list[Row]) -> None:
    """Write one record per row: CSV (one line per row, its first problem in `field`,
    `error` and `value`, all of them joined in `error`) or JSON Lines (by the suffix)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as out:
        if is_jsonl(path):
            for row in rows:
                out.write(json.dumps({
                    "row": row.number, "status": row.status, "claim": row.claim_id,
                    "errors": [{"field": p.field, "message": p.message, "value": p.value}
                               for p in row.problems],
                    "edited": row.edited, "key": row.key, "digest": row.digest},
                    ensure_ascii=False) + "\n")
            return
        writer = csv.writer(out)
        writer.writerow(REPORT_COLUMNS)
        for row in rows:
            first = row.problems[0] if row.problems else None
            writer.writerow([
                row.number, row.status, row.claim_id or "", first.field if first else "",
                "; ".join(f"{p.field}: {p.message}" for p in row.problems),
                "" if first is None or first.value is None else
                (first.value if isinstance(first.value, str) else json.dumps(first.value, ensure_ascii=False)),
                "yes" if row.edited else "", row.key or "", row.digest])


# -- the whole run ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    rows: list[Row]
    counts: dict[str, int]
    stopped: str | None = None  # why the run stopped early (the server unreachable)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and self.stopped is None


Progress = Callable[[str, int, int], None]  # (phase, done, total)


def run(client: Client, path: str, *, kind: str | None = None, dry_run: bool = False,
        report: str | None = None, progress: Progress | None = None) -> Outcome:
    """Check every row of the file (labels resolved through `client`); unless `dry_run`,
    submit the valid ones in order; write the report. Raises ValueError for a file that
    cannot be read and Unavailable when the server cannot be reached to resolve labels."""
    if kind is not None and kind not in BY_KIND:
        raise ValueError(f"--kind {kind!r} is not a claim kind; one of {', '.join(BY_KIND)}")
    rows, file_kind = read_rows(path, kind)
    if is_jsonl(path):
        file_kind = kind  # JSON Lines name each claim's kind: one file may hold several
    mark_edited(rows, previous_digests(report))
    tell = progress or (lambda phase, done, total: None)
    labels = Labels(client)
    for done, row in enumerate(rows, 1):
        check(row, kind or file_kind, labels)
        tell("checking", done, len(rows))
    stopped = None
    if not dry_run:
        valid = [r for r in rows if r.status == "valid"]
        for done, row in enumerate(valid, 1):
            try:
                submit_row(client, row)
            except Unavailable as exc:
                stopped = f"the server stopped answering at row {row.number}: {exc.detail}"
                for rest in valid[done - 1:]:
                    rest.status = "unsent"
                break
            tell("submitting", done, len(valid))
    if report:
        write_report(report, rows)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return Outcome(rows, counts, stopped)




def run_in_terminal(server: str, token: str | None, path: str, *, kind: str | None,
                    dry_run: bool, report: str | None) -> Outcome:
    """`run` through a client of `server`, with rich progress bars on standard error."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Client(server, token=token) as client, Progress(*columns, console=console) as bars:
        tasks: dict[str, Any] = {}

        def tell(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=total)
            bars.update(tasks[phase], completed=done, total=total)

        return run(client, path, kind=kind, dry_run=dry_run, report=report, progress=tell)


def summary(outcome: Outcome, dry_run: bool) -> tuple[list[str], str]:
    """The lines naming each row that failed, and the one-line summary."""
    lines = []
    for row in outcome.rows:
        if not row.ok:
            said = "; ".join(f"{p.field}: {p.message}" for p in row.problems) or "not sent"
            lines.append(f"row {row.number}: {row.status}: {said}")
    edited = sum(r.edited for r in outcome.rows)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(outcome.counts.items()))
    head = "checked (dry run, nothing submitted)" if dry_run else "done"
    text = f"{head}: {len(outcome.rows)} rows: {counts}"
    if edited:
        text += f"; {edited} edited since the last report"
    if outcome.stopped:
        text += f"; stopped: {outcome.stopped} (run again to send the rest)"
    return lines, text
