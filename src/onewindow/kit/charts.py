"""Charts as server-side SVG: no script, no library, legible in a screenshot and in print.
Each chart is drawn from the same rows its table shows; the SVG carries a title for screen
readers, and the table beside it is the accessible version of the figures."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH = 640
BAR = 22  # height of one horizontal bar, px
GAP = 8
LABEL = 170  # room for the labels left of horizontal bars, px
COLOURS = {"green": "#00703c", "yellow": "#b58800", "red": "#d4351c", "blue": "#1d70b8"}
DEFAULT = "#1d70b8"


def _svg(title: str, width: int, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def bars(title: str, rows: Sequence[tuple[str, float]], label: str = "{:,.0f}") -> Markup:
    """Horizontal bars, one per (name, value), longest to scale; a lane's name gives its colour."""
    top = max((value for _, value in rows), default=0) or 1
    room = WIDTH - LABEL - 120  # and room for the value after the bar
    body = []
    for n, (name, value) in enumerate(rows):
        y = n * (BAR + GAP)
        length = max(1.0, room * value / top) if value else 0
        colour = COLOURS.get(name, DEFAULT)
        body.append(
            f'<text x="{LABEL - 8}" y="{y + BAR * 0.7:.1f}" text-anchor="end" font-size="14">'
            f"{escape(str(name))}</text>"
            f'<rect x="{LABEL}" y="{y}" width="{length:.1f}" height="{BAR}" fill="{colour}"/>'
            f'<text x="{LABEL + length + 6:.1f}" y="{y + BAR * 0.7:.1f}" font-size="14">'
            f"{escape(label.format(value))}</text>"
        )
    height = max(len(rows) * (BAR + GAP), BAR)
    return _svg(title, WIDTH, height, body)


def columns(title: str, rows: Sequence[tuple[str, float]]) -> Markup:
    """Vertical columns over time, one per (day, value); the first and last days labelled."""
    height, base, left = 220, 190, 50
    top = max((value for _, value in rows), default=0) or 1
    step = (WIDTH - left - 10) / max(len(rows), 1)
    body = [
        f'<line x1="{left}" y1="{base}" x2="{WIDTH - 10}" y2="{base}" stroke="#505a5f"/>',
        f'<text x="{left - 6}" y="20" text-anchor="end" font-size="13">{top:,.0f}</text>',
        f'<text x="{left - 6}" y="{base}" text-anchor="end" font-size="13">0</text>',
    ]
    for n, (day, value) in enumerate(rows):
        tall = (base - 20) * value / top
        x = left + n * step
        body.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{base - tall:.1f}" width="{step * 0.8:.1f}" '
            f'height="{tall:.1f}" fill="{DEFAULT}">'
            f"<title>{escape(day)}: {value:,.0f}</title></rect>"
        )
    if rows:
        body.append(f'<text x="{left}" y="{base + 20}" font-size="13">{escape(rows[0][0])}</text>')
        body.append(
            f'<text x="{WIDTH - 10}" y="{base + 20}" text-anchor="end" font-size="13">'
            f"{escape(rows[-1][0])}</text>"
        )
    return _svg(title, WIDTH, height + 10, body)
