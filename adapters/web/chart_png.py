"""The participation chart as a PNG: the SVG's layout (`chart.py`: the same size, margins, bar slots,
colours and legend) drawn with Pillow, for e-mail clients — which do not render SVG reliably — and
for `wgbot export chart --out FILE.png`. Drawn at twice the size for sharp text on high-density
screens; the e-mail shows it at the SVG's size. Pillow's built-in font (no font file, no system fonts)
keeps the output the same on every machine."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import TYPE_CHECKING

from adapters.web.chart import LEFT, PLOT_H, RIGHT, TOP, Participation, colour, size

if TYPE_CHECKING:
    from PIL import ImageFont

SCALE = 2


@lru_cache(maxsize=4)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=px * SCALE)


def png(data: Participation, *, title: str = "Participation by week") -> bytes:
    """Stacked bars, one per week, one segment per key, as in `chart.svg` (PNG bytes)."""
    from PIL import Image, ImageDraw  # imported when a chart is drawn, not when e-mail is loaded

    width, height = size(data)
    img = Image.new("RGB", (width * SCALE, height * SCALE), "#ffffff")
    draw = ImageDraw.Draw(img)

    def s(v: float) -> float:
        return v * SCALE

    small, big = _font(12), _font(14)
    peak = max((data.total(i) for i in range(len(data.weeks))), default=0)
    unit = PLOT_H / peak if peak else 0.0
    slot = (width - LEFT - RIGHT) / max(len(data.weeks), 1)
    bar_w = slot * 0.6
    base = TOP + PLOT_H
    draw.text((s(LEFT), s(18)), title, fill="#222222", font=big, anchor="ls")
    draw.line([(s(LEFT), s(base)), (s(width - RIGHT), s(base))], fill="#555555", width=SCALE)
    draw.text((s(LEFT - 6), s(TOP + 4)), str(peak), fill="#555555", font=small, anchor="rs")
    draw.text((s(LEFT - 6), s(base)), "0", fill="#555555", font=small, anchor="rs")
    for i, week in enumerate(data.weeks):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = float(base)
        for key in data.keys:
            n = data.counts[i].get(key, 0)
            if not n:
                continue
            h = n * unit
            draw.rectangle([(s(x), s(y - h)), (s(x + bar_w) - 1, s(y) - 1)], fill=colour(data.keys, key))
            y -= h
        draw.text((s(x + bar_w / 2), s(base + 16)), f"{week.day} {week:%b}", fill="#333333", font=small, anchor="ms")
    ly = base + 40
    for j, key in enumerate(data.keys):
        lx, yy = LEFT + (j % 3) * 200, ly + (j // 3) * 22
        draw.rectangle([(s(lx), s(yy)), (s(lx + 12) - 1, s(yy + 12) - 1)], fill=colour(data.keys, key))
        draw.text((s(lx + 18), s(yy + 11)), key, fill="#222222", font=small, anchor="ls")
    if not data.keys:
        draw.text((s(LEFT), s(ly + 11)), "No participation in these weeks.", fill="#555555", font=small, anchor="ls")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
