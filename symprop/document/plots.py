"""A plot over t on a log scale (``blocks.Plot``), drawn as text: PGFPlots for
LaTeX, SVG for Markdown, MyST and ``symprop graph --norms --format svg``.

The SVG is written by hand, not by a plotting library: the plot is a few
lines with markers on a log axis, whose ticks are computed here once for both
drawings (so the PDF and the web page show the same axes); its words stay
text in the page's fonts (Chinese and Russian included, which a library that
draws glyphs as paths would need a font for); and the output is the same
bytes on every machine, as golden files need.  A value of 0, which a log
scale cannot show, is left out and breaks its line.
"""

import math
from collections.abc import Callable
from html import escape

from .blocks import Plot

# the look of each series, in order: colour, PGFPlots options, SVG marker, SVG dashes
STYLES = [
    ("#1f5fa8", "color={rgb,255:red,31;green,95;blue,168}, mark=*", "circle", ""),
    ("#c0392b", "color={rgb,255:red,192;green,57;blue,43}, mark=square*, dashed", "square", "6 4"),
    ("#2e7d32", "color={rgb,255:red,46;green,125;blue,50}, mark=triangle*, dotted", "triangle", "2 3"),
]

WIDTH, HEIGHT = 520, 300  # the SVG's size (px)
LEFT, RIGHT, TOP, BOTTOM = 78, 18, 20, 46
LEGEND = 26  # the row of the legend under the plot, when it has several series  # room for the tick labels and the axis labels


def _style(i: int):
    return STYLES[i % len(STYLES)]


def drawn_values(plot: Plot) -> list[float]:
    return [v for s in plot.series for _, v in s.points if v > 0]


def _number(m: int, k: int) -> float:
    return float(f"{m}e{k}")


def y_ticks(plot: Plot) -> list[tuple[int, int]]:
    """The ticks of the log axis as (mantissa, exponent), from one at or below the
    smallest value to one at or above the largest: every decade (or every few)
    when the values span three decades or more, else 1, 2 and 5 of each decade."""
    values = drawn_values(plot) or [1.0]
    lo, hi = min(values), max(values)
    d0, d1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if _number(1, d1) < hi:  # log10 rounded down
        d1 += 1
    if d1 - d0 >= 3:
        step = max(1, math.ceil((d1 - d0) / 6))
        ticks = [(1, k) for k in range(d0, d1 + step, step)]
        return ticks[:next(i for i, (_, k) in enumerate(ticks) if _number(1, k) >= hi) + 1]
    candidates = [(m, k) for k in range(d0 - 1, d1 + 1) for m in (1, 2, 5)]
    below = max(i for i, c in enumerate(candidates) if _number(*c) <= lo)
    above = min(i for i, c in enumerate(candidates) if _number(*c) >= hi)
    return candidates[below:max(above, below + 1) + 1]


def tick_labels(ticks: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """The ticks' labels: decades as powers of ten (10⁻⁷, 10⁻⁵, …), others as numbers where short."""
    decades = len(ticks) > 1 and all(m == 1 for m, _ in ticks)
    return [tick_label(m, k, decades) for m, k in ticks]


def tick_label(m: int, k: int, power: bool = False) -> tuple[str, str]:
    """A tick's label as text and as LaTeX: 0.5, 20, 10⁻⁵, 2·10⁻⁵."""
    if -3 <= k <= 3 and not power:
        text = f"{_number(m, k):f}".rstrip("0").rstrip(".")
        return text, text
    power = str(k).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    if m == 1:
        return f"10{power}", f"10^{{{k}}}"
    return f"{m}·10{power}", rf"{m} \cdot 10^{{{k}}}"


def x_ticks(steps: int) -> list[int]:
    """Every step up to 12, else 1 and the multiples of 2, 5, 10, 20, … (at most 10 more)."""
    if steps <= 12:
        return list(range(1, steps + 1))
    step = next(s for k in range(12) for s in (10**k, 2 * 10**k, 5 * 10**k) if steps / s <= 10)
    return [1] + [t for t in range(step, steps + 1, step) if t > 1]


def x_range(steps: int) -> tuple[float, float]:
    pad = 0.3 if steps <= 12 else 0.02 * (steps - 1)
    return 1 - pad, steps + pad


def _steps(plot: Plot) -> int:
    return max((t for s in plot.series for t, _ in s.points), default=1)


# PGFPlots ---------------------------------------------------------------------------

def to_pgfplots(plot: Plot, latex: Callable) -> str:
    """A tikzpicture with one PGFPlots axis (``\\usepackage{pgfplots}``), the line width wide;
    ``latex`` prints the mathematics of its labels."""
    ticks = y_ticks(plot)
    xmin, xmax = x_range(_steps(plot))
    options = [
        "ymode=log", r"width=0.82\linewidth", "height=5.6cm", "xlabel={$t$}",
        "ylabel={$" + latex(plot.y_label) + "$}",
        f"xmin={xmin:g}", f"xmax={xmax:g}",
        f"ymin={_number(*ticks[0]):g}", f"ymax={_number(*ticks[-1]):g}",
        "xtick={" + ",".join(str(t) for t in x_ticks(_steps(plot))) + "}",
        "ytick={" + ",".join(f"{_number(*c):g}" for c in ticks) + "}",
        "yticklabels={" + ",".join("$" + latex + "$" for _, latex in tick_labels(ticks)) + "}",
        "ymajorgrids", "major grid style={black!12}", "clip=false", "unbounded coords=jump",
        "tick label style={font=\\small}", "label style={font=\\small}",
    ]
    if len(plot.series) > 1:
        options.append("legend style={font=\\small, draw=black!30, at={(0.5,-0.3)}, anchor=north, "
                       "legend columns=-1, /tikz/every even column/.append style={column sep=1em}}")
    lines = [r"\begin{tikzpicture}", r"\begin{axis}[" + ",\n  ".join(options) + "]"]
    for i, s in enumerate(plot.series):
        points = " ".join(f"({t},{v:.6g})" if v > 0 else f"({t},nan)" for t, v in s.points)
        lines.append(rf"\addplot[{_style(i)[1]}, mark size=2pt, line width=0.9pt] coordinates {{{points}}};")
        if len(plot.series) > 1:
            lines.append(r"\addlegendentry{$" + latex(s.name) + "$}")
        zeros = [t for t, v in s.points if v == 0]
        if zeros:  # on the lower edge, hollow, marked 0
            ymin = f"{_number(*ticks[0]):g}"
            marks = " ".join(f"({t},{ymin})" for t in zeros)
            lines.append(rf"\addplot[{_style(i)[1].split(', mark=')[0]}, only marks, mark=o, mark size=2.5pt, "
                         rf"mark options={{yshift=3.5pt, solid}}, forget plot] coordinates {{{marks}}};")
            lines += [rf"\node[anchor=south west, font=\scriptsize, yshift=3pt] at (axis cs:{t},{ymin}) {{0}};"
                      for t in zeros]
    lines += [r"\end{axis}", r"\end{tikzpicture}"]
    return "\n".join(lines) + "\n"


# SVG --------------------------------------------------------------------------------

def _segments(points: list[tuple[int, float]]) -> list[list[tuple[int, float]]]:
    """The runs of points not 0: a 0 breaks the line."""
    runs: list[list[tuple[int, float]]] = [[]]
    for t, v in points:
        if v > 0:
            runs[-1].append((t, v))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.2f}" cy="{y:.2f}" r="3.5" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - 3.2:.2f}" y="{y - 3.2:.2f}" width="6.4" height="6.4" fill="{colour}"/>'
    return f'<path d="M{x:.2f},{y - 4.2:.2f} L{x + 4:.2f},{y + 3:.2f} L{x - 4:.2f},{y + 3:.2f} Z" fill="{colour}"/>'


