"""Numbers that stop being finite reals: one line naming the node, the step
and the cause, exit 1; never "internal error", never a RuntimeWarning, never
a check that passes on inf or nan, never NaN or Infinity in JSON."""

import json
import subprocess
import sys
import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symprop
from symprop.errors import SympropError
from symprop.evaluate import check as check_module
from symprop.evaluate import torch_check
from symprop.evaluate.faults import LARGEST, NumericFault, Watch
from symprop.evaluate.scalar import Evaluator, leaf_values, scalar_check
from tests.test_hostile_input import assert_one_line_error, run


def spec(rhs: str, loss: str = "(yhat - y)**2", **values) -> str:
    given = {"w": 0.5, "x": 1.0, "y": 2.0, **values}
    lines = "".join(f"{k} = {v!r}\n" for k, v in given.items() if v is not None)
    return (f'title = "t"\n[model]\nparams = ["w"]\nequations = "yhat = {rhs}"\nloss = "{loss}"\n'
            f"[values]\n{lines}")


RNN = """title = "rnn"
[model]
params = ["w"]
steps = 5
initial = { h = 2.0 }
equations = "h[t] = exp(w*h[t-1]) + x[t]"
loss = "h[5]"
[values]
w = 1.0
x = [0.0, 1.0, 1.0, 1.0, 1.0, 1.0]
"""

# The hostile-input review's reproductions, and the line each one gives.
FAULTS = {
    "exp backward": (spec("exp(w*x)", loss="yhat", w=354.75, x=2.0, y=None),
                     "adjoint of w not finite (overflow in the backward pass)"),
    "exp 709.5": (spec("exp(w*x)", w=709.5), "overflow at L (1.35499e+308 to the power 2)"),
    "exp forward": (spec("exp(w*x)", w=800.0), "overflow at yhat (exp of 800)"),
    "division by zero": (spec("w/x", x=0.0), "division by zero at yhat (x = 0)"),
    "power 1000": (spec("(w*x)**1000", w=3.0), "overflow at yhat (3 to the power 1000)"),
    "1e100 squared": (spec("w*x", w=1e100, x=1e100), "overflow at L (1e+200 to the power 2)"),
    "fractional power": (spec("(w*x)**0.5", w=-0.5),
                         "not a real number at yhat (negative base -0.5 to the fractional power 0.5)"),
    "w**x": (spec("w**x", w=-2.0, x=0.5), "not a real number at yhat (negative base -2"),
    "zero to a negative power": (spec("w**x", w=0.0, x=-1.0), "division by zero at yhat (0 to the power -1)"),
    "log of 0": (spec("log(w*x)", w=0.0), "not finite at yhat (log of 0)"),
    "log of a negative": (spec("log(w*x)", w=-1.0), "not a real number at yhat (log of -1)"),
    "sqrt backward": (spec("sqrt(w*x)", w=0.0), "adjoint of w not finite (division by zero in the backward pass)"),
    "recurrent": (RNN, "overflow at h, t = 3 (exp of 4399.66)"),
}

COMMANDS = [["solve"], ["solve", "--format", "json"], ["check"], ["check", "--against", "fd"], ["graph", "--grad"]]


