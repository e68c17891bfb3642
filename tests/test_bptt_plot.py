"""The picture of BPTT: |∂L/∂hₜ| (‖∂L/∂hₜ‖) of every recurrent state over t on a
log scale.  The plotted numbers equal an independent computation (seed 000's
ReLU cell by hand, the Deep Learning book's tanh RNN and the LSTM with PyTorch
autograd, retain_grad on every state); the plot is in masha_rnn's and
dlbook_rnn's worked solutions in every format and language; ``symprop graph
--norms`` draws it as SVG and PGFPlots, and refuses a model with no state."""

import math
import re
import subprocess
import tomllib
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.document.blocks import Plot, Series
from symprop.document.plots import tick_labels, to_svg, x_ticks, y_ticks
from symprop.errors import SympropError
from tests.conftest import DERIVATIONS
from tests.test_documents import engine

LANGS = ("en", "ru", "zh")
FORMATS = ("text", "latex", "myst", "markdown")



def assert_compiles(pdflatex: str, tikz: str, tmp_path) -> None:
    """The plot in a minimal document with PGFPlots compiles."""
    doc = ("\\documentclass{article}\n\\usepackage{amsmath,pgfplots}\n\\pgfplotsset{compat=1.16}\n"
           "\\begin{document}\n" + tikz + "\\end{document}\n")
    (tmp_path / "plot.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "plot.tex"], cwd=tmp_path,
                         capture_output=True, timeout=120)
    assert run.returncode == 0, run.stdout.decode("utf-8", "replace")[-2000:]


def values(name: str) -> dict:
    return tomllib.loads((DERIVATIONS / f"{name}.toml").read_text("utf-8"))["values"]


def masha_by_hand() -> list[float]:
    """Seed 000's cell h_t = relu(w h_{t-1} + v y_{t-1}), ŷ_t = relu(u h_t), L = Σ (y_t - ŷ_t)²:
    the total ∂L/∂h_t by hand, relu'(0) = 0."""
    v = values("masha_rnn")
    u, vv, w, y = v["u"], v["v"], v["w"], v["y"]
    h, pre_h, pre_y, yhat = [0.0], [None], [None], [None]
    for t in range(1, 4):
        pre_h.append(w * h[t - 1] + vv * y[t - 1])
        h.append(max(pre_h[t], 0.0))
        pre_y.append(u * h[t])
        yhat.append(max(pre_y[t], 0.0))
    step = lambda z: 1.0 if z > 0 else 0.0  # noqa: E731
    dh = [0.0] * 5
    for t in range(3, 0, -1):
        later = dh[t + 1] * step(pre_h[t + 1]) * w if t < 3 else 0.0
        dh[t] = 2 * (yhat[t] - y[t]) * step(pre_y[t]) * u + later
    return [abs(x) for x in dh[1:4]]


def dlbook_by_torch() -> list[float]:
    v = {k: torch.tensor(x, dtype=torch.float64, requires_grad=k not in "xy") for k, x in values("dlbook_rnn").items()}
    h, states, loss = torch.zeros(2, dtype=torch.float64), [], 0.0
    for t in range(1, 4):
        h = torch.tanh(v["b"] + v["W"] @ h + v["U"] @ v["x"][t])
        h.retain_grad()
        states.append(h)
        loss = loss - (v["y"][t] * torch.log_softmax(v["c"] + v["V"] @ h, 0)).sum()
    loss.backward()
    return [float(s.grad.norm()) for s in states]


def lstm_by_torch() -> dict[str, list[float]]:
    v = {k: torch.tensor(x, dtype=torch.float64, requires_grad=k not in "xy") for k, x in values("lstm").items()}
    h, c = torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    hs, cs, loss = [], [], 0.0
    for t in range(1, 4):
        z = torch.cat([v["x"][t], h])
        f, i = torch.sigmoid(v["W_f"] @ z + v["b_f"]), torch.sigmoid(v["W_i"] @ z + v["b_i"])
        g, o = torch.tanh(v["W_g"] @ z + v["b_g"]), torch.sigmoid(v["W_o"] @ z + v["b_o"])
        c = f * c + i * g
        h = o * torch.tanh(c)
        c.retain_grad()
        h.retain_grad()
        cs.append(c)
        hs.append(h)
        loss = loss + ((v["V"] @ h + v["b_y"] - v["y"][t]) ** 2).sum() / 2
    loss.backward()
    return {"c": [float(s.grad.norm()) for s in cs], "h": [float(s.grad.norm()) for s in hs]}


def graph(*args):
    return CliRunner().invoke(main, ["graph", *args])


def plotted(tikz: str) -> list[list[tuple[int, float]]]:
    """The coordinates of every drawn line of a PGFPlots axis (not the hollow marks of a 0)."""
    lines = [m for m in re.findall(r"\\addplot\[([^\]]*)\] coordinates \{([^}]*)\}", tikz) if "only marks" not in m[0]]
    return [[(int(t), float(x)) for t, x in re.findall(r"\((\d+),([^)]+)\)", body)] for _, body in lines]


