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


def symbols(problem):
    g = problem.gradients()
    names = {s.name: s for e in g.values() for s in e.free_symbols}
    return g, names


def test_closed_forms_are_the_textbook_ones(problem):
    g, s = symbols(problem)
    f = problem.graph().functions["f"]
    fp = f.prime
    w1, w2, w3, x, y = (s[n] for n in ("w1", "w2", "w3", "x", "y"))
    yhat = w3 * f(w2 * f(x * w1))
    expected = {
        "w3": (yhat - y) * f(f(x * w1) * w2),
        "w2": (yhat - y) * w3 * fp(f(x * w1) * w2) * f(x * w1),
        "w1": (yhat - y) * w3 * fp(f(x * w1) * w2) * w2 * fp(x * w1) * x,
    }
    for name, e in expected.items():
        assert sympy.expand(g[name] - e) == 0, name


def test_gradients_print_with_prime_notation(problem):
    from symprop.document.printing import text

    assert "f'(w₁·x)" in text(problem.gradients()["w1"])


def _numbers(problem, f, fp, seed):
    g, s = symbols(problem)
    rng = random.Random(seed)
    point = {n: rng.uniform(-1.5, 1.5) for n in ("w1", "w2", "w3", "x", "y")}
    cls = problem.graph().functions["f"]
    ours = {
        k: float(v.replace(cls, f).replace(cls.prime, fp).xreplace({s[n]: point[n] for n in point}))
        for k, v in g.items()
    }
    return point, ours


def _loss(point, act):
    yhat = act(act(point["x"] * point["w1"]) * point["w2"]) * point["w3"]
    return (point["y"] - yhat) ** 2 / 2


@pytest.mark.parametrize("seed", range(5))
def test_gradients_match_finite_differences_with_sigmoid(problem, seed):
    sig = lambda z: 1 / (1 + sympy.exp(-z))  # noqa: E731
    point, ours = _numbers(problem, sig, lambda z: sig(z) * (1 - sig(z)), seed)
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
    g, s = symbols(problem)
    cls = problem.graph().functions["f"]
    ours = g["w3"].replace(cls, sympy.tanh).xreplace({s[n]: v for n, v in point.items()})
    assert float(ours) == pytest.approx(fd, rel=1e-6)
