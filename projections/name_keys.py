"""Name keys: the one place that says how a name is shown, compared and told apart from a look-alike.

For any text (a person's, place's, organisation's or fund's name, an alias, an account's name):

* :func:`display_form`: NFC, default-ignorable characters (zero-width spaces, BOMs, bidi
  controls, Hangul fillers...) removed, except ZWJ/ZWNJ between letters of a script that
  writes them; every run of white space (NBSP and the other Unicode spaces included) one
  U+0020; trimmed. Idempotent; never raises (old stored data goes through it as it is).
* :func:`key`: the case-folded NFKC key of the display form ("Ｍария" and "мария" meet).
* :func:`skeleton`: Unicode TR39's skeleton of the key, from Unicode's ``confusables.txt``
  (version 13.0.0, vendored with its licence beside this module): Latin "Maria" and the same
  word typed with Cyrillic а and р share one skeleton. Two names are *confusable* when their
  skeletons are equal.
* :func:`search_keys`: the search index's normal forms (``projections.names.normalise``, not a
  second copy of it).
* :func:`name_form`: the display form of a name a request gives, or :class:`UnfitName` when the
  name must be refused: bidi controls (U+202A-202E, U+2066-2069, U+200E/F, U+061C), a BOM
  (U+FEFF), more than :data:`MAX_COMBINING_RUN` combining marks in a row (counted in NFD, so
  "é" with three more accents is four), or nothing visible.
* :func:`sort_key`: how names are alphabetised (the person listing by surname).
* :func:`confusable_keys`: the skeletons names are compared by; :func:`same_account`: whether
  two account (token) names are one account's.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any
from importlib import resources

from starosta.projections import names

#: Unicode's file and its version: a stored skeleton is a projection of it (rebuild on change).
CONFUSABLES = "confusables.txt"
CONFUSABLES_VERSION = "13.0.0"
#: At most this many combining marks in a row (Vietnamese and scholarly transliteration
#: need two, rarely three; 290 accents on one letter are an attack on every page showing it).
MAX_COMBINING_RUN = 3

BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
BOM = 0xFEFF
ZWNJ, ZWJ = 0x200C, 0x200D
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt; unassigned ones included):
# characters that display as nothing. unicodedata does not expose the property.
_IGNORABLE_RANGES = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
                     (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
                     (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
                     (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                     (0xE0000, 0xE0FFF))
# Scripts whose spelling needs ZWJ/ZWNJ between letters (Persian's ZWNJ, Indic conjuncts,
# Arabic and Syriac joining), read from the first word of a letter's Unicode name.
_JOINING_SCRIPTS = frozenset(["ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "DEVANAGARI", "BENGALI",
                              "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU", "KANNADA",
                              "MALAYALAM", "SINHALA", "KHMER", "MYANMAR", "TIBETAN", "MANDAIC",
                              "PHAGS-PA", "KAITHI", "BRAHMI", "SHARADA"])
_SPACE = re.compile(r"\s+")


_IGNORABLE = re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _IGNORABLE_RANGES) + "]")


def _ignorable(cp: int) -> bool:
    return _IGNORABLE.match(chr(cp)) is not None


def _letter_or_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _joining_script(ch: str) -> bool:
    return unicodedata.name(ch, "").split(" ", 1)[0] in _JOINING_SCRIPTS


def _joiner_needed(text: str, i: int) -> bool:
    """Is the ZWJ/ZWNJ at text[i] between two letters (or marks) of a script that writes it?"""
    before = next((c for c in reversed(text[:i]) if ord(c) not in (ZWJ, ZWNJ)), "")
    after = next((c for c in text[i + 1:] if ord(c) not in (ZWJ, ZWNJ)), "")
    if not (before and after and _letter_or_mark(before) and _letter_or_mark(after)):
        return False
    base = next((c for c in reversed(text[:i]) if unicodedata.category(c)[0] == "L"), before)
    return _joining_script(base)


def _visible_or_joiner(text: str) -> str:
    """Drop default-ignorable characters, keeping ZWJ/ZWNJ where the script needs them."""
    if _IGNORABLE.search(text) is None:
        return text
    out = "".join(ch for ch in text if not _ignorable(ord(ch)) or ord(ch) in (ZWJ, ZWNJ))
    if not any(ord(ch) in (ZWJ, ZWNJ) for ch in out):
        return out
    return "".join(ch for i, ch in enumerate(out)
                   if ord(ch) not in (ZWJ, ZWNJ) or _joiner_needed(out, i))


def display_form(text: str) -> str:
    """The form a name is stored and shown in: NFC, invisible characters dropped (ZWJ/ZWNJ kept
    between letters of a script that writes them), white space collapsed to single spaces,
    trimmed. Idempotent; never raises.

    >>> display_form("  Мария\\u00a0\\u200bСпиридонова ")
    'Мария Спиридонова'
    >>> display_form("Monclu\\u0301s") == "Monclús"
    True
    """
    if text.isascii():  # no invisible character, nothing to compose: the common case, fast
        return _SPACE.sub(" ", text).strip()
    text = unicodedata.normalize("NFC", text)
    for _ in range(3):  # dropping a character can make new neighbours: settle
        settled = unicodedata.normalize("NFC", _SPACE.sub(" ", _visible_or_joiner(text)).strip())
        if settled == text:
            break
        text = settled
    return text


def key(text: str) -> str:
    """The case-folded NFKC key of a text's display form: what "the same name" means before
    look-alikes (full-width, ligatures and case fold; accents stay).

    >>> key("ＭＡＲＩＡ Spiridónova") == key("maria spiridónova")
    True
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", display_form(text)).casefold())


