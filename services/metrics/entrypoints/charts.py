"""Server-rendered inline SVG charts for the dashboard (no JavaScript library, no CDN)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#005eb8", "#ffb81c", "#007f3b", "#da291c", "#330072", "#41b6e6")
"""NHS identity colours: blue, warm yellow, green, red, purple, light blue."""

Formatter = Callable[[float], str]


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def number(value: float) -> str:
    return f"{value:,.0f}"


def bar_chart(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    fmt: Formatter = number,
    maximum: float | None = None,
    flagged: frozenset[str] = frozenset(),
    width: int = 520,
) -> str:
    """Horizontal bars, one per label; a flagged label is drawn in red and marked ⚠."""
    row, label_w, value_w = 26, 120, 60
    height = 30 + row * max(1, len(bars))
    top = maximum or max((v or 0.0 for _, v in bars), default=0.0) or 1.0
    span = width - label_w - value_w
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(bars):
        y = 26 + i * row
        colour = PALETTE[3] if label in flagged else PALETTE[0]
        mark = " ⚠" if label in flagged else ""
        parts.append(f'<text x="0" y="{y + 16}" font-size="13">{escape(label)}{mark}</text>')
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 16}" font-size="12" fill="#666">no data</text>')
            continue
        w = max(1.0, span * min(value, top) / top)
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colour}">'
            f"<title>{escape(label)}: {fmt(value)}</title></rect>"
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12">{fmt(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    fmt: Formatter = number,
    width: int = 560,
    height: int = 240,
) -> str:
    """One line per series over the categories (months), with a legend; gaps where a value is None."""
    left, right, top, bottom = 56, 36, 28, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    peak = max(values, default=0.0) or 1.0
    step = plot_w / max(1, len(categories) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - plot_h * v / peak

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="11" text-anchor="end">{fmt(peak)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="11" text-anchor="end">{fmt(0)}</text>',
    ]
    for i, category in enumerate(categories):
        x = left + i * step
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">'
            f"{escape(category)}</text>"
        )
    for n, (name, vs) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = [(i, v) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, v in points:
            x, y = xy(i, v)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(name)} {escape(categories[i])}: {fmt(v)}</title></circle>"
            )
        lx = left + (n % 4) * (plot_w / 4)
        ly = height - 8 - 14 * (n // 4)
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14:.1f}" y="{ly}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
