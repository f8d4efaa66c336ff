"""Maps drawn offline: a locator for a place and an itinerary of a person's places, as SVG over
the outline of the world's countries vendored in the repository (npm `world-atlas` 2.0.2,
countries-110m.json: Natural Earth data, public domain; static/world-atlas.LICENSE.txt).

The TopoJSON is decoded here (quantized, delta-encoded arcs; rings of arc indices, a negative
index ~i being arc i reversed) once per process into rings of (longitude, latitude). A map is
an equirectangular projection, its x scaled by the cosine of the middle latitude, cropped to
the region its points span (at least MIN_SPAN degrees, padded): only rings meeting that region
are drawn, each as path data of numbers only. Every text (a place's label) is left to the
template, which Jinja escapes; nothing here makes markup.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from starosta.events.store import Connection
from starosta.projections import registry
from starosta.service.pages.render import STATIC

__all__ = [
    "ATLAS",
    "Map",
    "Marker",
    "Stop",
    "itinerary",
    "locator",
    "person_itinerary",
    "project",
    "rings",
]

ATLAS = STATIC / "world-atlas-countries-110m.json"
WIDTH = 600.0  # the SVG's width in its own units (it scales to the page: CSS width 100%)
MIN_SPAN = 12.0  # degrees of longitude an itinerary shows at least (half as many of latitude)
LOCATOR_SPAN = 36.0  # degrees of longitude a locator shows: enough coast and borders to place it
PAD = 0.25  # the margin around the points, as a share of their span
MIN_RATIO, MAX_RATIO = 0.45, 0.75
NEAR = 14.0  # SVG units: stops nearer than this on the map share one marker  # the map's height as a share of its width

Ring = list[tuple[float, float]]


@lru_cache(maxsize=1)
def rings() -> tuple[tuple[tuple[float, float, float, float], tuple[tuple[float, float], ...]], ...]:
    """Every ring (outer and holes) of every country, as its bounds (west, east, south, north)
    and its (lon, lat) points: decoded once per process."""
    topo = json.loads(ATLAS.read_text("utf-8"))
    out = []
    for r in decode(topo, "countries"):
        for piece in unwrapped(r):
            out.append(((min(p[0] for p in piece), max(p[0] for p in piece),
                         min(p[1] for p in piece), max(p[1] for p in piece)), tuple(piece)))
    return tuple(out)


def unwrapped(ring: Ring) -> list[Ring]:
    """A ring that crosses the antimeridian (Russia's, Fiji's) made continuous (a jump of more
    than 180 degrees of longitude is a crossing: the points after it are shifted by 360), and,
    when it then reaches past +-180, a copy shifted back by 360: each is drawn where a map
    shows it, never as a line across the whole map."""
    if not ring:
        return []
    out: Ring = [ring[0]]
    shift = 0.0
    for (lon0, _), (lon, lat) in zip(ring, ring[1:]):
        if lon - lon0 > 180:
            shift -= 360
        elif lon0 - lon > 180:
            shift += 360
        out.append((lon + shift, lat))
    pieces = [out]
    if max(p[0] for p in out) > 180:
        pieces.append([(lon - 360, lat) for lon, lat in out])
    if min(p[0] for p in out) < -180:
        pieces.append([(lon + 360, lat) for lon, lat in out])
    return pieces


def decode(topo: dict, name: str) -> list[Ring]:
    """Return the rings of the TopoJSON object `name` (Polygon and MultiPolygon geometries)."""
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs: list[Ring] = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indices: list[int]) -> Ring:
        out: Ring = []
        for i in indices:
            points = arcs[i] if i >= 0 else arcs[~i][::-1]
            out.extend(points if not out else points[1:])  # arcs share their end points
        return out

    found: list[Ring] = []
    for geometry in topo["objects"][name]["geometries"]:
        polygons = (geometry["arcs"] if geometry["type"] == "MultiPolygon"
                    else [geometry["arcs"]] if geometry["type"] == "Polygon" else [])
        for polygon in polygons:
            found.extend(ring(r) for r in polygon)
    return found


@dataclass(frozen=True)
class Frame:
    """The region a map shows (degrees) and its projection onto WIDTH x height."""

    west: float
    east: float
    south: float
    north: float
    height: float
    kx: float  # SVG units per degree of longitude
    ky: float  # SVG units per degree of latitude


def frame(points: list[tuple[float, float]], min_span: float = MIN_SPAN) -> Frame:
    """The region around `points` (lon, lat): their span padded, at least `min_span` degrees,
    its height between MIN_RATIO and MAX_RATIO of its width (widened or heightened to fit)."""
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    mid_lat = (south + north) / 2
    cos = max(0.2, math.cos(math.radians(mid_lat)))
    span_x = max((east - west) * (1 + 2 * PAD), min_span)
    span_y = max((north - south) * (1 + 2 * PAD), min_span / 2)
    # the ratio of the projected height to width
    ratio = span_y / (span_x * cos)
    if ratio < MIN_RATIO:
        span_y = MIN_RATIO * span_x * cos
    elif ratio > MAX_RATIO:
        span_x = span_y / (MAX_RATIO * cos)
    cx, cy = (west + east) / 2, (south + north) / 2
    west, east = cx - span_x / 2, cx + span_x / 2
    south, north = max(-89.0, cy - span_y / 2), min(89.0, cy + span_y / 2)
    kx = WIDTH / (east - west)
    ky = kx / cos
    return Frame(west, east, south, north, round((north - south) * ky, 1), kx, ky)


def project(f: Frame, lon: float, lat: float) -> tuple[float, float]:
    """A point's SVG coordinates in frame `f` (north up)."""
    return round((lon - f.west) * f.kx, 1), round((f.north - lat) * f.ky, 1)


