"""CSL-JSON items checked against the CSL schema (csl-data.json of citation-style-language/schema,
MIT licence: csl-data.LICENSE.txt), as Zotero and citeproc processors write them.

Every valid item is accepted, with or without a title (letters, interviews, archive files);
`id` is not required, because the archive assigns the source's id. The first violation is a
422 naming its path under `csl` and the value there.

An item is first held to the bounds below (`within_bounds`: one walk that stops at the first
excess, before the schema runs), so that the schema's work on any item is bounded (at most
about 65 ms, measured: docs/semantics.md), in a decider thread, never on the event loop; the
schema then stops at its first error (`check_csl`)."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

from starosta.events.errors import Invalid

# -- the bounds of a CSL item (i23-bounds): the one place they are set; docs/semantics.md
# ("Bounds on a CSL item") lists them. The schema itself bounds nothing (no maxItems on a name
# list, no maxLength), and validating one name costs it 20-130 microseconds.

#: names in one item, all its name lists (author, editor, translator...) together
CSL_MAX_NAMES = 1_000
#: items in any other list (categories, lists inside `custom`; date-parts: the schema's 2 x 3)
CSL_MAX_ITEMS = 100
#: keys in any object (the item's own: 200 as well, checked when the body is decoded)
CSL_MAX_KEYS = 200
#: characters in a key
CSL_MAX_KEY_LENGTH = 100
#: characters in a string (as a note or a quote elsewhere in the API)
CSL_MAX_STRING = 20_000
#: levels of nesting, the item itself the first (a date-part's number is at level 5: item,
#: issued, date-parts, the date, the number)
CSL_MAX_DEPTH = 6
#: JSON values in the whole item, every string, number, list and object counted once (an
#: item of 1,000 names, each a family and a given name, holds 3,002)
CSL_MAX_VALUES = 5_000

# The item's name lists: every property whose items are the schema's name-variable
NAME_LISTS_REF = "#/definitions/name-variable"


@functools.cache
def item_schema() -> dict[str, Any]:
    """The schema of one item, as vendored (its $refs point at #/definitions/...)."""
    schema = json.loads((resources.files(__package__) / "csl-data.json").read_text(encoding="utf-8"))
    item = copy.deepcopy(schema["items"])
    item["required"] = [name for name in item.get("required", []) if name != "id"]
    item["definitions"] = schema["definitions"]
    return item


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """`node` with each {"$ref": "#/definitions/X"} replaced by X and each anyOf of one
    subschema by that subschema: the same schema (the same items valid, the same first error
    and path), checked in a third to a half of the time (a name: no $ref resolved, no anyOf
    collecting its branch's errors)."""
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"$ref"} and node["$ref"].startswith("#/definitions/"):
        return _inlined(definitions[node["$ref"].rsplit("/", 1)[1]], definitions)
    if len(node.get("anyOf", ())) == 1 and set(node) <= {"anyOf", "title", "description"}:
        return _inlined(node["anyOf"][0], definitions)
    return {key: _inlined(value, definitions) for key, value in node.items()}


@functools.cache
def validator() -> Draft7Validator:
    item = item_schema()
    definitions = item["definitions"]
    item = _inlined({k: v for k, v in item.items() if k != "definitions"}, definitions)
    # the schema's keywords are checked in this order and validation stops at the first error:
    # what the item itself lacks or has too much of before what is wrong inside it
    first = ("type", "required", "additionalProperties")
    item = {**{k: item[k] for k in first if k in item}, **item}
    return Draft7Validator(item)


@functools.cache
def name_lists() -> frozenset[str]:
    """The item's properties that are lists of names (author, editor...), from the schema."""
    properties = item_schema()["properties"]
    return frozenset(name for name, spec in properties.items()
                     if spec.get("type") == "array" and spec.get("items", {}).get("$ref") == NAME_LISTS_REF)


def _excess(field: str, value: Any, message: str) -> Invalid:
    return Invalid(field, value, message, "body", f"{field}: {message}")


