"""Claims about formulas and structure (formula.grad.*, formula.adjoint.*,
through_time.*): right ones pass, the sources' errata fail for the right
reason, each checked against an independent computation (sympy.diff of the
loss written out by hand, finite differences of a hand-written NumPy RNN)."""

import json
import time

import numpy as np
import pytest
import sympy
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.evaluate.claims import FormulaClaim, formula_claims
from symprop.evaluate.numeric import solve
from symprop.model import spec
from tests.conftest import DERIVATIONS
from tests.test_matrix import SYMBOLIC_LAYER


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def strict_json(text: str):
    def reject(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def with_claims(name: str, claims: str, keep_expected: bool = True) -> spec.Problem:
    """The shipped spec with more claims; a first line "y = [...]" replaces its y."""
    text = (DERIVATIONS / f"{name}.toml").read_text()
    if claims.startswith("y = "):
        given, claims = claims.split("\n", 1)
        text = "\n".join(given if line.startswith("y = ") else line for line in text.splitlines()) + "\n"
    if "[expected]" not in text:
        text += "[expected]\n"
    elif not keep_expected:
        text = text.split("[expected]")[0] + "[expected]\n"
    return spec.load(f"{name}.toml", text=text + claims)


def by_key(problem: spec.Problem) -> dict[str, FormulaClaim]:
    solution = solve(problem) if problem.values else None
    return {c.key: c for c in formula_claims(problem, solution)}


# --- seed 001: the sign of ∂L/∂ŷ ------------------------------------------------

x, y, w1, w2, w3 = sympy.symbols("x y w1 w2 w3", real=True)
f = sympy.Function("f")
YHAT = w3 * f(w2 * f(w1 * x))
LOSS = (y - YHAT) ** 2 / 2


def test_masha_backprop_source_sign_is_wrong_by_sympy_diff():
    """The independent derivative: sympy.diff of the loss written out by hand."""
    source_w3 = (y - YHAT) * f(f(x * w1) * w2)
    assert sympy.simplify(source_w3 + sympy.diff(LOSS, w3)) == 0  # the source is −∂L/∂w3
    claims = by_key(symprop.load("masha_backprop").spec)
    assert set(claims) == {"formula.grad.w1", "formula.grad.w2", "formula.grad.w3"}
    for c in claims.values():
        assert (c.ok, c.reason, c.how) == (False, "differs in sign", "symbolic"), c


def test_masha_backprop_right_formulas_with_D_pass():
    fp = sympy.Function("fp")  # f′, as sympy.diff writes it: Subs(Derivative(f(z), z), z, a)
    right_w1 = sympy.diff(LOSS, w1)
    mine = (YHAT - y) * w3 * fp(w2 * f(w1 * x)) * w2 * fp(w1 * x) * x
    z = sympy.Dummy()
    as_diff = mine.replace(fp, lambda a: sympy.Subs(sympy.Derivative(f(z), z), z, a))
    assert sympy.simplify(as_diff - right_w1) == 0
    problem = with_claims("masha_backprop", """
"formula.grad.w3" = "(yhat - y) * f(f(x*w1)*w2)"
"formula.grad.w2" = "(yhat - y) * w3 * D(f)(h2) * o1"
"formula.grad.w1" = "(yhat - y) * w3 * D(f)(f(x*w1)*w2) * w2 * D(f)(x*w1) * x"
"formula.adjoint.o1" = "adjoint(h2) * w2"
"formula.adjoint.h1" = "adjoint(o1) * D(f)(h1)"
""", keep_expected=False)
    for c in by_key(problem).values():
        assert c.ok and c.reason == "agrees symbolically", c


def test_symbolic_reasons_factor_and_difference():
    problem = with_claims("masha_backprop", """
"formula.grad.w3" = "2*(yhat - y) * o2"
"formula.adjoint.o2" = "adjoint(yhat) * w3 + y"
""", keep_expected=False)
    claims = by_key(problem)
    assert claims["formula.grad.w3"].reason == "differs by a factor 2"
    assert claims["formula.adjoint.o2"].reason == "differs: claimed − right = y"


def test_an_undefined_f_is_not_taken_for_tanh():
    """1 − f² is tanh′ but not f′: a generic f at the random points tells them apart."""
    claims = by_key(with_claims("masha_backprop", """
"formula.grad.w2" = "(yhat - y) * w3 * (1 - o2**2) * o1"
"formula.grad.w1" = "(yhat - y) * w3 * D(f)(h2) * w2 * D(f)(h1) * x + 0*D(f)(y)"
""", keep_expected=False))
    assert not claims["formula.grad.w2"].ok
    assert claims["formula.grad.w1"].ok


SYMBOLIC_RNN = """title = "r"
[model]
params = ["u", "v", "w"]
functions = ["f"]
steps = 3
initial = { h = 0 }
equations = \"\"\"
h[t] = f(w*h[t-1] + v*y[t-1])
yhat[t] = u*h[t]
\"\"\"
loss = "(y[t] - yhat[t])**2"
[expected]
"formula.adjoint.h[t]" = "adjoint(yhat[t])*u + adjoint(h[t+1])*D(f)(w*h[t] + v*y[t])*w"
"formula.adjoint.h[3]" = "adjoint(yhat[3])*u"
"formula.adjoint.yhat[t]" = "2*(yhat[t] - y[t])"
"formula.grad.v" = "sum_t(adjoint(h[t])*D(f)(w*h[t-1] + v*y[t-1])*y[t-1])"
"formula.grad.w" = "sum_t(adjoint(yhat[t])*u*D(f)(w*h[t-1] + v*y[t-1])*h[t-1])"
"formula.adjoint.h[2]" = "adjoint(yhat[2])*u + adjoint(h[3])*(1 - h[3]**2)*w"
"""


def test_symbolic_recurrent_claims():
    claims = {c.key: c for c in formula_claims(spec.load("r.toml", text=SYMBOLIC_RNN))}
    assert claims["formula.adjoint.h[t]"].reason == "agrees symbolically, t = 1, 2"
    assert claims["formula.adjoint.h[3]"].ok and claims["formula.adjoint.yhat[t]"].steps == (1, 2, 3)
    assert claims["formula.grad.v"].ok
    assert not claims["formula.grad.w"].ok  # the source's w without BPTT
    assert not claims["formula.adjoint.h[2]"].ok  # tanh′ where f is undefined


@pytest.mark.parametrize("formula, reason", [
    ("1/0", "is not finite"), ("0*yhat", "is 0"), ("(yhat+1)**1000", "differs (by up to"),
])
def test_symbolic_edge_cases_are_quick(formula, reason):
    start = time.monotonic()
    (c,) = formula_claims(with_claims("masha_backprop", f'"formula.grad.w3" = "{formula}"\n', keep_expected=False))
    assert not c.ok and c.reason.startswith(reason)
    assert time.monotonic() - start < 2


def test_check_masha_backprop_exits_1_and_names_the_reason():
    result = invoke("check", "masha_backprop", "--against", "fd")
    assert result.exit_code == 1
    assert "formula.grad.w3 = (y - yhat) * f(f(x*w1)*w2)" in result.stdout
    assert "WRONG: differs in sign" in result.stdout
    assert "0 of 3 claims agree" in result.stdout


# --- seed 004: the order of the product ----------------------------------------------


def rnn_numpy(problem):
    """A hand-written forward pass of dlbook_rnn and ∂L/∂h[t] by finite differences."""
    v = problem.values
    W, U, V, b, c = (v[k] for k in "WUVbc")
    xs, ys = v["x"], v["y"]
    T = problem.steps

    def run(start=0, h_start=None):
        h = np.zeros((2, 1)) if h_start is None else h_start
        hs, yhats, loss = {start: h}, {}, 0.0
        for t in range(start + 1, T + 1):
            h = np.tanh(b + W @ h + U @ xs[t])
            o = c + V @ h
            e = np.exp(o - o.max())
            yhats[t] = e / e.sum()
            hs[t] = h
            loss += -float(np.sum(ys[t] * np.log(yhats[t])))
        return hs, yhats, loss

    hs, yhats, _ = run()

    def loss_after(t, h):  # L as a function of h[t], everything before it fixed
        before = -sum(float(np.sum(ys[s] * np.log(yhats[s]))) for s in range(1, t))
        _, yh, rest = run(t, h)
        o_part = 0.0  # step t's own loss term, through o[t] = c + V h[t]
        o = c + V @ h
        e = np.exp(o - o.max())
        o_part = -float(np.sum(ys[t] * np.log(e / e.sum())))
        return before + o_part + rest

    grads = {}
    for t in range(1, T + 1):
        g = np.zeros((2, 1))
        for i in range(2):
            d = np.zeros((2, 1))
            d[i] = 1e-6
            g[i] = (loss_after(t, hs[t] + d) - loss_after(t, hs[t] - d)) / 2e-6
        grads[t] = g
    return hs, yhats, ys, grads, (W, V)


def test_dlbook_right_order_agrees_with_finite_differences_and_passes():
    problem = symprop.load("dlbook_rnn").spec
    hs, yhats, ys, grads, (W, V) = rnn_numpy(problem)
    for t in (1, 2):  # t < τ, as the source says
        right = W.T @ np.diagflat(1 - hs[t + 1] ** 2) @ grads[t + 1] + V.T @ (yhats[t] - ys[t])
        assert np.allclose(right, grads[t], atol=1e-7)
        with pytest.raises(ValueError):  # the source's order: (2×1)·(2×2)
            W.T @ grads[t + 1] @ np.diagflat(1 - hs[t + 1] ** 2)
    claims = by_key(with_claims("dlbook_rnn", """
"formula.adjoint.h[t]" = "W.T @ diag(1 - h[t+1]**2) @ adjoint(h[t+1]) + V.T @ adjoint(o[t])"
"formula.adjoint.h[3]" = "V.T @ (yhat[3] - y[3])"
"formula.grad.W" = "sum_t(diag(1 - h[t]**2) @ adjoint(h[t]) @ h[t-1].T)"
"formula.grad.c" = "sum_t(yhat[t] - y[t])"
""", keep_expected=False))
    assert all(c.ok for c in claims.values()), claims
    assert claims["formula.adjoint.h[t]"].steps == (1, 2)
    assert claims["formula.adjoint.h[t]"].reason == "agrees at the spec's values, t = 1, 2"


def test_dlbook_source_order_is_not_defined():
    claims = by_key(symprop.load("dlbook_rnn").spec)
    c = claims["formula.adjoint.h[t]"]
    assert (c.ok, c.reason) == (False, "the product is not defined: (2×1)·(2×2)")
    assert c.part == "W.T @ adjoint(h[t+1]) @ diag(1 - h[t+1]**2)"
    assert c.claimed == "W.T @ adjoint(h[t+1]) @ diag(1 - h[t+1]**2) + V.T @ adjoint(o[t])"


def test_numeric_reasons():
    claims = by_key(with_claims("dlbook_rnn", """
"formula.adjoint.o[3]" = "y[3] - yhat[3]"
"formula.adjoint.o[t]" = "3*(yhat[t] - y[t])"
"formula.grad.W" = "sum_t(h[t-1] @ (diag(1 - h[t]**2) @ adjoint(h[t])).T)"
"formula.grad.b" = "sum_t(adjoint(h[t]))"
"formula.grad.V" = "sum_t(h[t] @ adjoint(o[t]).T)"
""", keep_expected=False))
    assert claims["formula.adjoint.o[3]"].reason == "differs in sign"
    assert claims["formula.adjoint.o[t]"].reason == "differs by a factor 3"
    assert claims["formula.grad.W"].reason == "is the transpose"
    assert claims["formula.grad.b"].reason.startswith("differs (by up to ")
    assert claims["formula.grad.V"].ok and "transpose" in claims["formula.grad.V"].reason


def test_check_dlbook_rnn_exits_1_with_the_reason():
    result = invoke("check", "dlbook_rnn", "--against", "fd")
    assert result.exit_code == 1
    assert "WRONG: the product is not defined: (2×1)·(2×2)" in result.stdout


def test_matrix_problem_without_values_is_checked_at_random_values(spec_file):
    text = SYMBOLIC_LAYER + """[expected]
"formula.grad.W" = "(1 - z**2) @ x.T"
"formula.adjoint.z" = "x.T @ W.T"
"""
    claims = {c.key: c for c in formula_claims(spec.load(str(spec_file(text))))}
    assert claims["formula.grad.W"].ok and claims["formula.grad.W"].how == "random values"
    assert claims["formula.adjoint.z"].reason.startswith("differs (by up to ")
    assert claims["formula.adjoint.z"].reason.endswith("(compared as the transpose)")
    result = invoke("check", str(spec_file(text)))
    assert result.exit_code == 1 and "1 of 2 claims agree" in result.stdout


# --- seed 000: through time ------------------------------------------------------------


# At the source's own y = [0, 1, -1, 2] relu cuts every path back in time (h[1] = 0 and
# h[3]'s pre-activation is negative), so the numbers cannot tell; these y can.
Y = [1, 2, 1, 2]


def masha_rnn_numbers(v_shift=0.0, u_shift=0.0):
    """Seed 000 by hand: h_t = relu(w h_{t-1} + v y_{t-1}), ŷ_t = relu(u h_t), L = Σ (y_t − ŷ_t)²."""
    u, v, w, ys = 0.5 + u_shift, 0.5 + v_shift, 0.5, Y
    h, loss, hs = 0.0, 0.0, [0.0]
    for t in range(1, 4):
        h = max(w * h + v * ys[t - 1], 0.0)
        loss += (ys[t] - max(u * h, 0.0)) ** 2
        hs.append(h)
    return loss, hs, (u, v, w, ys)


def test_v_needs_bptt_by_finite_differences():
    """The source's gradient for v without going back in time is not dL/dv; for u it is."""
    fd_v = (masha_rnn_numbers(v_shift=1e-6)[0] - masha_rnn_numbers(v_shift=-1e-6)[0]) / 2e-6
    fd_u = (masha_rnn_numbers(u_shift=1e-6)[0] - masha_rnn_numbers(u_shift=-1e-6)[0]) / 2e-6
    _, hs, (u, v, w, ys) = masha_rnn_numbers()

    def step(t):  # ∂L_t/∂ŷ_t · f_y′ and the pre-activations
        z = u * hs[t]
        return -2 * (ys[t] - max(z, 0.0)) * (z > 0), w * hs[t - 1] + v * ys[t - 1]

    no_bptt_v = sum(step(t)[0] * u * (step(t)[1] > 0) * ys[t - 1] for t in range(1, 4))
    no_bptt_u = sum(step(t)[0] * hs[t] for t in range(1, 4))
    assert abs(no_bptt_v - fd_v) > 0.1  # the source's formula misses the path through h[t-1]
    assert abs(no_bptt_u - fd_u) < 1e-6
    claims = by_key(symprop.load("masha_rnn").spec)
    c = claims["through_time.v"]
    assert (c.ok, c.claimed) == (False, False)
    assert "h[t-1]" in c.reason


@pytest.mark.parametrize("param, claimed, ok", [
    ("v", True, True), ("v", False, False), ("w", True, True), ("u", False, True), ("u", True, False),
])
def test_through_time_both_ways(param, claimed, ok):
    problem = with_claims("masha_rnn", f'"through_time.{param}" = {str(claimed).lower()}\n', keep_expected=False)
    (c,) = formula_claims(problem)
    assert c.ok is ok and c.claimed is claimed and c.how == "structure"


def test_masha_rnn_formulas_at_every_step():
    claims = by_key(with_claims("masha_rnn", f"y = {Y}\n" + """
"formula.adjoint.yhat[t]" = "2*(yhat[t] - y[t])"
"formula.adjoint.h[t]" = "adjoint(yhat[t])*D(relu)(u*h[t])*u + adjoint(h[t+1])*D(relu)(w*h[t] + v*y[t])*w"
"formula.grad.u" = "sum_t(adjoint(yhat[t]) * D(relu)(u*h[t]) * h[t])"
"formula.grad.v" = "sum_t(adjoint(yhat[t]) * D(relu)(u*h[t]) * u * D(relu)(w*h[t-1] + v*y[t-1]) * y[t-1])"
""", keep_expected=False))
    assert claims["formula.adjoint.yhat[t]"].ok and claims["formula.adjoint.yhat[t]"].steps == (1, 2, 3)
    assert claims["formula.adjoint.h[t]"].ok and claims["formula.adjoint.h[t]"].steps == (1, 2)
    assert claims["formula.grad.u"].ok
    assert not claims["formula.grad.v"].ok  # the source's v without BPTT


def test_check_masha_rnn_lists_the_structure_claim():
    result = invoke("check", "masha_rnn", "--against", "fd")
    assert result.exit_code == 1
    assert "through_time.v = false" in result.stdout
    assert "0 of 4 claims agree" in result.stdout and "0 of 1 claims agree" in result.stdout


# --- JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dlbook_rnn", "masha_rnn"])
def test_json_rows_beside_the_numbers(name):
    result = invoke("solve", name, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = strict_json(result.stdout)["expected"]
    formula = [r for r in rows if "reason" in r]
    numbers = [r for r in rows if "computed" in r]
    assert formula and all(set(r) == {"key", "claimed", "ok", "reason"} for r in formula)
    assert all(set(r) == {"key", "claimed", "computed", "ok", "verdict", "tol", "rtol"} for r in numbers)
    assert len(numbers) == (4 if name == "masha_rnn" else 0)
    spec_text = (DERIVATIONS / f"{name}.toml").read_text()
    for r in formula:
        assert r["ok"] is False
        if isinstance(r["claimed"], str):
            assert f'= "{r["claimed"]}"' in spec_text  # exactly as the spec gives it


def test_solution_carries_the_records():
    solution = symprop.load("dlbook_rnn").solution()
    assert [c.key for c in solution.formula_claims] == ["formula.adjoint.h[t]"]
    assert solution.expected is None  # the numeric claims are unchanged: none here


# --- bad input: one line naming the key -----------------------------------------------------

BASE = """title = "t"
[model]
params = ["w"]
equations = "z = w*x"
loss = "(z - y)**2"
[values]
w = 0.5
x = 1.0
y = 2.0
[expected]
"""

RNN = """title = "r"
[model]
params = ["w", "v"]
steps = 2
initial = { h = 0 }
equations = "h[t] = tanh(w*h[t-1] + v*x[t])"
loss = "(h[t] - y[t])**2"
[values]
w = 0.5
v = 0.3
x = [0, 1, 2]
y = [0, 1, 0]
[expected]
"""

BAD = {
    "unknown param": (BASE + '"formula.grad.q" = "1"\n', "expected.formula.grad.q: no parameter named 'q'"),
    "unknown node": (BASE + '"formula.adjoint.q" = "1"\n', "expected.formula.adjoint.q: no computed value"),
    "param as node": (BASE + '"formula.adjoint.w" = "1"\n', "write formula.grad.w"),
    "not a string": (BASE + '"formula.grad.w" = 2\n', "expected.formula.grad.w: must be a formula as a string"),
    "parse error": (BASE + '"formula.grad.w" = "2*(z - y"\n', "expected.formula.grad.w: syntax error"),
    "eval": (BASE + '"formula.grad.w" = "__import__(\'os\')"\n', "unknown function '__import__'"),
    "lambda": (BASE + '"formula.grad.w" = "(lambda: 1)()"\n', "expected.formula.grad.w:"),
    "unknown name": (BASE + '"formula.grad.w" = "2*(z - q)*x"\n', "unknown name 'q'"),
    "adjoint unknown": (BASE + '"formula.grad.w" = "adjoint(q)*x"\n', "adjoint(q): no computed value or parameter"),
    "adjoint expression": (BASE + '"formula.grad.w" = "adjoint(z*2)"\n', "adjoint() takes the name of a value"),
    "D of a name": (BASE + '"formula.grad.w" = "D(z)(w)"\n', "D(z): 'z' is not a function"),
    "D alone": (BASE + '"formula.grad.w" = "D(tanh)"\n', "write the derivative of f at z as D(f)(z)"),
    "t outside": (BASE + '"formula.grad.w" = "z[t]"\n', "expected.formula.grad.w:"),
    "not a claim": (BASE + '"formula.value.z" = "1"\n', "expected.formula.value.z: is not a claim"),
    "through_time not recurrent": (BASE + '"through_time.w" = true\n', "expected.through_time.w: the model is not recurrent"),
    "through_time not bool": (RNN + '"through_time.w" = "yes"\n', "expected.through_time.w: must be true or false"),
    "through_time unknown": (RNN + '"through_time.q" = true\n', "expected.through_time.q: no parameter named 'q'"),
    "no step": (RNN + '"formula.adjoint.h" = "1"\n', "expected.formula.adjoint.h: 'h' changes with time"),
    "step range": (RNN + '"formula.adjoint.h[5]" = "1"\n', "h[5] is outside the steps 1..2"),
    "t in fixed step": (RNN + '"formula.adjoint.h[1]" = "adjoint(h[t+1])"\n', "'t' needs a claim about NAME[t]"),
    "shape": (RNN.replace("h = 0", "h = [0, 0]").replace("w = 0.5", "w = [[0.5, 0], [0, 0.5]]")
              .replace("params = [\"w\", \"v\"]", "params = [\"w\", \"v\"]\nshapes = { v = [2] }")
              .replace("v = 0.3", "v = [0.3, 0.1]").replace("w*h[t-1]", "w @ h[t-1]")
              .replace("(h[t] - y[t])**2", "sum((h[t] - y[t])**2)")
              .replace("y = [0, 1, 0]", "y = [[0, 0], [1, 0], [0, 1]]")
              + '"formula.grad.w" = "sum_t(adjoint(h[t]))"\n',
              "expected.formula.grad.w: the formula gives 2×1 but ∂L/∂w is 2×2"),
    "sum_t outside range": (RNN + '"formula.grad.w" = "sum_t(adjoint(h[t+1]))"\n', "expected.formula.grad.w: sum_t()"),
    "power tower": (BASE + '"formula.grad.w" = "2**2**2**2**2**2"\n', "an exponent is out of range"),
    "claim word is a function": (BASE.replace('params = ["w"]', 'params = ["w"]\nfunctions = ["diag"]')
                                 .replace("[values]\nw = 0.5\nx = 1.0\ny = 2.0\n", "")
                                 + '"formula.grad.w" = "1"\n', "'diag' is a function of the model"),
}


@pytest.mark.parametrize("kind", BAD)
def test_bad_claims_give_one_line(kind, spec_file):
    text, fragment = BAD[kind]
    path = spec_file(text)
    start = time.monotonic()
    result = invoke("check", str(path), "--against", "fd")
    assert result.exit_code == 1, (result.output, result.exception)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(path) in lines[0] and fragment in lines[0], lines[0]
    assert time.monotonic() - start < 5


def test_numeric_claims_and_their_errors_are_unchanged():
    problem = with_claims("udl_toy", "")
    assert problem.claims == ()
    with pytest.raises(symprop.SympropError if hasattr(symprop, "SympropError") else Exception,
                       match="expected.gradient.w: is not a claim"):
        spec.load("x", text=BASE + '"gradient.w" = 1\n')


def test_an_agreement_simplify_shows_at_one_step_only_is_not_called_symbolic(monkeypatch):
    """Each step is compared at random points and by simplify: when simplify
    shows t = 1 but not t = 2, the claim agrees, but not "symbolically"."""
    from symprop.evaluate import claims as module

    real, calls = module._simplified, []

    def first_only(e):
        calls.append(e)
        return real(e) if len(calls) == 1 else None

    monkeypatch.setattr(module, "_simplified", first_only)
    text = SYMBOLIC_RNN.split('"formula.adjoint.h[3]"')[0]  # the one claim about adjoint(h[t])
    (claim,) = formula_claims(spec.load("r.toml", text=text))
    assert claim.ok and len(calls) == 2
    assert claim.reason.startswith("agrees at ") and "(simplify could not show it), t = 1, 2" in claim.reason
    assert "symbolically" not in claim.reason
