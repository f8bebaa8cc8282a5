"""Inline SVG plots for the run report: horizontal stacked bars, histograms with threshold lines,
grouped vertical bars. Strings in, strings out; every number is written with a fixed format and
every text escaped, so the same data always gives the same bytes."""

import math
from collections.abc import Sequence
from html import escape

from pipeline.report.scores import Bins

# Tableau 10: distinct, readable, colour-blind aware.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
KEPT = "#4e79a7"
REMOVED = "#e15759"
BAR = "#3f6fa0"  # histograms: a colour no other plot uses
THRESHOLD = "#c0392b"
AXIS = "#555"
GRID = "#e5e5e5"
FONT = 11
CHAR_W = 6.2  # approximate width of a character at FONT px, for layout


def f(x: float) -> str:
    """A coordinate: one decimal, no "-0.0"."""
    s = f"{x:.1f}"
    return "0.0" if s == "-0.0" else s


def text(x: float, y: float, s: str, anchor: str = "start", size: int = FONT, fill: str = "#222", weight: str = "normal", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    w = f' font-weight="{weight}"' if weight != "normal" else ""
    return f'<text x="{f(x)}" y="{f(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{w}{c}>{escape(s)}</text>'


def rect(x: float, y: float, w: float, h: float, fill: str, title: str = "", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    t = f"<title>{escape(title)}</title>" if title else ""
    return f'<rect x="{f(x)}" y="{f(y)}" width="{f(max(w, 0.0))}" height="{f(max(h, 0.0))}" fill="{fill}"{c}>{t}</rect>'


def line(x1: float, y1: float, x2: float, y2: float, stroke: str = AXIS, width: float = 1.0, dash: str = "", cls: str = "") -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    c = f' class="{cls}"' if cls else ""
    return f'<line x1="{f(x1)}" y1="{f(y1)}" x2="{f(x2)}" y2="{f(y2)}" stroke="{stroke}" stroke-width="{f(width)}"{d}{c}/>'


def svg(plot_id: str, width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-plot="{escape(plot_id)}" width="{f(width)}" height="{f(height)}"'
        f' viewBox="0 0 {f(width)} {f(height)}" role="img" font-family="sans-serif"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def fmt_count(v: float) -> str:
    """1234567 -> 1.2M; small numbers whole."""
    a = abs(v)
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= size:
            return f"{v / size:.3g}{unit}"
    return f"{v:.3g}" if a and a < 1 else f"{v:,.0f}"


def nice_ticks(top: float, n: int = 4) -> list[float]:
    """0 and round steps up to at least `top`."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def legend(x: float, y: float, series: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for name, color in series:
        out += [rect(x, y - 9, 10, 10, color), text(x + 14, y, name)]
        x += 14 + CHAR_W * len(name) + 16
    return out


def stacked_hbars(
    plot_id: str, title: str, rows: Sequence[tuple[str, Sequence[float], str]], series: Sequence[tuple[str, str]], width: float = 1100, unit: str = ""
) -> str:
    """One horizontal bar per row, its segments stacked left to right (series: (name, colour)).
    rows: (label, a value per series, text written after the bar[, the segments' names in this
    row's tooltips, where they differ from the legend's])."""
    label_w = max([CHAR_W * len(r[0]) for r in rows] + [60]) + 12
    note_w = max([CHAR_W * len(r[2]) for r in rows] + [0]) + 12
    top, row_h, bar_h = 34, 22, 15
    plot_w = max(width - label_w - note_w - 10, 200)
    height = top + row_h * len(rows) + 28
    peak = max([sum(r[1]) for r in rows] + [0])
    ticks = nice_ticks(peak)
    scale = plot_w / ticks[-1]
    body = legend(label_w, 14, series)
    for t in ticks:
        x = label_w + t * scale
        body += [line(x, top - 4, x, top + row_h * len(rows), GRID), text(x, height - 12, fmt_count(t), "middle", 10, AXIS)]
    for i, (label, values, note, *names) in enumerate(rows):
        y = top + i * row_h
        body.append(text(label_w - 8, y + bar_h - 3, label, "end"))
        x = label_w
        for name, (_, color), v in zip(names[0] if names else [n for n, _ in series], series, values):
            body.append(rect(x, y, v * scale, bar_h, color, f"{label}: {name} {v:,.0f}{unit}", "bar"))
            x += v * scale
        body.append(text(x + 6, y + bar_h - 3, note, fill="#444"))
    body.append(line(label_w, top - 4, label_w, top + row_h * len(rows)))
    return svg(plot_id, width, height, title, body)


def histogram(
    plot_id: str, title: str, bins: Bins, counts: Sequence[int], thresholds: Sequence[tuple[float, str]], width: float = 360, height: float = 190
) -> str:
    """Bars of `counts` over `bins` on a log-count axis (the tails near a threshold are visible next
    to a tall mode), a dashed line per threshold with its label."""
    left, right, top, bottom = 44, 10, 14 + 12 * len(thresholds), 34
    pw, ph = width - left - right, height - top - bottom
    peak = max(list(counts) + [1])
    ymax = math.log10(peak + 1)

    def y_of(c: float) -> float:
        return top + ph - (math.log10(c + 1) / ymax) * ph

    body = []
    decade = 1
    while decade <= peak:  # count gridlines at 1, 10, 100, ...
        y = y_of(decade)
        body += [line(left, y, left + pw, y, GRID), text(left - 4, y + 3, fmt_count(decade), "end", 10, AXIS)]
        decade *= 10
    for i, c in enumerate(counts):
        if c:
            x0, x1 = bins.position(_edge(bins, i)), bins.position(_edge(bins, i + 1))
            body.append(rect(left + x0 * pw, y_of(c), (x1 - x0) * pw - 0.6, top + ph - y_of(c), BAR, f"{_bin_label(bins, i)}: {c:,}", "bar"))
    body += [line(left, top + ph, left + pw, top + ph), line(left, top, left, top + ph)]
    for v, label in _x_ticks(bins):
        x = left + bins.position(v) * pw
        body += [line(x, top + ph, x, top + ph + 4), text(x, top + ph + 15, label, "middle", 10, AXIS)]
    body.append(text(left + pw / 2, height - 4, "documents per bin (log scale) vs value", "middle", 9, "#777"))
    for j, (v, label) in enumerate(thresholds):
        p = bins.position(v)
        if not -0.001 <= p <= 1.001:
            body.append(text(left + pw, 11 + 12 * j, f"{label} (off the axis)", "end", 10, THRESHOLD, cls="threshold-label"))
            continue
        x = left + p * pw
        anchor, dx = ("end", -3) if x + 3 + 5.6 * len(label) > width - 2 else ("start", 3)
        body += [
            line(x, 4 + 12 * j, x, top + ph, THRESHOLD, 1.5, "4 3", "threshold"),
            text(x + dx, 12 + 12 * j, label, anchor, 10, THRESHOLD, cls="threshold-label"),
        ]
    return svg(plot_id, width, height, title, body)


def _edge(bins: Bins, i: int) -> float:
    if bins.scale == "int":
        return bins.lo + i - 0.5
    if bins.scale == "log":
        return bins.lo * (bins.hi / bins.lo) ** (i / bins.n)
    return bins.lo + (bins.hi - bins.lo) * i / bins.n


def _bin_label(bins: Bins, i: int) -> str:
    if bins.scale == "int":
        v = int(bins.lo) + i
        return f">= {v}" if i == bins.n - 1 else str(v)
    lo, hi = _edge(bins, i), _edge(bins, i + 1)
    return f"[{lo:.4g}, {hi:.4g})"


def _x_ticks(bins: Bins) -> list[tuple[float, str]]:
    if bins.scale == "log":
        out, v = [], bins.lo
        while v <= bins.hi * 1.0001:
            out.append((v, fmt_count(v)))
            v *= 10
        return out
    if bins.scale == "int":  # the last bin holds everything from hi up
        step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 1000) if s >= bins.n / 6)
        values = list(range(int(bins.lo), int(bins.hi) + 1, step))
        values += [int(bins.hi)] if values[-1] != int(bins.hi) else []
        return [(v, f"{v}+" if v == int(bins.hi) and bins.n > 2 else str(v)) for v in values]
    return [(bins.lo + (bins.hi - bins.lo) * k / 5, f"{bins.lo + (bins.hi - bins.lo) * k / 5:g}") for k in range(6)]


def grouped_bars(
    plot_id: str,
    title: str,
    groups: Sequence[str],
    series: Sequence[tuple[str, str]],
    values: Sequence[Sequence[float | None]],
    y_label: str,
    value_fmt: str = "{:.2f}",
    reference: tuple[float, str] | None = None,
    width: float | None = None,
    height: float = 240,
) -> str:
    """Vertical bars, one group per label, one bar per series that has a value (None: no bar;
    the colours say which series); `reference` draws a dashed horizontal line (value, label)."""
    left, right, top, bottom = 52, 16, 30, 40
    width = width or max(left + right + 60 * len(groups), 320)
    pw, ph = width - left - right, height - top - bottom
    group_w = pw / max(len(groups), 1)
    bar_w = min(36.0, (group_w - 12) / max(len(series), 1))
    peak = max([v for row in values for v in row if v is not None] + [reference[0] if reference else 0, 1e-9])
    ticks = nice_ticks(peak * 1.1)
    scale = ph / ticks[-1]
    body = legend(left, 14, series) if len(series) > 1 else []
    for t in ticks:
        y = top + ph - t * scale
        body += [line(left, y, left + pw, y, GRID), text(left - 5, y + 3, f"{t:g}", "end", 10, AXIS)]
    for g, (label, row) in enumerate(zip(groups, values)):
        present = [(s, v) for s, v in zip(series, row) if v is not None]
        x = left + g * group_w + (group_w - bar_w * len(present)) / 2
        for (name, color), v in present:
            y = top + ph - v * scale
            body.append(rect(x, y, bar_w - 2, v * scale, color, f"{label} {name}: {value_fmt.format(v)}", "bar"))
            if bar_w >= 5.5 * len(value_fmt.format(v)):  # the value on top, where it fits
                body.append(text(x + bar_w / 2 - 1, y - 3, value_fmt.format(v), "middle", 9, "#333"))
            x += bar_w
        body.append(text(left + g * group_w + group_w / 2, top + ph + 15, label, "middle", 11))
    body += [line(left, top + ph, left + pw, top + ph), line(left, top, left, top + ph)]
    if reference is not None:
        y = top + ph - reference[0] * scale
        body += [
            line(left, y, left + pw, y, THRESHOLD, 1.5, "4 3", "threshold"),
            text(left + pw, y - 4, reference[1], "end", 10, THRESHOLD, cls="threshold-label"),
        ]
    body.append(text(14, top + ph / 2, y_label, "middle", 10, "#777").replace("<text ", f'<text transform="rotate(-90 14 {f(top + ph / 2)})" ', 1))
    return svg(plot_id, width, height, title, body)
