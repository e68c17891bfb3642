"""Working for vectors and matrices (issue 25, item 2): the first step's
equations with their arrays written out, each loss term, and past the stated
size one entry worked as an example.  The expected numbers are computed here
with NumPy by hand; every worked line is recomputed from the printed text by
the checker of tests/test_working_reproduces.py."""

import random
import re

import numpy as np
import pytest

import symprop
from symprop.document.numbers import Style, _fmt
from symprop.document.parts.base import Base
from tests.test_working_reproduces import as_python, recompute, unreproduced


def flat(text: str) -> str:
    """Without white space: a row the text renderer wraps is still found."""
    return re.sub(r"\s+", "", text)


def col(v, digits=4) -> str:
    return "(" + ", ".join(_fmt(x, digits) for x in np.ravel(v)) + ")ᵀ"


def fixed(x, digits=4) -> str:
    """A computed number as a worked line prints it: its decimals, trailing zeros kept."""
    return str(int(x)) if float(x).is_integer() else f"{x:.{digits}f}"


def res(v, digits=4) -> str:
    """A computed column vector: every entry with the same decimals (0.2000, -0.5000)."""
    return "(" + ", ".join(fixed(x, digits) for x in np.ravel(v)) + ")ᵀ"


def mat(m, digits=4) -> str:
    return "[" + "; ".join(", ".join(_fmt(x, digits) for x in row) for row in np.asarray(m)) + "]"


def part_a(text: str) -> str:
    start = re.search(r"^[aа]\) ", text, re.M).start()
    end = re.search(r"^[bб]\) ", text, re.M)
    return text[start:end.start() if end else len(text)]


# --- the seeds: numbers from NumPy written here ------------------------------------------

W = np.array([[0.5, -0.3], [0.2, 0.4]])
U = np.array([[0.1, 0.6], [-0.4, 0.3]])
V = np.array([[0.3, -0.2], [0.7, 0.1], [-0.5, 0.4]])
b, c = np.array([0.1, -0.1]), np.array([0.0, 0.2, -0.2])
X = [None, np.array([1.0, 0]), np.array([0.0, 1]), np.array([1.0, 1])]
TARGET = [None, 0, 2, 1]  # the entry of y[t] that is 1


def dlbook_forward():
    h, out = np.zeros(2), []
    for t in (1, 2, 3):
        a = b + W @ h + U @ X[t]
        h = np.tanh(a)
        o = c + V @ h
        yhat = np.exp(o) / np.exp(o).sum()
        out.append((a, h, o, yhat, -np.log(yhat[TARGET[t]])))
    return out


def test_dlbook_rnn_works_out_its_first_step_with_the_arrays_written_out():
    text = flat(part_a(symprop.load("dlbook_rnn").solution().document("text", lang="en")))
    a, h, o, yhat, _ = dlbook_forward()[0]
    # in seed 004's notation ([notation] time = "superscript"): a⁽¹⁾ for a₁
    assert flat(f"a⁽¹⁾ = b + W·h⁽⁰⁾ + U·x⁽¹⁾ = (0.1, -0.1)ᵀ + {mat(W)}·(0, 0)ᵀ + {mat(U)}·(1, 0)ᵀ = {res(a)}") in text
    assert flat(f"h⁽¹⁾ = tanh(a⁽¹⁾) = tanh({res(a)}) = {res(h)}") in text
    assert flat(f"o⁽¹⁾ = c + V·h⁽¹⁾ = {col(c)} + {mat(V)}·{res(h)} = {res(o)}") in text
    assert flat(f"ŷ⁽¹⁾ = softmax(o⁽¹⁾) = softmax({res(o, 5)}) = {res(yhat)}") in text
    assert "A vector or a matrix of size up to 4×4 is written out in full" in part_a(
        symprop.load("dlbook_rnn").solution().document("text", lang="en"))