@cache
def _prototypes() -> dict[int, str]:
    """confusables.txt as code point -> prototype (its first two fields), for str.translate."""
    table: dict[int, str] = {}
    text = resources.files("starosta.projections").joinpath(CONFUSABLES).read_text("utf-8-sig")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        source, target = (field.strip() for field in line.split(";")[:2])
        table[int(source, 16)] = "".join(chr(int(cp, 16)) for cp in target.split())
    return table


def skeleton(text: str) -> str:
    """TR39 skeleton of the text's :func:`key`: NFD, each character replaced by its prototype
    in confusables.txt, NFD again. Equal skeletons: the two texts look alike.

    >>> skeleton("Maria") == skeleton("Mаriа")  # the second with Cyrillic а
    True
    >>> skeleton("Maria") == skeleton("Marta")
    False
    """
    decomposed = unicodedata.normalize("NFD", key(text))
    return unicodedata.normalize("NFD", decomposed.translate(_prototypes()))


def confusable_keys(text: str) -> tuple[str, ...]:
    """The skeletons two names are compared by: of the case-folded key (what the rule names)
    and of the NFKC display form with its case, because TR39 matches look-alikes case by case:
    Latin "M" and Cyrillic "М" look alike, their small letters "m" and "м" do not. Two names are
    confusable when they share one of these.

    >>> "Мария" != "Mария" and set(confusable_keys("Мария")) & set(confusable_keys("Mария")) != set()
    True
    """
    folded = skeleton(text)
    cased = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", display_form(text)))
    cased = unicodedata.normalize("NFD", cased.translate(_prototypes()))
    return (folded,) if cased == folded else (folded, cased)


def search_keys(text: str) -> tuple[str, ...]:
    """The search index's normal forms of a text (``names.normalise`` of its display form):
    what `GET /persons?q=` matches words against. Empty when nothing searchable is left."""
    normal = names.normalise(display_form(text))
    return (normal,) if normal else ()


def sort_key(text: str) -> tuple[str, str, str]:
    """How names are alphabetised (`GET /persons?order=surname`): by the search's normal form
    (Latin, accents dropped: "Ávila" among the a's, "Спиридонова" beside "Spiridonova"), then
    the case-folded key (accents and scripts apart), then the display form itself, so that
    the order is total and the same on every backend.

    >>> sorted(["Zapata", "ávila", "Спиридонова", "Ávila", "Blasco"], key=sort_key)
    ['Ávila', 'ávila', 'Blasco', 'Спиридонова', 'Zapata']
    """
    shown = display_form(text)
    return names.normalise(shown), key(shown), shown


