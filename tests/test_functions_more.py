"""max, min, abs, leaky_relu, elu, softplus, logsigmoid and log_softmax: each
against PyTorch (float64 autograd, written here, not symprop's torch check),
at its kinks (a tie of max, abs and leaky_relu at 0) and at large |x|; the
closed forms of the scalar graph, the array engine and ``symprop check``
agree; bad input is one line; formula claims know them."""

import math

import numpy as np
import pytest
import sympy
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symprop
from symprop.cli import main
from symprop.derive.program import program_of
from symprop.evaluate.arrays import Machine
from symprop.evaluate.claims import formula_claims

torch = pytest.importorskip("torch")
F = torch.nn.functional


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def spec(equations: str, loss: str, values: dict, params=("a", "b"), expected: str = "") -> str:
    lines = "\n".join(f"{k} = {v!r}" if not isinstance(v, str) else f"{k} = {v}" for k, v in values.items())
    names = ", ".join(f'"{p}"' for p in params)
    text = (f'title = "functions"\n[model]\nparams = [{names}]\nequations = """\n{equations}\n"""\n'
            f'loss = "{loss}"\n' + (f"[values]\n{lines}\n" if values else ""))
    return text + (f"[expected]\n{expected}\n" if expected else "")


def tensors(values: dict) -> dict:
    return {k: torch.tensor(np.array(v, dtype=float).reshape(-1, 1) if isinstance(v, list) else float(v),
                            dtype=torch.float64, requires_grad=True) for k, v in values.items()}


def close(ours, theirs, rel=1e-12):
    """Equal numbers; a vector as JSON gives it (flat) or as a column, a matrix row by row."""
    ours, theirs = np.asarray(ours, dtype=float).reshape(-1), np.asarray(theirs, dtype=float).reshape(-1)
    assert ours.size == theirs.size and np.allclose(ours, theirs, rtol=rel, atol=rel), (ours, theirs)


# Scalars: y = f(a, b) and L = 3·y, at kinks and far out -----------------------------------

SCALAR = [  # (expression, the same in torch, points (a, b))
    ("max(a, b)", lambda a, b: torch.maximum(a, b), [(2.0, -1.0), (-3.0, 0.5), (1.5, 1.5)]),
    ("min(a, b)", lambda a, b: torch.minimum(a, b), [(2.0, -1.0), (-3.0, 0.5), (1.5, 1.5)]),
    ("abs(a) + 0*b", lambda a, b: torch.abs(a) + 0 * b, [(-2.0, 0.0), (0.0, 0.0), (3.0, 0.0)]),
    ("leaky_relu(a) + b", lambda a, b: F.leaky_relu(a) + b, [(-2.0, 1.0), (0.0, 1.0), (3.0, 1.0)]),
    ("leaky_relu(a, 0.2)*b", lambda a, b: F.leaky_relu(a, 0.2) * b, [(-2.0, 0.5), (0.0, 0.5), (3.0, 0.5)]),
    ("elu(a) - b", lambda a, b: F.elu(a) - b, [(-2.0, 1.0), (0.0, 1.0), (3.0, 1.0), (-800.0, 1.0)]),
    ("elu(a, 0.5) - b", lambda a, b: F.elu(a, 0.5) - b, [(-2.0, 1.0), (0.0, 1.0), (3.0, 1.0)]),
    ("softplus(a) + softplus(b)", lambda a, b: F.softplus(a) + F.softplus(b),
     [(-800.0, 800.0), (-50.0, 50.0), (0.0, 0.3), (-1.7, 2.2)]),
    ("logsigmoid(a) + logsigmoid(b)", lambda a, b: F.logsigmoid(a) + F.logsigmoid(b),
     [(-800.0, 800.0), (-50.0, 50.0), (0.0, 0.3), (-1.7, 2.2)]),
]


def _torch_scalar(fn, a, b):
    t = tensors({"a": a, "b": b})
    y = fn(t["a"], t["b"])
    (3 * y).backward()
    return y.item(), t["a"].grad.item(), t["b"].grad.item()


