"""Every function of the reference (docs/spec-format.md, the RULES table) runs
through every command and format on a small spec, at a kink and away from it:
solve, derive, check, graph and variants give an answer or one SympropError
line, never another exception and never "internal error".  The loss of each
case is compared with NumPy's, computed here."""

import re
from pathlib import Path

import numpy as np
import pytest

import symprop
from symprop import api
from symprop.errors import SympropError

E = np.e
FORMATS = ("text", "latex", "myst", "markdown")


def _softmax(z):
    return np.exp(z - z.max()) / np.exp(z - z.max()).sum()


# name: (equations, loss, values, the loss in NumPy at those values, or the words
# of the one line that refuses the point)
CASES = {
    "relu@kink": ("h = relu(w*x)", "h*h + w", dict(w=0.5, x=0.0), 0.5),
    "relu": ("h = relu(w*x)", "h*h", dict(w=0.5, x=3.0), 2.25),
    "abs@kink": ("h = abs(w*x) + w", "h*h", dict(w=0.5, x=0.0), 0.25),
    "abs": ("h = abs(w*x)", "h*h", dict(w=0.5, x=-3.0), 2.25),
    "leaky_relu@kink": ("h = leaky_relu(w*x) + w", "h*h", dict(w=0.5, x=0.0), 0.25),
    "leaky_relu": ("h = leaky_relu(w*x, 0.2)", "h*h", dict(w=0.5, x=-3.0), 0.09),
    "elu@kink": ("h = elu(w*x, 0.5) + w", "h*h", dict(w=0.5, x=0.0), 0.25),
    "elu": ("h = elu(w*x)", "h*h", dict(w=0.5, x=-2.0), (np.exp(-1) - 1) ** 2),
    "heaviside@kink": ("h = heaviside(w*x, 0.5) + w", "h*h", dict(w=0.5, x=0.0), 1.0),
    "heaviside": ("h = heaviside(w*x, 0.5)*w", "h*h", dict(w=0.5, x=-1.0), 0.0),
    "max@kink": ("h = max(w*x, w)", "h*h", dict(w=0.5, x=1.0), 0.25),
    "max": ("h = max(w*x, 0)", "h*h", dict(w=0.5, x=-1.0), 0.0),
    "min@kink": ("h = min(w*x, w)", "h*h", dict(w=0.5, x=1.0), 0.25),
    "min": ("h = min(w*x, 1)", "h*h", dict(w=0.5, x=4.0), 1.0),
    "where@kink": ("h = where(w*x < 0, w*x, 2*w*x)", "h*h", dict(w=0.5, x=0.0), 0.0),
    "where": ("h = where(w*x < 0, w*x, 2*w*x)", "h*h", dict(w=0.5, x=-2.0), 1.0),
    "sigmoid": ("h = sigmoid(w*x)", "h*h", dict(w=0.5, x=0.0), 0.25),
    "tanh": ("h = tanh(w*x)", "h*h", dict(w=0.5, x=-1.0), np.tanh(-0.5) ** 2),
    "exp": ("h = exp(w*x)", "h", dict(w=0.5, x=-2.0), np.exp(-1)),
    "log": ("h = log(w*x)", "h*h", dict(w=0.5, x=2.0 * E), 1.0),
    "sin": ("h = sin(w*x)", "h", dict(w=0.5, x=1.0), np.sin(0.5)),
    "cos": ("h = cos(w*x)", "h", dict(w=0.5, x=0.0), 1.0),
    "sqrt": ("h = sqrt(w*x)", "h", dict(w=0.5, x=8.0), 2.0),
    "softplus": ("h = softplus(w*x)", "h", dict(w=0.5, x=-2.0), np.log1p(np.exp(-1))),
    "logsigmoid": ("h = logsigmoid(w*x)", "h", dict(w=0.5, x=2.0), -np.log1p(np.exp(-1))),
    "silu": ("h = silu(w*x)", "h", dict(w=0.5, x=-2.0), -1 / (1 + np.exp(1))),
    "gelu": ("h = gelu(w*x)", "h", dict(w=0.5, x=0.0), 0.0),
    "gelu_tanh": ("h = gelu_tanh(w*x)", "h", dict(w=0.5, x=0.0), 0.0),
    "sum": ("h = sum(w*x)", "h*h", dict(w=0.5, x=[1.0, 2.0, -1.0]), 1.0),
    "mean": ("h = mean(w*x)", "h*h", dict(w=0.5, x=[1.0, 2.0, 3.0]), 1.0),
    "softmax": ("p = softmax(w*x)", "sum(p*y)", dict(w=0.5, x=[0.0, 2.0], y=[1.0, 0.0]), 1 / (1 + E)),
    "log_softmax": ("s = log_softmax(w*x)", "-sum(y*s)", dict(w=0.5, x=[0.0, 2.0], y=[0.0, 1.0]),
                    -np.log(_softmax(np.array([0.0, 1.0]))[1])),
    "logsumexp": ("h = logsumexp(w*x)", "h", dict(w=0.5, x=[0.0, 0.0]), np.log(2.0)),
    "amax@kink": ("h = amax(w*x)", "h*h", dict(w=0.5, x=[2.0, 2.0, 1.0]), 1.0),
    "amax": ("h = amax(w*x)", "h*h", dict(w=0.5, x=[2.0, 4.0, 1.0]), 4.0),
    "amin@kink": ("h = amin(w*x)", "h*h", dict(w=0.5, x=[2.0, 2.0, 4.0]), 1.0),
    "amin": ("h = amin(w*x)", "h*h", dict(w=0.5, x=[2.0, 4.0, 6.0]), 1.0),
    "var": ("h = var(w*x)", "h", dict(w=0.5, x=[0.0, 2.0]), 0.25),
    "std@kink": ("h = std(w*x) + w", "h", dict(w=0.5, x=[1.0, 1.0]), "not finite"),  # std' of 0 spread
    "std": ("h = std(w*x)", "h", dict(w=0.5, x=[0.0, 4.0]), 1.0),
    "norm": ("h = norm(w*x)", "h", dict(w=0.5, x=[6.0, 8.0]), 5.0),
    "concat": ("c = concat(w*x, w)", "sum(c*c)", dict(w=0.5, x=[2.0, 4.0]), 1 + 4 + 0.25),
    "outer": ("M = outer(w*x, x)", "sum(M)", dict(w=0.5, x=[1.0, 2.0]), 4.5),
    "flatten": ("v = flatten(W*W)", "sum(v)", dict(W=[[1.0, 2.0], [3.0, 0.0]]), 14.0),
    "reshape": ("v = reshape(W, 4)", "sum(v*v)", dict(W=[[1.0, 2.0], [3.0, 0.0]]), 14.0),
    "inv": ("B = inv(W)", "sum(B)", dict(W=[[2.0, 0.0], [0.0, 4.0]]), 0.75),
    "det@kink": ("d = det(W)", "d*d", dict(W=[[1.0, 2.0], [2.0, 4.0]]), "singular"),  # det' is det·A⁻ᵀ
    "det": ("d = det(W)", "d", dict(W=[[2.0, 1.0], [1.0, 3.0]]), 5.0),
    "logdet": ("d = logdet(W)", "d", dict(W=[[E, 0.0], [0.0, E]]), 2.0),
    "trace": ("d = trace(W @ W)", "d", dict(W=[[1.0, 2.0], [3.0, 4.0]]), 7.0 + 22.0),
    "corr2d": ("Y = corr2d(W, K)", "sum(Y)", dict(W=[[1.0, 2.0], [3.0, 4.0]], K=[[1.0]]), 10.0),
    "conv1d": ("y = conv1d(w*x, k)", "sum(y)", dict(w=0.5, x=[2.0, 4.0, 6.0], k=[1.0, -1.0]), -2.0),
    "pad": ("P = pad(W, 1)", "sum(P*P)", dict(W=[[1.0, 2.0], [3.0, 0.0]]), 14.0),
    "conv2d": ("Y = conv2d(W, K, 1, 1)", "sum(Y)", dict(W=[[1.0, 2.0], [3.0, 0.0]], K=[[1.0]]), 6.0),
    "max_pool2d@kink": ("Y = max_pool2d(W, 2)", "sum(Y*Y)", dict(W=[[1.0, 1.0], [0.0, 1.0]]), 1.0),
    "max_pool2d": ("Y = max_pool2d(W, 2)", "sum(Y*Y)", dict(W=[[1.0, 3.0], [0.0, 2.0]]), 9.0),
    "conv2d@images": ("Y = conv2d(X, K, 1, 0) * w", "sum(Y)", dict(w=0.5, X=[[[[1.0, 2.0], [3.0, 4.0]]]],
                                                                   K=[[[[2.0]]]]), 10.0),
    "max_pool2d@images": ("Y = max_pool2d(X, 2) * w", "sum(Y)", dict(w=0.5, X=[[[[1.0, 3.0], [0.0, 2.0]]]]), 1.5),
    "transpose": ("Y = transpose(W)", "sum(Y * M)", dict(W=[[1.0, 2.0], [3.0, 4.0]], M=[[1.0, 0.0], [0.0, 2.0]]), 9.0),
    "transpose@images": ("Y = transpose(X, 2, 0, 1) * w", "sum(Y * Y)", dict(w=0.5, X=[[[1.0, 2.0], [3.0, 4.0]]]),
                         7.5),
    "cross_entropy": ("l = cross_entropy(W, c)", "l", dict(W=[[0.0, 0.0]], c=[1]), np.log(2.0)),
    "range": ("P = W*W\ng = P[range(2), c]", "sum(g)", dict(W=[[1.0, 2.0], [3.0, 4.0]], c=[1, 0]), 13.0),
    "arange": ("P = W*W\ng = P[arange(2), c]", "sum(g)", dict(W=[[1.0, 2.0], [3.0, 4.0]], c=[0, 0]), 10.0),
    "onehot": ("Y = onehot(c, 3)", "sum(Y*(w*x))", dict(w=0.5, x=[1.0, 2.0, 3.0], c=[2]), 1.5),
    "binary_cross_entropy_with_logits": ("l = binary_cross_entropy_with_logits(w*x, y)", "l",
                                         dict(w=0.5, x=[0.0, 0.0], y=[1.0, 0.0]), np.log(2.0)),
}
PARAMS = {"w", "W"}