#: Between the parts of a stored sort key: below every character a name may hold (PostgreSQL's
#: text holds no NUL), so that the keys, compared bytewise, sort as `sort_key`'s tuples do.
SORT_SEPARATOR = "\x01"


def sort_string(text: str) -> str:
    """`sort_key` as one string, stored in a read model so that the database sorts by it
    (bytewise in UTF-8 on both backends, which is code point order, as Python compares)."""
    return SORT_SEPARATOR.join(sort_key(text))


def same_account(a: str, b: str) -> bool:
    """Are two account (token) names one account's? They are when their case-folded NFKC keys
    are confusable (:func:`confusable_keys`): "Alice", "alice", "ＡＬＩＣＥ", "Аlice" (Cyrillic
    А) and " Alice\u200b" are one name.

    >>> same_account("Alice", "ＡＬＩＣＥ"), same_account("Alice", "Аlice"), same_account("Alice", "Alina")
    (True, True, False)
    """
    return bool(set(confusable_keys(a)) & set(confusable_keys(b)))


# -- refusals ------------------------------------------------------------------------------------

class UnfitName(ValueError):
    """A name that may not be stored: `message` says why, `escaped` shows the value with every
    invisible, control or combining character as U+XXXX."""

    def __init__(self, text: str, message: str) -> None:
        self.escaped, self.message = escaped(text[:300]), message
        super().__init__(f"{self.escaped}: {message}")


def escaped(text: str) -> str:
    """The text with every character that is not a visible letter, digit, punctuation, symbol or
    plain space written as <U+XXXX>, so a problem's detail shows what was sent.

    >>> escaped("Ma\\u202eria\\u0301")
    'Ma<U+202E>ria<U+0301>'
    """
    return "".join(ch if ch == " " or unicodedata.category(ch)[0] in "LNPS" and not _ignorable(ord(ch))
                   else f"<U+{ord(ch):04X}>" for ch in text)


def _code_point(cp: int) -> str:
    return f"U+{cp:04X} {unicodedata.name(chr(cp), '')}".rstrip()


def refusal(text: str) -> str | None:
    """Why a name given in a request must be refused, or None. Pure; see :func:`name_form`."""
    for ch in text:
        cp = ord(ch)
        if cp in BIDI_CONTROLS:
            return (f"holds the bidirectional control {_code_point(cp)}, which reorders how text "
                    "around it displays: remove it")
        if cp == BOM:
            return f"holds {_code_point(cp)} (a byte order mark): remove it"
    shown = display_form(text)
    run = longest = 0
    for ch in unicodedata.normalize("NFD", shown):  # marks as typed, whatever NFC composed
        run = run + 1 if unicodedata.category(ch)[0] == "M" else 0
        longest = max(longest, run)
    if longest > MAX_COMBINING_RUN:
        return (f"has {longest} combining marks in a row; at most {MAX_COMBINING_RUN} are "
                "allowed on one character")
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in shown):
        return "has no visible character (only spaces, zero-width or invisible characters)"
    return None


def name_form(text: str) -> str:
    """The display form of a name a request gives; raise UnfitName when it must be refused
    (bidi controls, a BOM, more than MAX_COMBINING_RUN combining marks in a row, nothing
    visible). Other invisible characters (zero-width spaces, misplaced ZWJ/ZWNJ) are dropped."""
    problem = refusal(text)
    if problem is not None:
        raise UnfitName(text, problem)
    return display_form(text)


def nfc_all(value: object) -> object:
    """Decoded JSON with every string (keys included) in NFC: what a request's texts are stored
    as. Returns `value` itself when nothing changes."""
    if isinstance(value, str):
        return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        items = [nfc_all(v) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    if isinstance(value, dict):
        pairs = [(nfc_all(k), nfc_all(v)) for k, v in value.items()]
        return value if all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items())) else dict(pairs)
    return value


# -- variant keys (issue 22: names found however they are typed) ----------------------------------
#
# A stored name and a query meet on *variant keys*: each word of a name, spelt in every common
# transliteration of Russian, then *folded* (:func:`fold`) so that the spellings Western
# languages give one Russian sound meet. Cyrillic words are spelt by iuliia's schemes
# (:data:`IULIIA_SCHEMES`) and by the four small tables below (German, French, Spanish,
# Polish practice); a Latin word by itself. The fold is lossy on purpose (it only narrows and
# ranks: the exact and prefix matches of `projections.names` come first).

