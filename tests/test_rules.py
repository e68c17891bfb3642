"""The derivative table against SymPy's own calculus and finite differences."""

import math

import pytest
import sympy

from symprop.derive.backprop import differentiate
from symprop.model.functions import (
    INTERNAL_RULES,
    RULES,
    numeric_namespace,
    relu,
    relu_prime,
    sigmoid,
)

x = sympy.Symbol("x", real=True)
a, b = sympy.symbols("a b", real=True)
POINTS = [-1.3, -0.2, 0.4, 1.7]
REFERENCE = {  # independent definitions, in plain SymPy (a parameter at its default)
    "relu": sympy.Piecewise((x, x > 0), (0, True)),
    "sigmoid": 1 / (1 + sympy.exp(-x)),
    "tanh": sympy.tanh(x),
    "exp": sympy.exp(x),
    "log": sympy.log(x),
    "sin": sympy.sin(x),
    "cos": sympy.cos(x),
    "sqrt": sympy.sqrt(x),
    "abs": sympy.Piecewise((x, x > 0), (-x, True)),
    "softplus": sympy.log(1 + sympy.exp(x)),
    "logsigmoid": sympy.log(1 / (1 + sympy.exp(-x))),
    "leaky_relu": sympy.Piecewise((x, x > 0), (sympy.Float(0.01) * x, True)),
    "elu": sympy.Piecewise((x, x > 0), (sympy.exp(x) - 1, True)),
    "silu": x / (1 + sympy.exp(-x)),
    "gelu": x * (1 + sympy.erf(x / sympy.sqrt(2))) / 2,
    "gelu_tanh": x / 2 * (1 + sympy.tanh(sympy.sqrt(2 / sympy.pi) * (x + sympy.Rational(44715, 10**6) * x**3))),
    "heaviside": sympy.Piecewise((1, x > 0), (0, True)),
    "max": sympy.Piecewise((a, a > b), (b, True)),
    "min": sympy.Piecewise((a, a < b), (b, True)),
}
ONE_INPUT = sorted(n for n in RULES if RULES[n].inputs == 1)


def test_every_rule_has_a_reference():
    assert set(RULES) == set(REFERENCE)


@pytest.mark.parametrize("name", ONE_INPUT)
def test_rule_matches_sympy_diff(name):
    ours = differentiate(RULES[name].of(x), x)
    theirs = sympy.diff(REFERENCE[name], x)
    namespace = numeric_namespace(0.0)
    f_ours = sympy.lambdify(x, ours, modules=[namespace, "math"])
    f_theirs = sympy.lambdify(x, theirs, modules=["math"])
    for p in POINTS:
        if name in ("log", "sqrt") and p <= 0:
            continue
        assert float(f_ours(p)) == pytest.approx(float(f_theirs(p)), rel=1e-12)


@pytest.mark.parametrize("name", ["max", "min"])
def test_two_input_rules_match_sympy_diff_away_from_ties(name):
    namespace = numeric_namespace(0.0)
    for v in (a, b):
        ours = sympy.lambdify((a, b), differentiate(RULES[name].of(a, b), v), modules=[namespace, "numpy"])
        theirs = sympy.lambdify((a, b), sympy.diff(REFERENCE[name], v), modules=["numpy"])
        for p, q in [(0.3, -1.2), (-2.0, 0.5), (1.5, 1.4)]:
            assert float(ours(p, q)) == float(theirs(p, q))


@pytest.mark.parametrize("name", ONE_INPUT)
def test_rule_is_written_in_terms_of_the_output(name):
    y = sympy.Symbol("y", real=True)
    d = differentiate(RULES[name].of(x), x, node=y)
    expected_uses_output = {"sigmoid", "tanh", "exp", "sqrt", "elu"}
    assert (y in d.free_symbols) == (name in expected_uses_output), d


def test_textbook_forms():
    o, h = sympy.symbols("o h", real=True)
    assert differentiate(sigmoid(h), h, node=o) == o * (1 - o)
    assert differentiate(sympy.tanh(h), h, node=o) == 1 - o**2
    assert differentiate(relu(h), h, node=o) == relu_prime(h)


@pytest.mark.parametrize("convention", [0.0, 0.5, 1.0])
def test_relu_prime_convention_at_zero(convention):
    f = numeric_namespace(convention)["relu_prime"]
    assert float(f(0.0)) == convention
    assert float(f(2.0)) == 1.0 and float(f(-2.0)) == 0.0


def test_relu_and_sigmoid_numbers():
    ns = numeric_namespace(0.0)
    assert float(ns["relu"](-3.0)) == 0.0 and float(ns["relu"](3.0)) == 3.0
    assert float(ns["sigmoid"](0.7)) == pytest.approx(1 / (1 + math.exp(-0.7)), rel=1e-15)
    assert float(ns["sigmoid"](-800.0)) == pytest.approx(0.0)


def test_abs_from_simplification_has_a_rule():
    assert differentiate(sympy.sqrt(x**2), x) == sympy.sign(x)
    assert "Abs" in INTERNAL_RULES