def to_svg(plot: Plot, text: Callable) -> str:
    """The plot as one ``<svg>`` element (no blank line: Markdown keeps it one HTML
    block), its alt text as ``aria-label`` and ``<title>``; ``text`` prints words
    and mathematics as plain Unicode."""
    ticks = y_ticks(plot)
    steps = _steps(plot)
    xmin, xmax = x_range(steps)
    lo, hi = math.log10(_number(*ticks[0])), math.log10(_number(*ticks[-1]))
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP

    def px(t: float) -> float:
        return x0 + (t - xmin) / (xmax - xmin) * (x1 - x0)

    def py(v: float) -> float:
        return y0 - (math.log10(v) - lo) / (hi - lo) * (y0 - y1)

    alt = escape(text(plot.alt))
    height = HEIGHT + (LEGEND if len(plot.series) > 1 else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
           f'height="{height}" role="img" aria-label="{alt}" font-family="DejaVu Sans, Verdana, sans-serif" '
           'font-size="12">', f"<title>{alt}</title>",
           f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/>']
    for (m, k), (label, _) in zip(ticks, tick_labels(ticks)):
        y = py(_number(m, k))
        out.append(f'<line x1="{x0}" y1="{y:.2f}" x2="{x1}" y2="{y:.2f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.2f}" text-anchor="end">{escape(label)}</text>')
    for t in x_ticks(steps):
        x = px(t)
        out.append(f'<line x1="{x:.2f}" y1="{y0}" x2="{x:.2f}" y2="{y0 + 5}" stroke="black"/>')
        out.append(f'<text x="{x:.2f}" y="{y0 + 18}" text-anchor="middle">{t}</text>')
    out.append(f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="none" stroke="black"/>')
    out.append(f'<text x="{(x0 + x1) / 2:.2f}" y="{HEIGHT - 8}" text-anchor="middle" font-style="italic">t</text>')
    out.append(f'<text x="16" y="{(y0 + y1) / 2:.2f}" text-anchor="middle" '
               f'transform="rotate(-90 16 {(y0 + y1) / 2:.2f})">{escape(text(plot.y_label))}</text>')
    for i, s in enumerate(plot.series):
        colour, _, marker, dashes = _style(i)
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        for run in _segments(s.points):
            if len(run) > 1:
                path = " ".join(f"{px(t):.2f},{py(v):.2f}" for t, v in run)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>')
            if len(s.points) <= 60:
                out += [_marker(marker, px(t), py(v), colour) for t, v in run]
        for t in (t for t, v in s.points if v == 0):  # on the lower edge, hollow, marked 0
            out.append(f'<circle cx="{px(t):.2f}" cy="{y0 - 6}" r="4" fill="white" stroke="{colour}" stroke-width="1.5"/>')
            out.append(f'<text x="{px(t) + 7:.2f}" y="{y0 - 9}" font-size="11">0</text>')
    if len(plot.series) > 1:
        out += _legend([text(s.name) for s in plot.series], x0, HEIGHT + 6)
    out.append("</svg>")
    return "\n".join(out)


def _legend(names: list[str], x: float, y: float) -> list[str]:
    """The series side by side in one row from (x, y) down: a line, a marker, a name."""
    out = []
    for i, name in enumerate(names):
        colour, _, marker, dashes = _style(i)
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        cy = y + 10
        out.append(f'<line x1="{x}" y1="{cy}" x2="{x + 24}" y2="{cy}" stroke="{colour}" stroke-width="1.8"{dash}/>')
        out.append(_marker(marker, x + 12, cy, colour))
        out.append(f'<text x="{x + 30}" y="{cy + 4}">{escape(name)}</text>')
        x += 50 + 8 * len(name)
    return out
