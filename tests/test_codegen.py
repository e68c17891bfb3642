"""symprop codegen: the generated module of every shipped problem, for every
target, imported and run on the spec's values, against the interpreter
(``Problem.compiled()``), against PyTorch autograd of the equations
(``torch_check``, an independent engine) and, for the torch and jax targets,
their own autograd against the NumPy module's written-out backward pass.
Random MLPs and RNNs (hypothesis) too, hostile names and titles, and the CLI.

The torch and jax targets need their libraries: skipped, saying why, where
they are not installed, unless SYMPROP_REQUIRE_ENGINES=1 (the README's test
command installs both).
"""

import ast
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

import symprop
from symprop.api import from_dict
from symprop.cli import main
from symprop.model.functions import RULES
from tests.conftest import DERIVATIONS
from tests.test_property_matrix import mlp_spec, mlps, rnn_spec, rnns
from tests.test_property_scalar import program_spec, programs

SHIPPED = [p.stem for p in sorted(DERIVATIONS.glob("*.toml"))]
WITH_VALUES = [name for name in SHIPPED if symprop.load(name).values]
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])


def library(name: str):
    """The target's library, or a skip (a failure under SYMPROP_REQUIRE_ENGINES)."""
    if importlib.util.find_spec(name) is None:
        if os.environ.get("SYMPROP_REQUIRE_ENGINES"):
            raise RuntimeError(f"{name} is not installed (the README's test command installs it)")
        pytest.skip(f"{name} is not installed: pip install 'symprop[{name}]'")


def load_module(source: str, path):
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"generated_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numbers(v) -> np.ndarray:
    if hasattr(v, "detach"):
        v = v.detach().numpy()
    return np.asarray(v, dtype=float)