@pytest.mark.parametrize("expr, fn, points", SCALAR, ids=[c[0] for c in SCALAR])
def test_scalar_functions_agree_with_torch(expr, fn, points):
    for a, b in points:
        problem = symprop.loads(spec(f"y = {expr}", "3*y", {"a": a, "b": b}))
        numbers = problem.solve()
        y, ga, gb = _torch_scalar(fn, a, b)
        close(numbers["values"]["y"], y)
        close(numbers["gradients"]["a"], ga)
        close(numbers["gradients"]["b"], gb)
        # the closed forms of the scalar graph, at the same numbers
        at = {sympy.Symbol("a"): sympy.Float(a), sympy.Symbol("b"): sympy.Float(b)}
        for p, g in problem.gradients().items():
            close(float(g.subs(at)), numbers["gradients"][p])
        assert numbers["checks"]["scalar_engine"]["passed"], numbers["checks"]


def test_a_tie_splits_the_gradient_and_kinks_are_reported():
    numbers = symprop.loads(spec("y = max(a, b) + abs(a - 1.5)", "y", {"a": 1.5, "b": 1.5})).solve()
    assert numbers["gradients"] == {"a": 0.5, "b": 0.5}
    fd = numbers["checks"]["finite_differences"]
    assert fd["passed"] and fd["kinks"] == ["y"]
    assert "kinks" not in numbers  # the relu'(0) note is relu's own


@pytest.mark.parametrize("expr, fn, points", SCALAR, ids=[c[0] for c in SCALAR])
def test_symprop_check_exits_0(expr, fn, points, spec_file):
    a, b = points[-1]
    result = invoke("check", spec_file(spec(f"y = {expr}", "3*y", {"a": a, "b": b})))
    assert result.exit_code == 0, result.output
    assert "all checks passed" in result.output


def test_large_arguments_neither_overflow_nor_lose_the_derivative():
    values = {"a": 800.0, "b": -800.0}
    numbers = symprop.loads(spec("y = softplus(a) + logsigmoid(b) + softplus(b) - logsigmoid(a)",
                                 "y", values)).solve()
    assert numbers["values"]["y"] == pytest.approx(800 - 800)
    assert numbers["gradients"] == {"a": 1.0, "b": 1.0}


# CS231n's max gate ---------------------------------------------------------------------------

CS231N = """
title = "The max gate"
source = "CS231n notes, Backpropagation, intuitions: patterns in backward flow"
[model]
params = ["x", "y", "z", "w"]
equations = \"\"\"
q = x*y
m = max(z, w)
f = 2*(q + m)
\"\"\"
loss = "f"
[values]
x = 3
y = -4
z = 2
w = -1
[expected]
loss = -20
"grad.x" = -8
"grad.y" = 6
"grad.z" = 2
"grad.w" = 0
"formula.grad.z" = "2 * (max(z, w) - w) / (z - w)"
"""


def test_cs231n_max_gate(spec_file):
    """The notes: the max gate routes the gradient to the larger input, so
    df/dz = 2 and df/dw = 0; df/dx = 2y = -8, df/dy = 2x = 6."""
    problem = symprop.loads(CS231N)
    numbers = problem.solve()
    assert numbers["gradients"] == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
    assert all(row["ok"] for row in numbers["expected"])
    result = invoke("check", spec_file(CS231N))
    assert result.exit_code == 0, result.output
    text = invoke("solve", spec_file(CS231N)).output
    assert "m = max(z, w) = max(2, (-1)) = 2" in text
    assert "∂L/∂z = ∂L/∂m·H(z - w) = 2·1 = 2" in text
    latex = invoke("solve", spec_file(CS231N), "--format", "latex").output
    assert r"\max(z, w)" in latex


# Vectors and matrices ---------------------------------------------------------------------

VECTOR_VALUES = {
    "W": [[0.5, -0.2], [0.1, 0.3], [-0.4, 0.9]],
    "v": [0.1, -0.1, 0.3],
    "x": [1.0, 2.0],
    "y": [0.0, 1.0, 0.0],
}