def run_quietly(args, stdin):
    """The CLI on a spec from stdin, with every warning recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, elapsed = run(args + ["-"], stdin=stdin)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]
    return result, elapsed


def assert_fault(result, elapsed, *fragments):
    assert_one_line_error(result, 0.0, "<stdin>", *fragments)
    assert "internal error" not in result.stderr
    assert "Warning" not in result.stderr
    assert elapsed < 10, elapsed


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("kind", FAULTS)
def test_fault_is_one_line(kind, command):
    text, message = FAULTS[kind]
    result, elapsed = run_quietly(command, text)
    assert_fault(result, elapsed, message)
    assert "all checks passed" not in result.output


@pytest.mark.parametrize("kind", FAULTS)
def test_derive_does_no_numbers(kind):
    """derive computes no numbers: it succeeds, and its JSON is strict."""
    result, _ = run_quietly(["derive", "--format", "json"], FAULTS[kind][0])
    assert result.exit_code == 0, result.output
    strict_json(result.stdout)


def test_derive_with_a_formula_claim_computes_numbers():
    text = FAULTS["exp backward"][0] + '[expected]\n"formula.grad.w" = "x*yhat"\n'
    result, elapsed = run_quietly(["derive"], text)
    assert_fault(result, elapsed, "expected.formula.grad.w: adjoint of w not finite (overflow in the backward pass)")


def test_real_process_prints_no_warning(spec_file):
    path = spec_file(FAULTS["exp backward"][0])
    proc = subprocess.run([sys.executable, "-m", "symprop", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == f"Error: {path}: adjoint of w not finite (overflow in the backward pass)\n"


# JSON ------------------------------------------------------------------------------------


def _refuse(constant):
    raise ValueError(f"{constant} in JSON")


def strict_json(text: str):
    return json.loads(text, parse_constant=_refuse)


EDGE = spec("sqrt(w*x)", w=1e-9)  # finite, but w - h is outside the domain of sqrt


def test_finite_differences_at_the_edge_of_the_domain_fail():
    result, _ = run_quietly(["solve", "--format", "json"], EDGE)
    assert result.exit_code == 0, result.output
    fd = strict_json(result.stdout)["checks"]["finite_differences"]
    assert fd["passed"] is False
    assert fd["disagree"] == ["w"]
    assert fd["not_finite"]["w"].startswith("the loss at w - 1.0e-06: not a real number at yhat (square root of")
    result, _ = run_quietly(["check"], EDGE)
    assert result.exit_code == 1
    assert "some checks FAILED" in result.stdout and "all checks passed" not in result.stdout


@pytest.mark.parametrize("name", ["udl_toy", "masha_rnn", "stepik_mlp", "lstm"])
@pytest.mark.parametrize("command", ["solve", "derive"])
def test_shipped_json_is_strict(name, command):
    result = run([command, name, "--format", "json"])[0]
    assert result.exit_code == 0, result.output
    strict_json(result.stdout)


def test_torch_nan_fails(monkeypatch):
    problem = symprop.loads(spec("w*x"))
    solution = problem.solution().numbers
    monkeypatch.setattr(torch_check, "available", lambda: True)
    monkeypatch.setattr(torch_check, "torch_gradients", lambda p: {"w": float("nan")})
    report = torch_check.compare(problem.spec, solution)
    assert report["passed"] is False and report["disagree"] == ["w"]
    assert report["max_abs_error"] == report["max_rel_error"] == LARGEST
    json.dumps(report, allow_nan=False)


# The scalar engine and Python's own arithmetic ------------------------------------------------


@pytest.mark.parametrize("kind", ["division by zero", "exp backward", "fractional power", "exp forward"])
def test_scalar_engine_names_the_node(kind):
    text, message = FAULTS[kind]
    problem = symprop.loads(text)
    evaluator = Evaluator(problem.derivation(), 0.0)
    with pytest.raises(NumericFault, match=message.split(" (")[0]):
        evaluator.backward(evaluator.forward(leaf_values(problem.graph(), problem.values)))
    report = scalar_check(problem.spec, problem.compiled().program, problem.values, {"w": 1.0}, {})
    assert report["passed"] is False and report["not_finite"].startswith(message.split(" (")[0])
    json.dumps(report, allow_nan=False)


@pytest.mark.parametrize("python, cause", [
    (lambda: 1 / 0, "division by zero at z"),
    (lambda: 10.0 ** 400, "overflow at z"),
    (lambda: __import__("math").log(-1), "not a real number at z"),
])
def test_python_arithmetic_becomes_the_same_line(python, cause):
    with pytest.raises(NumericFault) as e:
        with Watch("spec.toml") as numbers:
            numbers.at("z")
            python()
    assert str(e.value) == f"spec.toml: {cause}"


def test_other_value_errors_pass_through():
    with pytest.raises(ValueError, match="shapes"):
        with Watch():
            raise ValueError("shapes do not conform")


# The sympy.diff cross-check -----------------------------------------------------------------


def test_sympy_diff_reports_a_closed_form_that_is_not_finite(monkeypatch):
    import sympy

    class Infinite:
        limit = 1

        def __init__(self, d):
            pass

        def of_value(self, s):
            return sympy.zoo * s

        def of_adjoint(self, s):
            return s

    monkeypatch.setattr(check_module, "ClosedForms", Infinite)
    report = check_module.sympy_diff_check(symprop.loads(spec("w*x")).derivation())
    assert report["passed"] is False and "not finite" in report["not_finite"]
    json.dumps(report, allow_nan=False)


@pytest.mark.parametrize("rhs", ["(w - x)**0.5", "log(w - 2*x)", "w**x", "sqrt(w - x)/(w - x)"])
def test_sympy_diff_without_values_never_crashes(rhs):
    text = spec(rhs).split("[values]")[0]
    result, _ = run_quietly(["check"], text)
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.output


# Any numbers ----------------------------------------------------------------------------------

SHAPES = ["w/x", "log(w*x)", "sqrt(w*x)", "(w*x)**0.5", "exp(w*x)", "w**x", "tanh(w*x)", "sigmoid(w*x)",
          "relu(w*x)", "w*x*x*x", "exp(w)/x", "w/(x - w)"]
NUMBERS = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-300, -1e-300, 1e100, -1e100, 1e300, -1e300, 709.5, 800.0]),
    st.floats(-1e3, 1e3, allow_nan=False),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(SHAPES), w=NUMBERS, x=NUMBERS, y=NUMBERS)
def test_any_numbers_give_a_result_or_one_line(shape, w, x, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a RuntimeWarning fails the test
        try:
            problem = symprop.loads(spec(shape, w=w, x=x, y=y))
            json.dumps(problem.solve(), allow_nan=False)
            text, ok = problem.check()
        except SympropError as e:
            assert len(str(e).splitlines()) == 1
            return
    assert ("all checks passed" in text) == ok
    assert time.perf_counter() - start < 10

