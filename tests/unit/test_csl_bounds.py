"""The bounds of a CSL item as a pure function (service/domain/csl.py: within_bounds, the
CSL_MAX_* constants), the schema's first error, that no coroutine of the HTTP layer runs the
check on the event loop, and that every request body is bounded: each text, list and map of
every operation's body has a length limit, and the one free-form JSON a request carries (a
source's `csl`) is walked by within_bounds (issue 23, item 2)."""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec.inspect as mi
import pytest

from starosta.events.errors import Invalid
from starosta.service.domain import csl
from starosta.service.domain.csl import (CSL_MAX_DEPTH, CSL_MAX_ITEMS, CSL_MAX_KEY_LENGTH,
                                          CSL_MAX_KEYS, CSL_MAX_NAMES, CSL_MAX_STRING,
                                          CSL_MAX_VALUES, check_csl, name_lists, within_bounds)


def refused(item: dict) -> Invalid:
    with pytest.raises(Invalid) as caught:
        within_bounds(item)
    return caught.value


def test_the_name_lists_are_the_schemas() -> None:
    assert {"author", "editor", "translator", "recipient", "interviewer", "container-author"} \
        <= name_lists()
    assert not {"categories", "custom", "issued", "title"} & name_lists()


def test_names_are_counted_over_every_name_list_of_the_item() -> None:
    name = {"family": "Tester"}
    within_bounds({"type": "book", "author": [name] * CSL_MAX_NAMES})
    within_bounds({"type": "book", "author": [name] * 600, "editor": [name] * 400})
    past = refused({"type": "book", "author": [name] * 600, "editor": [name] * 401})
    assert past.field == "csl.editor" and past.value == 401 and "1,000" in str(past)


def test_a_huge_list_is_refused_at_its_length_without_walking_it() -> None:
    class Untouchable(dict):  # a walk that looked inside a name would fail here
        def items(self):
            raise AssertionError("walked into the list")

    past = refused({"type": "book", "author": [Untouchable()] * 520_000})
    assert (past.field, past.value) == ("csl.author", 520_000)
    assert "CSL_MAX_NAMES" in str(past)


@pytest.mark.parametrize("item, field, value", [
    ({"categories": ["c"] * (CSL_MAX_ITEMS + 1)}, "csl.categories", CSL_MAX_ITEMS + 1),
    ({"custom": {"ids": ["i"] * (CSL_MAX_ITEMS + 1)}}, "csl.custom.ids", CSL_MAX_ITEMS + 1),
    ({"title": "x" * (CSL_MAX_STRING + 1)}, "csl.title", CSL_MAX_STRING + 1),
    ({"author": [{"family": "x" * (CSL_MAX_STRING + 1)}]}, "csl.author.0.family", CSL_MAX_STRING + 1),
    ({"custom": {f"k{i}": 1 for i in range(CSL_MAX_KEYS + 1)}}, "csl.custom", CSL_MAX_KEYS + 1),
    ({"custom": {"k" * (CSL_MAX_KEY_LENGTH + 1): 1}}, "csl.custom." + "k" * 100, CSL_MAX_KEY_LENGTH + 1),
    ({"custom": {"a": {"b": {"c": {"d": [1]}}}}}, "csl.custom.a.b.c.d", CSL_MAX_DEPTH + 1),
])
def test_each_bound_names_the_first_place_past_it(item: dict, field: str, value: int) -> None:
    past = refused({"type": "book", **item})
    assert (past.field, past.value) == (field, value), str(past)


def test_at_each_bound_the_item_is_within_them() -> None:
    within_bounds({"type": "book", "categories": ["c"] * CSL_MAX_ITEMS, "title": "x" * CSL_MAX_STRING,
                   "custom": {"a": {"b": {"c": {"d": []}}}, "k" * CSL_MAX_KEY_LENGTH: 1,
                              **{f"k{i}": i for i in range(CSL_MAX_KEYS - 2)}},
                   "issued": {"date-parts": [[1926, 5, 1], [1927]]}})


