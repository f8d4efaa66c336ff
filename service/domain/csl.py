"""CSL-JSON items checked against the CSL schema (csl-data.json of citation-style-language/schema,
MIT licence: csl-data.LICENSE.txt), as Zotero and citeproc processors write them.

Every valid item is accepted, with or without a title (letters, interviews, archive files);
`id` is not required, because the archive assigns the source's id. The first violation is a
422 naming its path under `csl` and the value there."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

from starosta.events.errors import Invalid


@functools.cache
def validator() -> Draft7Validator:
    schema = json.loads((resources.files(__package__) / "csl-data.json").read_text(encoding="utf-8"))
    item = copy.deepcopy(schema["items"])
    item["required"] = [name for name in item.get("required", []) if name != "id"]
    item["definitions"] = schema["definitions"]  # the item's $refs point at #/definitions/...
    return Draft7Validator(item)


def check_csl(csl: dict[str, Any]) -> None:
    """Raise Invalid naming `csl.<path>` for the first way `csl` is not a CSL-JSON item."""
    error = best_match(validator().iter_errors(csl))
    if error is None:
        return
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
