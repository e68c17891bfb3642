"""Pictures of the computational graph, drawn from the graph symprop differentiates.

One node a named value (a parameter, an input, a computed value, the loss),
one edge a dependency.  With ``grad`` each edge carries its local
derivative and each node its adjoint dL/dnode (a number when the problem has
values).  A recurrent model is drawn as its cell, with the state fed back
from step t-1, or unrolled over its steps, the shared weights marked.  The
few words a picture shows ("(shared)") come from the string tables, in the
document's language.

Python writes text only: DOT (Graphviz renders it: ``dot -Tsvg``), TikZ (for
pdflatex) and Mermaid (for Markdown).
"""

import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np
from sympy import Symbol

from ..derive.backprop import derivation_of
from ..derive.graph import graph_of
from ..derive.program import Op, leaves_of, program_of, step_key
from ..errors import SympropError
from ..evaluate.arrays import Machine
from ..evaluate.numeric import step_of
from ..evaluate.scalar import too_large
from ..model.kinds import Role
from ..model.notation import DEFAULT, Notation
from ..model.spec import LOSS
from .graph_layout import groups, layout
from .printing import TextPrinter, adjoint_name, unicode_name
from .render.latex_printer import SympropLatexPrinter, adjoint_latex, latex_name
from .strings import LANGUAGES, phrase


@dataclass
class Vertex:
    key: str
    kind: Role
    adjoint: str = ""  # text of dL/dkey (number or symbol), with grad
    adjoint_latex: str = ""
    shared: bool = False


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    label_latex: str = ""
    delay: bool = False  # the state fed back from the previous step
    back: bool = False  # drawn from the state hₜ back to its copy hₜ₋₁ (a cell's picture), not a read of hₜ₋₁


@dataclass
class Picture:
    vertices: dict[str, Vertex] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    index_base: int = 0
    sequences: frozenset = frozenset()
    lang: str = "en"  # the language of the words the picture shows
    notation: Notation = DEFAULT  # [notation]: h⁽ᵗ⁾, ∇

    def word(self, key: str, **places: str) -> str:
        """A phrase from the string tables, its {places} filled in."""
        text = phrase(self.lang, key)
        for name, value in places.items():
            text = text.replace("{" + name + "}", value)
        return text

    def vertex_label(self, key: str, v: "Vertex") -> str:
        """The vertex's name, marked when it is a weight shared by every step."""
        name = self.text_name(key)
        return self.word("picture_shared", name=name) if v.shared else name

    def text_name(self, key: str) -> str:
        return unicode_name(key, self.index_base, self.sequences, self.notation)

    def latex_name(self, key: str) -> str:
        return latex_name(key, self.index_base, self.sequences, self.notation)


def _owner(graph, quantities) -> dict[Symbol, str]:
    owner = {}
    for key, q in quantities.items():
        for s in q.symbols():
            owner[s] = key
    return owner


def _language(problem, lang: str | None) -> str:
    lang = lang or problem.lang
    if lang not in LANGUAGES:
        raise SympropError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    return lang


MAX_PICTURE = 2_000  # vertices of an unrolled picture (about 500 steps of a small cell)


def _check_size(problem, program, unrolled: bool) -> None:
    """Refuse, before anything is built, an unrolled picture with more vertices than
    MAX_PICTURE: one a cell line and one a sequence read, each step.  (A cell's
    picture is as long as the spec's equations.)"""
    if not (unrolled and program.recurrent):
        return
    sequences = sum(leaf.kind == Role.SEQUENCE for leaf in program.leaves.values())
    per_step = len(program.cell) + sequences
    size = program.steps * per_step + len(program.before) + len(program.after) + len(program.leaves) - sequences + 1
    if size > MAX_PICTURE:
        raise SympropError(f"model.steps: an unrolled picture of {program.steps} steps has {size} nodes "
                           f"(the limit is {MAX_PICTURE}; draw the cell without --unrolled)", where=problem.origin)


