"""Every worked line `formula = numbers = value` gives its printed value when a
student recomputes it from the printed numbers (to half a unit of its last
digit): the shipped problems in English and in their own language, with
fewer decimals, and random problems the tool has not seen.  The checker here
reads the text output as a student would: it knows the functions books print
and nothing of symprop.  Vectors and matrices are read as the text prints
them, a column (0.2, -0.5)ᵀ and a matrix [0.5, -0.3; 0.2, 0.4] by rows; a
product of two arrays, A·B, is a matrix product (of two columns, where there
is none, entry by entry, as diag((1 - o)·o) writes σ′) and A ⊙ B one entry by
entry; diag(v) is the diagonal matrix of v;
every entry of an array value is compared at its own printed digits."""

import math
import random
import re

import numpy as np
import pytest

import symprop
from symprop.model.shipped import shipped


def _softmax(a, axis=None):
    a = np.asarray(a, dtype=float)
    axis = 0 if axis is None else axis
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return (e / np.sum(e, axis=axis, keepdims=True)).view(_Array)


def _reduce(fn):
    def go(a, axis=None):
        a = np.asarray(a, dtype=float)
        return float(fn(a)) if axis is None else fn(a, axis=axis, keepdims=True).view(_Array)
    return go


def _each(fn):
    """A function of a number, taken entry by entry on an array."""
    def go(x):
        if isinstance(x, np.ndarray):
            return np.vectorize(fn, otypes=[float])(x).view(_Array)
        return fn(x)
    return go


def _diag(v):
    """The diagonal matrix of a vector's entries."""
    return np.diagflat(np.asarray(v, dtype=float)).view(_Array)


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


FUNCTIONS = {"sin": _each(math.sin), "cos": _each(math.cos), "exp": _each(math.exp),
             "tanh": _each(math.tanh), "log": _each(math.log), "sqrt": _each(math.sqrt),
             "σ": _each(_sigmoid), "sigmoid": _each(_sigmoid), "relu": _each(lambda z: max(z, 0.0)),
             "softmax": _softmax, "sum": _reduce(np.sum), "mean": _reduce(np.mean), "diag": _diag}
NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"  # 1.2·10⁻⁷ is read as 1.2e-7 first (``plain``)
PRINTED = re.compile(rf"^\(?{NUMBER}\)?$")
ARITHMETIC = re.compile(r"^[\d\s.+\-*/()%,\[\]e]*$")
ENTRIES = rf"\s*{NUMBER}(?:\s*,\s*{NUMBER})*\s*"
# a column (0.2, -0.5)ᵀ, a matrix [0.5, -0.3; 0.2, 0.4] by rows, a row (0.2, -0.5) inside a formula
ARRAY = re.compile(rf"(?P<column>\({ENTRIES}\)ᵀ)|(?P<matrix>\[{ENTRIES}(?:;{ENTRIES})*\])"
                   rf"|(?P<row>\(\s*{NUMBER}(?:\s*,\s*{NUMBER})+\s*\))")