def outline(f: Frame) -> str:
    """The SVG path data of every country ring that meets the frame (numbers only)."""
    parts = []
    for (west, east, south, north), r in rings():
        if west > f.east or east < f.west or south > f.north or north < f.south:
            continue  # the ring's bounds miss the frame
        points = []
        last = None
        for lon, lat in clip(r, f.west - 2, f.east + 2, f.south - 2, f.north + 2):
            p = project(f, lon, lat)
            if p != last:
                points.append(p)
                last = p
        if len(points) > 2:
            parts.append("M" + "L".join(f"{x:g} {y:g}" for x, y in points) + "Z")
    return "".join(parts)


def clip(ring, west: float, east: float, south: float, north: float) -> list[tuple[float, float]]:
    """The part of a closed ring inside a rectangle (Sutherland-Hodgman, edge by edge): a
    country far larger than the map is drawn as the piece the map shows."""
    points = list(ring)
    for inside, cut in (
            (lambda p: p[0] >= west, lambda a, b: _at_x(a, b, west)),
            (lambda p: p[0] <= east, lambda a, b: _at_x(a, b, east)),
            (lambda p: p[1] >= south, lambda a, b: _at_y(a, b, south)),
            (lambda p: p[1] <= north, lambda a, b: _at_y(a, b, north))):
        if not points:
            break
        out = []
        previous = points[-1]
        for p in points:
            if inside(p):
                if not inside(previous):
                    out.append(cut(previous, p))
                out.append(p)
            elif inside(previous):
                out.append(cut(previous, p))
            previous = p
        points = out
    return points


def _at_x(a, b, x: float) -> tuple[float, float]:
    t = (x - a[0]) / (b[0] - a[0])
    return x, a[1] + t * (b[1] - a[1])


def _at_y(a, b, y: float) -> tuple[float, float]:
    t = (y - a[1]) / (b[1] - a[1])
    return a[0] + t * (b[0] - a[0]), y


@dataclass(frozen=True)
class Marker:
    """A point on a map: its label (text: escaped by the template), its coordinates and where
    it falls on the SVG."""

    label: str
    lat: float
    lon: float
    x: float
    y: float
    number: int | None = None  # an itinerary's stop number (the first, when several share it)
    href: str | None = None
    numbers: tuple[int, ...] = ()  # every stop drawn at this marker (places too near to part)