def test_the_values_of_the_whole_item_are_counted() -> None:
    wide = {f"k{i}": list(range(CSL_MAX_ITEMS)) for i in range(CSL_MAX_KEYS)}  # 20,000 numbers
    past = refused({"type": "book", "custom": wide})
    assert past.value == CSL_MAX_VALUES + 1 and "CSL_MAX_VALUES" in str(past)
    assert past.field.startswith("csl.custom.k")


def test_the_schema_names_its_first_error_what_the_item_lacks_first() -> None:
    with pytest.raises(Invalid) as caught:
        check_csl({"author": [1] * CSL_MAX_NAMES, "colour": "red"})
    assert caught.value.field == "csl.type"
    with pytest.raises(Invalid) as caught:
        check_csl({"type": "book", "author": [{"family": "ok"}, 1, 2]})
    assert (caught.value.field, caught.value.value) == ("csl.author.1", 1)


def _calls_in_coroutines(tree: ast.AST, names: set[str]) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST, on_loop: bool) -> None:
        if isinstance(node, ast.AsyncFunctionDef):
            on_loop = True
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            on_loop = False
        if on_loop and isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in names:
                found.append(f"{node.lineno} {name}")
        for child in ast.iter_child_nodes(node):
            visit(child, on_loop)

    visit(tree, False)
    return found


API = Path(__file__).resolve().parents[2] / "service" / "api"


def test_no_coroutine_of_the_http_layer_checks_a_csl_item_on_the_loop() -> None:
    checks = {"check_csl", "within_bounds"}
    found = [f"{path.name}:{hit}" for path in sorted(API.glob("*.py"))
             for hit in _calls_in_coroutines(ast.parse(path.read_text()), checks)]
    assert found == []
    assert _calls_in_coroutines(ast.parse("async def register(request, data):\n"
                                          "    check_csl(data.csl)\n"), checks) == ["2 check_csl"]


# -- every request body bounded -------------------------------------------------------------

# the free-form JSON a request may carry, and the walk that bounds it
FREE_FORM = {"POST /sources: data.csl{}": csl.within_bounds}


def _unbounded(t: object, path: str, out: list[str], seen: set) -> None:
    if isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.StrType):
        anchored = t.pattern is not None and t.pattern.startswith("^") and t.pattern.endswith("$")
        if t.max_length is None and not anchored:
            out.append(f"{path}: text without maxLength")
    elif isinstance(t, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)):
        if t.max_length is None:
            out.append(f"{path}: list without maxItems")
        _unbounded(t.item_type, f"{path}[]", out, seen)
    elif isinstance(t, mi.TupleType):
        for i, item in enumerate(t.item_types):
            _unbounded(item, f"{path}[{i}]", out, seen)
    elif isinstance(t, mi.DictType):
        if t.max_length is None:
            out.append(f"{path}: map without maxProperties")
        _unbounded(t.key_type, f"{path}{{key}}", out, seen)
        _unbounded(t.value_type, f"{path}{{}}", out, seen)
    elif isinstance(t, mi.AnyType):
        out.append(f"{path}: free-form JSON")
    elif isinstance(t, mi.UnionType):
        for item in t.types:
            _unbounded(item, path, out, seen)
    elif isinstance(t, mi.StructType) and t.cls not in seen:
        for field in t.fields:
            _unbounded(field.type, f"{path}.{field.encode_name}", out, seen | {t.cls})


def test_every_request_body_is_bounded_and_its_free_form_json_walked() -> None:
    from litestar.routes import HTTPRoute

    from starosta.service.api.app import create_app
    from starosta.service.settings import Settings

    app = create_app(Settings(db=":memory:"))
    found: set[str] = set()
    bodies = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            bodies += 1
            out: list[str] = []
            _unbounded(mi.type_info(data.annotation), "data", out, set())
            method = "/".join(sorted(handler.http_methods))
            found |= {f"{method} {route.path}: {hit.split(': ')[0]}" for hit in out}
    assert bodies > 30
    assert found == set(FREE_FORM)
