"""Every worked line `formula = numbers = value` gives its printed value when a
student recomputes it from the printed numbers (to half a unit of its last
digit): the shipped problems in English and in their own language, with
fewer decimals, and random problems the tool has not seen.  The checker here
reads the text output as a student would: it knows the functions books print
and nothing of symprop."""

import math
import random
import re

import pytest

import symprop
from symprop.model.shipped import shipped

FUNCTIONS = {"sin": math.sin, "cos": math.cos, "exp": math.exp, "tanh": math.tanh, "log": math.log,
             "sqrt": math.sqrt, "σ": lambda z: 1 / (1 + math.exp(-z)), "sigmoid": lambda z: 1 / (1 + math.exp(-z))}
PRINTED = re.compile(r"^\(?-?\d+(?:\.\d+)?\)?$")
ARITHMETIC = re.compile(r"^[\d\s.+\-*/()]*$")


def as_python(segment: str) -> str | None:
    """A worked segment ("0.4 + 0.65742·3", "(1 - 0.7616²)·(-6.9345)", "sin(1.23)") as a
    Python expression of numbers, or None when it is not plain arithmetic of numbers."""
    s = segment.strip().replace("·", "*").replace("²", "**2").replace("³", "**3").replace("−", "-")
    names = []
    for name in sorted(FUNCTIONS, key=len, reverse=True):
        if name + "(" in s:
            names.append(name)
            s = s.replace(name + "(", f"_f{list(FUNCTIONS).index(name)}(")
    bare = re.sub(r"_f\d+", "", s)
    if not ARITHMETIC.match(bare.replace("**", "")) or not re.search(r"[*/+]|\d\s*-|_f", s):
        return None
    return s


def recompute(python: str) -> float | None:
    scope = {f"_f{i}": f for i, f in enumerate(FUNCTIONS.values())}
    try:
        return float(eval(python, {"__builtins__": {}}, scope))  # noqa: S307 (our own printed digits only)
    except (ArithmeticError, ValueError, SyntaxError, TypeError):
        return None


def unreproduced(text: str) -> tuple[int, list[str]]:
    """(lines checked, the lines whose printed numbers do not give their value)."""
    checked, bad = 0, []
    for line in text.splitlines():
        parts = line.split(" = ")
        for left, right in zip(parts, parts[1:]):
            value = right.strip()
            python = as_python(left) if PRINTED.match(value) else None
            got = None if python is None else recompute(python)
            if got is None:
                continue
            digits = value.strip("()")
            decimals = len(digits.split(".")[1]) if "." in digits else 0
            checked += 1
            if abs(got - float(digits)) > 0.5 * 10**-decimals + 1e-9 * abs(got):
                bad.append(f"{line.strip()}  (the printed numbers give {got:.{decimals + 3}f})")
    return checked, bad


SOLVED = [name for name in shipped() if symprop.load(name).spec.values and name != "masha_backprop"]


@pytest.mark.parametrize("name", SOLVED)
@pytest.mark.parametrize("own_language", [False, True])
def test_every_worked_line_of_a_shipped_problem_reproduces(name, own_language):
    problem = symprop.load(name)
    text = problem.solution().document("text", lang=problem.spec.lang if own_language else "en")
    checked, bad = unreproduced(text)
    assert not bad, bad


@pytest.mark.parametrize("digits", [1, 2, 3])
def test_fewer_decimals_still_reproduce(digits):
    for name in ("udl_toy", "stepik_mlp", "masha_rnn"):
        text = symprop.load(name).solution().document("text", digits=digits)
        checked, bad = unreproduced(text)
        assert checked > 5 and not bad, (name, digits, bad)


@pytest.mark.parametrize("seed", range(12))
def test_a_random_network_reproduces(seed):
    """A two-layer scalar network with random numbers and activations."""
    rng = random.Random(seed)
    f, g = rng.choice(["tanh", "sigmoid", "sin", "exp"]), rng.choice(["tanh", "sigmoid", "cos"])
    numbers = {k: round(rng.uniform(-2, 2), rng.choice([1, 2, 3])) for k in ("w1", "w2", "b1", "b2", "x", "y")}
    text = (f'[model]\nparams = ["w1", "w2", "b1", "b2"]\nequations = """\nz = w1 * x + b1\nh = {f}(z)\n'
            f'o = w2 * h + b2\nq = {g}(o)\n"""\nloss = "(q - y)**2"\n[values]\n'
            + "".join(f"{k} = {v}\n" for k, v in numbers.items()))
    checked, bad = unreproduced(symprop.loads(text).solution().document("text"))
    assert checked >= 8 and not bad, bad