def picture(problem, grad: bool = False, unrolled: bool = False, numbers=None, lang: str | None = None) -> Picture:
    """The graph at the level of named values (a matrix is one vertex); its
    words in ``lang`` (default: the problem's); with ``grad``, each adjoint's
    number from ``numbers`` (a pass's ``numeric.Step``) where given."""
    lang = _language(problem, lang)
    program = program_of(problem)
    _check_size(problem, program, unrolled)
    if too_large(program, "the scalar graph holds problems"):
        return _program_picture(program, grad, unrolled, numbers, lang)
    graph = graph_of(problem)
    pic = Picture(index_base=problem.conventions.index_base, sequences=problem.sequences | {LOSS}, lang=lang,
                  notation=problem.notation)
    cell_view = graph.cell is not None and not unrolled
    if cell_view:
        quantities = {**{k: q for k, q in graph.quantities.items() if q.kind == Role.PARAM},
                      **graph.cell.quantities}
    else:
        quantities = graph.quantities
    _scalar_edges(problem, pic, quantities, cell_view, grad)
    used = {e.source for e in pic.edges} | {e.target for e in pic.edges}
    for key, q in quantities.items():
        if key not in used:
            continue
        v = Vertex(key, q.kind, shared=graph.cell is not None and q.kind == Role.PARAM)
        if grad and q.kind in (Role.NODE, Role.LOSS, Role.PARAM) and key != LOSS:
            _label_adjoint(v, pic, numbers if not cell_view else None, q.name if q.kind == Role.PARAM else key)
        pic.vertices[key] = v
    if cell_view:
        for key, q in graph.cell.quantities.items():
            if q.kind == Role.INPUT and q.name in graph.cell.states and key in pic.vertices:
                pic.edges.append(Edge(f"{q.name}[t]", key, "t → t+1", r"t \to t+1", delay=True, back=True))
    return pic


def _scalar_edges(problem, pic: Picture, quantities: dict, cell_view: bool, grad: bool) -> None:
    """The edges between named values of the scalar graph, each once; with
    ``grad``, a scalar edge labelled with its local derivative."""
    graph, d = graph_of(problem), derivation_of(problem)
    nodes, local = (graph.cell.nodes, d.cell_local) if cell_view else (graph.nodes, d.local)
    text = TextPrinter(pic.index_base, problem.sequences, problem.notation)
    tex = SympropLatexPrinter(pic.index_base, problem.sequences, problem.notation)
    owner = _owner(graph, quantities)
    for n in nodes:
        target = n.key
        for parent in local[n.symbol]:
            source = owner.get(parent)
            if source is None or source == target:
                continue
            if any(e.source == source and e.target == target for e in pic.edges):
                continue
            edge = Edge(source, target)
            q_src, q_dst = quantities[source], quantities[target]
            if grad and q_src.kind != Role.INPUT and q_src.shape is None and q_dst.shape is None:
                derivative = local[n.symbol][parent]
                edge.label, edge.label_latex = text.doprint(derivative), tex.doprint(derivative)
            pic.edges.append(edge)


def _program_picture(program, grad: bool, unrolled: bool, numbers, lang: str) -> Picture:
    """The picture of a problem too large to expand: from the equations, with
    adjoints (numbers or symbols) but without local derivatives on the edges."""
    problem = program.problem
    pic = Picture(index_base=problem.conventions.index_base, sequences=problem.sequences | {LOSS}, lang=lang,
                  notation=problem.notation)
    cell_view = program.recurrent and not unrolled
    kinds = {}
    for target, expr, t in _instances(program, cell_view):
        kinds[target] = Role.LOSS if target == LOSS or target.startswith(LOSS + "[") else Role.NODE
        for ref in leaves_of(expr):
            source = _source_key(ref, t, cell_view)
            leaf = program.leaves.get(ref.name) or program.leaves.get(source)
            kinds.setdefault(source, (Role.INPUT if leaf.kind == Role.SEQUENCE else leaf.kind) if leaf else Role.NODE)
            if not any(e.source == source and e.target == target for e in pic.edges):
                pic.edges.append(Edge(source, target, delay=cell_view and (ref.step or 0) < 0))
    for key, kind in kinds.items():
        v = Vertex(key, kind, shared=program.recurrent and kind == Role.PARAM)
        if grad and kind in (Role.NODE, Role.PARAM) and key != LOSS:
            _label_adjoint(v, pic, numbers if not cell_view else None, key)
        pic.vertices[key] = v
    return pic


