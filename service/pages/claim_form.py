"""One generic form for every claim kind, generated from the kinds' msgspec structs
(events/kinds.py): `fields_of(kind)` walks a kind's fields (msgspec.inspect) into form fields
with the help the API's schema gives (descriptions, examples: the EDTF date help among them),
and `parsed(kind, form)` turns a posted form back into the JSON body POST /claims takes.

Widgets: a text input (a textarea for long text), a number, a select for a closed list, a
fieldset for a nested record (the citation), a comma-separated list of ids, and a JSON text area
for anything richer (participants, qualifiers, a count given as a range); a JSON field whose text
is no JSON is sent as the text itself (a statement's value in words). Entity fields (the kind's
REFS and MANY, a citation's source) suggest as you type."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

import msgspec
import msgspec.inspect as mi

from starosta.events.kinds import KINDS, Citation

__all__ = ["FormField", "KIND_HELP", "fields_of", "parsed", "error_field"]

BY_KIND = {k.__struct_config__.tag: k for k in KINDS}
KIND_HELP = {tag: (k.__doc__ or "").strip().splitlines()[0] for tag, k in BY_KIND.items()}
LONG = 500  # text fields longer than this get a text area
# the fields every claim has, after the kind's own and its citation
COMMON = ("said", "note", "certainty", "calendar", "supersedes", "same_event", "denies",
          "attributed_to", "participants", "qualifiers")
MORE = frozenset(COMMON[3:])  # shown folded ("More fields") unless they hold a value or an error


@dataclass(frozen=True)
class FormField:
    """One control of the form: `name` is the JSON field's path ("citation.source")."""

    name: str
    label: str
    widget: str  # text, textarea, number, select, list, json, group
    required: bool = False
    options: tuple[str, ...] = ()
    help: str = ""
    example: str = ""
    entity: str | None = None  # the entity kind its suggestions come from
    maxlength: int | None = None
    children: tuple["FormField", ...] = ()
    value: str = ""
    error: str | None = None

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _label(name: str) -> str:
    return name.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def _unwrap(t: mi.Type) -> tuple[mi.Type, dict[str, Any], bool]:
    """The type under its metadata and an optional None; its schema notes; whether None is allowed."""
    notes: dict[str, Any] = {}
    optional = False
    while True:
        if isinstance(t, mi.Metadata):
            notes.update(t.extra_json_schema or {})
            t = t.type
        elif isinstance(t, mi.UnionType) and any(isinstance(m, mi.NoneType) for m in t.types):
            optional = True
            rest = tuple(m for m in t.types if not isinstance(m, mi.NoneType))
            t = rest[0] if len(rest) == 1 else mi.UnionType(rest)
        else:
            return t, notes, optional


def _field(name: str, t: mi.Type, required: bool, entity: str | None) -> FormField:
    inner, notes, optional = _unwrap(t)
    help_ = notes.get("description", "")
    examples = notes.get("examples") or []
    example = str(examples[0]) if examples else ""
    base = dict(name=name, label=_label(name), required=required and not optional, help=help_,
                example=example, entity=entity)
    if isinstance(inner, mi.StrType):
        long = inner.max_length is None or inner.max_length > LONG
        return FormField(widget="textarea" if long else "text", maxlength=inner.max_length, **base)
    if isinstance(inner, mi.IntType):
        return FormField(widget="number", **base)
    if isinstance(inner, mi.LiteralType):
        return FormField(widget="select", options=tuple(str(v) for v in inner.values), **base)
    if isinstance(inner, mi.StructType) and inner.cls is Citation:
        children = tuple(_field(f"{name}.{f.encode_name}", f.type, f.required,
                                "source" if f.encode_name == "source" else None)
                         for f in inner.fields)
        return FormField(widget="group", children=children, **base)
    if isinstance(inner, (mi.VarTupleType, mi.ListType)):
        item, _, _ = _unwrap(inner.item_type)
        if isinstance(item, mi.StrType) and entity is not None:
            return FormField(widget="list", **{**base, "help": (help_ + " " if help_ else "")
                                               + "Ids separated by commas."})
    return FormField(widget="json", **{**base, "help": (help_ + " " if help_ else "")
                                       + "As JSON (see the API's examples at /schema); plain text "
                                       "is sent as text."})


def fields_of(kind: str) -> list[FormField]:
    """The form fields of claim kind `kind`: its own, then the citation, then the common ones."""
    cls = BY_KIND[kind]
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    refs: dict[str, str] = {**cls.REFS, **cls.MANY}
    made = {f.encode_name: _field(f.encode_name, f.type, f.required, refs.get(f.encode_name))
            for f in info.fields}
    for name in ("attributed_to",):  # a person, organisation or source: suggested as any entity
        made[name] = replace(made[name], entity="entity")
    own = [f for n, f in made.items() if n not in COMMON and n != "citation"]
    return [*own, made["citation"], *(made[n] for n in COMMON if n in made)]


def flat(fields: list[FormField]) -> list[FormField]:
    out: list[FormField] = []
    for f in fields:
        out.extend(flat(list(f.children)) if f.widget == "group" else [f])
    return out


def parsed(kind: str, form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body of a posted claim form, and the errors found before sending it (field
    name -> message): an empty control is left out; numbers, id lists and JSON are read."""
    body: dict[str, Any] = {"kind": kind}
    errors: dict[str, str] = {}
    for f in flat(fields_of(kind)):
        raw = (form.get(f.name) or "").strip()
        if not raw:
            continue
        value: Any = raw
        if f.widget == "number":
            if not re.fullmatch(r"[0-9]{1,12}", raw):
                errors[f.name] = "a whole number, in digits"
                continue
            value = int(raw)
        elif f.widget == "list":
            value = [part.strip() for part in raw.split(",") if part.strip()]
        elif f.widget == "json":
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw  # words, not JSON: sent as text
        node = body
        *parents, last = f.name.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = value
    return body, errors


_PATH = re.compile(r"- at `\$\.?([^`]*)`")


def error_field(message: str) -> tuple[str | None, str]:
    """The field a msgspec validation message names (`$.citation.source` -> citation.source),
    and the message without its path."""
    found = _PATH.search(message)
    if found is None:
        return None, message
    path = re.sub(r"\[\d+\].*$", "", found.group(1))
    return path or None, message[:found.start()].strip()


def with_values(fields: list[FormField], form: dict[str, str],
                errors: dict[str, str]) -> list[FormField]:
    """The fields again holding what was posted, each with its error."""
    out = []
    for f in fields:
        if f.widget == "group":
            out.append(replace(f, children=tuple(with_values(list(f.children), form, errors)),
                               error=errors.get(f.name)))
        else:
            out.append(replace(f, value=form.get(f.name) or "", error=errors.get(f.name)))
    return out


def decode(body: dict[str, Any]):
    """The claim a body decodes to (msgspec.ValidationError naming its field otherwise), as
    POST /claims decodes its JSON body."""
    from starosta.events.kinds import AnyClaim

    return msgspec.json.decode(msgspec.json.encode(body), type=AnyClaim)

