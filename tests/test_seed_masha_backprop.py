"""Seed 001: closed-form gradients of y = f(f(x w1) w2) w3 with f undefined.

The seed prints dL/dw = (y - yhat) * ..., for L = (y - yhat)^2 / 2: the sign
is wrong, dL/dyhat = yhat - y."""

import math
import random

import pytest
import sympy

import symprop


@pytest.fixture(scope="module")
def problem():
    return symprop.load("masha_backprop")


W1, W2, W3, X, Y = sympy.symbols("w1 w2 w3 x y")  # as a SymPy user writes them
F = sympy.Function("f")
SIGMOID = sympy.Lambda(sympy.Symbol("z"), 1 / (1 + sympy.exp(-sympy.Symbol("z"))))


def test_closed_forms_are_the_textbook_ones(problem):
    g = problem.gradients()
    fp = lambda u: sympy.Subs(sympy.Derivative(F(sympy.Symbol("s")), sympy.Symbol("s")),  # noqa: E731
                              sympy.Symbol("s"), u)
    yhat = W3 * F(W2 * F(X * W1))
    expected = {
        "w3": (yhat - Y) * F(F(X * W1) * W2),
        "w2": (yhat - Y) * W3 * fp(F(X * W1) * W2) * F(X * W1),
        "w1": (yhat - Y) * W3 * fp(F(X * W1) * W2) * W2 * fp(X * W1) * X,
    }
    for name, e in expected.items():
        assert sympy.expand(g[name] - e) == 0, name


def test_gradients_are_plain_sympy_and_agree_with_sympy_diff(problem):
    """Seed 001's loss, differentiated by SymPy itself, is what gradients() gives:
    first with f left undefined, then made concrete with the sigmoid."""
    g = problem.gradients()
    assert {type(f).__name__ for e in g.values() for f in e.atoms(sympy.Function)} <= {"f"}
    loss = (Y - W3 * F(W2 * F(X * W1))) ** 2 / 2
    for name, w in (("w1", W1), ("w2", W2), ("w3", W3)):
        assert sympy.simplify(g[name] - sympy.diff(loss, w)) == 0, name
        ours = g[name].subs(F, SIGMOID).doit()
        theirs = sympy.diff(loss.subs(F, SIGMOID), w)
        assert not ours.has(F)
        point = {W1: 0.3, W2: -0.7, W3: 1.1, X: 0.9, Y: 2.0}
        assert float(ours.subs(point)) == pytest.approx(float(theirs.subs(point)), rel=1e-12), name


def test_gradients_print_with_prime_notation(problem):
    from symprop.document.printing import text
    from symprop.document.render.latex_printer import SympropLatexPrinter

    assert "f'(w₁·x)" in text(problem.gradients()["w1"])
    assert r"f'(w_{1} \cdot x)" in SympropLatexPrinter().doprint(problem.gradients()["w1"])


def _numbers(problem, f, seed):
    rng = random.Random(seed)
    point = {n: rng.uniform(-1.5, 1.5) for n in ("w1", "w2", "w3", "x", "y")}
    at = {sympy.Symbol(n): v for n, v in point.items()}
    ours = {k: float(v.subs(F, f).doit().subs(at)) for k, v in problem.gradients().items()}
    return point, ours


def _loss(point, act):
    yhat = act(act(point["x"] * point["w1"]) * point["w2"]) * point["w3"]
    return (point["y"] - yhat) ** 2 / 2


@pytest.mark.parametrize("seed", range(5))
def test_gradients_match_finite_differences_with_sigmoid(problem, seed):
    point, ours = _numbers(problem, SIGMOID, seed)
    act = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    for w in ("w1", "w2", "w3"):
        h = 1e-6
        up, down = dict(point), dict(point)
        up[w] += h
        down[w] -= h
        fd = (_loss(up, act) - _loss(down, act)) / (2 * h)
        assert ours[w] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_the_seed_sign_is_wrong():
    """Seed 001's dL/dw3 = (y - yhat) f(f(x w1) w2) is minus the true gradient."""
    point = {"w1": 0.3, "w2": -0.7, "w3": 1.1, "x": 0.9, "y": 2.0}
    act = math.tanh
    o2 = act(act(point["x"] * point["w1"]) * point["w2"])
    yhat = point["w3"] * o2
    seed_claim = (point["y"] - yhat) * o2
    h = 1e-6
    up, down = dict(point), dict(point)
    up["w3"] += h
    down["w3"] -= h
    fd = (_loss(up, act) - _loss(down, act)) / (2 * h)
    assert seed_claim == pytest.approx(-fd, rel=1e-6)
    assert abs(seed_claim - fd) > 0.1
    problem = symprop.load("masha_backprop")
    ours = problem.gradients()["w3"].subs(F, sympy.tanh).subs({sympy.Symbol(n): v for n, v in point.items()})
    assert float(ours) == pytest.approx(fd, rel=1e-6)
