"""The parser, fuzzed: random text and random syntax trees.  The only
outcomes are a SymPy value or a one-line SympropError, quickly."""

import ast

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import ImmutableMatrix

from symprop.errors import SympropError
from symprop.model.parse import Functions, parse_expression


class Scope:
    recurrent = False

    def __init__(self):
        self.values = {
            "x": sympy.Symbol("x", real=True),
            "w": sympy.Symbol("w", real=True),
            "v": ImmutableMatrix([sympy.Symbol("v0", real=True), sympy.Symbol("v1", real=True)]),
            "W": ImmutableMatrix(2, 2, sympy.symbols("W0:4", real=True)),
            "r": ImmutableMatrix([sympy.symbols("r0:2", real=True)]),  # a 1x2 row
        }

    def lookup(self, name):
        if name not in self.values:
            raise SympropError(f"unknown name '{name}'")
        return self.values[name]

    def is_sequence(self, name):
        return False

    def at_step(self, name, step, relative):
        raise SympropError("no steps")


FUNCTIONS = Functions({})
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(text: str):
    try:
        value = parse_expression(text, Scope(), FUNCTIONS)
    except SympropError as e:
        message = str(e)
        assert message and "\n" not in message, repr(message)
        return None
    assert isinstance(value, sympy.Basic)
    return value


@SETTINGS
@given(st.text(max_size=80))
def test_random_text(text):
    outcome(text)


@SETTINGS
@given(st.text(alphabet="xwvW012.+-*/@()[]T ,:'\"_lambdaisqrtexpog", max_size=60))
def test_random_text_from_the_alphabet_of_expressions(text):
    outcome(text)


LEAVES = st.sampled_from(["x", "w", "v", "W", "r", "1", "2.5", "0", "1e308", "'s'", "True", "None",
                          "t", "__class__", "...", "[1, 2]", "{}", "x.T", "v[0]", "W[1][0]"])


def nodes(children):
    unary = st.tuples(st.sampled_from(["-", "+", "not ", "~"]), children).map(lambda t: f"{t[0]}({t[1]})")
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "@", "%", "//", "<", "and", "|"]),
                       children).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})")
    call = st.tuples(st.sampled_from(["sin", "tanh", "relu", "softmax", "sum", "mean", "exp", "log",
                                      "concat", "eval", "getattr", "foo"]), children).map(lambda t: f"{t[0]}({t[1]})")
    axis = st.tuples(st.sampled_from(["softmax", "sum", "mean", "concat", "sin"]), children,
                     st.sampled_from(["0", "1", "2", "-1", "x", "1.0", "True"])).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})")
    stack = st.lists(children, min_size=1, max_size=4).map(lambda cs: f"concat({', '.join(cs)})")
    attribute = st.tuples(children, st.sampled_from(["T", "__class__", "real", "shape"])).map(
        lambda t: f"({t[0]}).{t[1]}")
    index = st.tuples(children, st.sampled_from(["0", "1", "t", "t-1", "x", "-1", "5"])).map(
        lambda t: f"({t[0]})[{t[1]}]")
    other = children.map(lambda c: f"(lambda: {c})")
    return unary | binary | call | axis | stack | attribute | index | other


@SETTINGS
@given(st.recursive(LEAVES, nodes, max_leaves=12))
def test_random_syntax_trees(text):
    ast.parse(text, mode="eval")  # the generator makes valid Python
    outcome(text)
