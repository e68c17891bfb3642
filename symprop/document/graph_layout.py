"""Where a picture's vertices go: the coordinates TikZ is given (Graphviz and
Mermaid lay out DOT and Mermaid themselves).

A layered layout, general for any graph symprop draws.  Computed values stand
in columns by their depth (the longest path from the leaves), so the gates of
a recurrent cell that read the same inputs share a column.  Each parameter
sits in a row next to the value that first reads it (Wz, Uz, bz over zₜ),
over it or under it, on the side away from its other edges, so a gate and
its weights form one small group and the edges from the inputs come in from
the other side.  The other leaves (xₜ, hₜ₋₁, a target y) stand in the column
before their first reader, level with the readers (beside the reader when
that column is full there: lstm's cₜ₋₁).  An edge that would run through a
vertex it does not join bends round it, or, when no gentle curve clears it
(a gated cell's hₜ₋₁ → hₜ past its gates), runs round in horizontal and
vertical runs (edge_routes).  A state fed back to the next step (hₜ → hₜ₋₁)
runs under the picture and those runs, its label below the line.
"""

from dataclasses import dataclass, field

from ..model.kinds import Role
from .edge_routes import Grid, inside, route

COLUMN = 2.6  # cm between two columns, at least
ROW = 0.95  # cm between two rows of one-line labels
ROW_TALL = 1.45  # with adjoints: two lines a label
GAP = 0.25  # cm between two parameters of one row
LOOP = 0.7  # cm between the delayed edges under the picture


@dataclass
class Loop:
    """A delayed edge drawn under the picture: its corners, its label's place."""
    points: list[tuple[float, float]]
    label_at: tuple[float, float]
    anchor: str = "north"  # the label's side that touches label_at: under the line, or right of it


@dataclass
class Layout:
    place: dict[str, tuple[float, float]] = field(default_factory=dict)  # x, y in cm
    loops: dict[int, Loop] = field(default_factory=dict)  # edge's index → its route
    bends: dict[int, int] = field(default_factory=dict)  # edge's index → its curve's angle (left positive)
    routes: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # edge's index → its corners


def fed_back(pic, e) -> bool:
    """A delayed edge from a computed state to its previous step's copy (hₜ → hₜ₋₁, drawn under
    the picture); not the read of the previous step (hₜ₋₁ → zₜ) a large problem's picture draws."""
    return e.back


def depths(pic) -> dict[str, int]:
    """A computed value's longest path from the leaves (1 for one reading only
    leaves); a leaf 0; delayed edges left out."""
    edges = [e for e in pic.edges if not fed_back(pic, e)]
    computed = {k for k, v in pic.vertices.items() if v.kind in (Role.NODE, Role.LOSS)}
    depth = {k: (1 if k in computed else 0) for k in pic.vertices}
    for _ in range(len(pic.vertices)):
        changed = False
        for e in edges:
            if e.target in depth and e.source in depth and depth[e.target] < depth[e.source] + 1:
                depth[e.target] = depth[e.source] + 1
                changed = True
        if not changed:
            break
    return depth


def groups(pic) -> list[list[str]]:
    """The gates of one depth: computed values, two or more, of the same depth that each
    read a parameter (gru's zₜ and rₜ, lstm's fₜ, iₜ, gₜ, oₜ); one column of the TikZ layout."""
    depth = depths(pic)
    gated = {e.target for e in pic.edges if pic.vertices[e.source].kind == Role.PARAM
             and pic.vertices[e.target].kind == Role.NODE}
    by_depth: dict[int, list[str]] = {}
    for key in pic.vertices:
        if key in gated:
            by_depth.setdefault(depth[key], []).append(key)
    return [keys for _, keys in sorted(by_depth.items()) if len(keys) > 1]


def label_width(pic, key: str) -> float:
    """About how wide (cm) the vertex's box is: \\small names, \\scriptsize adjoints."""
    v = pic.vertices[key]
    name = pic.text_name(key)
    wide = 0.3 + 0.2 * sum(0.6 if ch in SMALL else 1 for ch in name)
    if v.adjoint:
        text = v.adjoint if v.adjoint.startswith(("∂", "∇")) else "∂L: " + v.adjoint
        if v.adjoint_latex.startswith("\\frac"):
            text = text.split("/")[-1]  # a fraction: as wide as its denominator
        wide = max(wide, 0.4 + 0.13 * sum(0.6 if ch in SMALL else 1 for ch in text))
    return wide


SMALL = set("₀₁₂₃₄₅₆₇₈₉₊₋ₜᵢⱼₖₙₐₑₒₓₕₗₘₚₛ⁽⁾ᵗ⁰¹²³⁴⁵⁶⁷⁸⁹⁻")  # sub- and superscripts


