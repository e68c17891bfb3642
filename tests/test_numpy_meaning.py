"""A spec means what NumPy means: random expressions over random shapes
(scalars, 1-d vectors, rows, columns, matrices, squares among them, arrays of
three axes), each
written once as text for symprop and evaluated here by NumPy and PyTorch from
the same tree.  Where NumPy computes a value, symprop gives the same loss and
PyTorch's gradients, or refuses in one of its documented ways (a 1-d x.T
outside ``x.T @ …``, a 1-d vector met by a column); where NumPy refuses,
symprop refuses too, with one line that names the equation."""

import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from symprop.api import from_dict
from symprop.errors import SympropError

NAMES = ("a", "b", "c", "d")
# the ways symprop refuses a text that NumPy computes, each said in its message
DOCUMENTED_REFUSALS = ("which NumPy leaves as it is when transposed", "which NumPy lines up with the last axis",
                       "outer() takes vectors", "picks nothing",
                       "an array of more axes goes through elementwise operations")  # @, .T, [] of 3-d


def shapes():
    n = st.sampled_from([2, 3])
    return st.one_of(
        st.just(()),
        n.map(lambda k: (k,)),
        n.map(lambda k: (1, k)),
        n.map(lambda k: (k, 1)),
        st.tuples(n, n),
        st.tuples(n, n, n),  # an array of three axes
        n.map(lambda k: (2, 1, k)),
    )


@st.composite
def leaves(draw):
    out = {}
    for name in NAMES:
        shape = draw(shapes())
        size = int(np.prod(shape)) if shape else 1
        entries = draw(st.lists(st.integers(-8, 8).map(lambda k: k / 8), min_size=size, max_size=size))
        out[name] = np.array(entries, dtype=float).reshape(shape) if shape else float(entries[0])
    return out


def _swap(x):
    if isinstance(x, torch.Tensor):
        return x.transpose(0, 1) if x.ndim == 2 else x
    return np.transpose(x)


def _extreme(lib, name, x, axis):
    if lib is torch:
        x = torch.as_tensor(x, dtype=torch.float64)
        f = torch.amax if name == "amax" else torch.amin
        return f(x.reshape(-1), 0) if axis is None else f(x, axis, keepdim=True)
    f = np.amax if name == "amax" else np.amin
    return f(x) if axis is None else f(x, axis=axis, keepdims=True)


def _sum(lib, x, axis=None):
    if lib is torch:
        x = x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=torch.float64)
        return x.sum() if axis is None else x.sum(dim=axis, keepdim=True)
    return np.sum(x) if axis is None else np.sum(x, axis=axis, keepdims=True)


SLICES = [("[1:]", (slice(1, None),)), ("[:, 0]", (slice(None), 0)), ("[::-1]", (slice(None, None, -1),)),
          ("[0, 1]", (0, 1)), ("[:1]", (slice(None, 1),)), ("[-1]", (-1,)), ("[1:, :1]", (slice(1, None), slice(None, 1))),
          ("[-1, ::2]", (-1, slice(None, None, 2)))]


def _take(lib, x, key):
    """x[key] as NumPy reads it; for PyTorch (no negative steps) through the positions it picks."""
    if lib is torch:
        x = torch.as_tensor(x)
        where = np.array(np.arange(x.numel()).reshape(tuple(x.shape))[key])  # a copy: no negative strides
        return x.reshape(-1)[torch.as_tensor(where)]
    return np.asarray(x)[key]


COMPARE = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y,
           ">=": lambda x, y: x >= y}


def _as(lib, mask):
    """A comparison's booleans as numbers (1.0 and 0.0)."""
    return mask.to(torch.float64) if lib is torch and isinstance(mask, torch.Tensor) else np.asarray(mask, float)


def _where(lib, mask, x, y):
    if lib is torch:
        x, y = (v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float64) for v in (x, y))
        return torch.where(torch.as_tensor(mask), x, y)
    return np.where(mask, x, y)


def _outer(lib, x, y):
    if lib is torch:
        return torch.outer(torch.as_tensor(x).reshape(-1), torch.as_tensor(y).reshape(-1))
    return np.outer(x, y)


UNARY = {
    "tanh": lambda lib, x: lib.tanh(x if lib is np or isinstance(x, torch.Tensor) else torch.tensor(x)),
    "sigmoid": lambda lib, x: 1 / (1 + lib.exp(-(x if lib is np or isinstance(x, torch.Tensor) else torch.tensor(x)))),
}