#: iuliia's schemes the variant keys are spelt by (iuliia's names).
IULIIA_SCHEMES = ("ala_lc", "bgn_pcgn", "scientific", "iso_9_1954", "gost_7034", "mvd_782",
                  "wikipedia")

_BASE = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
         "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
         "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
         "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
         "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "w"}

#: Russian as German, French, Spanish and Polish texts write it (Duden, the French press,
#: the Spanish press, Polish transliteration): only the letters that differ from `_BASE`.
WESTERN_TABLES: dict[str, dict[str, str]] = {
    "german": {"в": "w", "ж": "sch", "з": "s", "й": "j", "х": "ch", "ц": "z", "ч": "tsch",
               "ш": "sch", "щ": "schtsch", "ю": "ju", "я": "ja", "ё": "jo", "ы": "y"},
    "french": {"ж": "j", "й": "i", "у": "ou", "х": "kh", "ч": "tch", "ш": "ch", "щ": "chtch",
               "ю": "iou", "я": "ia", "ё": "io", "ы": "y", "г": "g"},
    "spanish": {"ж": "zh", "й": "i", "х": "j", "ч": "ch", "ш": "sh", "щ": "sch", "ю": "iu",
                "я": "ia", "ё": "io", "ы": "i"},
    "polish": {"в": "w", "ж": "ż", "й": "j", "х": "ch", "ц": "c", "ч": "cz", "ш": "sz",
               "щ": "szcz", "ю": "ju", "я": "ja", "ё": "jo", "ы": "y", "ь": "", "л": "ł"},
}

# Scholarly and ISO letters spelt out before anyascii drops their accents (ISO 9's č is ch).
_SCHOLARLY = str.maketrans({"č": "ch", "š": "sh", "ž": "zh", "ŝ": "shch", "ĉ": "ch", "â": "ya",
                            "û": "yu", "ë": "yo", "ä": "ya", "ü": "yu", "ǎ": "ya", "ȟ": "kh",
                            "ł": "l", "ż": "zh", "ź": "z", "ś": "s", "ć": "c", "ń": "n",
                            "ʹ": "", "ʺ": "", "'": "", "’": "", "ʼ": ""})

# The fold: ordered rewrites of an ASCII word (see `fold`).
_FOLD_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(a), b) for a, b in (
    (r"schtsch|chtch|shtch|szcz|shch", "sh"),      # щ
    (r"tsch|tch|cz", "ch"),                          # ч: German, French, Polish
    (r"sch|sz", "sh"),                               # ш: German, Polish
    (r"zh|sh", "s"),                                 # ж ш as s (lossy: sibilants meet)
    (r"kh|ch", "h"),                                 # х: kh/ch/h (and ч, lossy)
    (r"tz|ts", "c"),                                 # ц: ts/tz/c (German z stays z)
    (r"w", "v"),                                     # в: German, Polish w
    (r"ff$|ow$", "ov"),                              # -ов as -off, -ow
    (r"ou", "u"),                                    # French у
    (r"gu(?=[ei])", "g"),                            # French ге/ги: gue, gui
    (r"c(?=[aouklrmnt]|$)", "k"),                    # a hard c is k (Monclús/Монклюс)
    (r"[jy]", "i"),                                  # й я ю ё ы: j/y/i
    (r"(?<=[bcdfgklmnprstvz])i(?=[uo])", ""),        # ю ё after a consonant: u, o (Монклюс)
    (r"ie$", "i"),                                   # Mollie/Molli
    (r"(?<=[bcdfgklmnprstvz])ie", "e"),              # Polish kie/wie
    (r"(.)\1+", r"\1"),                              # doubled letters
))


