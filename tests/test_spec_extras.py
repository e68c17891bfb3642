"""Python-style updates in equations (c += a) and arrays read from .npy/.npz
files beside the spec."""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import symprop
from symprop.errors import SympropError

MICROGRAD = """
title = "micrograd's README"
[model]
params = ["a", "b"]
equations = '''
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + relu(b + a)
d += 3 * d + relu(b - a)
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
'''
loss = "g"
[values]
a = -4.0
b = 2.0
"""


def test_micrograd_readme_program_with_updates():
    """micrograd's README prints g = 24.7041, a.grad = 138.8338, b.grad = 645.5773."""
    problem = symprop.loads(MICROGRAD)
    numbers = problem.solve()
    assert numbers["loss"] == pytest.approx(24.7041, abs=1e-4)
    assert numbers["gradients"]["a"] == pytest.approx(138.8338, abs=1e-4)
    assert numbers["gradients"]["b"] == pytest.approx(645.5773, abs=1e-4)
    assert numbers["checks"]["finite_differences"]["passed"]


@pytest.mark.parametrize("update, expected", [
    ("+=", lambda c, a, b: c + a * b), ("-=", lambda c, a, b: c - a * b),
    ("*=", lambda c, a, b: c * (a + b)), ("/=", lambda c, a, b: c / (a + b)),
    ("**=", lambda c, a, b: c ** b),
])
def test_each_update_is_the_operator_on_the_whole_right_side(update, expected):
    rhs = {"+=": "a * b", "-=": "a * b", "*=": "a + b", "/=": "a + b", "**=": "b"}[update]
    text = f"""
title = "update"
[model]
params = ["a"]
equations = '''
c = 3 * a
c {update} {rhs}
'''
loss = "c"
[values]
a = 0.7
b = 1.9
"""
    a, b = 0.7, 1.9
    numbers = symprop.loads(text).solve()
    assert numbers["loss"] == pytest.approx(expected(3 * a, a, b), rel=1e-12)
    h = 1e-6
    slope = (expected(3 * (a + h), a + h, b) - expected(3 * (a - h), a - h, b)) / (2 * h)
    assert numbers["gradients"]["a"] == pytest.approx(slope, rel=1e-6)


@pytest.mark.parametrize("equations, message", [
    ("c += a", "model.equations line 1: 'c += …' needs an earlier line 'c = …'"),
    ("h[t] = a * h[t-1]\nh[t] += a", "model.equations line 2: 'h[t] +=' is not allowed"),
    ("c = a\nc += (a", "model.equations line 2: syntax error"),
    ("c = a\nc == a", "model.equations line 2: expected 'name = expression'"),
])
def test_bad_updates_are_one_line(equations, message):
    steps = "steps = 2\ninitial = { h = 0.0 }\n" if "[t]" in equations else ""
    loss = "h[2]" if "[t]" in equations else "c"
    text = f'title = "x"\n[model]\nparams = ["a"]\n{steps}equations = """\n{equations}\n"""\nloss = "{loss}"\n'
    with pytest.raises(SympropError) as e:
        symprop.loads(text)
    assert message in str(e.value)


# Arrays from files ----------------------------------------------------------------

LAYER = """
title = "A 256x256 layer"
[model]
params = ["W", "b"]
equations = '''
z = W @ x + b
h = tanh(z)
'''
loss = "sum((h - y)**2)"
[values]
W = "weights.npz:W"
b = "weights.npz:b"
x = "data/x.npy"
y = "data/y.npy"
"""


@pytest.fixture
def layer(tmp_path):
    rng = np.random.default_rng(7)
    arrays = {"W": rng.normal(0, 0.1, (256, 256)), "b": rng.normal(0, 0.1, 256),
              "x": rng.normal(0, 1, 256), "y": rng.normal(0, 1, 256)}
    np.savez(tmp_path / "weights.npz", W=arrays["W"], b=arrays["b"])
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "x.npy", arrays["x"])
    np.save(tmp_path / "data" / "y.npy", arrays["y"])
    (tmp_path / "layer.toml").write_text(LAYER, "utf-8")
    return tmp_path, arrays


