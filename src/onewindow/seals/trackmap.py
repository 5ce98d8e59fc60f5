"""A trip's map as server-side SVG: the region's outline (Natural Earth, shipped with the
package in `data/region.geojson`), the approved corridor, the positions its seals reported
and its alerts as numbered marks. Pure: no I/O but reading the package's outline once.

Drawn in Web Mercator (EPSG:3857, pyproj), framed on the trip: its route, positions, stops
and alerts, with a margin. The corridor is the route buffered by its half-width in metres on
an azimuthal equidistant projection centred on the route (as `geometry.py` measures), then
carried to the map's projection, so its width is true wherever the trip goes. No tile
server, no script: the picture is in the page, which a Content-Security-Policy of
`default-src 'self'` allows, and every mark has a text label for screen readers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from importlib import resources
from typing import Any

import numpy as np
import shapely
from markupsafe import Markup
from pyproj import CRS, Transformer
from shapely.geometry import LineString, Polygon, shape

WIDTH = 900  # px: the SVG's own units; the page scales it to its column
MIN_HEIGHT, MAX_HEIGHT = 420, 900
MARGIN = 0.12  # of the framed extent, each side
MIN_SPAN_M = 60_000  # the smallest extent framed: a short trip still shows its country
MERCATOR = CRS.from_epsg(3857)
TO_MAP = Transformer.from_crs(CRS.from_epsg(4326), MERCATOR, always_xy=True)
LAND, BORDER, SEA = "#f3f2f1", "#8a8f92", "#d6e6f2"
CORRIDOR, ROUTE, TRACK = "#b7d7b0", "#00703c", "#1d70b8"
ALERT, STOP, DESTINATION = "#d4351c", "#6f72af", "#0b0c0c"


@dataclass(frozen=True)
class Mark:
    """A point on the map with its label (what a screen reader says and a tooltip shows);
    `number`: the alert's number in the table beside the map."""

    lat: float
    lon: float
    label: str
    number: int = 0


@dataclass(frozen=True)
class Labels:
    """The map's words, in the reader's language (the page passes them)."""

    title: str
    description: str
    corridor: str
    route: str
    track: str


@lru_cache(maxsize=1)
def region() -> tuple[tuple[str, Any], ...]:
    """The outline's countries in the map's projection (metres), read once per process."""
    text = (resources.files("onewindow.seals") / "data" / "region.geojson").read_text()
    return tuple(
        (feature["properties"]["name"], _to_map(shape(feature["geometry"])))
        for feature in json.loads(text)["features"]
    )


def _to_map(geometry: Any) -> Any:
    def carry(xy: np.ndarray) -> np.ndarray:
        xs, ys = TO_MAP.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([xs, ys])

    return shapely.transform(geometry, carry)


def corridor(route: Sequence[tuple[float, float]], half_width_m: float) -> Any:
    """The route (lon, lat) buffered by `half_width_m` metres, in the map's projection."""
    centre = LineString(route).centroid
    local = CRS.from_proj4(
        f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m +no_defs"
    )
    to_local = Transformer.from_crs(CRS.from_epsg(4326), local, always_xy=True)
    to_map = Transformer.from_crs(local, MERCATOR, always_xy=True)
    xs, ys = to_local.transform([p[0] for p in route], [p[1] for p in route])
    buffered = LineString(np.column_stack([xs, ys])).buffer(half_width_m, quad_segs=4)

    def carry(xy: np.ndarray) -> np.ndarray:
        mx, my = to_map.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([mx, my])

    return shapely.transform(buffered, carry)