def _torch_vector(build, values):
    t = tensors({k: v for k, v in values.items() if k not in ("W",)})
    t["W"] = torch.tensor(values["W"], dtype=torch.float64, requires_grad=True)
    loss = build(t)
    loss.backward()
    return loss.item(), t["W"].grad.numpy(), t["v"].grad.numpy()


VECTOR = [  # (equations with z = W @ x + v, loss, torch)
    ("h = max(z, 0.5*z)", "sum(h*h)", lambda z: (torch.maximum(z, 0.5 * z) ** 2).sum()),
    ("h = min(z, 0.25)", "sum(h*h)", lambda z: (torch.minimum(z, torch.tensor(0.25, dtype=torch.float64)) ** 2).sum()),
    ("h = abs(z) + leaky_relu(z, 0.3) + elu(z, 0.7)", "sum(h*h)",
     lambda z: ((torch.abs(z) + F.leaky_relu(z, 0.3) + F.elu(z, 0.7)) ** 2).sum()),
    ("h = softplus(z) - logsigmoid(2*z)", "sum(h*h)", lambda z: ((F.softplus(z) - F.logsigmoid(2 * z)) ** 2).sum()),
    ("s = log_softmax(z)", "-sum(y * s)", lambda z: -(torch.log_softmax(z, dim=0) * YT).sum()),
]
YT = torch.tensor(VECTOR_VALUES["y"], dtype=torch.float64).reshape(-1, 1)


@pytest.mark.parametrize("line, loss, fn", VECTOR, ids=[c[0] for c in VECTOR])
def test_vector_functions_agree_with_torch(line, loss, fn, spec_file):
    values = {k: v for k, v in VECTOR_VALUES.items() if k != "y" or "y" in loss}
    text = spec(f"z = W @ x + v\n{line}", loss, values, params=("W", "v"))
    numbers = symprop.loads(text).solve()
    value, gW, gv = _torch_vector(lambda t: fn(t["W"] @ t["x"] + t["v"]), values)
    close(numbers["loss"], value)
    close(numbers["gradients"]["W"], gW)
    close(numbers["gradients"]["v"], gv)
    assert all(c["passed"] for c in numbers["checks"].values()), numbers["checks"]
    result = invoke("check", spec_file(text))
    assert result.exit_code == 0, result.output


def test_a_tie_in_a_vector_splits_as_torch_maximum():
    values = {"a": [1.0, -2.0, 0.0], "b": [1.0, 3.0, -1.0]}
    numbers = symprop.loads(spec("h = max(a, b) + min(a, 0)", "sum(h*h)", values)).solve()
    t = tensors(values)
    ((torch.maximum(t["a"], t["b"]) + torch.minimum(t["a"], torch.zeros(1, dtype=torch.float64))) ** 2).sum().backward()
    close(numbers["gradients"]["a"], t["a"].grad.numpy())
    close(numbers["gradients"]["b"], t["b"].grad.numpy())


@pytest.mark.parametrize("axis", [0, 1])
def test_log_softmax_along_an_axis(axis, spec_file):
    values = {"Z": [[1.0, -2.0, 0.5], [0.3, 0.0, 2.0]], "Y": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.5]]}
    text = spec(f"S = log_softmax(Z, {axis})", "-sum(Y * S)", values, params=("Z",))
    numbers = symprop.loads(text).solve()
    Z = torch.tensor(values["Z"], dtype=torch.float64, requires_grad=True)
    S = torch.log_softmax(Z, dim=axis)
    (-(S * torch.tensor(values["Y"], dtype=torch.float64)).sum()).backward()
    close(numbers["values"]["S"], S.detach().numpy())
    close(numbers["gradients"]["Z"], Z.grad.numpy())
    assert invoke("check", spec_file(text)).exit_code == 0


def test_log_softmax_of_large_logits_has_no_overflow():
    values = {"z": [800.0, -800.0, 799.0], "y": [0.0, 0.0, 1.0]}
    numbers = symprop.loads(spec("s = log_softmax(z)", "-sum(y * s)", values, params=("z",))).solve()
    z = torch.tensor(values["z"], dtype=torch.float64, requires_grad=True)
    loss = -torch.log_softmax(z, dim=0)[2]
    loss.backward()
    close(numbers["loss"], loss.item())
    close(np.reshape(numbers["gradients"]["z"], -1), z.grad.numpy())


