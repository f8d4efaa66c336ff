"""The geometry of the place and fund charts and of the offline maps (service/pages/charts.py,
service/pages/maps.py): numbers only, every text left to the escaping templates."""

from __future__ import annotations

from decimal import Decimal

from starosta.service.pages import charts, maps


def test_ticks_are_round_and_reach_the_top() -> None:
    assert charts.nice_ticks(8) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(0) == [0, 1]
    assert charts.nice_ticks(1) == [0, 1]
    ticks = charts.nice_ticks(137)
    assert ticks[0] == 0 and ticks[-1] >= 137 and len(ticks) <= 7
    assert all(b - a == ticks[1] for a, b in zip(ticks, ticks[1:]))


def test_the_population_chart_draws_certain_and_possible_bars_a_band_and_reported_points() -> None:
    chart = charts.population_chart([
        charts.PeriodFigures("1940", 1, 3, 8, 8, [charts.Reported(8, 8, "exact 8: pilots", "blog")],
                             [("O-1", "pilots")]),
        charts.PeriodFigures("1941", 0, 0),
        charts.PeriodFigures("1942", 2, 2, 0, None)])
    assert chart is not None
    assert [label for label, _ in chart.axis.x_labels] == ["1940", "1941", "1942"]  # years as text
    assert (chart.first, chart.last) == ("1940", "1942")
    assert [b.value for b in chart.certain] == ["1940: 1 surely held", "1942: 2 surely held"]
    assert [b.value for b in chart.possible] == ["1940: up to 3 possibly held"]
    # the possible bar sits on top of the certain one
    assert round(chart.possible[0].y + chart.possible[0].height, 1) == chart.certain[0].y
    base = chart.axis.y_ticks[0][1]
    assert round(chart.certain[0].y + chart.certain[0].height, 1) == base
    # the reported count: a point at 8, the top tick 8
    assert chart.axis.y_ticks[-1][0] == "8" and chart.points[0].y == chart.axis.y_ticks[-1][1]
    assert chart.band is not None and chart.band.open_top  # 1942: a group without a count
    assert chart.band.floor  # 1942's least (0) differs from its most (open)


def test_no_periods_no_chart_and_no_groups_no_band() -> None:
    assert charts.population_chart([]) is None
    chart = charts.population_chart([charts.PeriodFigures("1951", 1, 1)])
    assert chart is not None and chart.band is None and chart.points == []


def test_the_money_chart_has_a_bar_for_money_in_and_out_per_year() -> None:
    chart = charts.money_chart("USD", [charts.MoneyYear("1926", Decimal("10.50"), Decimal(0)),
                                       charts.MoneyYear("1927", Decimal("35.50"), Decimal("20.00"))])
    assert chart is not None
    assert [b.value for b in chart.received] == ["1926: 10.50 USD in", "1927: 35.50 USD in"]
    assert [b.value for b in chart.disbursed] == ["1927: 20.00 USD out"]
    assert chart.received[1].height > chart.disbursed[0].height > 0
    assert [t for t, _ in chart.axis.x_labels] == ["1926", "1927"]
    assert charts.money_chart("USD", []) is None


def test_the_atlas_decodes_into_rings_of_real_coordinates() -> None:
    rings = maps.rings()
    assert len(rings) > 200
    for (west, east, south, north), ring in rings:
        assert -540 <= west <= east <= 540 and -90.01 <= south <= north <= 90.01
        assert all(abs(b[0] - a[0]) < 180 for a, b in zip(ring, ring[1:]))  # no jump across
        assert ring[0] == ring[-1] or len(ring) > 2


def test_a_locator_puts_its_place_inside_the_map_with_land_around_it() -> None:
    m = maps.locator("Butyrka", 55.78, 37.59)
    marker = m.markers[0]
    assert 0 < marker.x < m.width and 0 < marker.y < m.height
    assert marker.x == m.width / 2  # centred
    assert m.land.count("M") > 3  # countries drawn around it
    west, east, south, north = m.region
    assert west < 37.59 < east and south < 55.78 < north
    # path data is numbers and path commands only: nothing to escape
    assert set(m.land) <= set("0123456789.-MLZ ")


def test_a_map_across_the_antimeridian_draws_no_line_across_it() -> None:
    m = maps.locator("Kolyma", 65.0, 175.0)  # Chukotka: Russia's ring crosses 180 degrees
    for piece in m.land.split("M")[1:]:
        xs = [float(pair.split()[0]) for pair in piece.rstrip("Z").split("L")]
        assert all(abs(b - a) < m.width * 0.9 for a, b in zip(xs, xs[1:]))


def test_clipping_keeps_a_ring_inside_the_frame() -> None:
    square = [(-10.0, -10.0), (10.0, -10.0), (10.0, 10.0), (-10.0, 10.0), (-10.0, -10.0)]
    clipped = maps.clip(square, -5, 5, -5, 5)
    assert clipped and all(-5 <= x <= 5 and -5 <= y <= 5 for x, y in clipped)
    assert maps.clip(square, 20, 30, 20, 30) == []