@st.composite
def trees(draw, depth=3):
    """(text, evaluate(lib, values)) of a random expression."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        name = draw(st.sampled_from(NAMES))
        return name, lambda lib, v, name=name: v[name]
    kind = draw(st.sampled_from(["+", "-", "*", "/", "@", "@", ".T", "f", "[]", "sum", "sum0", "sum1", "outer",
                                 "where", "mask", "slice", "amax", "amin0"]))
    a_text, a = draw(trees(depth=depth - 1))
    if kind in "+-*@":
        b_text, b = draw(trees(depth=depth - 1))
        ops = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
               "@": lambda x, y: x @ y}
        return f"({a_text}) {kind} ({b_text})", lambda lib, v: ops[kind](a(lib, v), b(lib, v))
    if kind == "/":
        b_text, b = draw(trees(depth=depth - 1))
        return f"({a_text}) / (2 + ({b_text})**2)", lambda lib, v: a(lib, v) / (2 + b(lib, v) ** 2)
    if kind == "slice":
        text, key = draw(st.sampled_from(SLICES))
        return f"({a_text}){text}", lambda lib, v: _take(lib, a(lib, v), key)
    if kind in ("where", "mask"):
        b_text, b = draw(trees(depth=depth - 1))
        c_text, c = draw(trees(depth=depth - 1))
        op = draw(st.sampled_from(["<", "<=", ">", ">="]))
        if kind == "mask":
            return (f"(({a_text}) {op} ({b_text})) * ({c_text})",
                    lambda lib, v: _as(lib, COMPARE[op](a(lib, v), b(lib, v))) * c(lib, v))
        d_text, d = draw(trees(depth=depth - 1))
        return (f"where(({a_text}) {op} ({b_text}), {c_text}, {d_text})",
                lambda lib, v: _where(lib, COMPARE[op](a(lib, v), b(lib, v)), c(lib, v), d(lib, v)))
    if kind == "outer":
        b_text, b = draw(trees(depth=depth - 1))
        return f"outer({a_text}, {b_text})", lambda lib, v: _outer(lib, a(lib, v), b(lib, v))
    if kind == ".T":
        return f"({a_text}).T", lambda lib, v: _swap(a(lib, v))
    if kind == "f":
        f = draw(st.sampled_from(sorted(UNARY)))
        return f"{f}({a_text})", lambda lib, v: UNARY[f](lib, a(lib, v))
    if kind == "[]":
        k = draw(st.integers(0, 1))
        return f"({a_text})[{k}]", lambda lib, v: a(lib, v)[k]
    if kind in ("amax", "amin0"):
        name, axis = ("amax", None) if kind == "amax" else ("amin", 0)
        text = f"{name}({a_text})" if axis is None else f"{name}({a_text}, {axis})"
        return text, lambda lib, v: _extreme(lib, name, a(lib, v), axis)
    axis = {"sum": None, "sum0": 0, "sum1": 1}[kind]
    text = f"sum({a_text})" if axis is None else f"sum({a_text}, {axis})"
    return text, lambda lib, v: _sum(lib, a(lib, v), axis)


def numpy_value(evaluate, values):
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("error")
        try:
            value = evaluate(np, values)
        except (ValueError, IndexError, TypeError, np.exceptions.AxisError):
            return None
    return np.asarray(value, dtype=float)


def torch_gradients(evaluate, values, params):
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in params) for k, v in values.items()}
    out = evaluate(torch, tensors)
    (out ** 2).sum().backward()
    return {k: tensors[k].grad.numpy() if tensors[k].grad is not None else np.zeros(np.shape(values[k]))
            for k in params}


def spec(text, values, params):
    return {
        "title": "NumPy's meaning",
        "model": {"params": params, "equations": f"E = {text}", "loss": "sum(E**2)"},
        "values": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in values.items()
                   if re.search(rf"\b{k}\b", text)},
    }


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), leaves())
def test_random_expressions_mean_what_numpy_means(tree, values):
    text, evaluate = tree
    params = sorted(set(re.findall(r"\b[a-d]\b", text)))
    expected = numpy_value(evaluate, values)
    try:
        problem = from_dict(spec(text, values, params))
        result = problem.compiled().run(problem.spec.values)
    except SympropError as e:
        event("NumPy refuses, so does symprop" if expected is None else "a documented refusal")
        if expected is not None:  # NumPy computes it: only a documented refusal
            assert any(r in str(e) for r in DOCUMENTED_REFUSALS), (text, str(e))
        assert "\n" not in str(e) and "model.equations line 1" in str(e)
        return
    assert expected is not None, (text, "symprop computed what NumPy refuses", result.loss)
    event(f"computed, a result of {expected.ndim} dimensions")
    assert result.loss == pytest.approx(float(np.sum(expected ** 2)), rel=1e-9, abs=1e-12), text
    grads = torch_gradients(evaluate, values, params)
    for name in params:
        got = np.asarray(result.adjoints[name], dtype=float).reshape(np.shape(values[name]))
        np.testing.assert_allclose(got, grads[name], rtol=1e-9, atol=1e-12, err_msg=f"{text}: {name}")


@pytest.mark.parametrize("text", ["X + b", "X * b - b", "sigmoid(X @ W + b)", "b @ W", "W @ b + b", "X[1] + b"])
def test_a_1d_vector_broadcasts_as_numpy_does_and_every_check_agrees(text):
    """Square shapes, where a column reading would silently differ: symprop's
    numbers (and its own checks: finite differences, PyTorch, the scalar
    engine, the matrix form) are NumPy's."""
    X, W, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, -1.0], [0.25, 2.0]]), np.array([0.5, -0.5])
    values = {"X": X, "W": W, "b": b}
    tree = {"X + b": lambda v: v["X"] + v["b"], "X * b - b": lambda v: v["X"] * v["b"] - v["b"],
            "sigmoid(X @ W + b)": lambda v: 1 / (1 + np.exp(-(v["X"] @ v["W"] + v["b"]))),
            "b @ W": lambda v: v["b"] @ v["W"], "W @ b + b": lambda v: v["W"] @ v["b"] + v["b"],
            "X[1] + b": lambda v: v["X"][1] + v["b"]}[text]
    problem = from_dict(spec(text, values, [n for n in ("W", "b") if n in text]))
    solution = problem.solve()
    assert solution["loss"] == pytest.approx(float(np.sum(tree(values) ** 2)), rel=1e-12)
    report, ok = problem.check()
    assert ok, report