def test_masha_rnn_norms_are_the_hand_computed_ones():
    expected = masha_by_hand()
    assert expected == pytest.approx([0.625, 1.25, 0.0])
    assert symprop.load("masha_rnn").solve()["state_adjoint_norms"] == {"h": pytest.approx(expected)}
    result = graph("masha_rnn", "--norms", "--format", "tikz")
    assert result.exit_code == 0, result.output
    [line] = plotted(result.stdout)
    assert line[:2] == [(1, pytest.approx(0.625)), (2, pytest.approx(1.25))]
    assert math.isnan(line[2][1])  # 0 has no place on a log scale: the line stops
    assert r"\addplot[" in result.stdout and "only marks, mark=o" in result.stdout  # drawn hollow on the edge


def test_dlbook_rnn_and_lstm_norms_are_pytorch_autograds():
    dlbook = symprop.load("dlbook_rnn").solve()["state_adjoint_norms"]
    assert dlbook == {"h": pytest.approx(dlbook_by_torch(), rel=1e-12)}
    lstm = symprop.load("lstm").solve()["state_adjoint_norms"]
    by_torch = lstm_by_torch()
    assert lstm.keys() == {"c", "h"}
    for state in ("c", "h"):
        assert lstm[state] == pytest.approx(by_torch[state], rel=1e-12)
    result = graph("lstm", "--norms", "--format", "tikz")
    lines = plotted(result.stdout)
    assert [[x for _, x in line] for line in lines] == [pytest.approx(by_torch["c"], rel=1e-5),
                                                       pytest.approx(by_torch["h"], rel=1e-5)]


def test_the_sentence_says_the_computed_factor_a_step_back():
    norms = dlbook_by_torch()
    factor = (norms[0] / norms[2]) ** 0.5  # from t = 3 back to t = 1, two steps
    text = " ".join(symprop.load("dlbook_rnn").solution().document("text").split())  # unwrapped
    assert f"a factor of {factor:.4f} a step on average" in text
    masha = " ".join(symprop.load("masha_rnn").solution().document("text", lang="en").split())
    assert "from 1.25 to 0.625: a factor of 0.5 a step" in masha  # t = 3 is 0: from t = 2 back
    assert "|∂L/∂hₜ| is 0 at t = 3" not in masha  # the caption says so, and text has no plot


@pytest.mark.parametrize("name", ["masha_rnn", "dlbook_rnn"])
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_plot_is_in_every_format_and_language(name, lang, fmt):
    text = symprop.load(name).solution().document(fmt, lang=lang)
    name_text = "|∂L/∂hₜ|" if name == "masha_rnn" else "‖∇_h⁽ᵗ⁾ L‖"  # dlbook_rnn in seed 004's notation
    intro = {"en": "How large the derivative", "ru": "Насколько велика производная", "zh": "导数有多大"}[lang]
    assert intro in text
    if fmt == "latex":
        assert text.count(r"\begin{axis}[ymode=log") == 1
        caption = {"en": "on a log scale", "ru": "логарифмическая шкала", "zh": "对数坐标"}[lang]
        assert caption in text
    elif fmt in ("myst", "markdown"):
        svg = text[text.index("<svg"):text.index("</svg>") + 6]
        root = ET.fromstring(svg)
        alt = {"en": "A line plot on a log scale", "ru": "График на логарифмической шкале", "zh": "对数坐标折线图"}[lang]
        assert root.get("role") == "img" and root.get("aria-label").startswith(alt)
        assert root.find("{http://www.w3.org/2000/svg}title").text == root.get("aria-label")
        assert re.search("<figcaption>[^<]*" + re.escape(name_text), text)
        assert "\n\n" not in text[text.index("<figure>"):text.index("</figure>")]  # one HTML block
    else:
        assert re.search(r"^ +t +" + re.escape(name_text) + "$", text, re.M)  # the table of the numbers


def test_the_latex_document_loads_pgfplots_only_with_a_plot():
    with_plot = symprop.load("masha_rnn").solution().document("latex", standalone=True)
    assert r"\usepackage{pgfplots}" in with_plot
    without = symprop.load("udl_toy").solution().document("latex", standalone=True)
    assert "pgfplots" not in without
    assert "<svg" not in symprop.load("udl_toy").solution().document("markdown")


def test_graph_norms_svg_is_an_svg_file_with_its_alt_text():
    result = graph("lstm", "--norms", "--lang", "ru")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')
    root = ET.fromstring(result.stdout.encode("utf-8"))
    assert root.get("aria-label").startswith("График на логарифмической шкале по t = 1, 2, 3: ‖∂L/∂cₜ‖ принимает значения")
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "‖∂L/∂cₜ‖" in texts and "‖∂L/∂hₜ‖" in texts  # the legend: two series
    assert graph("lstm", "--norms", "--lang", "ru").stdout == result.stdout  # the same bytes every time


