"""Axes for softmax/sum/mean, concat, and broadcasting of a row or a column.

Every number comes from an independent computation written here: a NumPy
forward pass with central finite differences, and PyTorch autograd in
float64.  The entry-by-entry scalar engine (the graph the parser builds) is
also run directly, node by node, and its loss and finite-difference
gradients are compared with the same references.
"""

import operator

import numpy as np
import pytest
import sympy
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import ImmutableMatrix

from symprop.api import from_dict
from symprop.cli import main
from symprop.derive.graph import build_graph
from symprop.errors import SympropError
from symprop.model.functions import numeric_namespace
from symprop.model.parse import Functions, parse_expression
from symprop.model.spec import from_dict as problem_from_dict

RNG = np.random.default_rng(20240607)
H = 1e-6


def as_list(value):
    return value.tolist() if isinstance(value, np.ndarray) else value


def numpy_fd(forward, params: dict) -> dict:
    """Central finite differences of ``forward`` for every parameter entry."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros(np.shape(value))
        for index in np.ndindex(np.shape(value)):
            up, down = dict(params), dict(params)
            if np.ndim(value):
                up[name], down[name] = value.copy(), value.copy()
                up[name][index] += H
                down[name][index] -= H
            else:
                up[name], down[name] = value + H, value - H
            grad[index] = (forward(up) - forward(down)) / (2 * H)
        grads[name] = grad
    return grads


def torch_grads(forward, params: dict) -> tuple[float, dict]:
    leaves = {k: torch.tensor(np.asarray(v, dtype=float), dtype=torch.float64, requires_grad=True)
              for k, v in params.items()}
    loss = forward(leaves)
    loss.backward()
    return float(loss.detach()), {k: leaf.grad.numpy() for k, leaf in leaves.items()}


class ScalarEngine:
    """The graph the parser builds, run node by node: its own forward pass."""

    def __init__(self, spec: dict):
        self.problem = problem_from_dict(spec)
        self.graph = build_graph(self.problem)
        namespace = numeric_namespace(0.0)
        self.compiled = []
        for node in self.graph.nodes:
            args = sorted(node.expr.free_symbols, key=lambda s: s.name)
            self.compiled.append((node.symbol, args, sympy.lambdify(args, node.expr, [namespace, "numpy"])))

    def loss(self, params: dict) -> float:
        values = {**self.problem.values, **{k: np.asarray(v, dtype=float) for k, v in params.items()}}
        numbers = {}
        for symbol, (key, entry) in self.graph.leaves.items():
            q = self.graph.quantities[key]
            given = values[q.name] if q.step is None else values[q.name][q.step]
            given = np.asarray(given, dtype=float)
            if entry:
                given = given.reshape(q.shape)[entry if len(entry) == 2 else (entry[0], 0)]
            numbers[symbol] = float(given)
        for symbol, args, f in self.compiled:
            numbers[symbol] = float(f(*(numbers[a] for a in args)))
        return numbers[self.graph.loss]


def check(spec: dict, params: dict, numpy_forward, torch_forward):
    """symprop's loss and gradients, and the scalar engine's, against NumPy and torch."""
    reference = numpy_forward(params)
    fd = numpy_fd(numpy_forward, params)
    torch_loss, autograd = torch_grads(torch_forward, params)
    assert np.isclose(torch_loss, reference, rtol=1e-12, atol=1e-12)
    for name in params:
        assert np.allclose(autograd[name], fd[name], rtol=1e-6, atol=1e-8), name

    solution = from_dict(spec).solve()
    assert np.isclose(solution["loss"], reference, rtol=1e-10, atol=1e-12)
    for name, value in params.items():
        grad = np.array(solution["gradients"][name], dtype=float).reshape(np.shape(value))
        assert np.allclose(grad, autograd[name], rtol=1e-9, atol=1e-11), (name, grad, autograd[name])
    assert solution["checks"]["finite_differences"]["passed"], solution["checks"]
    if "scalar_engine" in solution["checks"]:
        assert solution["checks"]["scalar_engine"]["passed"], solution["checks"]

    engine = ScalarEngine(spec)
    assert np.isclose(engine.loss(params), reference, rtol=1e-12, atol=1e-12)
    engine_fd = numpy_fd(engine.loss, params)
    for name in params:
        assert np.allclose(engine_fd[name], autograd[name], rtol=1e-6, atol=1e-8), name
    return solution


def spec_of(params: dict, data: dict, equations: str, loss: str, **model) -> dict:
    return {
        "title": "axes, concat and broadcasting",
        "model": {"params": list(params), "equations": equations, "loss": loss, **model},
        "values": {k: as_list(v) for k, v in {**params, **data}.items()},
    }


# Batches of samples as rows ------------------------------------------------------


def test_row_classifier_softmax_axis_1_with_a_bias_row():
    X = RNG.normal(size=(4, 3))
    Y = np.eye(3)[[0, 2, 1, 2]]
    params = {"W": RNG.normal(size=(3, 3)), "b": RNG.normal(size=(1, 3))}
    spec = spec_of(params, {"X": X, "Y": Y}, "Z = X @ W + b\nP = softmax(Z, 1)", "-sum(Y * log(P)) / 4")

    def numpy_forward(p):
        Z = X @ p["W"] + p["b"]
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        return float(-np.sum(Y * np.log(P)) / 4)

    def torch_forward(p):
        P = torch.softmax(torch.tensor(X) @ p["W"] + p["b"], dim=1)
        return -torch.sum(torch.tensor(Y) * torch.log(P)) / 4

    solution = check(spec, params, numpy_forward, torch_forward)
    P = np.array(solution["values"]["P"], dtype=float)
    assert P.shape == (4, 3) and np.allclose(P.sum(axis=1), 1.0)


def test_normalising_a_batch_with_mean_axis_0_and_row_broadcasts():
    """Batch normalisation: every operator spreads a 1x2 row over the 4x2 batch."""
    X = RNG.normal(size=(4, 3))
    C = RNG.normal(size=(4, 2))
    params = {"W": RNG.normal(size=(3, 2)), "g": RNG.uniform(0.5, 1.5, size=(1, 2)),
              "b": RNG.normal(size=(1, 2))}
    equations = """
    Z = X @ W
    mu = mean(Z, 0)
    D = Z - mu
    v = mean(D * D, 0)
    N = D / sqrt(v + 1)
    A = tanh(g * N + b)
    """
    spec = spec_of(params, {"X": X, "C": C}, equations, "sum(A * C)")

    def numpy_forward(p):
        Z = X @ p["W"]
        D = Z - Z.mean(axis=0, keepdims=True)
        N = D / np.sqrt((D * D).mean(axis=0, keepdims=True) + 1)
        return float(np.sum(np.tanh(p["g"] * N + p["b"]) * C))

    def torch_forward(p):
        Z = torch.tensor(X) @ p["W"]
        D = Z - Z.mean(dim=0, keepdim=True)
        N = D / torch.sqrt((D * D).mean(dim=0, keepdim=True) + 1)
        return torch.sum(torch.tanh(p["g"] * N + p["b"]) * torch.tensor(C))

    solution = check(spec, params, numpy_forward, torch_forward)
    assert np.array(solution["values"]["mu"], dtype=float).reshape(-1).shape == (2,)


def test_sum_and_mean_axis_1_softmax_axis_0_and_a_column_broadcast():
    X = RNG.normal(size=(4, 3))
    y = RNG.normal(size=(4, 1))  # a 2-d column, as s = sum(Z, 1) is (keepdims)
    C = RNG.normal(size=(4, 2))
    params = {"W": RNG.normal(size=(3, 2))}
    equations = """
    Z = tanh(X @ W)
    s = sum(Z, 1)
    m = mean(Z, 1)
    Q = softmax(Z, 0)
    """
    loss = "sum((s - y)**2) + sum(Q * C) + sum((Z - m)**2)"
    spec = spec_of(params, {"X": X, "y": y, "C": C}, equations, loss)

    def numpy_forward(p):
        Z = np.tanh(X @ p["W"])
        s = Z.sum(axis=1, keepdims=True)
        m = Z.mean(axis=1, keepdims=True)
        Q = np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True)
        return float(np.sum((s - y) ** 2) + np.sum(Q * C) + np.sum((Z - m) ** 2))

    def torch_forward(p):
        Z = torch.tanh(torch.tensor(X) @ p["W"])
        s = Z.sum(dim=1, keepdim=True)
        m = Z.mean(dim=1, keepdim=True)
        Q = torch.softmax(Z, dim=0)
        return (torch.sum((s - torch.tensor(y)) ** 2) + torch.sum(Q * torch.tensor(C))
                + torch.sum((Z - m) ** 2))

    solution = check(spec, params, numpy_forward, torch_forward)
    assert np.array(solution["values"]["s"], dtype=float).size == 4


# Samples as columns -----------------------------------------------------------------


def test_column_bias_broadcast_and_columns_normalised_by_a_sum_row():
    X = RNG.normal(size=(3, 4))
    Y = RNG.uniform(size=(2, 4))
    params = {"W": RNG.normal(size=(2, 3)), "c": RNG.normal(size=(2, 1))}  # c: a 2x1 column, [[…], […]]
    equations = """
    H = sigmoid(W @ X + c)
    P = H / sum(H, 0)
    """
    spec = spec_of(params, {"X": X, "Y": Y}, equations, "mean((P - Y)**2)")

    def numpy_forward(p):
        H = 1 / (1 + np.exp(-(p["W"] @ X + p["c"])))
        P = H / H.sum(axis=0, keepdims=True)
        return float(np.mean((P - Y) ** 2))

    def torch_forward(p):
        H = torch.sigmoid(p["W"] @ torch.tensor(X) + p["c"])
        P = H / H.sum(dim=0, keepdim=True)
        return torch.mean((P - torch.tensor(Y)) ** 2)

    check(spec, params, numpy_forward, torch_forward)


# concat -------------------------------------------------------------------------------


def test_concat_in_a_recurrent_cell():
    T = 3
    xs = [RNG.normal(size=2) for _ in range(T + 1)]  # xs[0] is not used
    ys = [float(v) for v in RNG.normal(size=T + 1)]
    params = {"W": 0.7 * RNG.normal(size=(2, 4)), "u": RNG.normal(size=(1, 3))}
    equations = """
    v[t] = concat(x[t], h[t-1])
    h[t] = tanh(W @ v[t])
    yhat[t] = u @ concat(h[t], 1)
    """
    spec = spec_of(params, {"x": [x.tolist() for x in xs], "y": ys}, equations, "(yhat[t] - y[t])**2",
                   steps=T, initial={"h": [0, 0]})

    def numpy_forward(p):
        h, loss = np.zeros(2), 0.0
        for t in range(1, T + 1):
            h = np.tanh(p["W"] @ np.concatenate([xs[t], h]))
            loss += float((p["u"] @ np.concatenate([h, [1.0]]))[0] - ys[t]) ** 2
        return loss

    def torch_forward(p):
        h, loss = torch.zeros(2, dtype=torch.float64), 0.0
        one = torch.ones(1, dtype=torch.float64)
        for t in range(1, T + 1):
            h = torch.tanh(p["W"] @ torch.cat([torch.tensor(xs[t]), h]))
            loss = loss + ((p["u"] @ torch.cat([h, one]))[0] - ys[t]) ** 2
        return loss

    solution = check(spec, params, numpy_forward, torch_forward)
    assert np.array(solution["values"]["v[2]"], dtype=float).size == 4


# Shapes, built directly ------------------------------------------------------------------


class Scope:
    recurrent = False

    def __init__(self, values):
        self.values = values

    def lookup(self, name):
        return self.values[name]

    def is_sequence(self, name):
        return False

    def at_step(self, name, step, relative):
        raise SympropError("no steps")


def matrix(name, rows, cols):
    return ImmutableMatrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}{i}{j}", real=True))


SCOPE = Scope({"Z": matrix("z", 3, 2), "v": matrix("v", 3, 1), "r": matrix("r", 1, 2),
               "q": matrix("q", 1, 3), "x": sympy.Symbol("x", real=True)})


def shape(text):
    value = parse_expression(text, SCOPE, Functions({}))
    return value.shape if isinstance(value, ImmutableMatrix) else None


@pytest.mark.parametrize("text, expected", [
    ("sum(Z, 1)", (3, 1)), ("sum(Z, 0)", (1, 2)), ("mean(Z, 1)", (3, 1)), ("mean(Z, 0)", (1, 2)),
    ("softmax(Z, 1)", (3, 2)), ("softmax(Z, 0)", (3, 2)), ("sum(Z)", None), ("mean(Z)", None),
    ("sum(v, 0)", None), ("sum(v, 1)", (3, 1)), ("sum(r, 1)", None), ("softmax(v)", (3, 1)),
    ("sum(sum(Z, 1), 0)", None), ("softmax(x, 1)", None), ("sum(x, 0)", None),
    ("concat(v, x)", (4, 1)), ("concat(x, x, v, r[0])", (6, 1)), ("concat(Z[1].T, v)", (5, 1)),
    ("Z + r", (3, 2)), ("r * Z", (3, 2)), ("Z - v", (3, 2)), ("v / Z", (3, 2)), ("Z + x", (3, 2)),
    ("q + q", (1, 3)), ("Z / sum(Z, 0)", (3, 2)),
])
def test_shapes(text, expected):
    assert shape(text) == expected


def test_values_entry_by_entry():
    Z, v, r = SCOPE.values["Z"], SCOPE.values["v"], SCOPE.values["r"]
    got = parse_expression("Z - r + v", SCOPE, Functions({}))
    assert got == ImmutableMatrix(3, 2, lambda i, j: Z[i, j] - r[0, j] + v[i, 0])
    # a column and a row make a matrix, as NumPy broadcasts them
    assert parse_expression("v + r", SCOPE, Functions({})) == ImmutableMatrix(3, 2, lambda i, j: v[i, 0] + r[0, j])
    assert parse_expression("mean(Z, 0)", SCOPE, Functions({})) == ImmutableMatrix(
        [[(Z[0, j] + Z[1, j] + Z[2, j]) / 3 for j in range(2)]])
    total = sympy.exp(Z[1, 0]) + sympy.exp(Z[1, 1])
    assert parse_expression("softmax(Z, 1)", SCOPE, Functions({}))[1, 1] == sympy.exp(Z[1, 1]) / total
    assert parse_expression("concat(v, x)", SCOPE, Functions({})) == ImmutableMatrix([*v, SCOPE.values["x"]])
    assert parse_expression("softmax(x, 0)", SCOPE, Functions({})) == 1


@pytest.mark.parametrize("text, message", [
    ("softmax(Z, 2)", "softmax: the axis must be 0 or 1, got 2"),
    ("sum(Z, x)", "sum: the axis must be 0 or 1 (up to 5 for an array of more axes), got x"),
    ("mean(Z, -1)", "mean: the axis must be 0 or 1"),
    ("sum(Z, 1.0)", "the axis must be 0 or 1"),
    ("sum(Z, 1, 0)", "sum() takes one argument and an optional axis"),
    ("concat(v)", "concat() stacks two or more"),
    ("concat(v, Z)", "argument 2 is 3x2"),
    ("concat(r, v)", "argument 1 is 1x2"),
    ("Z + Z.T", "same shape, got 3x2 and 2x3"),
    ("v + Z.T", "same shape, got 3x1 and 2x3"),
    ("q * Z", "same shape, got 1x3 and 3x2"),
    ("tanh(Z, 1)", "tanh() takes exactly one argument"),
])
def test_errors_while_building(text, message):
    with pytest.raises(SympropError) as e:
        parse_expression(text, SCOPE, Functions({}))
    assert message in str(e.value) and "\n" not in str(e.value)


# Errors through the CLI --------------------------------------------------------------------

BASE = """
title = "t"
[model]
params = ["W"]
equations = \"\"\"
Z = X @ W
P = {rhs}
\"\"\"
loss = "sum(P)"
[values]
W = [[0.5, -0.3], [0.2, 0.4]]
X = {X}
"""


@pytest.mark.parametrize("rhs, X, fragments", [
    ("softmax(Z, 2)", "[[1, 2], [3, 4]]", ["softmax: the axis must be 0 or 1"]),
    ("sum(Z, k)", "[[1, 2], [3, 4]]", ["sum: the axis must be 0 or 1"]),
    ("concat(Z, Z)", "[[1, 2], [3, 4]]", ["concat", "2x2"]),
    ("Z + X", "[[1, 2], [3, 4], [5, 6]]", ["same shape, got 3x2 and 2x2"]),
])
def test_cli_errors_are_one_line_naming_the_key(rhs, X, fragments, spec_file):
    text = BASE.replace("{rhs}", rhs).replace("{X}", X)
    if rhs == "Z + X":
        text = text.replace("P = Z + X", "P = Z + V").replace("X = [[1, 2], [3, 4], [5, 6]]",
                                                              "X = [[1, 2], [3, 4], [5, 6]]\nV = [[1, 2], [3, 4]]")
    path = spec_file(text)
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 1, (result.output, result.exception)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(path) in lines[0] and "model.equations line 2" in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# Broadcasting, random shapes, against NumPy and torch ----------------------------------------

FORMS = ("full", "row", "column", "scalar")
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def operand(draw, form, n, m, low, high):
    shape = {"full": (n, m), "row": (1, m), "column": (n, 1), "scalar": ()}[form]
    values = draw(st.lists(st.floats(low, high), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.array(values).reshape(shape) if shape else values[0]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_broadcasting_matches_numpy(data):
    n, m = data.draw(st.integers(2, 3)), data.draw(st.integers(2, 3))
    forms = data.draw(st.tuples(st.sampled_from(FORMS), st.sampled_from(FORMS)))
    op = data.draw(st.sampled_from(sorted(OPS)))
    A = operand(data.draw, forms[0], n, m, -2, 2)
    B = operand(data.draw, forms[1], n, m, 0.5, 2) * data.draw(st.sampled_from([1, -1]))
    params = {"A": A, "B": B}
    result_shape = np.broadcast_shapes(np.shape(A), np.shape(B))
    C = operand(data.draw, "full", n, m, -1, 1)[: result_shape[0] if result_shape else 1,
                                                 : result_shape[1] if result_shape else 1]
    C = C if result_shape else float(C[0, 0])
    spec = spec_of(params, {"C": C}, f"Z = A {op} B", "sum(C * Z)")

    def numpy_forward(p):
        return float(np.sum(C * OPS[op](p["A"], p["B"])))

    def torch_forward(p):
        return torch.sum(torch.tensor(np.asarray(C, dtype=float)) * OPS[op](p["A"], p["B"]))

    check(spec, params, numpy_forward, torch_forward)