def _span(pic, key: str) -> float:
    """A parameter's room in its row: its box, or the label of its edge beside it."""
    labels = [0.15 + 0.13 * len(e.label) for e in pic.edges if e.source == key and e.label and not fed_back(pic, e)]
    return max([label_width(pic, key)] + [0.5 * label_width(pic, key) + w for w in labels])


def _readers(pic, depth) -> dict[str, list[str]]:
    """Each vertex's readers, nearest column first (the order of the edges among equals)."""
    readers: dict[str, list[str]] = {k: [] for k in pic.vertices}
    for e in pic.edges:
        if not fed_back(pic, e) and e.target not in readers[e.source]:
            readers[e.source].append(e.target)
    return {k: sorted(r, key=lambda t: depth[t]) for k, r in readers.items()}


def _free_row(taken: set[int], want: float, rows: tuple[int, ...]) -> int:
    """The row nearest ``want`` (below it first) where each of ``rows`` (offsets) is free."""
    start = max(0, round(want))
    for step in range(0, 4 * len(taken) + 8):
        for r in (start + step, start - step):
            if r >= 0 and not any(r + d in taken for d in rows):
                return r
    raise AssertionError("no free row")  # pragma: no cover - the search above always ends


def layout(pic) -> Layout:
    depth = depths(pic)
    readers = _readers(pic, depth)
    computed = [k for k, v in pic.vertices.items() if v.kind in (Role.NODE, Role.LOSS)]
    weights = {k: [] for k in computed}  # the parameters over each computed value
    others = []  # leaves that are not parameters: in the column before their first reader
    for key, v in pic.vertices.items():
        if key in weights or not readers[key]:
            continue
        if v.kind == Role.PARAM and readers[key][0] in weights:
            weights[readers[key][0]].append(key)
        else:
            others.append(key)
    column = {k: depth[k] for k in computed}
    column.update({k: max(0, depth[readers[k][0]] - 1) if readers[k] else 0 for k in others})
    column.update({p: column[k] for k, ws in weights.items() for p in ws})
    rows = _rows(pic, computed, others, weights, column, set())
    under = set()  # the values whose parameters go under them: on the side away from their other edges
    for key, ws in weights.items():
        ends = [rows[e.source if e.target == key else e.target] for e in pic.edges if not fed_back(pic, e)
                and key in (e.source, e.target) and e.source not in ws]
        if ws and ends and sum(ends) / len(ends) < rows[key]:
            under.add(key)
    if under:
        rows = _rows(pic, computed, others, weights, column, under)
    return _coordinates(pic, rows, column, weights)


def _rows(pic, computed, others, weights, column, under: set) -> dict[str, int]:
    """Each vertex's row (0 at the top); a value with parameters takes the row
    under them (over them when in ``under``).  Computed values level with what
    they read, column by column; a value that reads only leaves (a gate) then
    level with its readers, and the other leaves level with theirs."""
    taken: dict[int, set[int]] = {}
    row: dict[str, int] = {}
    sources: dict[str, list[str]] = {k: [] for k in pic.vertices}
    readers: dict[str, list[str]] = {k: [] for k in pic.vertices}
    for e in pic.edges:
        if not fed_back(pic, e):
            sources[e.target].append(e.source)
            readers[e.source].append(e.target)

    far = 2 if any(e.label and not fed_back(pic, e) for e in pic.edges) else 1  # room for the local derivatives on the edges

    def offsets(key):
        return tuple(range(0, far + 1)) if key in under else tuple(range(-far, 1)) if weights.get(key) else (0,)

    def place(key, near: list[str], default: int):
        rows = [row[k] for k in near if k in row]
        want = sum(rows) / len(rows) if rows else default
        free = taken.setdefault(column[key], set())
        r = _free_row(free, want, offsets(key))
        free.update(r + d for d in offsets(key))
        row[key] = r
        for p in weights.get(key, []):
            row[p] = r + far if key in under else r - far

    for key in sorted(computed, key=lambda k: column[k]):
        place(key, sources[key], 1 if weights[key] else 0)
    starts = [k for k in computed if not any(s in weights for s in sources[k]) and readers[k]]
    for key in sorted(starts, key=lambda k: -column[k]):
        taken[column[key]].difference_update(row[key] + d for d in offsets(key))
        del row[key]
        place(key, readers[key], 0)
    for key in others:
        place(key, readers[key], 0)
        first = readers[key][0] if readers[key] else None
        if first is not None and abs(row[key] - row[first]) > 2 and column[key] + 1 == column[first]:
            taken[column[key]].discard(row[key])  # far from its reader: beside it, in its column
            column[key] += 1
            place(key, [first], 0)
    return row


