"""One normal form for personal and place names, and safe FTS5 queries over it.

Search must find "Спиридонова", "Spiridonova" and "spiridónova" alike. Names (when they are
indexed) and queries (when they are asked) go through the same function, :func:`normalise`:

1. Unicode NFKC (ligatures, full-width and compatibility forms fold: "ﬁ" -> "fi");
2. transliteration to ASCII with ONE scheme, `anyascii <https://github.com/anyascii/anyascii>`_
   (ISC licence, pure Python, deterministic tables, covers every script): "Спиридонова" ->
   "Spiridonova", "Monclús" -> "Monclus", "Ramón Sanz Almudévar" -> "Ramon Sanz Almudevar";
3. casefold;
4. apostrophes are deleted *inside* words (anyascii writes the Cyrillic soft and hard signs
   ь/ъ as "'": "Ольга" -> "Ol'ga" -> "olga", "Ильич" -> "ilich");
5. every other run of non-letters/non-digits (punctuation, dashes, brackets, symbols) becomes
   one space, and surrounding whitespace is stripped: "S.– K.– (North of Siberia)" ->
   "s k north of siberia".

The result holds only ``[a-z0-9]`` words separated by single spaces, so SQLite FTS5's
``unicode61`` or ``ascii`` tokenizer splits it into exactly :func:`tokens`. A query word matches
an indexed word when it is a prefix of it (:func:`fts_query`).

Limits of the scheme (documented on purpose; they are not bugs to patch by hand):

* anyascii's Russian is close to BGN/PCGN, the English-language style, but it is not any
  historian's spelling. Where a source writes a name differently, that spelling is a separate
  *name variant* of the person, entered as the source writes it, and found by its own spelling:

  - "Марцинкевич" -> "martsinkevich"; the seed text writes "Martsinkevitch". A search for
    "martsinkevitch" finds the variant entered with that spelling, not the Cyrillic name (and
    "martsinkevich" finds the Cyrillic name, not the "-vitch" variant). The common prefix
    "martsinkevi" finds both.
  - й and the adjectival ending -ий become "y"/"iy": "Кличевский" -> "klichevskiy",
    "Троцкий" -> "trotskiy", "Майский" -> "mayskiy", where English texts write "Klichevsky",
    "Trotsky", "Maisky". The query "klichevsky" does not find "Кличевский"; "klichevsk" does.
  - ё becomes "e": "Фёдор" -> "fedor" (English texts also write "Fyodor"), "Хрущёв" ->
    "khrushchev" (as historians write it).
  - ь and ъ vanish: "Ольга" -> "olga", "Объединение" -> "obedinenie".
  - х is "kh", ц "ts", ч "ch", ш "sh", щ "shch", ж "zh", ю "yu", я "ya": French, German and
    Polish renderings ("Martsinkevitch", "Chruschtschow", "Jakow") and the Library of Congress
    or scholarly forms ("Iakov", "Mart͡sinkevich", "Žukov") are different words. Scholarly
    Latin diacritics do fold ("Žukov" -> "zukov", not "zhukov"). After и, я is "ya" too:
    "Мария" -> "mariya", where English texts write "Maria" (the prefix "mari" finds both).
  - Ukrainian and Belarusian Cyrillic are read with the same tables ("Київ" -> "kiiv").
  - A Western name written in Cyrillic does not come back to its original spelling:
    "Монклус" -> "monklus", which does not find "Monclús" ("monclus"); "Штейнер" ->
    "shteyner", not "steiner". Again: the Cyrillic spelling is its own name variant.
* Other scripts degrade gracefully but crudely: Greek is transliterated ("Σωκράτης" ->
  "sokratis"), Hebrew and Arabic lose their unwritten vowels ("שלום" -> "slvm"), Chinese
  characters become pinyin without tones run together ("東京" -> "dongjing"). Emoji become
  their short names ("😀" -> "grinning").
* Apostrophes join: "d'Alembert" -> "dalembert" (a search for "alembert" does not find it),
  because splitting would break every name with a soft sign ("Ol'ga").
* Hyphens and other punctuation split: "Sanz-Almudévar" -> "sanz almudevar".
* The normal form depends on the anyascii version (:data:`SCHEME`). An index of normal forms is
  a projection: rebuild it when ``SCHEME`` changes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from importlib.metadata import PackageNotFoundError, version

from anyascii import anyascii

try:
    _ANYASCII_VERSION = version("anyascii")
except PackageNotFoundError:  # pragma: no cover - vendored or unusual install
    _ANYASCII_VERSION = "unknown"

#: Names the transliteration scheme and its version. Store it beside an index of normal forms
#: and rebuild the index when it changes.
SCHEME = f"anyascii-{_ANYASCII_VERSION}"

#: At most this many words of a query are used (the first ones, after normalisation and
#: removal of repeats); the rest are ignored.
MAX_QUERY_TOKENS = 8
#: A query word longer than this is cut to its first MAX_TOKEN_CHARS characters; as a prefix it
#: still matches what the whole word matched (and possibly more).
MAX_TOKEN_CHARS = 32
#: Only the first MAX_QUERY_CHARS characters of a raw query are read.
MAX_QUERY_CHARS = 256

_APOSTROPHE = re.compile(r"(?<=[a-z0-9])'+(?=[a-z0-9])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """The one normal form of a name or query: Latin ASCII, casefolded, words of ``[a-z0-9]``.

    >>> normalise("Спиридонова")
    'spiridonova'
    >>> normalise("spiridónova")
    'spiridonova'
    >>> normalise("S.– K.– (North of Siberia)")
    's k north of siberia'
    >>> normalise("Марцинкевич")
    'martsinkevich'
    """
    folded = anyascii(unicodedata.normalize("NFKC", text)).casefold()
    folded = _APOSTROPHE.sub("", folded)
    return _NON_WORD.sub(" ", folded).strip()


def tokens(text: str) -> list[str]:
    """The words of ``normalise(text)``, in order (repeats kept).

    >>> tokens("Vicente Monclús Guallar")
    ['vicente', 'monclus', 'guallar']
    """
    return normalise(text).split()


def query_words(q: str) -> list[str]:
    """The words a query searches for: the first :data:`MAX_QUERY_TOKENS` distinct words of
    ``normalise(q[:MAX_QUERY_CHARS])``, each cut to :data:`MAX_TOKEN_CHARS` (only ``[a-z0-9]``).

    >>> query_words("Monclús Guall monclus")
    ['monclus', 'guall']
    """
    words: list[str] = []
    for word in tokens(q[:MAX_QUERY_CHARS]):
        word = word[:MAX_TOKEN_CHARS]
        if word not in words:
            words.append(word)
        if len(words) == MAX_QUERY_TOKENS:
            break
    return words


def tsquery(q: str, *, prefix: bool = True) -> str | None:
    """The PostgreSQL `to_tsquery('simple', ...)` text of :func:`fts_query`: every query word
    (as a prefix with ``prefix``) joined with ``&``; ``None`` without a searchable word. The
    words hold only ``[a-z0-9]``, so no tsquery operator can come from the input.

    >>> tsquery("Monclús Guall")
    'monclus:* & guall:*'
    >>> tsquery("Monclús Guall", prefix=False)
    'monclus & guall'
    """
    words = query_words(q)
    if not words:
        return None
    return " & ".join(w + (":*" if prefix else "") for w in words)


def fts_query(q: str, *, prefix: bool = True) -> str | None:
    """A safe SQLite FTS5 MATCH expression finding names that contain every query word as a
    word prefix; ``None`` when the query has no searchable word.

    >>> fts_query("Monclús Guall")
    '"monclus"* AND "guall"*'
    >>> fts_query('" OR NEAR(a b) *:')
    '"or"* AND "near"* AND "a"* AND "b"*'
    >>> fts_query("– ( ) ...") is None
    True

    Every word is a double-quoted FTS5 string followed by ``*`` (prefix query), joined with
    ``AND``. The words come from :func:`normalise`, so they hold only ``[a-z0-9]``: quotes,
    ``AND``/``OR``/``NOT``/``NEAR``, parentheses, colons, ``^``, ``+`` and asterisks in the input
    are either removed as punctuation or become ordinary quoted words ("or" searches for names
    starting with "or"). The column searched must hold :func:`normalise` output and use the
    ``unicode61`` or ``ascii`` tokenizer (no stemming).

    Limits: only the first :data:`MAX_QUERY_CHARS` (256) characters of ``q`` are read; repeated
    words count once; at most :data:`MAX_QUERY_TOKENS` (8) words are used, the first ones; each is
    cut to :data:`MAX_TOKEN_CHARS` (32) characters. Every word is a prefix, so "baron" also finds
    "baronova"; there is no exact-word, phrase or OR search. The limits of the transliteration
    scheme (module docstring) apply: "klichevsky" does not find "Кличевский".
    """
    words = query_words(q)
    if not words:
        return None
    star = "*" if prefix else ""  # without: every word must be a whole word of the name
    return " AND ".join('"' + w.replace('"', '""') + '"' + star for w in words)


# Leading words of Unicode character names -> ISO 15924 codes.
_SCRIPTS: dict[str, str] = {
    "LATIN": "Latn",
    "CYRILLIC": "Cyrl",
    "GREEK": "Grek",
    "HEBREW": "Hebr",
    "ARABIC": "Arab",
    "ARMENIAN": "Armn",
    "GEORGIAN": "Geor",
    "DEVANAGARI": "Deva",
    "CJK": "Hani",
    "HIRAGANA": "Hira",
    "KATAKANA": "Kana",
    "HANGUL": "Hang",
    "THAI": "Thai",
}


def script_of(text: str) -> str:
    """Best-effort ISO 15924 code of the script most of the letters of ``text`` are in.

    Returns 'Latn', 'Cyrl', 'Grek', 'Hebr', 'Arab' (and 'Armn', 'Geor', 'Deva', 'Hani', 'Hira',
    'Kana', 'Hang', 'Thai'); 'Zzzz' when most letters are in another script; 'Zyyy' when
    ``text`` has no letters. Letters are characters of Unicode category L* after NFKC, except
    modifier letters (ʹ, ʼ: script-neutral); the script is read from each letter's Unicode name
    ("CYRILLIC SMALL LETTER A"). On a tie the script met first wins.

    >>> script_of("Мария Спиридонова")
    'Cyrl'
    >>> script_of("S.– K.– (North of Siberia)")
    'Latn'
    >>> script_of("1923–1931")
    'Zyyy'
    """
    counts: Counter[str] = Counter()
    for ch in unicodedata.normalize("NFKC", text):
        if not unicodedata.category(ch).startswith("L"):
            continue
        name = unicodedata.name(ch, "")
        if name.startswith("MODIFIER LETTER"):
            continue
        counts[_SCRIPTS.get(name.split(" ", 1)[0].split("-", 1)[0], "Zzzz")] += 1
    if not counts:
        return "Zyyy"
    return counts.most_common(1)[0][0]