ARRAY_VALUE = re.compile(rf"^(?:\({ENTRIES}\)ᵀ|\[{ENTRIES}(?:;{ENTRIES})*\])$")
POWER_OF_TEN = re.compile(r"(?:(\d+(?:\.\d+)?)·|(?<![\d.]))10([⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def plain(text: str) -> str:
    """A number printed as a power of ten in Python's way: 1.2·10⁻⁷ as 1.2e-7, 10⁻² as 1e-2."""
    return POWER_OF_TEN.sub(lambda m: f"{m.group(1) or 1}e{m.group(2).translate(SUPERSCRIPT)}", text)


class _Array(np.ndarray):
    """A printed array: A·B (written * here) is a matrix product when both are
    arrays, a number times an array otherwise; A ⊙ B (written %) entry by entry."""

    def __mul__(self, other):
        if isinstance(other, np.ndarray) and self.shape == other.shape and self.shape[1:] == (1,):
            # two columns: no matrix product; entry by entry, as diag((1 - o)·o) writes σ′
            return np.multiply(np.asarray(self), np.asarray(other)).view(_Array)
        if isinstance(other, np.ndarray) and other.ndim == 2 and self.ndim == 2:
            return np.matmul(np.asarray(self), np.asarray(other)).view(_Array)
        return np.multiply(np.asarray(self), other).view(_Array)

    def __rmul__(self, other):
        return np.multiply(other, np.asarray(self)).view(_Array)

    def __mod__(self, other):
        return np.multiply(np.asarray(self), np.asarray(other)).view(_Array)

    __rmod__ = __mod__


def _literal(m: re.Match) -> str:
    """A printed array as Python: a column is a row transposed, a matrix is its rows."""
    body = m.group(0).strip("()[]ᵀ ")
    rows = "[" + ", ".join("[" + row + "]" for row in body.split(";")) + "]"
    return f"_m({rows})" + (".T" if m.lastgroup == "column" else "")


def as_python(segment: str) -> str | None:
    """A worked segment ("0.4 + 0.65742·3", "(1 - 0.7616²)·(-6.9345)", "sin(1.23)",
    "tanh([-1, 1; 1, 1]·(1, 2)ᵀ)") as a Python expression of numbers and arrays,
    or None when it is not plain arithmetic of numbers."""
    s = plain(segment.strip().replace("−", "-").replace("⊙", "%"))
    s = s.replace("·", "*").replace("²", "**2").replace("³", "**3").replace("^", "**")
    s = ARRAY.sub(_literal, s)  # in one pass: a replacement is not read again
    s = re.sub(r"\)ᵀ", ").T", s)
    for name in sorted(FUNCTIONS, key=len, reverse=True):
        s = re.sub(rf"(?<![\w.]){re.escape(name)}\(", f"_f{list(FUNCTIONS).index(name)}(", s)
    bare = re.sub(r"_f\d+|_m|\.T\b", "", s)
    if not ARITHMETIC.match(bare.replace("**", "")) or not re.search(r"[*/+%]|(?:\d|\)|\.T)\s*-|_f", s):
        return None
    return s


def recompute(python: str):
    """The value of a segment: a number, or an array; None when it is none."""
    scope = {f"_f{i}": f for i, f in enumerate(FUNCTIONS.values())}
    scope["_m"] = lambda rows: np.array(rows, dtype=float).view(_Array)
    try:
        with np.errstate(all="raise"):
            got = eval(python, {"__builtins__": {}}, scope)  # noqa: S307 (our own printed digits only)
    except (ArithmeticError, ValueError, SyntaxError, TypeError, AttributeError, NameError, FloatingPointError):
        return None
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.reshape(-1)[0]
    return np.asarray(got, dtype=float) if isinstance(got, np.ndarray) else float(got)


def printed_value(text: str):
    """The value after the last '=': (entries, half a unit of each one's last digit),
    for a number or an array as printed; None for anything else."""
    text = plain(text.strip())
    if PRINTED.match(text):
        entries = [text.strip("()")]
    elif ARRAY_VALUE.match(text):
        entries = re.findall(NUMBER, text)
    else:
        return None

    def half(entry: str) -> float:
        mantissa, _, exponent = entry.partition("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return 0.5 * 10.0 ** (int(exponent or 0) - decimals)

    return np.array([float(e) for e in entries]), np.array([half(e) for e in entries])


def joined(text: str) -> list[str]:
    """The lines, a formula broken over several (a continuation more indented,
    starting with an operator or after a comma) joined again."""
    out: list[str] = []
    for line in text.splitlines():
        rest = line.lstrip()
        if out and " = " in out[-1] and rest and len(line) - len(rest) > len(out[-1]) - len(out[-1].lstrip()) and (
                rest[0] in "=+-·⊙" or out[-1].rstrip()[-1] in ",;"):
            out[-1] = out[-1].rstrip() + ("" if rest[0] == "·" else " ") + rest
        else:
            out.append(line)
    return out


def unreproduced(text: str) -> tuple[int, list[str]]:
    """(lines checked, the lines whose printed numbers do not give their value)."""
    checked, bad = 0, []
    for line in joined(text):
        parts = line.split(" = ")
        for left, right in zip(parts, parts[1:]):
            value = printed_value(right)
            python = as_python(left) if value is not None else None
            got = None if python is None else recompute(python)
            if got is None:
                continue
            entries, halves = value
            got = np.asarray(got, dtype=float).reshape(-1)
            checked += 1
            if got.shape != entries.shape or np.any(np.abs(got - entries) > halves + 1e-9 * np.abs(got)):
                bad.append(f"{line.strip()}  (the printed numbers give {np.round(got, 7).tolist()})")
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
    for name in ("udl_toy", "stepik_mlp", "masha_rnn", "dlbook_rnn", "gru", "lstm", "attention"):
        text = symprop.load(name).solution().document("text", digits=digits)
        checked, bad = unreproduced(text)
        assert checked >= 5 and not bad, (name, digits, bad)


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


@pytest.mark.parametrize("seed", range(8))
def test_a_random_recurrent_cell_reproduces(seed):
    """A scalar cell with random numbers, activation, length and loss (each step's or after the loop)."""
    rng = random.Random(100 + seed)
    f, steps = rng.choice(["tanh", "sigmoid", "relu"]), rng.choice([2, 3, 4])
    after = rng.random() < 0.5
    loss = f'"(h[{steps}] - y)**2 / 2"' if after else '"(yhat[t] - y[t])**2"'
    cell = f"h[t] = {f}(w * h[t-1] + u * x[t])" + ("" if after else "\nyhat[t] = v * h[t]")
    params = '["w", "u"]' if after else '["w", "u", "v"]'
    number = lambda: round(rng.uniform(-1.5, 1.5), rng.choice([1, 2]))  # noqa: E731
    values = {"w": number(), "u": number(), "v": number(),
              "x": [0] + [number() for _ in range(steps)], "y": number() if after else [0] + [number() for _ in range(steps)]}
    text = (f'[model]\nparams = {params}\nsteps = {steps}\ninitial = {{ h = 0 }}\nequations = """\n{cell}\n"""\n'
            f"loss = {loss}\n[values]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()
                                                  if k != "v" or not after))
    checked, bad = unreproduced(symprop.loads(text).solution().document("text"))
    assert checked >= 2 * steps and not bad, bad


@pytest.mark.parametrize("seed", range(6))
def test_a_random_layer_of_vectors_reproduces(seed):
    """A layer of vectors and matrices (written out up to 4×4) with random numbers and sizes."""
    rng = random.Random(200 + seed)
    n, m = rng.choice([2, 3]), rng.choice([2, 3, 4])
    number = lambda: round(rng.uniform(-1, 1), rng.choice([1, 2]))  # noqa: E731
    matrix = lambda r, c: [[number() for _ in range(c)] for _ in range(r)]  # noqa: E731
    f = rng.choice(["tanh", "sigmoid", "relu"])
    text = (f'[model]\nparams = ["W", "b", "V"]\nequations = """\nh = {f}(W @ x + b)\nyhat = V @ h\n"""\n'
            f'loss = "sum((yhat - y)**2) / 2"\n[values]\nW = {matrix(m, n)}\nb = {[number() for _ in range(m)]}\n'
            f"V = {matrix(2, m)}\nx = {[number() for _ in range(n)]}\ny = {[number(), number()]}\n"
            "[training]\nlr = 0.1\n")
    checked, bad = unreproduced(symprop.loads(text).solution().document("text"))
    assert checked >= 3 and not bad, bad


if __name__ == "__main__":  # symprop solve dlbook_rnn | python tests/test_working_reproduces.py
    import sys

    checked, bad = unreproduced(sys.stdin.read())
    for line in bad:
        print("NOT REPRODUCIBLE:", line)
    print(f"{checked - len(bad)} of {checked} worked lines reproduce (arrays included)")
    sys.exit(1 if bad else 0)
