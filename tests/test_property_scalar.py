"""Random straight-line programs (reassignments included): the gradients of
the reverse sweep equal central finite differences of a pass written here,
in plain Python, from the same program."""

import math
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symprop
from symprop.api import from_dict

UNARY = {
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "exp": lambda z: math.exp(z),
    "relu": lambda z: max(z, 0.0) if abs(z) > 1e-4 else _kink(),  # FD steps across a kink
}


class Kink(Exception):
    """relu at exactly 0: finite differences see two different slopes."""


def _kink():
    raise Kink
# Safe forms of log, sqrt and division, written in the spec language.
SAFE = {
    "log1p2": ("log(1 + ({})**2)", lambda z: math.log(1 + z * z)),
    "sqrt1p2": ("sqrt(1 + ({})**2)", lambda z: math.sqrt(1 + z * z)),
}
BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def expression(names):
    leaf = st.sampled_from(sorted(names)).map(lambda n: (n, lambda env, n=n: env[n]))
    const = st.sampled_from([0.5, 2, 3]).map(lambda c: (str(c), lambda env, c=c: float(c)))

    def extend(children):
        unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
            lambda t: (f"{t[0]}({t[1][0]})", lambda env, f=UNARY[t[0]], g=t[1][1]: f(g(env)))
        )
        safe = st.tuples(st.sampled_from(sorted(SAFE)), children).map(
            lambda t: (
                SAFE[t[0]][0].format(t[1][0]),
                lambda env, f=SAFE[t[0]][1], g=t[1][1]: f(g(env)),
            )
        )
        binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children | const).map(
            lambda t: (
                f"({t[1][0]}) {t[0]} ({t[2][0]})",
                lambda env, f=BINARY[t[0]], a=t[1][1], b=t[2][1]: f(a(env), b(env)),
            )
        )
        divide = st.tuples(children, children).map(
            lambda t: (
                f"({t[0][0]}) / (1 + ({t[1][0]})**2)",
                lambda env, a=t[0][1], b=t[1][1]: a(env) / (1 + b(env) ** 2),
            )
        )
        power = children.map(
            lambda c: (f"({c[0]})**2", lambda env, g=c[1]: g(env) ** 2)
        )
        return unary | safe | binary | divide | power

    return st.recursive(leaf, extend, max_leaves=4)


@st.composite
def programs(draw):
    params = ["p0", "p1", "p2"]
    names = set(params) | {"x"}
    lines = []
    for i in range(draw(st.integers(1, 6))):
        target = draw(st.sampled_from(["a", "b", "c", f"n{i}"]))
        text, fn = draw(expression(names))
        if i == 0:
            text, fn = f"p0 * ({text})", (lambda env, g=fn: env["p0"] * g(env))
        lines.append((target, text, fn))
        names.add(target)
    values = {p: draw(st.floats(-1.2, 1.2)) for p in params}
    values["x"] = draw(st.floats(-1.5, 1.5))
    return lines, values


def run_program(lines, env):
    env = dict(env)
    for target, _, fn in lines:
        env[target] = fn(env)
    return (env[lines[-1][0]] - 0.3) ** 2


def program_spec(lines, values) -> tuple[dict, list[str]]:
    """The spec of a generated program, and the parameters it uses."""
    text = "\n".join(f"{t} = {e}" for t, e, _ in lines)
    used = [p for p in ("p0", "p1", "p2") if re.search(rf"\b{p}\b", text)]
    spec = {
        "title": "random",
        "model": {"params": used, "equations": text, "loss": f"({lines[-1][0]} - 0.3)**2"},
        "values": {k: v for k, v in values.items() if k in used or (k == "x" and re.search(r"\bx\b", text))},
    }
    return spec, used


def reference_pass(lines, values, used):
    """The loss of the plain-Python pass and its central differences for every
    parameter (None where a step crosses a kink); None when the loss is unusable."""
    try:
        reference = run_program(lines, values)
    except (OverflowError, Kink):
        return None
    if not math.isfinite(reference) or abs(reference) > 1e8:
        return None
    fds, h = {}, 1e-6
    for p in used:
        try:
            fds[p] = (run_program(lines, {**values, p: values[p] + h})
                      - run_program(lines, {**values, p: values[p] - h})) / (2 * h)
        except Kink:
            fds[p] = None
    return reference, fds


def close_to_fd(g: float, fd: float, reference: float) -> bool:
    return math.isclose(g, fd, rel_tol=1e-4, abs_tol=1e-5 * max(1.0, abs(reference)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_match_finite_differences(program):
    lines, values = program
    spec, used = program_spec(lines, values)
    found = reference_pass(lines, values, used)
    if found is None:
        return
    reference, fds = found
    solution = from_dict(spec).solve()
    assert math.isclose(solution["loss"], reference, rel_tol=1e-9, abs_tol=1e-12)
    for p, fd in fds.items():
        if fd is not None:
            g = solution["gradients"][p]
            assert close_to_fd(g, fd, reference), (spec["model"]["equations"], p, g, fd)


def test_reassignment_uses_the_newest_value():
    spec = {
        "title": "reassign",
        "model": {
            "params": ["w"],
            "equations": "z = w*x\nz = sin(z)\nz = z*z",
            "loss": "z",
        },
        "values": {"w": 0.7, "x": 1.3},
    }
    s = from_dict(spec).solve()
    z = math.sin(0.7 * 1.3)
    assert math.isclose(s["loss"], z * z, rel_tol=1e-12)
    assert math.isclose(s["gradients"]["w"], 2 * z * math.cos(0.91) * 1.3, rel_tol=1e-12)
    assert set(s["values"]) == {"z@1", "z@2", "z"}
    assert math.isclose(s["values"]["z@1"], 0.91, rel_tol=1e-12)


def test_api_load_accepts_shipped_names_and_paths(tmp_path):
    from tests.conftest import DERIVATIONS

    assert symprop.load("udl_toy").title == symprop.load(DERIVATIONS / "udl_toy.toml").title
