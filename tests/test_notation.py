"""[notation]: a solution in the source's letters (issue 25, item 4).

Each option prints in text and LaTeX; a spec that spells out the defaults
prints as one without the table (the goldens hold the rest); a bad key or
value is one line naming the file and the key; the teacher's appendix quotes a
source's formula as mathematics, never as spec code."""

import re

import pytest

import symprop
from symprop.api import draw
from symprop.derive.backprop import AdjointSymbol
from symprop.document.printing import TextPrinter, unicode_name
from symprop.document.quoted import quoted
from symprop.document.render.latex_printer import SympropLatexPrinter, latex_name
from symprop.errors import SympropError
from symprop.model.notation import Notation
from tests.conftest import DERIVATIONS

CELL = """
title = "A ReLU cell"
{notation}
[model]
params = ["u", "v", "w"]
steps = 3
initial = {{ h = 0 }}
equations = \"\"\"
h[t] = relu(w*h[t-1] + v*y[t-1])
yhat[t] = relu(u*h[t])
\"\"\"
loss = "(y[t] - yhat[t])**2"
[values]
u = 0.5
v = 0.5
w = 0.5
y = [0, 1, -1, 2]
[training]
lr = 0.1
"""


def cell(notation: str = "") -> symprop.Problem:
    return symprop.loads(CELL.format(notation=notation), origin="cell.toml")


def solved(notation: str, fmt: str) -> str:
    return cell(notation).solution().document(fmt)


# -- names, one option at a time -------------------------------------------------------

SEQ = {"h", "y", "yhat"}


@pytest.mark.parametrize("key,text,latex", [
    ("h[t-1]", "h⁽ᵗ⁻¹⁾", "h^{(t-1)}"),
    ("h[t+1]", "h⁽ᵗ⁺¹⁾", "h^{(t+1)}"),
    ("yhat[3]", "ŷ⁽³⁾", r"\hat{y}^{(3)}"),
    ("L[t]", "L⁽ᵗ⁾", "L^{(t)}"),
    ("W", "W", "W"),
])
def test_time_as_a_superscript(key, text, latex):
    n = Notation(time="superscript")
    assert unicode_name(key, 0, SEQ, n) == text
    assert latex_name(key, 0, SEQ, n) == latex


def test_the_defaults_are_subscripts():
    assert unicode_name("h[t-1]", 0, SEQ) == "hₜ₋₁" and latex_name("h[t-1]", 0, SEQ) == "h_{t-1}"
    assert unicode_name("W[0][1]", 1, SEQ) == "w₁₂" and latex_name("W[0][1]", 1, SEQ) == "w_{12}"
    assert unicode_name("u@1", 0, SEQ) == "u⁽¹⁾" and unicode_name("T") == "T"


def test_entries_as_typed():
    n = Notation(entries="as_typed")
    assert unicode_name("W[0][1]", 1, SEQ, n) == "W₁₂" and latex_name("W[0][1]", 1, SEQ, n) == "W_{12}"


@pytest.mark.parametrize("updated,text,latex", [
    ("superscript", "u⁽¹⁾", "u^{(1)}"), ("subscript", "u₁", "u_{1}"), ("prime", "u′", "u'")])
def test_an_updated_weight(updated, text, latex):
    n = Notation(updated=updated, params=frozenset({"u", "w1"}))
    assert unicode_name("u@1", 0, SEQ, n) == text and latex_name("u@1", 0, SEQ, n) == latex
    # w₁ after a step is not w₁₁; a reassigned z is no update
    assert unicode_name("w1@1", 0, SEQ, n) == {"prime": "w₁′"}.get(updated, "w₁⁽¹⁾")
    assert unicode_name("z@1", 0, SEQ, n) == "z⁽¹⁾"


def test_tau_for_the_last_step():
    n = Notation(last_step="tau")
    assert unicode_name("T", 0, SEQ, n) == "τ" and latex_name("T", 0, SEQ, n) == r"\tau"


# -- whole documents, text and LaTeX ---------------------------------------------------------

