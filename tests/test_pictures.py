"""Pictures of the computational graph: Graphviz accepts the DOT of every
shipped spec, the TikZ compiles, the text formats have golden files, and
masha_rnn unrolled and udl_toy are rendered to PNG in the test run."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.document.edge_routes import inside
from symprop.document.graph_layout import ROW, ROW_TALL, box, drawn, layout
from symprop.document.pictures import picture, to_tikz
from tests.conftest import DERIVATIONS
from tests.test_documents import compare, engine

GOLDEN = Path(__file__).parent / "golden" / "pictures"
SPECS = sorted(p.stem for p in DERIVATIONS.glob("*.toml"))
VARIANTS = {"plain": [], "grad": ["--grad"], "unrolled": ["--unrolled", "--grad"]}
CASES = [(s, v) for s in SPECS for v in VARIANTS if v != "unrolled" or symprop.load(s).recurrent]


def graph(*args) -> str:
    result = CliRunner().invoke(main, ["graph", *args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


@pytest.mark.parametrize("name,variant", CASES)
@pytest.mark.parametrize("fmt", ["dot", "tikz", "mermaid"])
def test_golden(name, variant, fmt):
    compare(GOLDEN / f"{name}.{variant}.{fmt}", graph(name, "--format", fmt, *VARIANTS[variant]))


@pytest.mark.parametrize("name,variant", CASES)
def test_graphviz_accepts_the_dot(name, variant, tmp_path):
    dot = engine("dot")
    run = subprocess.run([dot, "-Tsvg"], input=graph(name, *VARIANTS[variant]).encode(), capture_output=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr.decode()
    assert b"<svg" in run.stdout and b"Warning" not in run.stderr


def test_svg_format_renders_with_dot():
    engine("dot")
    svg = graph("udl_toy", "--format", "svg")
    assert svg.startswith("<?xml") and "ω₀" in svg


@pytest.mark.parametrize("name,variant", CASES)
def test_tikz_compiles(name, variant, tmp_path):
    pdflatex = engine("pdflatex")
    tikz = graph(name, "--format", "tikz", *VARIANTS[variant])
    doc = ("\\documentclass{article}\n\\pagestyle{empty}\n\\usepackage[T2A,T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
           "\\usepackage{amsmath,amssymb,tikz}\n\\begin{document}\n" + tikz + "\\end{document}\n")
    (tmp_path / "pic.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "pic.tex"], cwd=tmp_path,
                         capture_output=True, timeout=120)
    assert run.returncode == 0, [l for l in run.stdout.decode("utf-8", "replace").splitlines() if l.startswith("!")]


@pytest.mark.parametrize("name,args", [("masha_rnn", ["--unrolled", "--grad"]), ("udl_toy", ["--grad"])])
def test_render_to_png(name, args, tmp_path):
    dot = engine("dot")
    png = tmp_path / f"{name}.png"
    run = subprocess.run([dot, "-Tpng", "-o", str(png)], input=graph(name, *args).encode(), capture_output=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr.decode()
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 400 and height > 150
    keep = os.environ.get("SYMPROP_KEEP_PICTURES")
    if keep:  # to look at them: SYMPROP_KEEP_PICTURES=dir pytest tests/test_pictures.py
        shutil.copy(png, Path(keep) / png.name)


def test_the_cell_feeds_the_state_back_and_marks_shared_weights():
    pic = picture(symprop.load("masha_rnn"))
    assert any(e.delay and e.source == "h[t]" and e.target == "h[t-1]" for e in pic.edges)
    assert {k for k, v in pic.vertices.items() if v.shared} == {"u", "v", "w"}
    unrolled = picture(symprop.load("masha_rnn"), unrolled=True)
    assert {"h[1]", "h[2]", "h[3]", "L"} <= set(unrolled.vertices)
    assert sum(e.source == "w" for e in unrolled.edges) == 3  # one weight, every step


def test_grad_labels_edges_and_nodes_with_numbers():
    dot = graph("udl_toy", "--grad")
    assert '"f2" -> "h3" [label="-sin(f₂)"]' in dot
    assert 'label="f₃\\n∂L = 0.7445"' in dot
    symbolic = graph("masha_backprop", "--grad")
    assert 'label="o₁\\n∂L/∂o₁"' in symbolic and "f'(h₁)" in symbolic


NODE = re.compile(r"\\node\[[^\]]*\] \((n\d+)\) at \((-?[\d.]+),(-?[\d.]+)\)")


def tikz_places(tikz: str) -> dict[str, tuple[float, float]]:
    """The coordinates a TikZ picture sets for its vertices (cm)."""
    return {m.group(1): (float(m.group(2)), float(m.group(3))) for m in NODE.finditer(tikz)}


@pytest.mark.parametrize("name", ["gru", "lstm", "masha_rnn", "dlbook_rnn", "attention", "udl_toy"])
@pytest.mark.parametrize("grad", [False, True])
def test_the_picture_is_compact_and_nothing_sits_on_anything(name, grad):
    """A gated cell fits in a few rows, not the page it took (gru was 9.1 cm, 8 rows, tall: every
    parameter in one column); no two vertices share a place; no edge label sits on a vertex."""
    pic = picture(symprop.load(name), grad=grad)
    tikz = to_tikz(pic)
    places = tikz_places(tikz)
    assert len(places) == len(pic.vertices)
    ys = [y for _, y in places.values()]
    height = max(ys) - min(ys)
    rows = {"gru": 3, "lstm": 7}.get(name, 5)  # gru: Wz… over zₜ, then rₜ and its weights
    bound = rows * (ROW_TALL if grad else ROW) + 0.01
    assert height <= bound, f"{name}: {height:.2f} cm from the top vertex to the bottom one"
    points = sorted(places.values())
    assert all(abs(a[0] - b[0]) > 0.5 or abs(a[1] - b[1]) > 0.5 for a, b in zip(points, points[1:])), points
    assert len(set(points)) == len(points)
    where = layout(pic)
    for i, e in enumerate(pic.edges):  # every label: its middle away from every vertex's middle
        if e.back:
            mid = where.loops[i].label_at
            assert all(mid[1] < y - 0.3 or abs(mid[0] - x) > 0.5 for x, y in places.values()), (e, mid)
            continue
        (x0, y0), (x1, y1) = where.place[e.source], where.place[e.target]
        if e.label:
            mid = ((x0 + x1) / 2, (y0 + y1) / 2)
            assert all(abs(mid[0] - x) > 0.3 or abs(mid[1] - y) > 0.3 for x, y in places.values()), (e, mid)


@pytest.mark.parametrize("name,variant", CASES)
def test_no_drawn_edge_runs_through_a_vertex_it_does_not_join(name, variant):
    """Each edge as TikZ draws it (a straight line, a curve, a path of runs, the loop under the picture),
    sampled every few millimetres: no point inside the box of a vertex it does not join (gru's hₜ₋₁ → hₜ
    bent past zₜ)."""
    pic = picture(symprop.load(name), grad=variant != "plain", unrolled=variant == "unrolled")
    where = layout(pic)
    boxes = {k: box(pic, k, where.place) for k in pic.vertices}
    for i, e in enumerate(pic.edges):
        points = drawn(pic, where, i)
        assert len(points) > 10
        hits = {k for p in points for k, b in boxes.items() if k not in (e.source, e.target) and inside(p, b)}
        assert not hits, (e.source, e.target, hits)


BOX = re.compile(r"BOX (n\d+) (-?[\d.]+)pt (-?[\d.]+)pt (-?[\d.]+)pt (-?[\d.]+)pt")


@pytest.mark.parametrize("name", ["gru", "lstm", "masha_rnn", "batchnorm"])
def test_the_boxes_the_layout_keeps_clear_hold_the_boxes_tikz_draws(name, tmp_path):
    """The test above is only as good as ``box``: TikZ's own corners of every node (with adjoints, the
    taller boxes) lie within it, give or take half a millimetre."""
    pdflatex = engine("pdflatex")
    pic = picture(symprop.load(name), grad=True)
    where = layout(pic)
    tikz = to_tikz(pic)
    report = "".join(rf"\pgfpointanchor{{n{i}}}{{north east}}\pgfgetlastxy{{\xa}}{{\ya}}"
                     rf"\pgfpointanchor{{n{i}}}{{south west}}\pgfgetlastxy{{\xb}}{{\yb}}"
                     rf"\typeout{{BOX n{i} \xa\space\ya\space\xb\space\yb}}" for i in range(len(pic.vertices)))
    doc = ("\\documentclass{article}\n\\usepackage[T2A,T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
           "\\usepackage{amsmath,amssymb,tikz}\n\\begin{document}\n"
           + tikz.replace("\\end{tikzpicture}", report + "\n\\end{tikzpicture}") + "\\end{document}\n")
    (tmp_path / "pic.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([pdflatex, "-interaction=nonstopmode", "pic.tex"], cwd=tmp_path, capture_output=True,
                         timeout=120)
    found = {m.group(1): [float(m.group(k)) / 28.45274 for k in range(2, 6)]
             for m in BOX.finditer(run.stdout.decode("utf-8", "replace"))}
    assert len(found) == len(pic.vertices)
    for i, key in enumerate(pic.vertices):
        (east, north, west, south), (x, y, w, h) = found[f"n{i}"], box(pic, key, where.place)
        assert east - west <= w + 0.05 and north - south <= h + 0.05, (key, east - west, w, north - south, h)
        assert abs((east + west) / 2 - x) < 0.05 and abs((north + south) / 2 - y) < 0.05, key


def test_a_gated_cells_skip_edges_run_round_its_gates():
    """gru: hₜ₋₁ → hₜ, hₜ₋₁ → nₜ and xₜ → nₜ would cross the gates: each runs as horizontal and vertical
    runs; the state fed back runs under them."""
    pic = picture(symprop.load("gru"))
    where = layout(pic)
    routed = {(pic.edges[i].source, pic.edges[i].target) for i in where.routes}
    assert {("h[t-1]", "h[t]"), ("h[t-1]", "n[t]"), ("x[t]", "n[t]")} <= routed
    for path in where.routes.values():
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in zip(path, path[1:]))
    loop = next(route for route in where.loops.values())
    assert min(y for _, y in loop.points) < min(y for path in where.routes.values() for _, y in path) - 0.3
    assert "rounded corners" in to_tikz(pic) and "bend" not in to_tikz(pic)


def test_a_gate_and_its_weights_are_one_group():
    """gru: Wz, Uz, bz in one row next to zₜ (over or under it), the gates zₜ and rₜ in one column,
    xₜ and hₜ₋₁ left of them; the state fed back runs under every vertex."""
    pic = picture(symprop.load("gru"))
    where = layout(pic).place
    z, r = where["z[t]"], where["r[t]"]
    assert z[0] == r[0]
    for gate, weights in (("z[t]", ("W_z", "U_z", "b_z")), ("r[t]", ("W_r", "U_r", "b_r")), ("n[t]", ("W_n", "U_n", "b_n"))):
        rows = {where[w][1] for w in weights}
        assert len(rows) == 1 and 0.5 < abs(rows.pop() - where[gate][1]) < 1.5
        assert all(abs(where[w][0] - where[gate][0]) < 1.5 for w in weights)
    assert where["x[t]"][0] < z[0] and where["h[t-1]"][0] < z[0]
    loop = next(route for i, route in layout(pic).loops.items() if pic.edges[i].delay)
    assert min(y for _, y in loop.points[1:-1]) < min(y for _, y in where.values())


def test_a_large_cell_reads_the_previous_state_with_dashed_edges(monkeypatch):
    """Above the scalar cap the picture comes from the equations: hₜ₋₁ is read (dashed), not fed back
    under the picture; every vertex has a place."""
    import symprop.evaluate.scalar as scalar

    monkeypatch.setattr(scalar, "MAX_SCALAR_TERMS", 0)
    for name in ("masha_rnn", "gru", "lstm"):
        pic = picture(symprop.load(name))
        tikz = to_tikz(pic)
        assert len(tikz_places(tikz)) == len(pic.vertices) and not layout(pic).loops
        assert tikz.count("dashed") == sum(e.delay for e in pic.edges) > 0


def test_dot_and_mermaid_group_the_gates_of_one_depth():
    """The gates that read the same inputs stand in one column, as in the TikZ layout: DOT ranks them
    together, Mermaid boxes them (titled in the picture's language); a graph without gates has no group."""
    assert '  {rank=same; "z[t]"; "r[t]";}\n' in graph("gru")
    assert '  {rank=same; "f[t]"; "i[t]"; "g[t]"; "o[t]";}\n' in graph("lstm")
    mermaid = graph("gru", "--format", "mermaid")
    ids = dict(re.findall(r'^  (n\d+)\("(\w+)"\)$', mermaid, re.M))
    block = re.search(r'^  subgraph g0 \["in parallel"\]\n((?:    n\d+\n)+)  end\n', mermaid, re.M)
    assert block and sorted(ids[n] for n in block.group(1).split()) == ["rₜ", "zₜ"]
    assert mermaid.count("subgraph") == 1 and mermaid.index("  end\n") < mermaid.index("-->")
    assert 'subgraph g0 ["параллельно"]' in graph("lstm", "--format", "mermaid", "--lang", "ru")
    unrolled = graph("gru", "--unrolled")
    assert unrolled.count("rank=same") == 3 and '{rank=same; "z[3]"; "r[3]";}' in unrolled  # each step's gates
    for name in ("udl_toy", "masha_rnn"):
        assert "rank=same" not in graph(name) and "subgraph" not in graph(name, "--format", "mermaid")