def assert_gradients(out: dict, loss: float, gradients: dict, rtol: float = 1e-10) -> None:
    assert numbers(out["L"]) == pytest.approx(loss, rel=rtol, abs=1e-12)
    for name, g in gradients.items():
        want = numbers(g)
        np.testing.assert_allclose(numbers(out[name]).reshape(want.shape), want, rtol=rtol, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("target", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("name", WITH_VALUES)
def test_every_shipped_problem_agrees_with_the_interpreter(name, target, tmp_path):
    if target != "numpy":
        library(target)
    problem = symprop.load(name)
    module = load_module(problem.codegen(target), tmp_path / f"{name}.py")
    run = problem.compiled().run(problem.values)
    out = module.backward(problem.values)
    assert_gradients(out, run.loss, {p: run.adjoints[p] for p in module.PARAMS}, rtol=1e-9)
    assert sorted(module.PARAMS) == sorted(problem.params)
    values = module.forward(problem.values)
    for key, value in run.values.items():  # every node's value; a recurrent one indexed by t
        if "[" in key and key.split("[")[0] in values and not key.startswith("L["):
            name_, t = key[:-1].split("[")
            np.testing.assert_allclose(numbers(values[name_])[int(t)], numbers(value).reshape(
                numbers(values[name_])[int(t)].shape), rtol=1e-9, atol=1e-12, err_msg=key)
        elif key in values:
            np.testing.assert_allclose(numbers(values[key]), numbers(value), rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", WITH_VALUES)
def test_the_numpy_backward_pass_agrees_with_pytorch_autograd(name, tmp_path):
    """Two independent computations: torch autograd of the equations (the check's engine), and
    torch autograd of the generated torch module's forward pass."""
    library("torch")
    from symprop.evaluate.torch_check import torch_gradients

    problem = symprop.load(name)
    ours = load_module(problem.codegen("numpy"), tmp_path / "ours.py").backward(problem.values)
    theirs = load_module(problem.codegen("torch"), tmp_path / "theirs.py").backward(problem.values)
    assert_gradients(ours, numbers(theirs["L"]), {p: theirs[p] for p in problem.params}, rtol=1e-9)
    assert_gradients(ours, numbers(theirs["L"]), torch_gradients(problem.spec), rtol=1e-9)


def test_the_compiled_pass_gives_its_source():
    problem = symprop.load("udl_toy")
    assert problem.compiled().code() == problem.codegen("numpy")


def test_every_operation_record_has_a_form():
    from symprop.evaluate.code_forms import FORMS
    from symprop.model.operations import OPERATIONS

    assert set(OPERATIONS) <= set(FORMS) | {"num", "leaf", "at"}


@pytest.mark.parametrize("target", ["numpy", "torch", "jax"])
def test_slices(target, tmp_path):
    if target != "numpy":
        library(target)
    spec = {"title": "slices", "model": {"params": ["theta", "W"], "equations": "a = theta[1:]\nz = W[:, 0]\n"
                                         "q = pad(W, 1)", "loss": "sum(a**2) + sum(z * x) + sum(q**3)"},
            "values": {"theta": [0.5, -0.3, 0.8], "W": [[0.3, -0.7], [0.9, 0.4], [0.1, 0.2]], "x": [1.0, 2.0, -1.0]}}
    problem = from_dict(spec)
    run = problem.compiled().run(problem.values)
    out = load_module(problem.codegen(target), tmp_path / "slices.py").backward(problem.values)
    assert_gradients(out, run.loss, {p: run.adjoints[p] for p in ("theta", "W")}, rtol=1e-9)


def test_a_problem_with_an_undefined_activation_has_no_code():
    with pytest.raises(symprop.SympropError, match="'f' is left undefined"):
        symprop.load("masha_backprop").codegen()


@pytest.mark.parametrize("target", ["numpy", "torch", "jax"])
def test_the_module_runs_standalone_and_imports_only_its_library(target, tmp_path):
    if target != "numpy":
        library(target)
    source = symprop.load("lstm").codegen(target)
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])}
    assert imported <= {target, "math"}
    path = tmp_path / "lstm_pass.py"
    path.write_text(source, encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr
    run = symprop.load("lstm").compiled().run(symprop.load("lstm").values)
    first = done.stdout.splitlines()[0]
    assert first.startswith("L = ") and float(first.split("=")[1]) \
        == pytest.approx(run.loss, rel=1e-9)


def test_the_numpy_module_is_straight_line_with_the_recurrence_as_a_loop():
    source = symprop.load("dlbook_rnn").codegen("numpy")
    tree = ast.parse(source)
    backward = next(f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "backward")
    loops = [n for n in ast.walk(backward) if isinstance(n, ast.For)]
    assert len(loops) == 2  # forward over t = 1..T, backward over t = T..1
    calls = {n.func.id for n in ast.walk(backward) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert calls <= {"_array", "_like", "_softmax", "range", "float"}  # no recursion, no dispatch
    assert "dh[t - 1] += W.T @ da" in source  # BPTT as the derivation prints it
    assert "dW += da * h[t - 1].T" in source  # an outer product, entry by entry


def test_the_jax_module_scans_the_recurrence():
    source = symprop.load("gru").codegen("jax")
    assert "lax.scan(step, (jnp.zeros((3, 1)),), (x[1:],), length=T)" in source
    assert "for t in" not in source


def test_hostile_title_and_names_stay_data(tmp_path):
    spec = {
        "title": 'pass"""\nimport os; os.system("echo no")\n\\ \x1b[31m \u202e end',
        "model": {"params": ["np", "values", "v1", "d"], "equations": "z = np*x + values\nq = v1*tanh(z) + d",
                  "loss": "(q - y)**2"},
        "values": {"np": 0.5, "values": -0.2, "v1": 1.5, "d": 0.1, "x": 2.0, "y": 1.0},
    }
    problem = from_dict(spec)
    source = problem.codegen()
    tree = ast.parse(source)
    assert ast.get_docstring(tree).startswith(spec["title"])
    assert [type(n).__name__ for n in tree.body[:2]] == ["Expr", "Import"]
    out = load_module(source, tmp_path / "hostile.py").backward(problem.values)
    run = problem.compiled().run(problem.values)
    assert_gradients(out, run.loss, {p: run.adjoints[p] for p in spec["model"]["params"]})


@SETTINGS
@given(mlps())
def test_random_mlps(tmp_path, case):
    assert_agrees_with_the_interpreter(from_dict(mlp_spec(*case)), tmp_path / "mlp.py")


@SETTINGS
@given(rnns())
def test_random_rnns(tmp_path, case):
    assert_agrees_with_the_interpreter(from_dict(rnn_spec(*case)), tmp_path / "rnn.py")


def assert_agrees_with_the_interpreter(problem, path) -> None:
    """The generated NumPy backward pass gives the interpreter's loss and gradients."""
    out = load_module(problem.codegen(), path).backward(problem.values)
    run = problem.compiled().run(problem.values)
    assert_gradients(out, run.loss, {p: run.adjoints[p] for p in problem.params}, rtol=1e-9)


@SETTINGS
@given(programs())
def test_random_scalar_programs(tmp_path, case):
    """Reassigned names (a, then a again), every elementwise operation the strategy draws."""
    spec, used = program_spec(*case)
    problem = from_dict(spec)
    try:
        run = problem.compiled().run(problem.values)
    except symprop.SympropError:  # a value that is not finite: no pass to compare
        return
    out = load_module(problem.codegen(), tmp_path / "program.py").backward(problem.values)
    assert_gradients(out, run.loss, {p: run.adjoints.get(p, 0.0) for p in used}, rtol=1e-8)


CALLS = {name: f"{name}(z, 0.2)" if RULES[name].parameters else f"{name}(z, w)" if RULES[name].inputs == 2
         else f"{name}(z)" for name in RULES}


@pytest.mark.parametrize("target", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("name", sorted(RULES))
def test_every_function(name, target, tmp_path):
    if target != "numpy":
        library(target)
    argument = "abs(z) + 0.5" if name in ("log", "sqrt") else "z"
    spec = {"title": name, "model": {"params": ["W", "v"], "equations": f"z = W @ x + 0.1\nw = v * x\n"
                                     f"q = {CALLS[name].replace('(z', '(' + argument, 1)}",
                                     "loss": "sum(q * y)"},
            "values": {"W": [[0.3, -0.7], [0.9, 0.4]], "v": 0.6, "x": [0.8, -0.3], "y": [1.5, -0.5]}}
    problem = from_dict(spec)
    run = problem.compiled().run(problem.values)
    out = load_module(problem.codegen(target), tmp_path / f"{name}.py").backward(problem.values)
    assert_gradients(out, run.loss, {p: run.adjoints.get(p, 0.0) for p in ("W", "v")}, rtol=1e-9)


RECURRENT = {
    "an initial state as a parameter": ("""title = "h0"
[model]
params = ["W", "h0"]
steps = 3
initial = { h = "h0" }
equations = "h[t] = tanh(W @ h[t-1] + x[t])"
loss = "sum((h[3] - y)**2)"
[values]
W = [[1.5, -0.5], [0.25, 1.2]]
h0 = [0.3, -0.1]
x = [[0, 0], [0.5, 0.1], [-0.2, 0.3], [0.1, -0.4]]
y = [0.2, 0.1]
"""),
    "a mean over the steps, an input at t - 1": ("""title = "mean"
[model]
params = ["w", "u"]
steps = 4
initial = { h = 0.1 }
reduce = "mean"
equations = "h[t] = tanh(w * h[t-1] + u * x[t-1])"
loss = "(h[t] - y[t])**2"
[values]
w = 0.5
u = 0.3
x = [0.1, 0.5, -0.2, 0.1, 0.3]
y = [0, 0.2, 0.1, -0.1, 0.3]
"""),
}


@pytest.mark.parametrize("target", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("case", sorted(RECURRENT))
def test_recurrent_forms(case, target, tmp_path):
    if target != "numpy":
        library(target)
    problem = symprop.loads(RECURRENT[case])
    run = problem.compiled().run(problem.values)
    out = load_module(problem.codegen(target), tmp_path / "cell.py").backward(problem.values)
    assert_gradients(out, run.loss, {p: run.adjoints[p] for p in problem.params}, rtol=1e-9)


def test_random_values_of_shipped_problems(tmp_path):
    """New numbers of the same shapes: the module reads its values at call time."""
    rng = np.random.default_rng(7)
    for name in ("stepik_mlp", "gru", "lstm", "softmax_classifier", "batchnorm"):
        problem = symprop.load(name)
        module = load_module(problem.codegen(), tmp_path / f"{name}.py")
        for _ in range(3):
            values = {k: ([rng.uniform(-1, 1, np.shape(v)) for v in value] if isinstance(value, list) else
                          value if k == "y" and name == "softmax_classifier" else
                          rng.uniform(-1, 1, np.shape(value)) if np.ndim(value) else float(rng.uniform(0.5, 1)))
                      for k, value in problem.values.items()}
            run = problem.compiled().run(values)
            assert_gradients(module.backward(values), run.loss, {p: run.adjoints[p] for p in problem.params},
                             rtol=1e-9)


def test_cli_prints_a_module_and_refuses_a_bad_target():
    runner = CliRunner()
    done = runner.invoke(main, ["codegen", "udl_toy", "--target", "numpy"])
    assert done.exit_code == 0
    assert done.output.startswith('"""Обратное распространение ошибки в игрушечной модели')  # udl_toy's title in its language
    ast.parse(done.output)
    bad = runner.invoke(main, ["codegen", "udl_toy", "--target", "fortran"])
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == ["Error: target must be one of numpy, torch, jax, got 'fortran'"]


def test_cli_writes_the_file(tmp_path):
    out = tmp_path / "pass.py"
    done = CliRunner().invoke(main, ["codegen", "masha_rnn", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert "for t in range(T, 0, -1):" in out.read_text()


def test_the_readme_shows_what_codegen_writes():
    readme = (DERIVATIONS.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("    for t in range(T, 0, -1):\n        # the loss at step t")
    assert readme[start:readme.index("```", start)] in symprop.load("dlbook_rnn").codegen()
