"""A trip's map: the outline shipped with the package covers mainland South-East Asia and the
Malay peninsula; the corridor is as wide as registered, wherever it is; positions land where
they should on the picture; long tracks are simplified to the picture's precision; labels are
text, never markup."""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point

from onewindow.seals import trackmap

BANGKOK_SINGAPORE = [(100.50, 13.75), (99.18, 10.50), (100.47, 6.66), (101.69, 3.14),
                     (103.77, 1.44)]  # fmt: skip
LABELS = trackmap.Labels("Map <b>", "desc & more", "corridor", "route", "track")
GEOD = Geod(ellps="WGS84")


def test_the_outline_covers_the_region_and_is_small() -> None:
    path = resources.files("onewindow.seals") / "data" / "region.geojson"
    assert len(path.read_bytes()) < 100_000
    names = {name for name, _ in trackmap.region()}
    assert {"Thailand", "Malaysia", "Singapore", "Vietnam", "Laos", "Cambodia", "Myanmar"} <= names
    land = shapely.union_all([geometry for _, geometry in trackmap.region()])
    for lon, lat in [*BANGKOK_SINGAPORE, (105.85, 21.03), (102.60, 17.97), (104.92, 11.56)]:
        x, y = trackmap.TO_MAP.transform(lon, lat)  # Hanoi, Vientiane, Phnom Penh too
        assert land.distance(Point(x, y)) < 5_000, (lon, lat)  # on land, or by its coast
    x, y = trackmap.TO_MAP.transform(102.5, 8.0)  # the Gulf of Thailand
    assert not land.contains(Point(x, y))


def test_the_corridor_is_as_wide_as_registered_in_the_north_and_the_south() -> None:
    """Along a meridian (a geodesic), from 12°N to 4°N: the corridor's edge is at the
    half-width everywhere, where Mercator alone would draw it 1.5 % narrower at 10°N."""
    band = trackmap.corridor([(100.0, 12.0), (100.0, 4.0)], 2_000)
    back = Transformer.from_crs(trackmap.MERCATOR, "EPSG:4326", always_xy=True)
    for lat in (10.0, 8.0, 5.5):
        x, y = trackmap.TO_MAP.transform(100.0, lat)
        (bx, by), _ = shapely.get_coordinates(shapely.shortest_line(band.exterior, Point(x, y)))
        blon, blat = back.transform(bx, by)
        metres = GEOD.inv(100.0, lat, blon, blat)[2]
        assert 1_995 < metres < 2_005, (lat, metres)


def test_positions_land_where_they_belong_and_labels_are_text() -> None:
    alerts = [trackmap.Mark(13.54, 99.81, "1: off <route>", 1), trackmap.Mark(3.14, 101.69, "2", 2)]
    svg = str(trackmap.draw(LABELS, route=BANGKOK_SINGAPORE, half_width_m=2_000,
                            tracks=[[(100.5, 13.75), (99.81, 13.54)]], alerts=alerts))  # fmt: skip
    assert '<title id="map-title">Map &lt;b&gt;</title>' in svg and "desc &amp; more" in svg
    assert 'aria-label="1: off &lt;route&gt;"' in svg and "<route>" not in svg
    marks = [tuple(map(float, m)) for m in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]
    (x1, y1), (x2, y2) = marks
    assert x1 < x2 and y1 < y2  # Ratchaburi is west and north of Kuala Lumpur
    width, height = map(int, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())  # type: ignore[union-attr]
    assert width == trackmap.WIDTH and height == trackmap.MAX_HEIGHT  # a trip going south
    for x, y in marks:
        assert 0 < x < width and 0 < y < height


def test_a_long_track_is_simplified_to_the_pictures_precision() -> None:
    lats = np.linspace(13.75, 10.50, 20_000)
    lons = np.interp(lats, [10.50, 13.75], [99.18, 100.50]) + 0.0001 * np.sin(np.arange(20_000))
    track = list(zip(lons.tolist(), lats.tolist(), strict=True))
    svg = str(trackmap.draw(LABELS, route=BANGKOK_SINGAPORE[:2], half_width_m=2_000,
                            tracks=[track], alerts=[]))  # fmt: skip
    points = re.search(r'<polyline class="track" points="([^"]+)"', svg).group(1).split()  # type: ignore[union-attr]
    assert 2 <= len(points) < 50  # a straight road, jitter of 10 m: a few points, not 20,000
    drawn = LineString([tuple(map(float, p.split(","))) for p in points])
    assert drawn.length > 300  # from Bangkok to Chumphon, hundreds of pixels
