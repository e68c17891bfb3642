"""Random recurrent cells, lengths and activations: BPTT gradients equal
central finite differences of a forward pass written here in plain Python."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symprop.api import from_dict

ACT = {
    "tanh": math.tanh,
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "sin": math.sin,
    "relu": lambda z: max(z, 0.0) if abs(z) > 1e-4 else _kink(),  # FD steps across a kink
}


def _kink():
    raise Kink


class Kink(Exception):
    """relu at exactly 0, where finite differences see two slopes."""


def leaves(names):
    return st.sampled_from(names).map(lambda n: (n[0], n[1]))


def expr(names):
    """(text, fn(env, t)) over the given leaves."""
    base = leaves(names)

    def extend(children):
        act = st.tuples(st.sampled_from(sorted(ACT)), children).map(
            lambda a: (f"{a[0]}({a[1][0]})", lambda env, t, f=ACT[a[0]], g=a[1][1]: f(g(env, t)))
        )
        add = st.tuples(children, children).map(
            lambda a: (f"({a[0][0]}) + ({a[1][0]})", lambda env, t, f=a[0][1], g=a[1][1]: f(env, t) + g(env, t))
        )
        mul = st.tuples(children, children).map(
            lambda a: (f"({a[0][0]}) * ({a[1][0]})", lambda env, t, f=a[0][1], g=a[1][1]: f(env, t) * g(env, t))
        )
        return act | add | mul

    return st.recursive(base, extend, max_leaves=4)


def get(name, shift=0):
    return lambda env, t: env[name][t + shift]


def param(name):
    return lambda env, t: env[name]


@st.composite
def cells(draw):
    T = draw(st.integers(1, 6))
    act = draw(st.sampled_from(sorted(ACT)))
    pre_leaves = [("h[t-1]", get("h", -1)), ("x[t]", get("x")), ("w", param("w")), ("b", param("b"))]
    pre_text, pre_fn = draw(expr(pre_leaves))
    # make sure the recurrence and both params are there
    pre_text = f"w*h[t-1] + b*x[t] + ({pre_text})"
    out_leaves = [("h[t]", get("h")), ("v", param("v")), ("a[t]", get("a"))]
    out_text, out_fn = draw(expr(out_leaves))
    out_text = f"v*h[t] + ({out_text})"
    loss_kind = draw(st.sampled_from(["sum", "mean", "last"]))
    values = {
        "w": draw(st.floats(-1.2, 1.2)), "b": draw(st.floats(-1, 1)), "v": draw(st.floats(-1.5, 1.5)),
        "x": [draw(st.floats(-2, 2)) for _ in range(T + 1)],
        "y": [draw(st.floats(-2, 2)) for _ in range(T + 1)],
    }
    h0 = draw(st.floats(-1, 1))

    def forward(vals):
        env = {"h": {0: h0}, "a": {}, "o": {}, **{k: vals[k] for k in ("w", "b", "v")},
               "x": vals["x"], "y": vals["y"]}
        for t in range(1, T + 1):
            env["a"][t] = env["w"] * env["h"][t - 1] + env["b"] * env["x"][t] + pre_fn(env, t)
            env["h"][t] = ACT[act](env["a"][t])
            env["o"][t] = env["v"] * env["h"][t] + out_fn(env, t)
        if loss_kind == "last":
            return (env["o"][T] - env["y"][T]) ** 2
        total = sum((env["o"][t] - env["y"][t]) ** 2 for t in range(1, T + 1))
        return total / T if loss_kind == "mean" else total

    equations = f"a[t] = {pre_text}\nh[t] = {act}(a[t])\no[t] = {out_text}"
    model = {"params": ["w", "b", "v"], "steps": T, "initial": {"h": h0}, "equations": equations}
    if loss_kind == "last":
        model["loss"] = f"(o[{T}] - y[{T}])**2"
    else:
        model["loss"] = "(o[t] - y[t])**2"
        model["reduce"] = loss_kind
    return {"title": "random rnn", "model": model, "values": values}, forward


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells())
def test_random_cells_match_finite_differences(case):
    spec, forward = case
    values = spec["values"]
    try:
        reference = forward(values)
    except (Kink, OverflowError):
        return
    if not math.isfinite(reference) or reference > 1e6:
        return
    solution = from_dict(spec).solve()
    assert math.isclose(solution["loss"], reference, rel_tol=1e-9, abs_tol=1e-12)
    for p in ("w", "b", "v"):
        h = 1e-6
        try:
            fd = (forward({**values, p: values[p] + h}) - forward({**values, p: values[p] - h})) / (2 * h)
        except Kink:
            continue
        g = solution["gradients"][p]
        assert math.isclose(g, fd, rel_tol=1e-4, abs_tol=1e-5 * max(1.0, reference)), (spec, p, g, fd)


def test_long_sequence_is_linear_and_correct():
    """T = 400: the gradient of a tanh RNN against a hand-written BPTT."""
    T = 400
    xs = [math.sin(0.3 * t) for t in range(T + 1)]
    ys = [math.cos(0.2 * t) for t in range(T + 1)]
    w, u, v = 0.7, 0.4, 1.1
    spec = {
        "title": "long",
        "model": {"params": ["w", "u", "v"], "steps": T, "initial": {"h": 0},
                  "equations": "h[t] = tanh(w*h[t-1] + u*x[t])\nyhat[t] = v*h[t]",
                  "loss": "(yhat[t] - y[t])**2", "reduce": "mean"},
        "values": {"w": w, "u": u, "v": v, "x": xs, "y": ys},
    }
    h = [0.0]
    for t in range(1, T + 1):
        h.append(math.tanh(w * h[t - 1] + u * xs[t]))
    gw = gu = gv = 0.0
    dh_next = 0.0
    for t in range(T, 0, -1):
        dy = 2 * (v * h[t] - ys[t]) / T
        gv += dy * h[t]
        dh = dy * v + dh_next
        da = dh * (1 - h[t] ** 2)
        gw += da * h[t - 1]
        gu += da * xs[t]
        dh_next = da * w
    g = from_dict(spec).solve()["gradients"]
    assert math.isclose(g["w"], gw, rel_tol=1e-10)
    assert math.isclose(g["u"], gu, rel_tol=1e-10)
    assert math.isclose(g["v"], gv, rel_tol=1e-10)