def within_bounds(csl: dict[str, Any]) -> None:
    """Raise Invalid naming `csl.<path>` and the bound at the first place the item goes past
    one of the CSL_MAX_* bounds. One walk, depth first, that looks at a list's or an object's
    size before its contents and stops at the first excess, so its work is bounded by the
    bounds, whatever was sent (a list of 520,000 authors is refused at its length). Names the
    size (a count, a length) as the value, never the oversized value itself."""
    names_seen = 0
    values = 0
    lists = name_lists()
    stack: list[tuple[str, Any, int]] = [("csl", csl, 1)]
    while stack:
        field, value, depth = stack.pop()
        values += 1
        if values > CSL_MAX_VALUES:
            raise _excess(field, values, f"the item holds over {CSL_MAX_VALUES:,} JSON values "
                          f"in all (CSL_MAX_VALUES); this one is past it")
        if isinstance(value, str):
            if len(value) > CSL_MAX_STRING:
                raise _excess(field, len(value), f"is {len(value):,} characters long: at most "
                              f"{CSL_MAX_STRING:,} (CSL_MAX_STRING)")
            continue
        if not isinstance(value, (list, dict)):
            continue
        if depth >= CSL_MAX_DEPTH and value:
            raise _excess(field, depth + 1, f"nests deeper than {CSL_MAX_DEPTH} levels, the item "
                          f"itself the first (CSL_MAX_DEPTH)")
        if isinstance(value, list):
            if depth == 2 and field[4:] in lists:  # csl.<name list>
                names_seen += len(value)
                if names_seen > CSL_MAX_NAMES:
                    raise _excess(field, len(value), f"holds {len(value):,} names: at most "
                                  f"{CSL_MAX_NAMES:,} in an item, all its name lists together "
                                  f"(CSL_MAX_NAMES)")
            elif len(value) > CSL_MAX_ITEMS:
                raise _excess(field, len(value), f"holds {len(value):,} items: at most "
                              f"{CSL_MAX_ITEMS:,} in a list that is not a name list (CSL_MAX_ITEMS)")
            stack.extend((f"{field}.{i}", item, depth + 1) for i, item in reversed(list(enumerate(value))))
            continue
        if len(value) > CSL_MAX_KEYS:
            raise _excess(field, len(value), f"has {len(value):,} keys: at most {CSL_MAX_KEYS:,} "
                          f"(CSL_MAX_KEYS)")
        for key in value:
            if len(key) > CSL_MAX_KEY_LENGTH:
                raise _excess(f"{field}.{key[:100]}", len(key), f"is a key {len(key):,} characters "
                              f"long: at most {CSL_MAX_KEY_LENGTH} (CSL_MAX_KEY_LENGTH)")
        stack.extend((f"{field}.{key}", item, depth + 1) for key, item in reversed(list(value.items())))


def check_csl(csl: dict[str, Any]) -> None:
    """Raise Invalid naming `csl.<path>` for the first way `csl` is not a CSL-JSON item: past
    a bound (within_bounds), else the schema's first error. The work is bounded by the
    bounds (tens of milliseconds at most, docs/semantics.md): callers run it off the event
    loop (the source's registration decides in a decider thread)."""
    within_bounds(csl)
    first = next(validator().iter_errors(csl), None)
    if first is None:
        return
    error = best_match([first])  # within the first error, its most telling part (an anyOf's)
    path = ".".join(str(part) for part in error.absolute_path)
    field = f"csl.{path}" if path else "csl"
    if error.validator == "required":
        missing = next((name for name in error.validator_value if name not in error.instance), "")
        field, value = f"{field}.{missing}".replace("csl.", "csl.", 1), None
        message = f"is required in a CSL-JSON item ({error.message[:200]})"
    elif error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        field, value = (f"{field}.{extra[0]}", error.instance[extra[0]]) if extra else (field, None)
        message = "is not a CSL-JSON variable (the CSL schema lists them: title, author, issued...)"
    else:
        value = error.instance
        message = f"is not valid CSL-JSON: {error.message[:300]}"
    raise Invalid(field, value, message, "body", f"{field}: {message}")