@pytest.mark.parametrize("line,loss", [
    ("s = log_softmax(z)", "-sum(y * s)"),
    ("s = softmax(z)", "-sum(y * log(s))"),
    ("s = log_softmax(z, 0)", "-sum(y * s)"),
    ("s = softmax(z, 0)", "sum(y * s)"),
])
def test_large_logits_pass_every_check(line, loss, spec_file):
    """The entry-by-entry engine computes log Σ exp and 1/Σ exp without
    overflow, as the array engine does: it compares its numbers, not inf/inf."""
    values = {"z": [800.0, 795.0, 799.0], "y": [0.0, 0.0, 1.0]}  # exp(800) overflows, softmax does not
    text = spec(line, loss, values, params=("z",))
    engine = symprop.loads(text).solve()["checks"]["scalar_engine"]
    assert engine["passed"] and engine["compared"] >= 2, engine
    assert invoke("check", spec_file(text)).exit_code == 0


def test_cross_entropy_on_logits_matches_torch_cross_entropy():
    values = {"W": [[0.2, -0.5], [1.0, 0.3], [-0.7, 0.4]], "x": [1.5, -0.5], "y": [0.0, 0.0, 1.0]}
    numbers = symprop.loads(spec("z = W @ x", "-sum(y * log_softmax(z))", values, params=("W",))).solve()
    W = torch.tensor(values["W"], dtype=torch.float64, requires_grad=True)
    logits = (W @ torch.tensor(values["x"], dtype=torch.float64)).reshape(1, -1)
    loss = F.cross_entropy(logits, torch.tensor([2]))
    loss.backward()
    close(numbers["loss"], loss.item())
    close(numbers["gradients"]["W"], W.grad.numpy())


def test_the_matrix_formulas_print_the_new_functions():
    text = spec("z = W @ x + v\nh = leaky_relu(z, 0.3) + abs(z)\ns = log_softmax(h)", "-sum(y * s)",
                VECTOR_VALUES, params=("W", "v"))
    problem = symprop.loads(text)
    out = problem.solution().document("text")
    assert "∂L/∂h = ∂L/∂s - exp(s)·sum(∂L/∂s)" in out
    assert "h = leaky_relu(z, 0.3) + |z|" in out
    assert "[z > 0]" in out and "0.3·[z ≤ 0]" in out
    latex = problem.solution().document("latex")
    assert r"\log\operatorname{softmax}(h)" in latex and r"\operatorname{LeakyReLU}(z, 0.3)" in latex
    assert r"\left|z\right|" in latex and r"\left[z \leq 0\right]" in latex
    assert "leaky_relu" not in latex and "log_softmax" not in latex


# A recurrent cell ---------------------------------------------------------------------------

RNN = """
title = "rnn"
[model]
params = ["w", "u"]
steps = 3
initial = { h = 0.1 }
equations = \"\"\"
h[t] = leaky_relu(w*h[t-1] + u*x[t], 0.1) + min(h[t-1], 0.2)
yhat[t] = softplus(h[t])
\"\"\"
loss = "(yhat[t] - y[t])**2"
[values]
w = 0.5
u = -0.7
x = [0, 1, -1, 2]
y = [0, 1, 0.5, 1]
"""


def test_a_recurrent_cell_agrees_with_torch(spec_file):
    numbers = symprop.loads(RNN).solve()
    w, u = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.5, -0.7))
    h, loss = torch.tensor(0.1, dtype=torch.float64), 0
    for x, y in zip([1, -1, 2], [1, 0.5, 1]):
        h = F.leaky_relu(w * h + u * x, 0.1) + torch.minimum(h, torch.tensor(0.2, dtype=torch.float64))
        loss = loss + (F.softplus(h) - y) ** 2
    loss.backward()
    close(numbers["gradients"]["w"], w.grad.item())
    close(numbers["gradients"]["u"], u.grad.item())
    assert invoke("check", spec_file(RNN)).exit_code == 0