class Frame:
    """The framed extent (metres) and its scale to the SVG's pixels."""

    def __init__(self, xs: np.ndarray, ys: np.ndarray) -> None:
        x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        span_x = max(x1 - x0, MIN_SPAN_M) * (1 + 2 * MARGIN)
        span_y = max(y1 - y0, MIN_SPAN_M) * (1 + 2 * MARGIN)
        self.height = int(min(MAX_HEIGHT, max(MIN_HEIGHT, WIDTH * span_y / span_x)))
        # one scale both ways (no stretching): the extent grows to the picture's shape
        self.scale = min(WIDTH / span_x, self.height / span_y)
        half_x, half_y = WIDTH / self.scale / 2, self.height / self.scale / 2
        self.box = (cx - half_x, cy - half_y, cx + half_x, cy + half_y)

    def pixels(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        x0, _, _, y1 = self.box
        return np.column_stack([(xs - x0) * self.scale, (y1 - ys) * self.scale])


def _path(frame: Frame, geometry: Any) -> str:
    """An SVG path of polygons' rings or of a line, clipped to the frame, in pixels."""
    clipped = shapely.clip_by_rect(geometry, *frame.box)
    out = []
    for part in shapely.get_parts(clipped):
        rings: Iterable[Any]
        if isinstance(part, Polygon):
            rings, close = [part.exterior, *part.interiors], "Z"
        elif isinstance(part, LineString):
            rings, close = [part], ""
        else:
            continue
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            if len(xy) < 2:
                continue
            px = frame.pixels(xy[:, 0], xy[:, 1])
            line = " ".join(f"{x:.1f} {y:.1f}" for x, y in px)
            out.append(f"M{line}{close}")
    return "".join(out)


def _xy(marks: Sequence[Mark]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = TO_MAP.transform([m.lon for m in marks], [m.lat for m in marks])
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def draw(
    labels: Labels,
    *,
    route: Sequence[tuple[float, float]],
    half_width_m: float,
    tracks: Sequence[Sequence[tuple[float, float]]],
    alerts: Sequence[Mark],
    places: Sequence[Mark] = (),
    destination: Mark | None = None,
) -> Markup:
    """The map of a trip: `route` and each of `tracks` as (lon, lat); `alerts` numbered;
    `places` the authorised stops; `destination` its office."""
    band = corridor(route, half_width_m)
    line = _to_map(LineString(route))
    every = [shapely.get_coordinates(band)]
    points = [*alerts, *places, *([destination] if destination else [])]
    if points:
        every.append(np.column_stack(_xy(points)))
    drawn_tracks = []
    for track in tracks:  # framed, and drawn if it is a line (a seal heard once is a dot)
        if track:
            xs, ys = TO_MAP.transform([p[0] for p in track], [p[1] for p in track])
            found = np.column_stack([xs, ys])
            every.append(found)
            if len(found) > 1:
                drawn_tracks.append(found)
    stacked = np.vstack(every)
    frame = Frame(stacked[:, 0], stacked[:, 1])
    body = [f'<rect width="{WIDTH}" height="{frame.height}" fill="{SEA}"/>']
    land = "".join(_path(frame, geometry) for _, geometry in region())
    body.append(f'<path d="{land}" fill="{LAND}" stroke="{BORDER}" stroke-width="0.8"/>')
    body.append(
        f'<path d="{_path(frame, band)}" fill="{CORRIDOR}" fill-opacity="0.8">'
        f"<title>{escape(labels.corridor)}</title></path>"
        f'<path d="{_path(frame, line)}" fill="none" stroke="{ROUTE}" stroke-width="1.5" '
        f'stroke-dasharray="6 4"><title>{escape(labels.route)}</title></path>'
    )
    for found in drawn_tracks:
        # a pixel's precision is all the picture keeps: long tracks are simplified to it
        pixels = frame.pixels(found[:, 0], found[:, 1])
        if len(pixels) > 2:
            pixels = shapely.get_coordinates(LineString(pixels).simplify(0.5))
        text = " ".join(f"{x:.1f},{y:.1f}" for x, y in pixels)
        body.append(
            f'<polyline class="track" points="{text}" fill="none" stroke="{TRACK}" '
            f'stroke-width="3" stroke-linejoin="round"><title>{escape(labels.track)}</title>'
            "</polyline>"
        )
    for mark in places:
        body.append(_mark(frame, mark, "place", STOP, 5))
    if destination is not None:
        body.append(_mark(frame, destination, "destination", DESTINATION, 6, square=True))
    for mark in alerts:
        body.append(_mark(frame, mark, "alert", ALERT, 9))
    return Markup(
        f'<svg class="map" role="img" aria-labelledby="map-title map-desc" '
        f'viewBox="0 0 {WIDTH} {frame.height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="map-title">{escape(labels.title)}'
        f'</title><desc id="map-desc">{escape(labels.description)}</desc>{"".join(body)}</svg>'
    )


def _mark(frame: Frame, mark: Mark, kind: str, colour: str, size: int, square: bool = False) -> str:
    ((x, y),) = frame.pixels(*_xy([mark]))
    label = escape(mark.label)
    if square:
        shape_ = (
            f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size}" height="{2 * size}"'
        )
    else:
        shape_ = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size}"'
    text = (
        f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="12" '
        f'font-weight="700" fill="#fff" aria-hidden="true">{mark.number}</text>'
        if mark.number
        else ""
    )
    return (
        f'<g class="{kind}" role="img" aria-label="{label}"><title>{label}</title>'
        f'{shape_} fill="{colour}" stroke="#fff" stroke-width="2"/>{text}</g>'
    )
