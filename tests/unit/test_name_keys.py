"""The name keys as pure functions (projections/name_keys.py): display form, case-folded key,
TR39 skeleton, search keys, the refusals, and account names; no HTTP, no database."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from starosta.projections import name_keys, names
from starosta.projections.name_keys import (
    confusable_keys,
    display_form,
    key,
    name_form,
    refusal,
    same_account,
    search_keys,
    skeleton,
)

REGISTERED = "Мария Спиридонова"
# The hostile names, each a clone of REGISTERED or a name that must not be stored
NFD = unicodedata.normalize("NFD", REGISTERED)
NBSP = REGISTERED.replace(" ", "\u00a0")
TRAILING = REGISTERED + "   "
BOM = "\ufeff" + REGISTERED
ZWSP = "Мария\u200b Спиридонова"
RLO = "\u202eМария Спиридонова"
ONLY_ZWSP = "\u200b\u200b\u200b"
ACCENTS = "M" + "\u0301" * 290 + "aria"


def confusable(a: str, b: str) -> bool:
    return bool(set(confusable_keys(a)) & set(confusable_keys(b)))


@pytest.mark.parametrize("clone", [NFD, NBSP, TRAILING, ZWSP, "  мария   спиридонова",
                                   "Mария Спиридонова"])  # Latin M
def test_clones_have_the_registered_names_skeleton(clone):
    assert confusable(clone, REGISTERED)


@pytest.mark.parametrize("clone", [NFD, NBSP, TRAILING, ZWSP])
def test_clones_display_as_the_registered_name(clone):
    assert display_form(clone) == REGISTERED
    assert name_form(clone) == REGISTERED


@pytest.mark.parametrize("text, says", [
    (BOM, "U+FEFF"), (RLO, "U+202E"), ("Ma\u2066ria", "U+2066"), ("Ma\u200fria", "U+200F"),
    ("\u061cMaria", "U+061C"), (ONLY_ZWSP, "no visible character"), ("   ", "no visible character"),
    ("\u3164", "no visible character"), (ACCENTS, "290 combining marks"),
    ("e\u0301\u0302\u0303\u0304", "4 combining marks")])
def test_refusals_say_why(text, says):
    assert says in (refusal(text) or "")
    with pytest.raises(name_keys.UnfitName) as exc:
        name_form(text)
    assert says in exc.value.message


def test_refused_values_are_shown_escaped():
    with pytest.raises(name_keys.UnfitName) as exc:
        name_form(RLO)
    assert exc.value.escaped == "<U+202E>Мария Спиридонова"
    assert "\u202e" not in str(exc.value)


@pytest.mark.parametrize("ok", ["Nguyễn Thị Minh Khai", "Mart͡sinkevich", "Ramón Sanz Almudévar",
                                "D'Alembert", "S.– K.– (North of Siberia)", "e\u0301\u0302\u0303"])
def test_real_names_pass(ok):
    assert refusal(ok) is None


def test_joiners_stay_where_the_script_needs_them():
    persian = "می\u200cخواهم"  # ZWNJ inside a Persian word
    devanagari = "क्\u200dष"  # ZWJ in a Devanagari conjunct
    assert display_form(persian) == persian
    assert display_form(devanagari) == devanagari
    assert display_form("Ma\u200dria") == "Maria"  # between Latin letters: dropped
    assert display_form("\u200cMaria") == "Maria"  # at the start: dropped


def test_confusables_and_distinct_names():
    assert confusable("Maria", "Mаriа")  # Cyrillic а
    assert confusable("ＭＡＲＩＡ", "maria")
    assert not confusable("Maria", "Marta")
    assert not confusable("Мария", "Мари́я")  # a stress mark is another spelling, not a clone


def test_search_keys_are_the_search_indexs_normal_form():
    assert search_keys(NFD) == (names.normalise(REGISTERED),) == ("mariya spiridonova",)
    assert search_keys("\u200b") == ()


def test_account_names():
    assert same_account("Alice", "alice")
    assert same_account("Alice", "ＡＬＩＣＥ")
    assert same_account("Alice", "Аlice")  # Cyrillic А
    assert same_account("Alice", unicodedata.normalize("NFD", "Alice"))
    assert same_account("José", unicodedata.normalize("NFD", "JOSÉ"))
    assert not same_account("Alice", "Alina")


def test_nfc_all_leaves_nfc_json_untouched_and_fixes_the_rest():
    value = {"name": "Monclús", "aliases": ["a", "b"]}
    assert name_keys.nfc_all(value) is value
    fixed = name_keys.nfc_all({"name": "Monclu\u0301s", "ke\u0301y": [1, "e\u0301"]})
    assert fixed == {"name": "Monclús", "kéy": [1, "é"]}


def test_the_vendored_table_is_unicodes():
    table = name_keys._prototypes()
    assert len(table) > 6000
    assert table[0x0430] == "a"  # CYRILLIC SMALL LETTER A -> LATIN SMALL LETTER A


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
mixed = st.text(alphabet=st.sampled_from(list("aAmMрРаА é\u0301\u200b\u200c\u200d\u00a0\u202eقك्ष\ufeff\t")),
                max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, mixed))
def test_display_form_is_idempotent_and_nfc(text):
    shown = display_form(text)
    assert display_form(shown) == shown
    assert unicodedata.is_normalized("NFC", shown)
    assert shown == shown.strip() and "  " not in shown


@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, mixed))
def test_keys_do_not_change_through_the_display_form(text):
    shown = display_form(text)
    assert key(shown) == key(text)
    assert skeleton(shown) == skeleton(text)
    assert confusable_keys(shown) == confusable_keys(text)
    assert confusable(text, unicodedata.normalize("NFD", text))


@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, mixed))
def test_a_fit_name_is_fit_again_and_unchanged(text):
    if refusal(text) is None:
        stored = name_form(text)
        assert refusal(stored) is None
        assert name_form(stored) == stored


def test_the_modules_examples_hold():
    import doctest

    assert doctest.testmod(name_keys).failed == 0