def test_superscript_tau_nabla_in_text_and_latex():
    notation = '[notation]\ntime = "superscript"\nlast_step = "τ"\ngradient = "nabla"'
    text, latex = solved(notation, "text"), solved(notation, "latex")
    assert "for t = 1, …, τ, where τ = 3:" in text and "h⁽ᵗ⁾ = relu(" in text
    assert "L = L⁽¹⁾ + L⁽²⁾ + L⁽³⁾" in text and "∇_u L = Σ_(t=1..τ)" in text
    assert "∂L/∂" not in text and "ₜ" not in text.split("Checks")[0].replace("Σₜ", "")
    assert r"t = 1, \ldots, \tau" in latex and r"\nabla_{h^{(t)}} L" in latex and r"\sum_{t=1}^{\tau}" in latex
    assert r"\frac{\partial L}" not in latex
    # ∇ₓL before another factor is bracketed: (∇ₓL)·x, as seed 004 writes it; its number once
    assert not re.search(r"∇_\S+ L·", text) and "(∇_ŷ⁽³⁾ L)·" in text
    assert "= (-4)·0·0.5 = 0" in text and "((-4))" not in text


def test_learning_rate_and_update_in_text_and_latex():
    notation = '[notation]\nlearning_rate = "γ"\nupdated = "subscript"'
    text, latex = solved(notation, "text"), solved(notation, "latex")
    assert "The learning rate is γ = 0.1." in text and "With learning rate γ = 0.1:" in text
    assert "u₁ = u₀ - γ·∂L/∂u = 0.5 - 0.1·1.25 = 0.375" in text and "η" not in text
    assert r"u_{1} &= u_{0} - \gamma \cdot \frac{\partial L}{\partial u}" in latex and r"\eta" not in latex


def test_gradient_partial_everywhere():
    text = symprop.load(DERIVATIONS / "dlbook_rnn.toml").spec.data  # the shipped spec, in ∇
    assert text["notation"]["gradient"] == "nabla"
    spec = (DERIVATIONS / "dlbook_rnn.toml").read_text("utf-8").replace('gradient = "nabla"', 'gradient = "partial"')
    out = symprop.loads(spec, origin="dl.toml").solution().document("text")
    assert "∇" not in out and re.search(r"∂L/∂W +?= Σₜ ∂L/∂a⁽ᵗ⁾·\(h⁽ᵗ⁻¹⁾\)ᵀ", out)


def test_factors_as_written():
    text = solved('[notation]\nfactors = "as_written"', "text")
    assert "hₜ = relu(w·hₜ₋₁ + v·yₜ₋₁)" in text and "ŷₜ = relu(u·hₜ)" in text
    assert "[u·h₃ > 0]" in text and "h₃·u" not in text
    assert "hₜ = relu(hₜ₋₁·w + v·yₜ₋₁)" in solved("", "text")  # SymPy's order without it


def test_spelled_out_defaults_print_as_none():
    defaults = ('[notation]\ntime = "subscript"\nlast_step = "T"\nlearning_rate = "η"\nupdated = "superscript"\n'
                'entries = "lowercase"\nfactors = "sorted"')
    for fmt in ("text", "latex", "markdown"):
        assert solved(defaults, fmt) == solved("", fmt)


def test_pictures_take_the_notation():
    notation = '[notation]\ntime = "superscript"\ngradient = "nabla"'
    dot = draw(cell(notation).spec, "dot", grad=True)
    tikz = draw(cell(notation).spec, "tikz", grad=True)
    assert "h⁽ᵗ⁾" in dot and "∇_h⁽ᵗ⁾ L" in dot and r"\nabla_{h^{(t)}} L" in tikz


# -- bad input: one line, the file and the key ----------------------------------------

@pytest.mark.parametrize("table,key,words", [
    ('time = "sup"', "notation.time", 'must be one of "subscript", "superscript", got \'sup\''),
    ("time = 1", "notation.time", "must be one of"),
    ('last_step = "N"', "notation.last_step", 'must be one of "T", "τ", "tau"'),
    ('gradient = "del"', "notation.gradient", 'must be one of "partial", "nabla"'),
    ('learning_rate = "lr"', "notation.learning_rate", "must be one of"),
    ('learning_rate = "u"', "notation.learning_rate", "must be one of"),
    ('updated = "new"', "notation.updated", "must be one of"),
    ('entries = "W11"', "notation.entries", "must be one of"),
    ('factors = "mine"', "notation.factors", "must be one of"),
    ('colour = "red"', "notation.colour", "unknown key (expected one of: entries, factors, gradient"),
])
def test_a_bad_notation_is_one_line(table, key, words):
    with pytest.raises(SympropError) as e:
        cell("[notation]\n" + table)
    message = str(e.value)
    assert "\n" not in message and message.startswith("cell.toml") and key in message and words in message


