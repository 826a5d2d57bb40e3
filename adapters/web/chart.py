"""Participation at a glance: who took part, by stakeholder group (or region), week by week.

The numbers come from bot/digest/chart.py (the weekly e-mail digest carries them too). The same
numbers feed the accessible table and the SVG, which is drawn here by hand (stacked bars, no script,
no external font or asset) so that it renders the same in every browser; `chart_png.py` draws the
same layout as a PNG for e-mail clients (which do not render SVG reliably) and `wgbot export chart`.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from bot.digest.chart import UNKNOWN, WEEKS, Participation, participation, week_start

__all__ = ["UNKNOWN", "WEEKS", "Participation", "colour", "participation", "size", "svg", "week_start"]

#: Okabe–Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")


WIDTH, LEFT, RIGHT, TOP, PLOT_H = 640, 40, 10, 30, 180


def size(data: Participation) -> tuple[int, int]:
    legend_h = 22 * ((len(data.keys) + 2) // 3) + 10
    return WIDTH, TOP + PLOT_H + 30 + legend_h


def colour(keys: list[str], key: str) -> str:
    return PALETTE[keys.index(key) % len(PALETTE)]


def svg(data: Participation, *, title: str = "Participation by week") -> str:
    """Stacked bars, one per week, one segment per stakeholder group (or region).

    `data-unit` on the plot is the height in pixels of one act, so a bar's drawn height divided by it
    gives back the table's number."""
    left, right, top, plot_h = LEFT, RIGHT, TOP, PLOT_H
    width, height = size(data)
    peak = max((data.total(i) for i in range(len(data.weeks))), default=0)
    unit = plot_h / peak if peak else 0.0
    slot = (width - left - right) / max(len(data.weeks), 1)
    bar_w = slot * 0.6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="chart-title" font-family="sans-serif" font-size="12">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="18" font-size="14" fill="#222">{escape(title)}</text>',
        f'<g class="plot" data-unit="{unit:.6f}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#555"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="#555">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" fill="#555">0</text>',
    ]
    for i, week in enumerate(data.weeks):
        x = left + i * slot + (slot - bar_w) / 2
        y: float = top + plot_h
        for key in data.keys:
            n = data.counts[i][key]
            if not n:
                continue
            h = n * unit
            y = y - h
            out.append(
                f'<rect x="{x:.2f}" y="{y:.4f}" width="{bar_w:.2f}" height="{h:.4f}" fill="{colour(data.keys, key)}" '
                f'data-week={quoteattr(week.isoformat())} data-key={quoteattr(key)} data-count="{n}">'
                f"<title>{escape(f'week of {week:%d %b}: {key} {n}')}</title></rect>"
            )
        out.append(
            f'<text x="{x + bar_w / 2:.2f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#333">'
            f"{week.day} {week:%b}</text>"
        )
    out.append("</g>")
    ly = top + plot_h + 40
    for j, key in enumerate(data.keys):
        lx = left + (j % 3) * 200
        yy = ly + (j // 3) * 22
        out.append(f'<rect x="{lx}" y="{yy}" width="12" height="12" fill="{colour(data.keys, key)}"/>')
        out.append(f'<text x="{lx + 18}" y="{yy + 11}" fill="#222">{escape(key)}</text>')
    if not data.keys:
        out.append(f'<text x="{left}" y="{ly + 11}" fill="#555">No participation in these weeks.</text>')
    out.append("</svg>")
    return "\n".join(out)
