"""The chain rule's products in the order a book writes them (issue 25, item 4): the upstream
adjoint, then the local derivative, then the weight or input, as seed 000 writes
∂Lₜ/∂ŷₜ · f′(…) · hₜ; and the working's numbers in that same order."""

import re

import pytest
import sympy

import symprop
from symprop.derive.backprop import AdjointSymbol
from symprop.document.printing import chain_order, text
from tests.test_seed_masha_rnn import Y

X = dict(real=True)


@pytest.fixture(scope="module")
def rnn_text():
    return symprop.load("masha_rnn").document(fmt="text", lang="en")


def test_the_recurrent_formulas_read_upstream_then_derivative_then_input(rnn_text):
    assert "∂L/∂hₜ = ∂L/∂ŷₜ·[u·hₜ > 0]·u + ∂L/∂hₜ₊₁·[w·hₜ + v·yₜ > 0]·w" in rnn_text
    assert "∂L/∂u = Σ_(t=1..T) ∂L/∂ŷₜ·[u·hₜ > 0]·hₜ" in rnn_text
    assert "∂L/∂w = Σ_(t=1..T) ∂L/∂hₜ·[w·hₜ₋₁ + v·yₜ₋₁ > 0]·hₜ₋₁" in rnn_text
    assert "∂ŷₜ/∂hₜ   = [u·hₜ > 0]·u" in rnn_text  # a local derivative alone: f′(…) then the weight
    assert "hₜ = relu(w·hₜ₋₁ + v·yₜ₋₁)" in rnn_text  # the equations' own order ("as_written") kept


def test_latex_prints_the_same_order():
    tex = symprop.load("masha_rnn").document(fmt="latex", lang="ru")
    assert (r"\frac{\partial L}{\partial u} &= \sum_{t=1}^{T} \frac{\partial L}{\partial \hat{y}_{t}} "
            r"\cdot \left[u \cdot h_{t} > 0\right] \cdot h_{t}") in tex


def _hand():
    """Seed 000's numbers by hand: all weights 0.5, h₀ = 0, relu′(0) = 0."""
    h, yhat, pre_h = [0.0], [None], [None]
    for t in (1, 2, 3):
        pre_h.append(0.5 * h[t - 1] + 0.5 * Y[t - 1])
        h.append(max(pre_h[t], 0.0))
        yhat.append(max(0.5 * h[t], 0.0))
    dyhat = {t: 2 * (yhat[t] - Y[t]) for t in (1, 2, 3)}
    step = {t: 1.0 if 0.5 * h[t] > 0 else 0.0 for t in (1, 2, 3)}
    return h, dyhat, step


def _terms(line: str) -> list[list[float]]:
    """The numbers of a working line's middle part, term by term, factor by factor."""
    middle = line.split(" = ")[-2]
    return [[float(f.strip("()")) for f in term.split("·")] for term in middle.split(" + ")]


def test_the_working_puts_the_numbers_in_the_formula_s_order():
    """∂L/∂u's terms are ∂L/∂ŷₜ · [u·hₜ > 0] · hₜ: the printed numbers are those, in that order,
    and their products add up to the gradient computed by hand."""
    h, dyhat, step = _hand()
    rnn_text = symprop.load("masha_rnn").solution().document(fmt="text", lang="en")
    line = next(x for x in rnn_text.splitlines() if x.strip().startswith("∂L/∂h₂ = ∂L/∂ŷ₂"))
    first = _terms(line)[0]
    assert first == [dyhat[2], step[2], 0.5]  # 2.5·1·0.5
    lines = rnn_text.splitlines()
    k = next(i for i, x in enumerate(lines) if x.strip().startswith("∂L/∂u = ∂L/∂ŷ₁"))
    numbers = [[float(f.strip("()")) for f in term.split("·")] for term in
               lines[k + 1].split("= ", 1)[1].split(" + ")]
    assert numbers == [[dyhat[t], step[t], h[t]] for t in (1, 2, 3)]
    expected = sum(dyhat[t] * step[t] * h[t] for t in (1, 2, 3))
    assert expected == 1.25
    assert sum(a * b * c for a, b, c in numbers) == pytest.approx(expected)
    assert float(lines[k + 2].split("= ")[1]) == expected


def test_chain_order_ranks_the_factors_and_keeps_the_value():
    u, h, w = sympy.symbols("u h[t] w", **X)
    adjoint = AdjointSymbol("yhat[t]")
    expr = 3 * h * adjoint * sympy.Heaviside(u * h, 0) * w
    ordered = chain_order(expr)
    assert list(ordered.args) == [3, adjoint, sympy.Heaviside(u * h, 0), h, w]
    at = {u: 0.7, h: 1.3, w: -2.1, adjoint: 0.4}
    printed_product = 1.0
    for f in ordered.args:  # the factors multiplied in the printed order
        printed_product *= float(sympy.S(f).xreplace(at))
    assert printed_product == pytest.approx(3 * 0.4 * 1.0 * 1.3 * -2.1)  # [0.91 > 0] = 1
    assert text(expr) == "3·∂L/∂ŷₜ·[hₜ·u > 0]·hₜ·w"  # without [notation] factors = "as_written"


def test_a_tanh_derivative_is_the_node_s_own_value():
    """∂L/∂z · (1 − z²) · x: the factor of the adjoint's own node is its local derivative."""
    x, z = sympy.symbols("x z", **X)
    assert text(x * (1 - z**2) * AdjointSymbol("z")) == "∂L/∂z·(1 - z²)·x"


def test_a_product_without_adjoint_or_derivative_and_a_product_in_its_own_order_are_kept():
    a, b = sympy.symbols("a b", **X)
    assert text(b * a * 2) == "2·a·b"
    kept = sympy.Mul(b, AdjointSymbol("z"), a, evaluate=False)  # its maker's order: not SymPy's
    assert chain_order(kept) is kept


def test_a_path_s_segment_keeps_the_path_s_order():
    """masha_backprop: ∂ŷ/∂o₂ · ∂o₂/∂h₂ is w₃ · f′(h₂), two edges, not one edge's f′ first."""
    out = symprop.load("masha_backprop").document(fmt="text", lang="en")
    assert "(ŷ - y)·w₃·f'(w₂·f(w₁·x))·w₂·f'(w₁·x)·x" in out
    assert re.search(r"\[ŷ - y\]·\[w₃·f'\(w₂·f\(w₁·x\)\)\]", out)


def test_a_product_of_matrices_keeps_its_order():
    A, B = sympy.symbols("A B", commutative=False)
    expr = A * AdjointSymbol("z") * B
    assert chain_order(expr) is expr