def test_the_square_batch_bias_of_the_issue():
    """X + b with a square X: NumPy's L = 29 and ∂L/∂b = [10, 10] (a column reading gives 27, [8, 12])."""
    data = spec("X + b", {"X": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([0.5, -0.5])}, ["b"])
    solution = from_dict(data).solve()
    assert solution["loss"] == pytest.approx(29.0)
    assert np.reshape(solution["gradients"]["b"], -1).tolist() == pytest.approx([10.0, 10.0])


@pytest.mark.parametrize("text,values,fragment", [
    ("X + b", {"X": np.ones((3, 2)), "b": np.ones(3)},
     "'+': b is a 1-d vector of 3, which NumPy lines up with the last axis, as a row (1x3), and the other "
     "operand is 3x2; for a column give b as a list of lists, one number a row: [[1], [2]]"),
    ("a @ b.T", {"a": np.ones(2), "b": np.ones(2)},
     "'b.T': b is a 1-d vector, which NumPy leaves as it is when transposed (so a @ b.T is the inner "
     "product, not a book's outer product a bᵀ)"),
    ("c + b", {"c": np.ones((2, 1)), "b": np.ones(2)},
     "'+': b is a 1-d vector of 2, which NumPy lines up with the last axis, as a row, so with the 2x1 column it "
     "makes 2x2 entries where a book means a column: give b as a column, [[1], [2]], or the column as a list"),
    ("W @ x + c", {"W": np.ones((2, 2)), "x": np.ones(2), "c": np.ones((2, 1))},
     "give the column as a list (1-d), or the values W @ x is made of as columns"),
    ("sum(b, 1)", {"b": np.ones(2)}, "sum(): axis 1 does not exist for a 1-d vector"),
    ("r[1]", {"r": np.ones((1, 2))}, "index 1 is out of range for 1x2 (a row: [0] is the whole row"),
])
def test_where_numpy_and_a_book_part_ways_symprop_refuses_in_one_line(text, values, fragment):
    data = spec(text, values, [])
    data["model"]["params"] = [sorted(values)[0]]
    with pytest.raises(SympropError) as error:
        from_dict(data).solve()
    assert fragment in str(error.value)
    assert "model.equations line 1" in str(error.value) and "\n" not in str(error.value)
