"""service/pages/cite.py: CSL strings escaped before citeproc-py formats them (it copies its
input into its HTML unescaped), and an authorless record's title printed once."""

from __future__ import annotations

import pytest

from starosta.service.pages.cite import STYLES, cited, escaped, formatted, page_item, substituted

SCRIPT = "<script>alert('x')</script>"


def test_escaped_escapes_every_string_and_keeps_the_shape() -> None:
    item = {"title": "<i>a & b</i>", "author": [{"family": "O'Brien <b>"}],
            "issued": {"date-parts": [[1923, 5]]}}
    out = escaped(item)
    assert out["title"] == "&lt;i&gt;a &amp; b&lt;/i&gt;"
    assert out["author"][0]["family"] == "O&#39;Brien &lt;b&gt;"
    assert out["issued"] == {"date-parts": [[1923, 5]]}


@pytest.mark.parametrize("style", list(STYLES))
def test_a_script_title_is_text_in_every_style(style: str) -> None:
    entries = formatted([{"type": "book", "title": SCRIPT, "author": [{"literal": "A & B"}],
                          "issued": {"date-parts": [[1959]]}}], style)
    assert "<script" not in entries[0] and "&lt;script&gt;" in entries[0]
    assert "A &amp; B" in entries[0]
    assert "<script" not in cited([{"type": "book", "title": SCRIPT}], style)[0]


@pytest.mark.parametrize("style", list(STYLES))
def test_an_authorless_letter_prints_its_title_once(style: str) -> None:
    title = "Letter to the Red Cross"
    entry = formatted([{"type": "personal_communication", "title": title,
                        "issued": {"date-parts": [[1923]]}}], style)[0]
    assert entry.count(title) == 1 and "1923" in entry
    untitled = formatted([{"type": "personal_communication", "genre": "Letter",
                           "issued": {"date-parts": [[1923]]}}], style)[0]
    assert untitled.count("Letter") == 1


def test_unpatched_citeproc_would_print_it_twice() -> None:
    """The reason for `substituted`: without it the styles substitute the title for the missing
    author and print it again as the title."""
    item = {"type": "book", "title": "Untitled notes", "issued": {"date-parts": [[1923]]}}
    assert substituted(item) == {"type": "book", "issued": {"date-parts": [[1923]]},
                                 "author": [{"literal": "Untitled notes"}]}
    with_author = dict(item, author=[{"family": "Steimer"}])
    assert substituted(with_author) is with_author


def test_formatted_keeps_the_order_given() -> None:
    items = [{"type": "book", "title": "Zeta", "author": [{"family": "Zed"}]},
             {"type": "book", "title": "Alpha", "author": [{"family": "Aa"}]}]
    entries = formatted(items, "chicago-author-date")
    assert "Zeta" in entries[0] and "Alpha" in entries[1]
    assert formatted([], "apa") == []


def test_the_page_item_cites_the_permanent_url_and_the_version() -> None:
    item = page_item(title="X: biography", url="https://a.example/persons/P-1?as_of=42",
                     position=42, chain_hash="ab" * 32, recorded_at="2026-03-01T10:00:00Z")
    assert item["issued"] == {"date-parts": [[2026, 3, 1]]}
    assert "ab" * 32 in item["note"] and "42" in item["note"]
    for style in ("chicago-author-date", "apa"):
        entry = formatted([item], style)[0]
        assert "as_of=42" in entry and "2026" in entry and entry.count("X: biography") <= 1
