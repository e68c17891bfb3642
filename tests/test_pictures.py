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
from symprop.document.graph_layout import ROW, ROW_TALL, _bezier, bend, layout
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
        others = [xy for k, xy in where.place.items() if k not in (e.source, e.target)]
        curve = bend(where.place, e.source, e.target)  # no edge through a vertex it does not join (xₜ → nₜ past rₜ)
        assert abs(x1 - x0) + abs(y1 - y0) > 15 or all(abs(px - x) + abs(py - y) > 0.3 for px, py in _bezier((x0, y0), (x1, y1), curve or 0.001, 24)
                   for x, y in others), e


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