def test_a_256x256_layer_from_npz_matches_numpy(layer):
    folder, a = layer
    numbers = symprop.load(folder / "layer.toml").solve()
    z = a["W"] @ a["x"] + a["b"]
    h = np.tanh(z)
    delta = 2 * (h - a["y"]) * (1 - h**2)  # by hand: dL/dz
    assert numbers["loss"] == pytest.approx(np.sum((h - a["y"]) ** 2), rel=1e-12)
    np.testing.assert_allclose(np.array(numbers["gradients"]["W"]), np.outer(delta, a["x"]), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(np.ravel(numbers["gradients"]["b"]), delta, rtol=1e-10, atol=1e-14)
    assert numbers["checks"]["finite_differences"]["passed"]


def test_the_cli_checks_the_layer_from_another_directory(layer):
    folder, _ = layer
    run = subprocess.run([sys.executable, "-m", "symprop", "check", str(folder / "layer.toml")],
                         capture_output=True, text=True, cwd="/", timeout=120)
    assert run.returncode == 0, run.stderr
    assert "all checks passed" in run.stdout


def _spec_in(folder, value: str) -> str:
    path = folder / "s.toml"
    path.write_text(f'title = "x"\n[model]\nparams = ["w"]\nequations = "z = w * x"\nloss = "sum(z)"\n'
                    f'[values]\nw = 1.5\nx = "{value}"\n', "utf-8")
    return str(path)


def _write_npy_header(path, shape, dtype="<f8"):
    """A .npy file whose header claims ``shape`` and which holds no data."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": dtype, "fortran_order": False, "shape": shape})


@pytest.mark.parametrize("make, value, message", [
    (None, "/etc/x.npy", "must be a path inside the spec's folder"),
    (None, "../x.npy", "must be a path inside the spec's folder"),
    (None, "missing.npy", "'missing.npy': no such file beside the spec"),
    ("npz", "a.npz", "holds named arrays: write 'a.npz:NAME'"),
    ("npz", "a.npz:nope", "has no array 'nope' (it has: v)"),
    ("npy", "a.npy:v", "holds one array: write it without ':v'"),
    ("object", "a.npy", "holds object values; only integers and real floating-point numbers"),
    ("complex", "a.npy", "holds complex128 values"),
    ("7d", "a.npy", "is an array of 7 axes (the most is 6)"),
    ("nan", "a.npy", "entries must be finite numbers up to 1e100, got nan"),
    ("huge", "a.npy", "has 1000000000000 entries (the limit is 100000)"),
    ("text", "a.npy", "is not a readable NumPy file"),
    ("zip", "a.npz:v", "is not a readable NumPy file"),
    ("link", "link.npy", "leads outside the spec's folder"),
    (None, "x", "must be a number, a list of numbers or an array file"),
])
def test_bad_array_files_are_one_line(tmp_path, make, value, message):
    spec_folder = tmp_path / "spec"
    spec_folder.mkdir()
    a = spec_folder / value.split(":")[0]
    if make == "npz":
        np.savez(a, v=np.ones(3))
    elif make == "npy":
        np.save(a, np.ones(3))
    elif make == "object":
        np.save(a, np.array([{"run": "code"}], dtype=object), allow_pickle=True)
    elif make == "complex":
        np.save(a, np.ones(3) * 1j)
    elif make == "7d":
        np.save(a, np.ones((1,) * 7))
    elif make == "nan":
        np.save(a, np.array([1.0, np.nan]))
    elif make == "huge":
        _write_npy_header(a, (1_000_000, 1_000_000))
    elif make == "text":
        a.write_text("not an array")
    elif make == "zip":
        with zipfile.ZipFile(a, "w") as z:
            z.writestr("v.npy", b"\x93NUMPY garbage")
    elif make == "link":
        np.save(tmp_path / "outside.npy", np.ones(3))
        os.symlink(tmp_path / "outside.npy", a)
    run = subprocess.run([sys.executable, "-m", "symprop", "solve", _spec_in(spec_folder, value)],
                         capture_output=True, text=True, timeout=60)
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1, run.stderr
    assert "values.x: " in lines[0] and message in lines[0], lines[0]
    assert "Traceback" not in run.stderr


def test_an_object_array_is_never_unpickled(tmp_path):
    """A pickle that would write a file when loaded is refused from its header."""
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    np.save(tmp_path / "a.npy", np.array([Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(SympropError, match="holds object values"):
        symprop.load(_spec_in(tmp_path, "a.npy"))
    assert not marker.exists()


def test_a_spec_from_text_has_no_folder_to_read_from():
    with pytest.raises(SympropError, match="values.x: an array file can only be read for a spec in a file"):
        symprop.loads('title = "x"\n[model]\nparams = ["w"]\nequations = "z = w * x"\nloss = "sum(z)"\n'
                      '[values]\nw = 1.5\nx = "x.npy"\n')


def test_a_2d_file_is_a_matrix_and_a_1d_file_a_column(tmp_path):
    np.save(tmp_path / "m.npy", np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.save(tmp_path / "v.npy", np.array([1, 2]))  # integers are read as float64
    path = tmp_path / "s.toml"
    path.write_text('title = "x"\n[model]\nparams = ["M"]\nequations = "z = M @ v"\nloss = "sum(z)"\n'
                    '[values]\nM = "m.npy"\nv = "v.npy"\n', "utf-8")
    problem = symprop.load(path)
    numbers = problem.solve()
    assert numbers["loss"] == pytest.approx(1 + 4 + 3 + 8)
    np.testing.assert_allclose(np.array(numbers["gradients"]["M"]), [[1, 2], [1, 2]])


def test_a_two_input_function_cannot_stand_for_an_activation():
    text = ('title = "x"\n[model]\nparams = ["w"]\nfunctions = ["f"]\nequations = "z = f(w)"\nloss = "z"\n'
            '[[document.parts]]\nshow = ["activation:f=max"]\n')
    with pytest.raises(SympropError, match="document.parts\\[0\\].show: 'activation:f=max': write"):
        symprop.loads(text)


# What a teacher writes (issue 22, item 3) ----------------------------------------------


def test_a_spec_without_a_title_is_named_by_its_file(tmp_path):
    path = tmp_path / "week3_softmax.toml"
    path.write_text('[model]\nparams = ["w"]\nequations = "z = w * x"\nloss = "(z - y)**2"\n'
                    "[values]\nw = 0.5\nx = 2.0\ny = 1.0\n", encoding="utf-8")
    problem = symprop.load(path)
    assert problem.title == "week3_softmax"
    assert problem.solve()["loss"] == pytest.approx((0.5 * 2.0 - 1.0) ** 2)
    assert symprop.loads('[model]\nparams = ["w"]\nequations = "z = w"\nloss = "z"\n').title == "Problem"


def test_T_is_a_name_outside_a_recurrent_model():
    """A temperature T: softmax(z / T), the gradient as PyTorch's (z/T with T = 2)."""
    problem = symprop.loads('title = "t"\n[model]\nparams = ["z"]\nequations = "p = softmax(z / T)"\n'
                            'loss = "-sum(y * log(p))"\n[values]\nz = [1.0, 2.0, 0.5]\nT = 2.0\ny = [0, 1, 0]\n')
    z = np.array([1.0, 2.0, 0.5])
    p = np.exp(z / 2) / np.exp(z / 2).sum()
    assert np.reshape(problem.solve()["gradients"]["z"], -1) == pytest.approx((p - [0, 1, 0]) / 2)


def test_a_value_read_only_by_a_formula_claim():
    text = ('title = "t"\n[model]\nparams = ["z"]\nequations = "p = softmax(z)"\nloss = "-log(p[1])"\n'
            '[values]\nz = [1.0, 2.0, 0.5]\ny = [0, 1, 0]\n[expected]\n"formula.grad.z" = "{}"\n')
    report, ok = symprop.loads(text.format("p - y")).check()
    assert ok, report
    report, ok = symprop.loads(text.format("p + y")).check()
    assert not ok and "WRONG" in report
    with pytest.raises(symprop.SympropError, match="'u' is not used by the model"):
        symprop.loads(text.format("p - y").replace("y = [0, 1, 0]", "y = [0, 1, 0]\nu = 1.0"))
