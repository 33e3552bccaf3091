"""Charts as inline SVG, drawn on the server: no script, no CDN, readable on a slow link.

Two shapes cover the dashboard: weekly columns stacked by category (what is
reported, when) and horizontal bars (where, how satisfied, which channel).
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#975a16", "#4a5568")


def weekly_columns(weeks: list[str], series: dict[str, dict[str, int]], title: str) -> Markup:
    width, height, left, bottom = 640, 220, 36, 36
    totals = [sum(s.get(w, 0) for s in series.values()) for w in weeks]
    peak = max([*totals, 1])
    step = (width - left) / max(len(weeks), 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height + 24 * len(series) + 8}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<text x="{left}" y="12" class="axis">{peak}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        'stroke="#999"/>',
    ]
    usable = height - bottom - 20
    for i, week in enumerate(weeks):
        y: float = height - bottom
        for j, (name, counts) in enumerate(series.items()):
            n = counts.get(week, 0)
            if not n:
                continue
            h = usable * n / peak
            y -= h
            parts.append(
                f'<rect x="{left + i * step + 4:.1f}" y="{y:.1f}" width="{step - 8:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(name)}, week of {week}: {n}</title></rect>"
            )
        if i % 2 == 0:
            parts.append(
                f'<text x="{left + i * step + 4:.1f}" y="{height - bottom + 16}" '
                f'class="axis">{week[5:]}</text>'
            )
    for j, name in enumerate(series):
        y = height + 8 + 24 * j
        parts.append(
            f'<rect x="{left}" y="{y}" width="14" height="14" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{left + 20}" y="{y + 12}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(values: dict[str, int | float], title: str) -> Markup:
    if not values:
        return Markup('<p class="empty">Nothing yet.</p>')
    width, row = 420, 26  # drawn for half-width cards: text stays readable when scaled
    label_width = 170
    peak = max(max(values.values()), 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {row * len(values) + 4}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (name, n) in enumerate(values.items()):
        w = (width - label_width - 60) * n / peak
        y = i * row
        parts.append(
            f'<text x="0" y="{y + 17}">{escape(str(name))[:26]}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="18" '
            f'fill="{PALETTE[0]}"><title>{escape(str(name))}: {n}</title></rect>'
            f'<text x="{label_width + w + 6:.1f}" y="{y + 17}">{n}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
