"""Derive the e-seal maps' outline of the region from Natural Earth's countries.

The maps of trips under seal (the seals domain's trip page) are drawn over a vector outline
of South-East Asia shipped with the package: no tile server, nothing fetched when a page is
drawn. This script makes that outline, once, from the npm package `world-atlas` (Natural
Earth 1:50m admin-0 countries as TopoJSON; Natural Earth is in the public domain):

    npm pack world-atlas@2.0.2            # in a scratch folder; then tar xzf world-atlas-2.0.2.tgz
    python tools/region_outline.py package/countries-50m.json \
        src/onewindow/seals/data/region.geojson

Each country that meets the region's box is clipped to it, its islands under MIN_AREA left
out, simplified (shapely, Douglas-Peucker at TOLERANCE degrees, topology kept per country),
and its coordinates rounded to 0.01 degree (about a kilometre). It prints what it wrote, as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping

# lon from, lat from, lon to, lat to: mainland South-East Asia, the Malay peninsula, Sumatra,
# Java, Borneo, Sulawesi and the Philippines, with the edges of their neighbours.
REGION = (88.0, -11.0, 128.0, 30.0)
TOLERANCE = 0.03  # degrees: some 3 km, a pixel or two on a map of a trip across borders
MIN_AREA = 0.01  # square degrees: islands smaller than some 10 km by 10 km are left out
DIGITS = 2


def arcs_of(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The topology's arcs in degrees: quantized, each point a delta from the one before."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    out = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        out.append(points)
    return out


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """A ring from its arcs; ~i is arc i reversed; each arc after the first starts where the
    one before ended, so its first point is dropped."""
    points: list[tuple[float, float]] = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        points += arc if not points else arc[1:]
    return points


def geometry_of(item: dict[str, Any], arcs: list[list[tuple[float, float]]]) -> Any:
    polygons = item["arcs"] if item["type"] == "MultiPolygon" else [item["arcs"]]
    return shapely.make_valid(
        MultiPolygon([Polygon(ring(p[0], arcs), [ring(h, arcs) for h in p[1:]]) for p in polygons])
    )


def rounded(geometry: Any) -> Any:
    return shapely.set_precision(geometry, 10**-DIGITS)


def main(source: Path, target: Path) -> dict[str, Any]:
    topology = json.loads(source.read_text())
    arcs = arcs_of(topology)
    region = box(*REGION)
    features = []
    for item in topology["objects"]["countries"]["geometries"]:
        if item["type"] not in ("Polygon", "MultiPolygon"):
            continue
        found = geometry_of(item, arcs)
        if not found.intersects(region):
            continue
        parts = shapely.get_parts(found.intersection(region))
        kept = [p for p in parts if p.geom_type == "Polygon" and p.area >= MIN_AREA]
        if not kept:
            continue
        clipped = rounded(MultiPolygon(kept).simplify(TOLERANCE, preserve_topology=True))
        if clipped.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "id": item.get("id"),
                "properties": {"name": item["properties"]["name"]},
                "geometry": mapping(clipped),
            }
        )
    features.sort(key=lambda f: f["properties"]["name"])
    collection = {"type": "FeatureCollection", "bbox": list(REGION), "features": features}
    text = json.dumps(collection, separators=(",", ":"))
    target.write_text(text + "\n")
    return {
        "source": source.name,
        "target": str(target),
        "countries": [f["properties"]["name"] for f in features],
        "bytes": len(text) + 1,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
