"""The generated claim form (service/pages/claim_form.py) and the session tokens' rules
(service/domain/sessions.py): pure functions, no server."""

from __future__ import annotations

import msgspec
import pytest

from starosta.events.kinds import KIND_NAMES, CustodyClaim
from starosta.service.domain import sessions
from starosta.service.pages import claim_form


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_kind_has_a_form_with_its_citation(kind: str) -> None:
    fields = claim_form.fields_of(kind)
    citation = next(f for f in fields if f.name == "citation")
    assert citation.widget == "group" and citation.required
    source = next(f for f in citation.children if f.name == "citation.source")
    assert source.required and source.entity == "source"
    names = [f.name for f in claim_form.flat(fields)]
    assert len(names) == len(set(names))
    assert "kind" not in names  # chosen first, sent as a hidden field


def test_custody_fields_carry_the_schema_help_and_entity_kinds() -> None:
    fields = {f.name: f for f in claim_form.flat(claim_form.fields_of("custody"))}
    assert fields["custody"].widget == "select" and fields["custody"].required
    assert set(fields["custody"].options) == {"prison", "camp", "isolator", "exile", "transit", "other"}
    assert "EDTF" in fields["start"].help and fields["start"].example == "1940-01-25"
    assert fields["person"].entity == "person" and fields["place"].entity == "place"
    assert fields["group"].entity == "organization"
    assert fields["with"].widget == "list" and fields["with"].entity == "person"
    assert fields["count"].widget == "json"  # a number or a range
    assert fields["citation.quote"].widget == "textarea"
    assert not fields["person"].required  # a group may stand in its place


def test_a_posted_form_becomes_the_body_post_claims_takes() -> None:
    body, errors = claim_form.parsed("custody", {
        "person": " P-1 ", "custody": "prison", "place": "", "start": "1940-01-25",
        "count": '{"min": 4, "max": 20}', "with": "P-2, P-3,", "certainty": "",
        "citation.source": "S-1", "citation.locator": "para. 4", "citation.via": "Translated by X",
        "unknown": "ignored"})
    assert errors == {}
    assert body == {"kind": "custody", "person": "P-1", "custody": "prison", "start": "1940-01-25",
                    "count": {"min": 4, "max": 20}, "with": ["P-2", "P-3"],
                    "citation": {"source": "S-1", "locator": "para. 4", "via": "Translated by X"}}


def test_numbers_are_digits_and_decode_as_the_api_decodes() -> None:
    _, errors = claim_form.parsed("aggregate", {"count": "12", "citation.source": "S-1"})
    assert "count" not in errors
    body, errors = claim_form.parsed("custody_total", {"person": "P-1", "total": "16 years",
                                                       "days": "5e3", "citation.source": "S-1"})
    assert errors == {"days": "a whole number, in digits"}
    body, errors = claim_form.parsed("custody", {"person": "P-1", "custody": "prison",
                                                 "citation.source": "S-1"})
    claim = claim_form.decode(body)
    assert isinstance(claim, CustodyClaim) and claim.person == "P-1"


def test_a_validation_error_is_put_beside_its_field() -> None:
    body, _ = claim_form.parsed("custody", {"custody": "jail", "citation.source": "S-1"})
    with pytest.raises(msgspec.ValidationError) as caught:
        claim_form.decode(body)
    assert claim_form.error_field(str(caught.value))[0] == "custody"
    assert claim_form.error_field("Expected `str` of length <= 64 - at `$.citation.source`") == \
        ("citation.source", "Expected `str` of length <= 64")
    assert claim_form.error_field("Expected `str` - at `$.with[2]`")[0] == "with"
    assert claim_form.error_field("Object missing required field `citation`") == \
        (None, "Object missing required field `citation`")


def test_posted_values_and_errors_are_kept_for_the_form_again() -> None:
    posted = {"start": "<b>1940</b>", "citation.quote": "q"}
    fields = claim_form.with_values(claim_form.fields_of("custody"), posted,
                                    {"start": "not EDTF", "citation.source": "needed"})
    flat = {f.name: f for f in claim_form.flat(fields)}
    assert flat["start"].value == "<b>1940</b>" and flat["start"].error == "not EDTF"
    assert flat["citation.quote"].value == "q" and flat["citation.source"].error == "needed"
    assert flat["end"].value == "" and flat["end"].error is None


def test_a_sessions_csrf_token_is_bound_to_it() -> None:
    first, second = "a" * 43, "b" * 43
    assert sessions.well_formed(first) and not sessions.well_formed("a" * 42)
    assert not sessions.well_formed("é" * 43) and not sessions.well_formed(None)
    token = sessions.csrf_token(first)
    assert len(token) == 64 and first not in token
    assert sessions.csrf_ok(first, token)
    assert not sessions.csrf_ok(second, token)
    assert not sessions.csrf_ok(first, None) and not sessions.csrf_ok(first, "")
    assert token != sessions.csrf_token(second)


@pytest.mark.parametrize("sent, goes", [
    ("/claims/new", "/claims/new"), ("/review?kind=custody", "/review?kind=custody"),
    ("//evil.example", "/"), ("/\t/evil.example", "/"), ("/\n/evil.example", "/"),
    ("/\\evil.example", "/"), ("https://evil.example/", "/"), ("evil", "/"), (None, "/"),
    ("/" + "a" * 3000, "/")])
def test_after_signing_in_only_a_path_of_this_site(sent, goes) -> None:
    from starosta.service.pages.session import _next

    assert _next(sent) == goes
