"""Pictures of the computational graph: Graphviz accepts the DOT of every
shipped spec, the TikZ compiles, the text formats have golden files, and
masha_rnn unrolled and udl_toy are rendered to PNG in the test run."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.document.pictures import picture
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