def test_an_itinerary_numbers_its_stops_and_keeps_a_place_seen_twice_once() -> None:
    stops = [maps.Stop("Leningrad", 59.94, 30.31, "1938"), maps.Stop("Kirovabad", 40.68, 46.36),
             maps.Stop("Moscow", 55.76, 37.62, "1940"), maps.Stop("Leningrad", 59.94, 30.31)]
    m = maps.itinerary(stops)
    assert m is not None
    assert [(k.label, k.number, k.numbers) for k in m.markers] == [
        ("Leningrad", 1, (1, 4)), ("Kirovabad", 2, (2,)), ("Moscow", 3, (3,))]
    near = maps.itinerary([maps.Stop("Butyrka", 55.78, 37.59), maps.Stop("Lubyanka", 55.76, 37.63),
                           maps.Stop("Vorkuta", 67.5, 64.05)])
    assert near is not None  # too near to draw apart at this scale: one marker, both numbers
    assert [(k.label, k.numbers) for k in near.markers] == [("Butyrka; Lubyanka", (1, 2)),
                                                            ("Vorkuta", (3,))]
    assert len(m.route.split()) == 4  # the route passes every stop, in order
    assert all(0 < k.x < m.width and 0 < k.y < m.height for k in m.markers)
    assert maps.itinerary([]) is None


def test_degrees_read_as_a_person_reads_them() -> None:
    assert maps.degrees(55.78, 37.59) == "55.78° N, 37.59° E"
    assert maps.degrees(-33.9, -70.5) == "33.9° S, 70.5° W"


def _templates():
    from jinja2 import Environment, FileSystemLoader

    from starosta.service.pages.render import TEMPLATES

    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)


def test_the_itinerary_partial_escapes_labels_and_lists_its_stops_after_the_map() -> None:
    m = maps.itinerary([maps.Stop("<script>alert(1)</script>", 55.78, 37.59, "1940", "/places/PL-1"),
                        maps.Stop("Vorkuta", 67.5, 64.05, "1940-09", "/places/PL-2")])
    html = _templates().get_template("_itinerary.html").render(itinerary=m)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.index("<svg") < html.index("<table")  # the chart, then the table of its figures
    assert 'role="img"' in html and "<title" in html and "1940" in html
    assert html.count("<tr>") == 3  # the header and two stops
    assert ' style="' not in html


def test_a_person_itinerary_takes_the_timelines_located_places_in_order() -> None:
    class Conn:  # registry.place_coordinates reads places(id, label, data)
        def execute(self, sql, args):
            data = {"PL-1": ("Butyrka", '{"latitude": 55.78, "longitude": 37.59}'),
                    "PL-2": ("Monimo", "{}"),
                    "PL-3": ("Vorkuta", '{"latitude": 67.5, "longitude": 64.05}')}
            return [(a, *data[a]) for a in args if a in data]

    timeline = [
        {"fields": {"place": {"id": "PL-1", "label": "Butyrka"}, "start": "1940-01-25", "end": "1940-09"}},
        {"fields": {"place": {"id": "PL-2", "label": "Monimo"}, "date": "1939"}},  # no coordinates
        {"fields": {"place": {"id": "PL-3", "label": "Vorkuta"}, "start": "1940-09"}},
        {"fields": {"place": {"id": "PL-3", "label": "Vorkuta"}, "date": "1941"}},  # same place again
        {"fields": {"person": {"id": "P-1"}}}]  # no place
    m = maps.person_itinerary(Conn(), timeline)
    assert m is not None
    assert [(s.label, s.when, s.href) for s in m.stops] == [
        ("Butyrka", "1940-01-25 to 1940-09", "/places/PL-1"), ("Vorkuta", "1940-09", "/places/PL-3")]
    assert maps.person_itinerary(Conn(), timeline[1:2]) is None


# -- the source page's plain citation (service/pages/sources.py: formatted) --------------------

def test_a_plain_citation_has_author_title_container_place_and_date() -> None:
    from starosta.service.pages.sources import formatted

    assert formatted({"type": "personal_communication", "title": "On leaving Russia",
                      "author": [{"family": "Steimer", "given": "Mollie"}],
                      "issued": {"date-parts": [[1923, 11]]}, "publisher-place": "Berlin"}) \
        == "Steimer, Mollie. On leaving Russia. Berlin, 1923-11."
    assert formatted({"type": "article-newspaper", "title": "[A letter]", "container-title": "Freedom",
                      "issued": {"date-parts": [[1924, 1]]}}) == "[A letter]. Freedom. 1924-01."


def test_an_authorless_untitled_letter_never_prints_a_title_twice() -> None:
    from starosta.service.pages.sources import formatted

    text = formatted({"type": "letter", "recipient": [{"family": "Sarnoff", "given": "Lily"}]})
    assert text == "letter to Sarnoff, Lily."
    same = formatted({"type": "article", "title": "Freedom", "container-title": "Freedom"})
    assert same.count("Freedom") == 1


def test_the_source_template_escapes_a_script_title_everywhere() -> None:
    from starosta.service.pages.sources import formatted

    csl = {"type": "book", "title": "<script>alert(1)</script>",
           "author": [{"literal": "<img src=x onerror=alert(1)>"}]}
    text = formatted(csl)
    assert "<script>" in text  # plain text: the template escapes it
    html = _templates().get_template("source.html").render(
        source={"label": csl["title"], "source_type": "book", "data": {"csl": csl, "via": ["<b>x</b>"]},
                "claims": [], "ancestors": [], "descendants": [], "id": "S-1"},
        csl=csl, citation=text, lang=None, csl_json='{"title": "<script>alert(1)</script>"}',
        signed_in=False, who=None)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