def fold(word: str) -> str:
    """The fold of one word (any script, through `names.normalise`): the spelling differences of
    Western transliterations of Russian taken out, so that their forms of one name meet.

    >>> {fold(w) for w in ["Martsinkevich", "Martsinkevitch", "Marcinkevič", "Marcinkiewicz"]}
    {'marcinkevih'}
    >>> fold("Monclús") == fold("Монклюс"), fold("Mariya") == fold("Maria") == fold("Marija")
    (True, True)
    """
    text = unicodedata.normalize("NFC", word).casefold().translate(_SCHOLARLY)
    ascii_word = names.normalise(text).replace(" ", "")
    for pattern, replacement in _FOLD_RULES:
        ascii_word = pattern.sub(replacement, ascii_word)
    return ascii_word


def _cyrillic(word: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in word)


@cache
def _iuliia_schemes() -> tuple[Any, ...]:
    import iuliia  # type: ignore[import-untyped]  # the schemes load their tables once
    return tuple(getattr(iuliia, name.upper()) for name in IULIIA_SCHEMES)


def _western(word: str, table: dict[str, str]) -> str:
    lower = word.casefold()
    out = []
    for i, ch in enumerate(lower):
        if ch == "е" and (i == 0 or lower[i - 1] in "аеёиоуыэюяъь"):
            out.append({"german": "je", "polish": "je", "french": "ie", "spanish": "ie"}.get(
                next(k for k, v in WESTERN_TABLES.items() if v is table), "ye"))
        elif ch == "в" and lower.endswith("вич") and i == len(lower) - 3:
            out.append(table.get(ch, "v"))
        else:
            out.append(table.get(ch, _BASE.get(ch, ch)))
    return "".join(out)


def spellings(word: str) -> tuple[str, ...]:
    """The Latin spellings of one word: for a Cyrillic word iuliia's schemes
    (:data:`IULIIA_SCHEMES`), the four :data:`WESTERN_TABLES` and anyascii's; for any other word
    itself. Distinct, in that order.

    >>> "Martsinkevich" in spellings("Марцинкевич") and "Marcinkewicz" in spellings("Марцинкевич")
    True
    >>> spellings("Monclús")
    ('Monclús',)
    """
    if not _cyrillic(word):
        return (word,)
    out = [schema.translate(word) for schema in _iuliia_schemes()]
    for table in WESTERN_TABLES.values():
        spelt = _western(word, table)
        out.append(spelt[:1].upper() + spelt[1:] if word[:1].isupper() else spelt)
    out.append(names.normalise(word))
    return tuple(dict.fromkeys(out))


def word_keys(word: str) -> tuple[str, ...]:
    """The variant keys of one word: the folds of its :func:`spellings` (the fold reads ш as s,
    so Штеймер meets the Germanic Steimer). Distinct, sorted.

    >>> word_keys("Штеймер")
    ('hteimer', 'steimer')
    """
    keys = {fold(s) for s in spellings(word)}
    return tuple(sorted(k for k in keys if k))


def variant_keys(text: str) -> tuple[tuple[str, ...], ...]:
    """A name's variant keys, word by word (each word's :func:`word_keys`), words in order.

    >>> variant_keys("Молли Штеймер")
    (('moli',), ('hteimer', 'steimer'))
    """
    words = [w for w in re.split(r"[\s\-‐–—.,;:()\[\]/]+", display_form(text)) if w]
    return tuple(k for k in (word_keys(w) for w in words) if k)


def grams(key_: str) -> set[str]:
    """The trigrams of a variant key padded with "_" at both ends (the search's narrowing table).

    >>> sorted(grams("moli"))
    ['_mo', 'li_', 'mol', 'oli']
    """
    padded = f"_{key_}_"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def label_key(text: str) -> str:
    """A label as `starosta submit` compares it (issue 22): the display form case-folded, its
    accents (combining marks) dropped, every run of spaces one space.

    >>> label_key("  vicente  MONCLUS guallar ") == label_key("Vicente Monclús Guallar")
    True
    >>> label_key("Бутырка") == label_key("бутырка"), label_key("Butyrka") == label_key("Бутырка")
    (True, False)
    """
    folded = unicodedata.normalize("NFD", key(text))
    bare = "".join(ch for ch in folded if unicodedata.category(ch) != "Mn")
    return _SPACE.sub(" ", unicodedata.normalize("NFC", bare)).strip()