def _coordinates(pic, rows, column, weights) -> Layout:
    """Centimetres: columns wide enough for their widest row of parameters,
    rows tall enough for two-line labels when there are adjoints."""
    tall = any(v.adjoint_latex for v in pic.vertices.values())
    pitch = ROW_TALL if tall else ROW
    width: dict[int, float] = {}
    for key, ws in weights.items():
        row_width = sum(_span(pic, p) for p in ws) + GAP * (len(ws) - 1)
        width[column[key]] = max(width.get(column[key], 0.0), row_width, label_width(pic, key))
    for key in pic.vertices:
        width[column[key]] = max(width.get(column[key], 0.0), label_width(pic, key))
    x = {0: 0.0}
    for c in range(1, max(column.values(), default=0) + 1):
        x[c] = x[c - 1] + max(COLUMN, (width.get(c - 1, 0.0) + width.get(c, 0.0)) / 2 + 0.5)
    out = Layout()
    for key in pic.vertices:
        out.place[key] = (x[column[key]], -pitch * rows[key])
    for key, ws in weights.items():
        spans = [_span(pic, p) for p in ws]
        if not spans:
            continue
        left = x[column[key]] - (sum(spans) + GAP * (len(ws) - 1)) / 2
        for p, w in zip(ws, spans):
            out.place[p] = (round(left + min(w, label_width(pic, p)) / 2, 2), out.place[p][1])  # its label right of it
            left += w + GAP
    _paths(pic, out)
    _loops(pic, out, column, x, pitch)
    return out


def _loops(pic, out: Layout, column, x, pitch) -> None:
    """Each delayed edge under the picture: down from the state, along below
    every vertex, up into the previous step's copy; beside a column that has
    vertices under the end, not through them."""
    bottom = min([y for _, y in out.place.values()]  # and under the routed edges
                 + [y + pitch * 0.5 for path in out.routes.values() for _, y in path], default=0.0)
    delayed = sorted((i for i, e in enumerate(pic.edges) if fed_back(pic, e)),  # the shortest nearest, inside the others
                     key=lambda i: abs(out.place[pic.edges[i].source][0] - out.place[pic.edges[i].target][0]))
    for n, i in enumerate(delayed):
        e = pic.edges[i]
        y = bottom - pitch * 0.5 - LOOP * (n + 1)
        (xs, ys), (xt, yt) = out.place[e.source], out.place[e.target]
        if abs(xs - xt) < 0.01 and not _between(out, xs + COLUMN / 2, ys, yt):  # one over the other: beside them
            side = xs + COLUMN / 2
            out.loops[i] = Loop([(xs, ys), (side, ys), (side, yt), (xt, yt)], (side + 0.05, (ys + yt) / 2), "west")
            continue
        start, end = [(xs, ys)], [(xt, yt)]
        if any(abs(px - xs) < 0.01 and py < ys for px, py in out.place.values()) or _from_under(pic, out, e.source):
            start.append((xs + COLUMN / 2, ys))  # out to the right, then down
        if any(abs(px - xt) < 0.01 and py < yt for px, py in out.place.values()):
            end.insert(0, (xt - 0.9, yt))  # up on the left, then in
        points = start + [(start[-1][0], y), (end[0][0], y)] + end
        out.loops[i] = Loop(points, ((start[-1][0] + end[0][0]) / 2, y))


def _from_under(pic, out: Layout, key: str) -> bool:
    """A routed edge comes into ``key`` from under it."""
    return any(pic.edges[i].target == key and path[-1][1] < out.place[key][1] - 0.3 for i, path in out.routes.items())


def _between(out: Layout, x: float, y0: float, y1: float) -> bool:
    """A vertex near the vertical line at ``x`` between the heights ``y0`` and ``y1``."""
    low, high = min(y0, y1), max(y0, y1)
    return any(abs(px - x) < 0.8 and low - 0.3 <= py <= high + 0.3 for px, py in out.place.values())


CLEAR = 0.42  # cm from a vertex's middle that an edge keeps


def _bezier(a, b, bend: float, steps: int = 12) -> list[tuple[float, float]]:
    """Points along TikZ's ``bend left=bend`` curve from ``a`` to ``b`` (negative: bend right)."""
    import math
    (x0, y0), (x1, y1) = a, b
    length, angle = math.hypot(x1 - x0, y1 - y0), math.atan2(y1 - y0, x1 - x0)
    out_angle, in_angle = angle + math.radians(bend), angle + math.pi - math.radians(bend)
    c0 = (x0 + 0.3915 * length * math.cos(out_angle), y0 + 0.3915 * length * math.sin(out_angle))
    c1 = (x1 + 0.3915 * length * math.cos(in_angle), y1 + 0.3915 * length * math.sin(in_angle))
    points = []
    for i in range(1, steps):
        t = i / steps
        u = 1 - t
        points.append((u ** 3 * x0 + 3 * u * u * t * c0[0] + 3 * u * t * t * c1[0] + t ** 3 * x1,
                       u ** 3 * y0 + 3 * u * u * t * c0[1] + 3 * u * t * t * c1[1] + t ** 3 * y1))
    return points