# Random points away from the kinks ------------------------------------------------------------

MIXED = spec(
    "h = max(a*x, b)\n"
    "g = leaky_relu(h - c, 0.2) + softplus(a) - logsigmoid(b*x) + elu(c - h) + abs(a - c) + min(h, c)",
    "g*g", {"a": 0.5, "b": 0.5, "c": 0.5, "x": 0.5}, params=("a", "b", "c"))
MACHINE = Machine(program_of(symprop.loads(MIXED).spec))
number = st.floats(-4, 4, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number, number, number, number)
def test_random_points_agree_with_torch(a, b, c, x):
    h = max(a * x, b)
    assume(min(abs(a * x - b), abs(h - c), abs(a - c)) > 1e-6)  # no kink
    run = MACHINE.run({"a": a, "b": b, "c": c, "x": x})
    t = tensors({"a": a, "b": b, "c": c, "x": x})
    th = torch.maximum(t["a"] * t["x"], t["b"])
    g = (F.leaky_relu(th - t["c"], 0.2) + F.softplus(t["a"]) - F.logsigmoid(t["b"] * t["x"])
         + F.elu(t["c"] - th) + torch.abs(t["a"] - t["c"]) + torch.minimum(th, t["c"]))
    (g * g).backward()
    assert run.loss == pytest.approx((g * g).item(), rel=1e-12, abs=1e-12)
    for p in "abc":
        assert float(run.adjoints[p]) == pytest.approx(t[p].grad.item(), rel=1e-9, abs=1e-9)
    assert not run.kinks and not run.corners


# Bad input: one line, naming the key, exit 1 ------------------------------------------------------

VECTORS = {"a": 1.0, "b": 2.0, "v": [1.0, 2.0], "u": [1.0, 2.0, 3.0]}
BAD = [
    ("y = max(a)", "y", "model.equations line 1: max() takes two arguments"),
    ("y = min(a, b, a)", "y", "model.equations line 1: min() takes two arguments"),
    ("y = leaky_relu(a, b)", "y", "model.equations line 1: leaky_relu: the slope must be a number, got 'b'"),
    ("y = elu(a, 1, 2) + b", "y", "model.equations line 1: elu() takes one argument and an optional alpha"),
    ("y = softplus(a, 2) + b", "y", "model.equations line 1: softplus() takes exactly one argument"),
    ("y = a + b + 0*v", "sum(log_softmax(v, 2))", "model.loss: log_softmax(): axis 2 does not exist for a 1-d vector (its only axis is 0)"),
    ("y = log_softmax(a) + b", "y", "model.equations line 1: log_softmax() needs a column vector, got a scalar"),
    ("y = max(v, u) + a + b", "sum(y)", "model.equations line 1: 'max()' needs operands of the same shape, "
     "got 2x1 and 3x1"),
    ("max = a + b", "max", "model.equations line 1: 'max' is a built-in function (max(…)); give this quantity another name"),
    ("abs = a + b", "abs", "model.equations line 1: 'abs' is a built-in function (abs(…)); give this quantity another name"),
    ("y = max + a + b", "y", "model.equations line 1: 'max' is a function; call it as max(...)"),
    ("y = leaky_relu(a, slope=0.1) + b", "y", "model.equations line 1: a keyword argument is not allowed"),
]