def _instances(program, cell_view: bool) -> list[tuple]:
    """Each drawn line as (key, expression, step): the cell once in the cell's
    view (step None), or once a step unrolled."""
    instances = [(line.key, line.expr, None) for line in program.before]
    steps = [None] if cell_view else range(1, (program.steps or 0) + 1)
    for t in steps:
        instances += [(step_key(line.key, 0) if t is None else f"{line.key}[{t}]", line.expr, t)
                      for line in program.cell]
    instances += [(line.key, line.expr, None) for line in program.after]
    if program.loss.expr is not None:
        instances.append((LOSS, program.loss.expr, None))
    else:
        instances += [(LOSS, Op("leaf", name=LOSS, step=None if cell_view else 0), t) for t in steps]
    return instances


def _source_key(ref, t, cell_view: bool) -> str:
    """The vertex a leaf of a drawn line reads: h[t-1] in the cell's view, h[2] unrolled, W as it is."""
    if ref.op == "at" or t is None and ref.step is not None and not cell_view:
        return f"{ref.name}[{ref.step}]"
    if ref.step is None:
        return ref.name
    if t is None:
        return step_key(ref.name, ref.step)
    return f"{ref.name}[{t + ref.step}]"


def _label_adjoint(v: Vertex, pic: Picture, numbers, key: str) -> None:
    """The vertex's ∂L/∂key: its number when there are numbers, else the symbol."""
    if numbers is not None:
        value = (numbers.gradients if v.kind == Role.PARAM else numbers.adjoints).get(key)
        if value is not None:
            v.adjoint = v.adjoint_latex = _short(value)
        return
    v.adjoint = adjoint_name(key, pic.index_base, pic.sequences, pic.notation)
    v.adjoint_latex = adjoint_latex(key, pic.index_base, pic.sequences, pic.notation)


def _short(value) -> str:
    if isinstance(value, np.ndarray) and value.size > 64:
        return f"{value.shape[0]}×{value.shape[1]}, |·|max {np.max(np.abs(value)):.3g}"
    if isinstance(value, np.ndarray):
        return "[" + ", ".join(f"{x:.3g}" for x in value.ravel()) + "]"
    return f"{float(value):.4g}"


# DOT -------------------------------------------------------------------------------

SHAPES = {
    "param": 'shape=box, style="rounded,filled", fillcolor="#dbe9f6"',
    "input": 'shape=ellipse, style=filled, fillcolor="#f3f3f3"',
    "initial": 'shape=ellipse, style="dashed"',
    "node": "shape=ellipse",
    "loss": 'shape=doublecircle, style=filled, fillcolor="#fbe3d6"',
}


DOT_NEWLINE = "\\n"  # a line break inside a DOT label


def _adjoint_text(adjoint: str) -> str:
    """A node's adjoint: ∂L/∂f₃ when symbolic, ∂L = 0.745 when a number."""
    return adjoint if adjoint.startswith(("∂", "∇")) else f"∂L = {adjoint}"


def _dot_id(key: str) -> str:
    return '"' + key.replace('"', "'") + '"'


