"""service/pages/timeline.py: the timeline chart's geometry (solid days surely covered, faded
uncertain bounds, arrows for open ends, durations without dates marked, years on the axis)."""

from __future__ import annotations

from starosta.service.pages.timeline import chart


def d(edtf: str, earliest: str | None, latest: str | None, **flags) -> dict:
    return {"edtf": edtf, "earliest": earliest, "latest": latest, "uncertain": False,
            "approximate": False, "calendar": "gregorian", **flags}


def custody(claim: str, place: str, start=None, end=None, length=None, kind="prison") -> dict:
    dates = {k: v for k, v in (("start", start), ("end", end)) if v}
    earliest = start["earliest"] if start else None
    latest = end["latest"] if end else None
    entry = {"claim": claim, "kind": "custody", "status": "approved", "earliest": earliest,
             "latest": latest, "dates": dates,
             "fields": {"custody": kind, "place": {"id": "PL-1", "label": place},
                        **({"start": start["edtf"]} if start else {}),
                        **({"end": end["edtf"]} if end else {})}}
    if length:
        entry["length"] = length
    return entry


def test_certain_days_are_solid_and_uncertain_bounds_faded() -> None:
    c = chart({"timeline": [custody("C-1", "Butyrka", d("1940-01-25", "1940-01-25", "1940-01-25"),
                                    d("1940-09", "1940-09-01", "1940-09-30"))]})
    assert c is not None and (c.first, c.last) == (1940, 1940)
    row = c.rows[0]
    assert row.label == "prison: Butyrka" and row.series == "prison"
    assert row.solid is not None and row.solid.width > 0
    assert len(row.faded) == 1  # the end's month: faded from its first to its last day
    faded = row.faded[0]
    assert abs(faded.x - (row.solid.x + row.solid.width)) < 1.0  # right after the sure days
    assert row.arrow_right is None and row.arrow_left is None and not row.undated


def test_an_open_end_is_an_arrow_and_the_axis_carries_the_years() -> None:
    c = chart({"timeline": [
        custody("C-1", "Vorkuta", d("1940-09", "1940-09-01", "1940-09-30"), kind="camp"),
        custody("C-2", "Lefortovo", d("1955-04", "1955-04-01", "1955-04-30"),
                d("1956-01-06", "1956-01-06", "1956-01-06"))]})
    vorkuta, lefortovo = c.rows
    assert vorkuta.arrow_right is not None and vorkuta.series == "camp"
    assert lefortovo.arrow_right is None
    years = [t.year for t in c.ticks]
    assert years[0] == 1940 and 1956 in years and len(years) <= 13
    assert all(b.x > a.x for a, b in zip(c.ticks, c.ticks[1:]))
    assert c.years == "1940–1956"


def test_a_start_written_open_is_an_arrow() -> None:
    c = chart({"timeline": [custody("C-1", "France", d("1956-01-06/..", "1956-01-06", None))]})
    assert c.rows[0].arrow_right is not None


def test_a_duration_without_dates_is_marked_undated() -> None:
    c = chart({"timeline": [
        custody("C-1", "Butyrka", d("1951-01-02", "1951-01-02", "1951-01-02"),
                d("1951-12-31", "1951-12-31", "1951-12-31")),
        custody("C-2", "a 'secret location'", kind="other",
                length={"duration": "P5Y", "min_days": 1825, "max_days": 1827, "narrowed": []})]})
    dated, undated = c.rows
    assert undated.undated and undated.duration == "P5Y" and not dated.undated
    assert undated.solid.width > 4 * dated.solid.width  # five years against one
    assert undated.label == "custody: a 'secret location'"


def test_no_episode_no_chart() -> None:
    assert chart({"timeline": [{"claim": "C-1", "kind": "arrest", "dates": {}, "fields": {}}]}) is None


def test_an_unknown_start_is_an_arrow_before_the_first_day_known() -> None:
    c = chart({"timeline": [custody("C-1", "Lubyanka", None,
                                    d("1950-04-26~", "1950-04-26", "1950-04-26"))]})
    row = c.rows[0]
    assert row.arrow_left is not None and row.arrow_right is None
    assert row.solid is not None and abs(row.arrow_left - row.solid.x) < 1.0