@pytest.mark.parametrize("equation, loss, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line(equation, loss, message, spec_file):
    used = equation + " " + loss.replace("sum", "")
    path = spec_file(spec(equation, loss, {k: v for k, v in VECTORS.items() if k in used}))
    result = invoke("check", path)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    with pytest.raises(symprop.SympropError) as e:
        symprop.load(path).solve()
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_parameter_named_as_a_function_is_refused():
    with pytest.raises(symprop.SympropError, match="'max' is a function; call it as max"):
        symprop.loads(spec("y = 2*max", "y", {"max": 1.0}, params=("max",))).solve()


def test_activation_max_is_refused_in_one_line(spec_file):
    text = ('title = "act"\n[model]\nparams = ["w"]\nfunctions = ["f"]\nequations = "h = f(w*x)"\n'
            'loss = "(h - y)**2"\n[[document.parts]]\nshow = ["activation:f={}"]\n')
    ok = invoke("derive", spec_file(text.format("leaky_relu")))
    assert ok.exit_code == 0, ok.output
    assert "f′(z) = 0.01·[z ≤ 0] + [z > 0]" in ok.output
    bad = invoke("derive", spec_file(text.format("max")))
    assert bad.exit_code == 1
    assert bad.output.strip().count("\n") == 0
    assert "document.parts[0].show: 'activation:f=max': write 'activation:f=sigmoid'" in bad.output


# Formula claims ------------------------------------------------------------------------------

def _claims(expected: str, values: bool = True) -> list:
    """z = w·x = 1 at the values, h = softplus(z) ≈ 1.31, and max picks leaky_relu(h − 1) ≈ 0.31
    (above |z| − 5 at the random points in [0.1, 1] too): ∂g/∂h = leaky_relu′(h − 1).
    D(leaky_relu) is the derivative at the default slope, the one the model uses."""
    text = spec("z = w*x\nh = softplus(z)\ng = max(leaky_relu(h - 1), abs(z) - 5)", "(g - y)**2",
                {"w": 0.5, "x": 2.0, "y": 3.0} if values else {}, params=("w",), expected=expected)
    return formula_claims(symprop.loads(text).spec)


@pytest.mark.parametrize("values", [True, False], ids=["values", "symbolic"])
def test_formula_claims_with_the_new_functions(values):
    claims = _claims('"formula.adjoint.z" = "adjoint(h) * D(softplus)(z)"\n'
                     '"formula.adjoint.h" = "adjoint(g) * D(leaky_relu)(h - 1)"\n'
                     '"formula.adjoint.g" = "2 * (max(leaky_relu(h - 1, 0.01), abs(z) - 5) - y)"\n'
                     '"formula.grad.w" = "x * adjoint(h) * sigmoid(z)"', values)
    assert len(claims) == 4 and all(c.ok for c in claims), claims


@pytest.mark.parametrize("values", [True, False], ids=["values", "symbolic"])
def test_a_wrong_derivative_of_softplus_is_wrong(values):
    (claim,) = _claims('"formula.adjoint.z" = "adjoint(h) * sigmoid(-z)"', values)
    assert not claim.ok, claim


def test_d_of_max_is_refused():
    with pytest.raises(symprop.SympropError, match=r"D\(max\): 'max' is not a function of one argument"):
        _claims('"formula.adjoint.z" = "D(max)(z)"')


def test_softplus_derivative_is_the_sigmoid_symbolically():
    from symprop.model.functions import RULES, sigmoid

    z = sympy.Symbol("z", real=True)
    assert sympy.simplify(sympy.diff(sympy.log(1 + sympy.exp(z)), z) - RULES["softplus"].partials([z], None)[0]
                          .rewrite(sympy.exp)) == 0
    assert RULES["logsigmoid"].partials([z], None)[0] == sigmoid(-z)
    assert math.isclose(float(RULES["elu"].of(sympy.Float(-1.0))), math.expm1(-1.0))


def test_the_reference_pages_example_claims_what_a_hand_computation_gives():
    """docs/spec-format.md: h = (1, 0, 0), s = h − log(e + 2), ∂L/∂h = softmax(h) − y."""
    import re

    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "spec-format.md").read_text("utf-8")
    (example,) = [t for t in re.findall(r"```toml\n(.*?)```", doc, re.S) if "log_softmax(h)" in t]
    claims = dict(re.findall(r'^"?([\w.\[\]]+)"? = (-?[\d.]+)', example.split("[expected]")[1], re.M))
    e = math.e
    hand = {"loss": math.log(e + 2), "value.s[0]": 1 - math.log(e + 2), "adjoint.h[0]": e / (e + 2),
            "adjoint.h[2]": 1 / (e + 2) - 1, "grad.W[0][1]": -e / (e + 2), "grad.W[1][0]": 0.0}
    assert set(claims) == set(hand)
    for key, value in hand.items():
        assert float(claims[key]) == pytest.approx(value, abs=5e-5), key