def test_dlbook_rnn_works_out_each_loss_term_from_its_one_entry():
    text = flat(part_a(symprop.load("dlbook_rnn").solution().document("text", lang="en")))
    for t, (_, _, _, yhat, loss) in enumerate(dlbook_forward(), start=1):
        k = TARGET[t]
        step = "⁽" + "¹²³"[t - 1] + "⁾"
        head = flat(f"L{step} = -sum(y{step} ⊙ log(ŷ{step})) = -log(ŷ{'₀₁₂'[k]}{step}) = -log(")
        assert head in text, t
        shown = re.search(re.escape(head) + r"([\d.]+)\)=([\d.]+)", text)
        number, value = float(shown.group(1)), float(shown.group(2))
        assert abs(number - yhat[k]) < 0.5e-4 and abs(value - loss) < 0.5e-4
        assert abs(-np.log(number) - value) <= 0.5 * 10.0 ** -len(shown.group(2).split(".")[1])


def test_stepik_mlp_writes_its_layers_out():
    text = flat(symprop.load("stepik_mlp").solution().document("text", lang="ru"))
    Wm, Um, x = np.array([[-1, 1], [1, 1]]), np.array([[2, -4], [-0.5, 1]]), np.array([1, 2])
    z = np.tanh(Wm.T @ x)
    q = np.tanh(Um.T @ z)
    assert flat(f"z = tanh(Wᵀ·x) = tanh({mat(Wm.T)}·(1, 2)ᵀ) = {res(z)}") in text
    assert flat(f"q = tanh(Uᵀ·z) = tanh({mat(Um.T)}·{res(z)}) = {res(q)}") in text


def test_the_limit_is_said_once_in_the_documents_language():
    for lang, words in (("en", "size up to 4×4"), ("ru", "размером до 4×4"), ("zh", "不超过 4×4")):
        text = symprop.load("dlbook_rnn").solution().document("text", lang=lang)
        assert text.count(words) == 1, lang


def test_latex_sets_the_arrays_as_matrices():
    tex = symprop.load("dlbook_rnn").solution().document("latex", lang="en")
    line = next(x for x in tex.splitlines() if x.startswith(r"h^{(1)} &= "))
    assert r"\left(\begin{pmatrix} 0.2000 \\ -0.5000 \end{pmatrix}\right)" in line
    assert r"\begin{pmatrix} 0.1974 \\ -0.4621 \end{pmatrix}" in line


# --- specs the tool has not seen ---------------------------------------------------------

MLP = '''
[model]
params = ["W1", "b1", "W2", "b2"]
equations = """
h = tanh(W1 @ x + b1)
yhat = W2 @ h + b2
"""
loss = "sum((yhat - y)**2) / 2"
[values]
x = [0.5, -1.0]
W1 = [[0.1, -0.2], [0.4, 0.35], [-0.5, 0.2]]
b1 = [0.0, 0.1, -0.1]
W2 = [[0.3, -0.6, 0.2], [0.1, 0.5, -0.4]]
b2 = [0.05, -0.05]
y = [0.7, -0.2]
'''

RNN = '''
[model]
params = ["W", "U", "b", "V"]
steps = 2
initial = { h = [0, 0] }
equations = """
h[t] = tanh(W @ h[t-1] + U @ x[t] + b)
yhat[t] = sigmoid(V @ h[t])
"""
loss = "sum((yhat[t] - y[t])**2)"
[values]
W = [[0.6, -0.1], [0.3, 0.2]]
U = [[0.2, -0.7], [0.5, 0.1]]
b = [0.05, -0.15]
V = [[1.1, -0.4], [0.3, 0.8]]
x = [[0, 0], [1, 0.5], [-0.5, 1]]
y = [[0, 0], [1, 0], [0, 1]]
'''


def test_a_two_layer_mlp_of_three_units():
    text = symprop.loads(MLP).solution().document("text")
    W1, b1 = np.array([[0.1, -0.2], [0.4, 0.35], [-0.5, 0.2]]), np.array([0.0, 0.1, -0.1])
    W2, b2 = np.array([[0.3, -0.6, 0.2], [0.1, 0.5, -0.4]]), np.array([0.05, -0.05])
    x, y = np.array([0.5, -1.0]), np.array([0.7, -0.2])
    h = np.tanh(W1 @ x + b1)
    yhat = W2 @ h + b2
    assert flat(f"h = tanh(W₁·x + b₁) = tanh({mat(W1)}·(0.5, -1)ᵀ + (0, 0.1, -0.1)ᵀ) = {res(h)}") in flat(text)
    assert flat(f"= {res(yhat)}") in flat(text)
    loss = float(np.sum((yhat - y) ** 2) / 2)
    assert flat(f"= {fixed(loss)}") in flat(part_a(text))
    checked, bad = unreproduced(text)
    assert checked >= 3 and not bad, bad