def _dot_text(text: str) -> str:
    """Text inside a quoted DOT string: backslashes and quotes escaped, a line break as a space."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def to_dot(pic: Picture, title: str = "") -> str:
    lines = ["digraph symprop {", "  rankdir=LR;", '  node [fontname="DejaVu Sans"];',
             '  edge [fontname="DejaVu Sans", fontsize=10];']
    if title:
        lines.append(f'  label="{_dot_text(title)}"; labelloc=t;')
    for key, v in pic.vertices.items():
        label = pic.vertex_label(key, v)
        parts = [label] + ([_adjoint_text(v.adjoint)] if v.adjoint else [])
        text = DOT_NEWLINE.join(_dot_text(x) for x in parts)
        lines.append(f'  {_dot_id(key)} [label="{text}", {SHAPES[v.kind]}];')
    for keys in groups(pic):  # the gates of one depth in one column, as in the TikZ layout
        lines.append("  {rank=same; " + " ".join(_dot_id(k) + ";" for k in keys) + "}")
    for e in pic.edges:
        attrs = []
        if e.label:
            attrs.append(f'label="{_dot_text(e.label)}"')
        if e.delay:
            attrs += ["style=dashed", "constraint=false"]
        attr = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_dot_id(e.source)} -> {_dot_id(e.target)}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_with_dot(dot_text: str, fmt: str = "svg") -> bytes:
    """Graphviz's rendering of DOT text (``dot`` from Debian's graphviz)."""
    dot = shutil.which("dot")
    if dot is None:
        raise SympropError("Graphviz is not installed: 'dot' renders the picture (apt-get install graphviz)")
    run = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True, timeout=60)
    if run.returncode != 0:
        raise SympropError(f"dot failed: {run.stderr.decode('utf-8', 'replace').strip().splitlines()[0]}")
    return run.stdout


# TikZ -------------------------------------------------------------------------------

TIKZ_STYLES = {  # plain TikZ: no library needed
    "param": "draw, fill=blue!8",
    "input": "draw, rounded corners=7pt, fill=black!4",
    "initial": "draw, rounded corners=7pt, dashed",
    "node": "draw, rounded corners=7pt",
    "loss": "draw, double, circle, fill=orange!12",
}


def _at(point: tuple[float, float]) -> str:
    return f"({point[0]:g},{point[1]:g})"


def to_tikz(pic: Picture) -> str:
    """Plain TikZ at the coordinates ``graph_layout`` computes; a delayed edge under the picture."""
    where = layout(pic)
    ids = {key: f"n{i}" for i, key in enumerate(pic.vertices)}
    lines = [r"\begin{tikzpicture}[>=stealth, every node/.style={font=\small}]"]
    for key, v in pic.vertices.items():
        label = "$" + pic.latex_name(key) + "$"
        if v.adjoint_latex:
            label += r"\\ \scriptsize $" + (v.adjoint_latex if v.adjoint_latex[0] == "\\"
                                           else r"\partial L: " + v.adjoint_latex) + "$"
        x, y = where.place[key]
        lines.append(rf"  \node[{TIKZ_STYLES[v.kind]}, align=center] ({ids[key]}) at {_at((round(x, 2), round(y, 2)))} {{{label}}};")
    for i, e in enumerate(pic.edges):
        loop = where.loops.get(i)
        if loop is not None:
            corners = " -- ".join(_at((round(x, 2), round(y, 2))) for x, y in loop.points[1:-1])
            lines.append(rf"  \draw[->, dashed] ({ids[e.source]}) -- {corners} -- ({ids[e.target]});")
            if e.label_latex:
                lines.append(rf"  \node[anchor={loop.anchor}, font=\scriptsize] at {_at(loop.label_at)} {{${e.label_latex}$}};")
            continue
        style = "->, dashed" if e.delay else "->"  # dashed: a read of step t-1
        if i in where.routes:
            lines.append(_routed(e, ids, where.place, where.routes[i], style))
            continue
        upright = abs(where.place[e.source][0] - where.place[e.target][0]) < 1  # from a parameter over it
        side = "right" if upright else "above, sloped"
        label = (rf" node[midway, {side}, font=\scriptsize, fill=white, inner sep=1pt] {{${e.label_latex}$}}"
                 if e.label_latex else "")
        curve = where.bends.get(i, 0)
        style += f", bend {'left' if curve > 0 else 'right'}={abs(curve)}" if curve else ""
        lines.append(rf"  \draw[{style}] ({ids[e.source]}) to{label} ({ids[e.target]});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines) + "\n"


def _routed(e: Edge, ids: dict, place: dict, corners: list, style: str) -> str:
    """An edge along its runs, the corners rounded, square into the side of its target it comes
    in by (not to its middle: two edges come into one side apart); its label over its longest run."""
    points = [place[e.source]] + corners + [place[e.target]]
    longest = max(range(len(points) - 1), key=lambda k: abs(points[k + 1][0] - points[k][0])
                  + abs(points[k + 1][1] - points[k][1]))
    (x, y), (tx, ty) = corners[-1], place[e.target]
    side = ("north" if y > ty else "south") if abs(y - ty) > abs(x - tx) else ("east" if x > tx else "west")
    parts = [f"({ids[e.source]})"] + [_at(p) for p in corners] + [f"({ids[e.target]}.{side} {'-|' if side in ('north', 'south') else '|-'} {x:g},{y:g})"]
    if e.label_latex:
        side = "above" if points[longest][1] == points[longest + 1][1] else "right"
        parts[longest + 1] += rf" node[midway, {side}, font=\scriptsize, fill=white, inner sep=1pt] {{${e.label_latex}$}}"
    return rf"  \draw[{style}, rounded corners=4pt] " + " -- ".join(parts) + ";"


# Mermaid ----------------------------------------------------------------------------

def to_mermaid(pic: Picture) -> str:
    ids = {key: f"n{i}" for i, key in enumerate(pic.vertices)}
    shapes = {"param": ('["', '"]'), "input": ('(["', '"])'), "initial": ('(["', '"])'),
              "node": ('("', '")'), "loss": ('(("', '"))')}
    lines = ["flowchart LR"]
    for key, v in pic.vertices.items():
        label = pic.vertex_label(key, v)
        if v.adjoint:
            label += "<br/>" + _adjoint_text(v.adjoint)
        left, right = shapes[v.kind]
        lines.append(f"  {ids[key]}{left}{label.replace(chr(34), chr(39))}{right}")
    for n, keys in enumerate(groups(pic)):  # the gates of one depth in one box, as in the TikZ layout's column
        lines += [f'  subgraph g{n} ["{pic.word("picture_group")}"]'] + [f"    {ids[k]}" for k in keys] + ["  end"]
    for e in pic.edges:
        arrow = "-.->" if e.delay else "-->"
        label = f'|"{e.label.replace(chr(34), chr(39))}"|' if e.label else ""
        lines.append(f"  {ids[e.source]} {arrow}{label} {ids[e.target]}")
    return "\n".join(lines) + "\n"


def _first_pass(problem):
    """The numbers of the first forward and backward pass (the first batch's),
    without the checks a solve runs."""
    program = program_of(problem)
    values = problem.first_values()
    return step_of(program, Machine(program, problem.conventions.relu_grad_at_zero).run(values), None)


def draw(problem, fmt: str, grad: bool = False, unrolled: bool = False, lang: str | None = None) -> str | bytes:
    """The picture in ``fmt``, its words in ``lang`` (default: the problem's)."""
    lang = _language(problem, lang)
    _check_size(problem, program_of(problem), unrolled)  # before the numbers are computed
    numbers = _first_pass(problem) if grad and problem.values else None
    pic = picture(problem, grad=grad, unrolled=unrolled, numbers=numbers, lang=lang)
    if fmt == "dot":
        return to_dot(pic)
    if fmt == "svg":
        return render_with_dot(to_dot(pic), "svg").decode("utf-8")
    if fmt == "tikz":
        return to_tikz(pic)
    if fmt == "mermaid":
        return to_mermaid(pic)
    raise SympropError(f"unknown picture format {fmt!r}")

