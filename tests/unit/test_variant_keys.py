"""Issue 22's search rules as pure functions: variant keys (iuliia's schemes, the German,
French, Spanish and Polish tables, the fold), trigrams, the ranking of a name for a query, and
the folded key `starosta submit` compares labels by."""

from __future__ import annotations

import pytest

from starosta.projections import name_keys
from starosta.projections.search import name_rank, word_tier
from starosta.service.tools.submit import did_you_mean, names_of

# one Russian word, and spellings of it every system writes, which must share a variant key
SPELLINGS = [
    ("Марцинкевич", ["Martsinkevich", "Martsinkevitch", "Marcinkiewicz", "Marcinkevič",
                     "Mart͡sinkevich", "Marcinkevich"]),
    ("Хрущёв", ["Khrushchev", "Khrushchyov", "Chruschtschow", "Khrouchtchev", "Chruszczow",
                "Hruščëv", "Chruščëv"]),
    ("Мария", ["Maria", "Mariya", "Marija", "Mariia"]),
    ("Кличевский", ["Klichevsky", "Klichevskiy", "Klichevskij", "Klitschewski", "Kliczewski"]),
    ("Монклюс", ["Monclús", "Monklyus", "Monkljus"]),
    ("Штеймер", ["Steimer", "Shteimer", "Schtejmer"]),
    ("Ярославская", ["Yaroslavskaya", "Jaroslawskaja", "Iaroslavskaia", "Jarosławskaja"]),
    ("Жуков", ["Zhukov", "Schukow", "Joukov", "Żukow", "Žukov"]),
    ("Бутырка", ["Butyrka", "Boutyrka", "Butirka"]),
]


@pytest.mark.parametrize(("russian", "written"), SPELLINGS)
def test_every_system_s_spelling_shares_a_key_with_the_cyrillic(russian: str, written: list[str]) -> None:
    keys = set(name_keys.word_keys(russian))
    missing = [w for w in written if not keys & set(name_keys.word_keys(w))]
    assert missing == [], (keys, {w: name_keys.word_keys(w) for w in missing})


def test_unlike_names_do_not_share_keys() -> None:
    for a, b in [("Спиридонова", "Spiridovich"), ("Monclús", "Molina"), ("Maria", "Marta"),
                 ("Klichevsky", "Klichev"), ("Steimer", "Steiner")]:
        assert not set(name_keys.word_keys(a)) & set(name_keys.word_keys(b)), (a, b)


def test_the_schemes_and_tables_all_spell_a_cyrillic_word() -> None:
    spelt = name_keys.spellings("Щукин")
    # iuliia's seven schemes and the four tables give at least these forms
    assert {"Shchukin", "Ščukin", "Schtschukin", "Chtchoukin", "Szczukin"} <= set(spelt)
    assert name_keys.spellings("Monclús") == ("Monclús",)
    assert len(name_keys.IULIIA_SCHEMES) == 7 and set(name_keys.WESTERN_TABLES) == {
        "german", "french", "spanish", "polish"}


def test_variant_keys_go_word_by_word_and_grams_are_padded() -> None:
    assert name_keys.variant_keys("Vicente Monclús-Guallar") == (("vicente",), ("monklus",), ("gualar",))
    assert name_keys.variant_keys(" – ") == ()
    assert name_keys.grams("ab") == {"_ab", "ab_"}


def test_a_name_ranks_by_its_worst_word_in_any_order() -> None:
    assert word_tier(("maria",), ("maria",)) == (2, 100.0)
    assert word_tier(("mar",), ("maria",)) == (3, 100.0)
    assert word_tier(("ma",), ("maria",))[0] == 9  # a prefix needs 3 letters
    assert word_tier(("spiridonva",), ("spiridonova",))[0] == 4
    assert word_tier(("klihevsk",), ("klihev",))[0] == 9  # two letters longer: no typo
    assert word_tier(("mara",), ("marta",))[0] == 4 and word_tier(("maxa",), ("marta",))[0] == 9
    name = (("maria",), ("spiridonova",))
    assert name_rank((("spiridonova",), ("maria",)), name) == (2, -100.0)
    assert name_rank((("spiridonva",), ("maria",)), name)[0] == 4
    assert name_rank((("maria",), ("zapata",)), name) is None
    assert name_rank((), name) is None


def test_labels_are_compared_folded() -> None:
    k = name_keys.label_key
    assert k("vicente monclus guallar") == k(" Vicente  Monclús Guallar\u200b") == k("VICENTE MONCLÚS GUALLAR")
    assert k("Бутырка") == k("БУТЫРКА") and k("Бутырка") != k("Butyrka")
    assert k("Monclús Guallar") != k("Vicente Monclús Guallar")
    assert did_you_mean([("P-1", "A"), ("P-2", "B")]) == "A (P-1) or B (P-2)"
    assert names_of({"label": "Butyrka", "data": {"aliases": ["Бутырка"]},
                     "names": [{"name": "Butyrki"}]}) == ["Butyrka", "Бутырка", "Butyrki"]