def test_an_rnn_with_a_two_dimensional_state():
    text = symprop.loads(RNN).solution().document("text")
    W, U, b, V = (np.array(v) for v in ([[0.6, -0.1], [0.3, 0.2]], [[0.2, -0.7], [0.5, 0.1]],
                                         [0.05, -0.15], [[1.1, -0.4], [0.3, 0.8]]))
    h1 = np.tanh(U @ np.array([1, 0.5]) + b)
    yhat1 = 1 / (1 + np.exp(-V @ h1))
    assert flat(f"h₁ = tanh(W·h₀ + U·x₁ + b) = tanh({mat(W)}·(0, 0)ᵀ + {mat(U)}·(1, 0.5)ᵀ + (0.05, -0.15)ᵀ)"
                f" = {res(h1)}") in flat(text)
    assert flat(f"= {res(yhat1)}") in flat(text)
    L1 = float(np.sum((yhat1 - np.array([1, 0])) ** 2))
    assert flat("L₁ = sum((ŷ₁ - y₁)²) = ") in flat(text) and flat(f"= {fixed(L1)}") in flat(text)
    checked, bad = unreproduced(text)
    assert checked >= 4 and not bad, bad


def test_past_the_limit_one_entry_is_worked_as_an_example():
    """A hidden layer of 5 units: h is written as its value, and h₀ worked."""
    spec = MLP.replace("W1 = [[0.1, -0.2], [0.4, 0.35], [-0.5, 0.2]]",
                       "W1 = [[0.1, -0.2], [0.4, 0.35], [-0.5, 0.2], [0.7, 0.1], [0.2, 0.2]]") \
              .replace("b1 = [0.0, 0.1, -0.1]", "b1 = [0.0, 0.1, -0.1, 0.2, 0.3]") \
              .replace("W2 = [[0.3, -0.6, 0.2], [0.1, 0.5, -0.4]]",
                       "W2 = [[0.3, -0.6, 0.2, 0.1, 0.1], [0.1, 0.5, -0.4, 0.2, -0.3]]")
    text = symprop.loads(spec).solution().document("text")
    h0 = np.tanh(0.1 * 0.5 + (-0.2) * (-1.0) + 0.0)
    rows = flat(part_a(text))
    assert flat("h₀ = tanh(") in rows and flat(f") = {fixed(h0)}") in rows
    assert "tanh([0.1, -0.2; 0.4, 0.35" not in text  # the 5×2 matrix is not written out
    checked, bad = unreproduced(text)
    assert checked >= 2 and not bad, bad


@pytest.mark.parametrize("seed", range(8))
def test_a_random_recurrent_network_reproduces(seed):
    """A tanh RNN of 2–5 hidden units with softmax outputs and one-hot targets, random numbers."""
    rng = random.Random(seed)
    n, m, k = rng.randint(2, 5), rng.randint(1, 3), rng.randint(2, 4)

    def matrix(r, c):
        return [[round(rng.uniform(-1, 1), rng.choice([1, 2])) for _ in range(c)] for _ in range(r)]

    onehot = [[0] * k] + [[1 if i == rng.randrange(k) else 0 for i in range(k)] for _ in range(2)]
    for row in onehot[1:]:
        if sum(row) != 1:
            row[:] = [1] + [0] * (k - 1)
    spec = (f'[model]\nparams = ["W", "U", "V", "b"]\nsteps = 2\ninitial = {{ h = {[0] * n} }}\n'
            'equations = """\na[t] = b + W @ h[t-1] + U @ x[t]\nh[t] = tanh(a[t])\no[t] = V @ h[t]\n'
            'yhat[t] = softmax(o[t])\n"""\nloss = "-sum(y[t] * log(yhat[t]))"\n[values]\n'
            f"W = {matrix(n, n)}\nU = {matrix(n, m)}\nV = {matrix(k, n)}\nb = {matrix(1, n)[0]}\n"
            f"x = {matrix(3, m)}\ny = {onehot}\n")
    for digits in (None, 2):
        text = symprop.loads(spec).solution().document("text", digits=digits)
        checked, bad = unreproduced(text)
        assert checked >= 3 and not bad, (spec, bad)
        assert flat("L₁ = -sum(y₁ ⊙ log(ŷ₁)) = -log(ŷ₁,") in flat(text)


