"""A path for an edge that neither a straight line nor a gentle curve can draw
clear of the vertices it does not join (a gated cell's hₜ₋₁ → hₜ past its
gates): horizontal and vertical runs on a grid (drawn with rounded corners),
the shortest with the fewest corners, out of a side of the source's box and
into a side of the target's, keeping MARGIN from every other box.  An edge
keeps apart from the paths found before it, unless they leave the same source
(one line that branches).  Geometry only: boxes in, corners out.
"""

import heapq

STEP = 0.15  # cm, the grid's pitch
MARGIN = 0.2  # cm a path keeps from a box
TURN = 1.0  # what a corner costs, in cm of path
ALONG = 1.0  # what a step along another source's path costs, more
ACROSS = 0.2  # what crossing it costs
MAX_CELLS = 60_000  # a larger picture (a long unrolled one) keeps its curves
SIDES = ((1, 0), (0, 1), (-1, 0), (0, -1))

Box = tuple[float, float, float, float]  # middle x, middle y, width, height (cm)
Point = tuple[float, float]


def inside(point: Point, box: Box, margin: float = 0.0) -> bool:
    (x, y), (cx, cy, w, h) = point, box
    return abs(x - cx) < w / 2 + margin and abs(y - cy) < h / 2 + margin


class Grid:
    """The cells round the boxes, which are blocked, and the paths drawn so far."""

    def __init__(self, boxes: dict[str, Box]):
        self.boxes = boxes
        self.x0 = min(cx - w / 2 for cx, _, w, _ in boxes.values()) - 1.5
        self.y0 = min(cy - h / 2 for _, cy, _, h in boxes.values()) - 1.5
        self.nx = int((max(cx + w / 2 for cx, _, w, _ in boxes.values()) + 1.5 - self.x0) / STEP) + 1
        self.ny = int((max(cy + h / 2 for _, cy, _, h in boxes.values()) + 1.5 - self.y0) / STEP) + 1
        self.blocked = set()
        for cx, cy, w, h in boxes.values() if self.small() else ():
            (i0, j0), (i1, j1) = self.cell((cx - w / 2 - MARGIN, cy - h / 2 - MARGIN)), self.cell((cx + w / 2 + MARGIN, cy + h / 2 + MARGIN))
            self.blocked.update((i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)
                                if inside(self.point((i, j)), (cx, cy, w, h), MARGIN))
        self.taken: dict[tuple[int, int], set[tuple[str, int]]] = {}  # cell → (source, axis: 0 along x, 1 along y)

    def small(self) -> bool:
        return self.nx * self.ny <= MAX_CELLS

    def point(self, cell) -> Point:
        return self.x0 + cell[0] * STEP, self.y0 + cell[1] * STEP

    def cell(self, point: Point) -> tuple[int, int]:
        return round((point[0] - self.x0) / STEP), round((point[1] - self.y0) / STEP)

    def ports(self, key: str, closed: set, spread: bool = False) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """The cells just outside each open side of the box, with the side's outward direction:
        the side's middle, and with ``spread`` a quarter of the way to either end too."""
        cx, cy, w, h = self.boxes[key]
        reach = (w / 2 + MARGIN + STEP, h / 2 + MARGIN + STEP)
        shifts = (0.0, -0.25, 0.25) if spread else (0.0,)
        return [(self.cell((cx + dx * reach[0] + dy * f * w, cy + dy * reach[1] + dx * f * h)), (dx, dy))
                for dx, dy in SIDES if (dx, dy) not in closed for f in shifts]

    def cost(self, cell, axis: int, source: str) -> float:
        marks = self.taken.get(cell, set())
        if any(s == source for s, _ in marks):
            return STEP
        return STEP + sum(ALONG if a == axis else ACROSS for s, a in marks)

    def mark(self, cells: list, source: str) -> None:
        for a, b in zip(cells, cells[1:]):
            axis = 0 if a[1] == b[1] else 1
            for d in (-1, 0, 1):  # the cell and its neighbours across: paths one cell apart are too close
                near = (b[0], b[1] + d) if axis == 0 else (b[0] + d, b[1])
                self.taken.setdefault(near, set()).add((source, axis))


def route(grid: Grid, source: str, target: str, closed: dict[str, set]) -> list[Point] | None:
    """The corners of the cheapest path from a side of ``source`` to a side of ``target``
    (sides in ``closed`` left out), or None when there is none or the grid is too large."""
    if not grid.small():
        return None
    goals = {cell: (-dx, -dy) for cell, (dx, dy) in grid.ports(target, closed.get(target, set()), True)}
    tx, ty = grid.cell(grid.boxes[target][:2])
    queue, seen, back = [], {}, {}
    for cell, side in grid.ports(source, closed.get(source, set())):
        if cell not in grid.blocked:
            heapq.heappush(queue, (0.0, 0.0, cell, side))
            seen[cell, side] = 0.0
    while queue:
        _, spent, cell, side = heapq.heappop(queue)
        if goals.get(cell) == side:
            return _corners(grid, _walk(back, cell, side), source, target)
        if spent > seen.get((cell, side), spent):
            continue
        for d in SIDES:
            if d == (-side[0], -side[1]):
                continue
            nxt = (cell[0] + d[0], cell[1] + d[1])
            if nxt in grid.blocked or not (0 <= nxt[0] < grid.nx and 0 <= nxt[1] < grid.ny):
                continue
            total = spent + grid.cost(nxt, 0 if d[1] == 0 else 1, source) + (TURN if d != side else 0.0)
            if total < seen.get((nxt, d), float("inf")):
                seen[nxt, d], back[nxt, d] = total, (cell, side)
                heapq.heappush(queue, (total + STEP * (abs(tx - nxt[0]) + abs(ty - nxt[1])), total, nxt, d))
    return None


def _walk(back: dict, cell, side) -> tuple[list, tuple, tuple]:
    """The path's cells, the side it leaves by and the side it comes in by."""
    cells, last = [cell], side
    while (cell, side) in back:
        cell, side = back[cell, side]
        cells.append(cell)
    return cells[::-1], side, last


def _corners(grid: Grid, walked: tuple, source: str, target: str) -> list[Point]:
    """The path's first cell, its corners and its last, marked taken; the first level with
    the middle of the source's side, so the edge leaves its box square."""
    cells, out, _ = walked
    grid.mark(cells, source)
    keep = [cells[0]] + [b for a, b, c in zip(cells, cells[1:], cells[2:])
                         if (b[0] - a[0], b[1] - a[1]) != (c[0] - b[0], c[1] - b[1])] + [cells[-1]]
    points = [list(grid.point(c)) for c in keep]
    axis = 1 if out[1] == 0 else 0  # the coordinate the side's middle keeps: y for a left or right side
    if len(points) > 2 and points[1][axis] == points[0][axis]:  # the path goes on the same way: that corner too
        points[1][axis] = grid.boxes[source][axis]
    points[0][axis] = grid.boxes[source][axis]
    return [(round(x, 2), round(y, 2)) for x, y in points]