def test_the_learning_rate_letter_is_not_a_name_of_the_model():
    spec = CELL.format(notation='[notation]\nlearning_rate = "γ"').replace('"u", "v", "w"', '"u", "v", "gamma"')
    spec = spec.replace("w*h", "gamma*h").replace("w = 0.5", "gamma = 0.5")
    with pytest.raises(SympropError, match=r"notation.learning_rate: 'gamma' is already a name in the model"):
        symprop.loads(spec, origin="cell.toml")


def test_notation_must_be_a_table():
    with pytest.raises(SympropError, match="notation: must be a table"):
        symprop.loads(CELL.format(notation='notation = "nabla"'), origin="cell.toml")


# -- the teacher's appendix quotes mathematics --------------------------------------------

def test_the_appendix_quotes_maths_not_code():
    out = symprop.load(DERIVATIONS / "dlbook_rnn.toml").solution()
    text, latex, md = out.document("text"), out.document("latex"), out.document("myst")
    for doc in (text, latex, md):
        assert "adjoint(" not in doc and "W.T @" not in doc and "**2" not in doc and r"\texttt" not in doc
    assert "The source's formula:  ∇_h⁽ᵗ⁾ L = Wᵀ·(∇_h⁽ᵗ⁺¹⁾ L)·diag(1 - (h⁽ᵗ⁺¹⁾)²) + Vᵀ·(∇_o⁽ᵗ⁾ L)" in text
    assert (r"W^{\top} \cdot (\nabla_{h^{(t+1)}} L) \cdot \operatorname{diag}\bigl(1 - (h^{(t+1)})^{2}\bigr)"
            r" + V^{\top} \cdot (\nabla_{o^{(t)}} L)") in latex


def test_masha_backprop_quotes_the_source_in_its_order():
    doc = symprop.load(DERIVATIONS / "masha_backprop.toml").document("text")
    assert "∂L/∂w₂ = (y - ŷ)·w₃·f'(f(x·w₁)·w₂)·f(x·w₁)" in doc and "D(f)" not in doc and "yhat" not in doc


def test_quoted_formula_pieces():
    names = (lambda k: unicode_name(k, 0, SEQ), lambda k: latex_name(k, 0, SEQ))
    text, latex = TextPrinter(0, SEQ), SympropLatexPrinter(0, SEQ)
    got = quoted("sum_t(adjoint(h[t]) * D(tanh)(a[t]) * x[t].T) / (2 - w) - -y[1]**2", names, AdjointSymbol, False)
    assert text.doprint(got) == "Σₜ ∂L/∂hₜ·tanh'(aₜ)·xₜᵀ/(2 - w) - -y₁²"
    assert latex.doprint(got) == (r"\sum_{t} \frac{\partial L}{\partial h_{t}} \cdot \operatorname{tanh}'(a_{t})"
                                  r" \cdot x_{t}^{\top}/(2 - w) - -y_{1}^{2}")  # brackets tidied as in documents
    assert text.doprint(quoted("gamma / sigma * X", names, AdjointSymbol, True)) == "γ/σ ⊙ X"
    assert latex.doprint(quoted("gamma / sigma * X", names, AdjointSymbol, True)) == r"\frac{\gamma}{\sigma} \odot X"


# -- the shipped specs in their seeds' notation --------------------------------------------

def test_the_shipped_specs_use_their_seeds_notation():
    dl = symprop.load(DERIVATIONS / "dlbook_rnn.toml").solution().document("text")
    assert "h⁽ᵗ⁾ = tanh(a⁽ᵗ⁾)" in dl and "t = 1, …, τ" in dl and "∇_W L = [0.0051" in dl and "hₜ" not in dl
    masha = symprop.load(DERIVATIONS / "masha_rnn.toml").solution().document("text")
    assert "u₁ = u₀ - γ·∂L/∂u" in masha and "η" not in masha and "u⁽¹⁾" not in masha
    stepik = symprop.load(DERIVATIONS / "stepik_mlp.toml").solution().document("text")
    assert "∂L/∂W₁₁ = " in stepik and "w₁₁" not in stepik