# --- the checker itself ------------------------------------------------------------------


def test_the_checker_reads_arrays_and_catches_a_wrong_entry():
    assert recompute(as_python("[1, 2; 3, 4]·(1, -1)ᵀ")).ravel().tolist() == [-1, -1]
    assert recompute(as_python("(1, 2)ᵀ ⊙ (3, 4)ᵀ")).ravel().tolist() == [3, 8]
    assert recompute(as_python("(1, 2)ᵀ·[3, 4]")).tolist() == [[3, 4], [6, 8]]
    assert recompute(as_python("-sum((1, 0)ᵀ ⊙ log((0.5, 0.5)ᵀ))")) == pytest.approx(np.log(2))
    assert np.allclose(recompute(as_python("softmax([0, 1; 2, 3], 1)")),
                       np.exp([[0, 1], [2, 3]]) / np.exp([[0, 1], [2, 3]]).sum(axis=1, keepdims=True))
    assert unreproduced("  a = [1, 2; 3, 4]·(1, 1)ᵀ = (3, 7)ᵀ") == (1, [])
    assert len(unreproduced("  a = [1, 2; 3, 4]·(1, 1)ᵀ = (3, 7.1)ᵀ")[1]) == 1
    assert len(unreproduced("  a = [1, 2; 3, 4]·(1, 1)ᵀ = (3, 7, 0)ᵀ")[1]) == 1
    broken = "  a = [1, 2; 3, 4]·(1, 1)ᵀ + [1, 0;\n      0, 1]·(1, 1)ᵀ\n    = (4, 8)ᵀ"
    assert unreproduced(broken) == (1, [])


def test_a_problem_too_large_for_the_entry_engine_works_its_first_entry_from_the_arrays():
    """40 hidden units: past the entry-by-entry engine's cap, a₁,₀ is written from the line's
    operations (b₀ + u₀₀·x₁,₀ + … + w₀₀·h₀,₀ + …), and reproduces."""
    rng = np.random.default_rng(7)
    n = 40
    W, U, b = (np.round(rng.uniform(-0.5, 0.5, s), 2) for s in ((n, n), (n, 2), n))
    x = np.round(rng.uniform(-1, 1, (3, 2)), 2)
    spec = (f'[model]\nparams = ["W", "U", "b"]\nsteps = 2\ninitial = {{ h = {[0] * n} }}\n'
            'equations = """\na[t] = b + W @ h[t-1] + U @ x[t]\nh[t] = tanh(a[t])\n"""\n'
            'loss = "sum(h[t]**2)"\n[values]\n'
            f"W = {W.tolist()}\nU = {U.tolist()}\nb = {b.tolist()}\nx = {x.tolist()}\n")
    problem = symprop.loads(spec)
    assert not Base(problem.spec, None, "teacher", Style()).scalar
    text = problem.solution().document("text")
    a0 = b[0] + U[0] @ x[1]
    rows = flat(part_a(text))
    assert flat("a₁,₀ = b₀ + w₀₀·h₀,₀ + w₀₁·h₀,₁ + w₀₂·h₀,₂") in rows  # in the line's order
    assert flat("w₀,₃₉·h₀,₃₉ + u₀₀·x₁,₀ + u₀₁·x₁,₁ =") in rows
    assert flat(f"= {_fmt(a0)} h₁ =") in rows
    assert flat("h₁,₀ = tanh(a₁,₀) = tanh(") in rows
    checked, bad = unreproduced(text)
    assert checked >= 3 and not bad, bad