def _clearance(points, others) -> float:
    return min((abs(px - x) + abs(py - y) for px, py in points for x, y in others), default=99.0)


def bend(place: dict, source: str, target: str) -> int:
    """0 for a straight edge; else the angle (left positive) of a curve that passes
    clear of the vertices a straight line would run through (xₜ → nₜ past rₜ)."""
    a, b = place[source], place[target]
    others = [xy for k, xy in place.items() if k not in (source, target)]
    best, clear = 0, _clearance(_bezier(a, b, 0.001, 24), others)
    if clear >= CLEAR or abs(b[0] - a[0]) + abs(b[1] - a[1]) > 15:  # a long one: TikZ's bend overflows (unrolled)
        return 0
    for angle in (20, -20, 35, -35):
        c = _clearance(_bezier(a, b, angle, 24), others)
        if c > clear + 0.05:
            best, clear = angle, c
        if clear >= CLEAR:
            break
    return best


def box(pic, key: str, place: dict) -> tuple[float, float, float, float]:
    """About where the vertex's box is: its middle, width and height (cm; two lines with an adjoint)."""
    v, (x, y) = pic.vertices[key], place[key]
    width, height = label_width(pic, key), (1.05 if v.adjoint_latex else 0.55)
    if v.kind == Role.LOSS:  # a circle
        width = height = max(width, height) + 0.1
    return x, y, width, height


def clear(points, boxes: dict, ends, margin: float = 0.0) -> bool:
    """No point within ``margin`` of a box other than the ends'."""
    return not any(inside(p, b, margin) for k, b in boxes.items() if k not in ends for p in points)


def _paths(pic, out: Layout) -> None:
    """Each edge straight when that is clear of the vertices it does not join, else a
    gentle curve when that is, else a path of runs round them (hₜ₋₁ → hₜ past the
    gates), coming into a side of its target no other edge comes in by; else the best curve."""
    boxes = {k: box(pic, k, out.place) for k in pic.vertices}
    closed = {k: set() for k in pic.vertices}
    for e in pic.edges:  # the loop comes in from under (and leaves right when an edge comes in from under)
        if fed_back(pic, e):
            closed[e.target].add((0, -1))
    rest = []
    for i, e in enumerate(pic.edges):
        a, b, ends = out.place[e.source], out.place[e.target], (e.source, e.target)
        if not fed_back(pic, e) and not clear(_bezier(a, b, 0.001, 24), boxes, ends, 0.05):
            curve = bend(out.place, e.source, e.target)
            if not curve or not clear(_bezier(a, b, curve, 24), boxes, ends, 0.15):
                rest.append(i)
                continue
            out.bends[i] = curve
        if not fed_back(pic, e):
            closed[e.target].add(_side(boxes[e.target], a))
    grid = Grid(boxes) if rest else None
    for i in rest:
        e = pic.edges[i]
        path = route(grid, e.source, e.target, closed)
        if path is not None:
            out.routes[i] = path
        elif bend(out.place, e.source, e.target):
            out.bends[i] = bend(out.place, e.source, e.target)


def _side(b, point) -> tuple[int, int]:
    """The side of box ``b`` a straight line from its middle to ``point`` leaves by."""
    dx, dy = point[0] - b[0], point[1] - b[1]
    if abs(dx) / b[2] >= abs(dy) / b[3]:
        return (1 if dx > 0 else -1, 0)
    return (0, 1 if dy > 0 else -1)


def drawn(pic, out: Layout, i: int) -> list[tuple[float, float]]:
    """Points along edge ``i`` as it is drawn (a curve sampled), from one end's middle to the other's."""
    e = pic.edges[i]
    a, b = out.place[e.source], out.place[e.target]
    if i in out.loops:
        corners = out.loops[i].points
    elif i in out.routes:
        corners = [a] + out.routes[i] + [b]
    else:
        return [a] + _bezier(a, b, out.bends.get(i, 0.001), 48) + [b]
    points = []
    for p, q in zip(corners, corners[1:]):
        n = max(2, int(abs(q[0] - p[0]) / 0.05 + abs(q[1] - p[1]) / 0.05))
        points += [(p[0] + (q[0] - p[0]) * k / n, p[1] + (q[1] - p[1]) * k / n) for k in range(n)]
    return points + [b]