def _spec(case: str) -> str:
    equations, loss, values, _ = CASES[case]
    params = [n for n in values if n in PARAMS]
    lines = "\n".join(f"{k} = {v!r}" for k, v in values.items())
    return (f'title = "{case}"\n[model]\nparams = {params!r}\nequations = """\n{equations}\n"""\n'
            f'loss = "{loss}"\n[values]\n{lines}\n').replace("'", '"')


def test_every_function_has_a_case():
    reference = Path(__file__).parent.parent / "docs" / "spec-format.md"
    named = {re.sub("@.*", "", case) for case in CASES} | {re.sub("@.*", "", case) for case in CASES}
    assert set(api.function_names()) <= named, set(api.function_names()) - named
    text = reference.read_text("utf-8")
    assert all(f"`{name}" in text or f" {name}" in text for name in api.function_names())


def _answer_or_one_line(action):
    """What the API gives, or None when it refuses with one SympropError line
    that is not a bug."""
    try:
        return action()
    except SympropError as e:
        assert "internal error" not in str(e) and "\n" not in str(e), str(e)
        return None


@pytest.mark.parametrize("case", sorted(CASES))
def test_function_through_every_command(case):
    problem = symprop.loads(_spec(case), origin=f"{case}.toml")
    if isinstance(CASES[case][3], str):
        with pytest.raises(SympropError, match=f"^{case}.toml: .*{CASES[case][3]}") as refused:
            problem.solve()
        assert "\n" not in str(refused.value)
        return
    numbers = problem.solve()
    assert np.isclose(numbers["loss"], CASES[case][3], rtol=1e-9, atol=1e-12), (numbers["loss"], CASES[case][3])
    api.strict_json(numbers)
    api.strict_json(api.derivation_json(problem.spec))
    solution = problem.solution()
    index = sorted(CASES).index(case)
    fmt = FORMATS[index % len(FORMATS)]  # a format for each, every format for some
    assert solution.document(fmt, lang=("en", "ru", "zh")[index % 3])
    assert solution.document(FORMATS[(index + 1) % len(FORMATS)], fractions=True)
    assert problem.document(FORMATS[(index + 2) % len(FORMATS)])
    report, ok = problem.check()
    assert "internal error" not in report
    assert ok, report
    assert api.draw(problem.spec, ("dot", "tikz", "mermaid")[index % 3], grad=True)
    drawn = _answer_or_one_line(lambda: problem.variants(1, seed=index))
    if drawn is not None:
        assert drawn.toml() and drawn.key(("json", "markdown", "text")[index % 3])


@pytest.mark.parametrize("case", ["elu", "leaky_relu", "elu@kink", "det@kink"])
@pytest.mark.parametrize("command", [["solve", "--format", "json"], ["solve", "--format", "latex"],
                                     ["derive", "--format", "json"], ["check"], ["graph", "--grad"],
                                     ["variants", "-n", "1", "-o", "OUT"]])
def test_the_command_line_gives_numbers_or_one_line(tmp_path, case, command):
    from click.testing import CliRunner

    from symprop.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text(_spec(case), encoding="utf-8")
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    run = CliRunner().invoke(main, [args[0], str(spec), *args[1:]])
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert "internal error" not in run.output and "Traceback" not in run.output, run.output
    if run.exit_code:
        assert run.output.count("\n") <= 1 or command == ["check"], run.output
    if not isinstance(CASES[case][3], str):
        assert run.exit_code == 0, run.output
    elif command[0] in ("solve", "check"):  # no numbers at this point; variants may find others
        assert run.exit_code == 1 and CASES[case][3] in run.output, run.output