@dataclass(frozen=True)
class Stop:
    """A stop of an itinerary: a place with coordinates, when (as written) and its link."""

    label: str
    lat: float
    lon: float
    when: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class Map:
    """What a map template draws: the viewBox, the countries' outline, the markers, the route
    (an itinerary's polyline points) and the region shown (for the caption)."""

    width: float
    height: float
    land: str
    markers: list[Marker]
    route: str = ""
    stops: list[Stop] = field(default_factory=list)
    region: tuple[float, float, float, float] = (0, 0, 0, 0)  # west, east, south, north

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:g} {self.height:g}"


def locator(label: str, lat: float, lon: float) -> Map:
    """A locator map of one place: the region around it and its marker."""
    f = frame([(lon, lat)], LOCATOR_SPAN)
    x, y = project(f, lon, lat)
    return Map(WIDTH, f.height, outline(f), [Marker(label, lat, lon, x, y)],
               region=(f.west, f.east, f.south, f.north))


def itinerary(stops: list[Stop]) -> Map | None:
    """A map of a person's stops in their order: numbered markers (a place visited again, or
    one too near another to tell apart on the map, shares the marker of the first, with every
    number in its title) joined by a route. None without a stop."""
    if not stops:
        return None
    f = frame([(s.lon, s.lat) for s in stops])
    markers: list[Marker] = []
    route = []
    for n, s in enumerate(stops, 1):
        x, y = project(f, s.lon, s.lat)
        route.append(f"{x:g},{y:g}")
        near = next((i for i, m in enumerate(markers)
                     if abs(m.x - x) < NEAR and abs(m.y - y) < NEAR), None)
        if near is None:
            markers.append(Marker(s.label, s.lat, s.lon, x, y, n, s.href, (n,)))
        elif n not in markers[near].numbers:  # one marker for the stops that would overlap
            m = markers[near]
            label = m.label if s.label in m.label.split("; ") else f"{m.label}; {s.label}"
            markers[near] = Marker(label, m.lat, m.lon, m.x, m.y, m.number, m.href,
                                   (*m.numbers, n))
    return Map(WIDTH, f.height, outline(f), markers, " ".join(route), stops,
               region=(f.west, f.east, f.south, f.north))


def degrees(lat: float, lon: float) -> str:
    """Coordinates as a person reads them: 55.78° N, 37.59° E."""
    return f"{abs(lat):g}° {'N' if lat >= 0 else 'S'}, {abs(lon):g}° {'E' if lon >= 0 else 'W'}"


def _when(entry: dict[str, Any]) -> str | None:
    """When a timeline entry happened, as its claim writes it: its date, or its start (and
    end), EDTF as written."""
    fields = entry.get("fields") or {}
    if fields.get("date"):
        return str(fields["date"])
    start, end = fields.get("start"), fields.get("end")
    if start and end:
        return str(start) if start == end else f"{start} to {end}"
    return str(start) if start else (f"until {end}" if end else None)


def person_itinerary(conn: Connection, timeline: list[dict[str, Any]]) -> Map | None:
    """The itinerary map of a person's biography: its `timeline` entries (as the stored
    document gives them, in its order) that name a place with coordinates, one stop each (two
    entries in a row at one place: one stop); None when no place has coordinates. The person's
    page includes `_itinerary.html` with this as `itinerary`."""
    refs = [(e, (e.get("fields") or {}).get("place")) for e in timeline]
    ids = [r["id"] for _, r in refs if isinstance(r, dict) and r.get("id")]
    located = registry.place_coordinates(conn, ids)
    stops: list[Stop] = []
    for entry, ref in refs:
        if not isinstance(ref, dict) or ref.get("id") not in located:
            continue
        _, lat, lon = located[ref["id"]]
        if stops and stops[-1].href == f"/places/{ref['id']}":
            continue
        stops.append(Stop(ref.get("label") or located[ref["id"]][0], lat, lon, _when(entry),
                          f"/places/{ref['id']}"))
    return itinerary(stops)