def test_graph_norms_tikz_compiles_with_pdflatex(tmp_path):
    pdflatex = engine("pdflatex")
    tikz = graph("dlbook_rnn", "--norms", "--format", "tikz").stdout
    assert tikz.startswith("% \\usepackage{pgfplots}")
    assert_compiles(pdflatex, tikz, tmp_path)


def test_graph_norms_of_a_model_with_no_state_is_one_line_and_exit_1():
    result = graph("udl_toy", "--norms")
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "udl_toy.toml" in line and "no hidden state" in line


@pytest.mark.parametrize("args", [["--format", "dot"], ["--format", "mermaid"], ["--grad"], ["--unrolled"]])
def test_graph_norms_with_a_graph_option_is_a_usage_error(args):
    result = graph("masha_rnn", "--norms", *args)
    assert result.exit_code == 2 and "--norms" in result.stderr


def test_api_draw_norms_checks_its_arguments():
    from symprop import api

    problem = api.load_spec(DERIVATIONS / "masha_rnn.toml")
    assert api.draw_norms(problem, "svg", "zh").count("<svg") == 1
    with pytest.raises(SympropError, match="fmt must be one of svg, tikz"):
        api.draw_norms(problem, "dot")
    with pytest.raises(SympropError, match="no hidden state"):
        api.draw_norms(api.load_spec(DERIVATIONS / "udl_toy.toml"), "svg")


def _plot(*series: list[float]) -> Plot:
    return Plot([Series(f"s{i}", list(enumerate(s, start=1))) for i, s in enumerate(series)], "y", None, "alt", None)


def test_log_ticks_cover_the_values():
    assert [text for text, _ in tick_labels(y_ticks(_plot([0.625, 1.25, 0.0])))] == ["0.5", "1", "2"]
    wide = y_ticks(_plot([3e-7, 0.02, 40.0]))  # nine decades: every other one, as powers of ten
    assert [text for text, _ in tick_labels(wide)] == ["10⁻⁷", "10⁻⁵", "10⁻³", "10⁻¹", "10¹", "10³"]
    narrow = y_ticks(_plot([2e-6, 1e-5]))
    assert [latex for _, latex in tick_labels(narrow)] == ["2 \\cdot 10^{-6}", "5 \\cdot 10^{-6}", "10^{-5}"]
    assert x_ticks(3) == [1, 2, 3] and x_ticks(100) == [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


def test_a_zero_breaks_the_svg_line():
    svg = to_svg(_plot([1.0, 0.0, 2.0, 4.0]), str)
    assert svg.count("<polyline") == 1  # t = 1 alone, then t = 3, 4 joined
    assert svg.count('fill="white" stroke=') == 1  # the hollow mark of the 0 at t = 2
    assert np.isfinite([float(x) for x in re.findall(r'cy="([-\d.]+)"', svg)]).all()


LONG = """title = "A linear cell over 450 steps"
[model]
params = ["w"]
steps = 450
initial = { h = 0 }
equations = "h[t] = w*h[t-1] + x[t]"
loss = "h[t]**2 / 2"
[values]
w = 0.9
x = [0, 1] + 449 * [0]
""".replace("[0, 1] + 449 * [0]", str([0, 1] + 449 * [0]))


def test_a_long_sequence_is_drawn_at_400_steps_with_its_numbers(tmp_path):
    h = [0.0] + [0.9 ** (t - 1) for t in range(1, 451)]  # h_t = 0.9 h_{t-1} + x_t, x_1 = 1
    dh = [0.0] * 452
    for t in range(450, 0, -1):  # ∂L/∂h_t = h_t + w ∂L/∂h_{t+1}
        dh[t] = h[t] + 0.9 * dh[t + 1]
    problem = symprop.loads(LONG)
    assert problem.solve()["state_adjoint_norms"]["h"] == pytest.approx(dh[1:451], rel=1e-12)
    text = " ".join(problem.solution().document("markdown", lang="en").split())
    assert "400 of the 450 steps are drawn, evenly spread." in text
    factor = (dh[1] / dh[450]) ** (1 / 449)
    assert f"a factor of ${factor:.4f}$ a step on average" in text
    tikz = graph(str(_write(tmp_path / "long.toml", LONG)), "--norms", "--format", "tikz").stdout
    [line] = plotted(tikz)
    assert len(line) == 400 and line[0][0] == 1 and line[-1][0] == 450
    assert "yticklabels={$10^{-21}$" in tikz  # nine decades and more: powers of ten
    pdflatex = engine("pdflatex")
    assert_compiles(pdflatex, tikz, tmp_path)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_the_json_document_carries_the_plotted_numbers():
    import json

    doc = json.loads(symprop.load("masha_rnn").solution().document("json", lang="en"))
    [plot] = [b["plot"] for part in doc["parts"] for b in part["solution"] if "plot" in b]
    assert plot["scale"] == "log" and plot["y"]["text"] == "|∂L/∂hₜ|"
    [series] = plot["series"]
    assert series["t"] == [1, 2, 3] and series["values"] == pytest.approx(masha_by_hand())
    assert plot["alt"].startswith("A line plot on a log scale over t = 1, 2, 3")

