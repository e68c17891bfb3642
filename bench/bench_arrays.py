"""Cost of array problems on the array engine, against hand-written NumPy and
PyTorch: an MLP on a batch, softmax + cross-entropy, a vector RNN and an LSTM.

Run: python bench/bench_arrays.py
Prints one table per family.  Columns:

  solve s     the whole ``from_dict(spec).solve()`` (reading, deriving, forward,
              backward, finite differences, checks), in a child process with a
              60 s budget; a size over the budget shows "> 60"
  pass ms     one forward + backward pass of ``problem.compiled().run(values)``,
              best of 5 after one warm-up
  numpy ms    the same model written by hand in NumPy, best of 5
  torch ms    the same model in PyTorch float64 with autograd, best of 5
              ("—" when torch is not importable)
  pass/numpy  pass ms / numpy ms

Before timing, symprop's loss and gradients are asserted equal to the NumPy
ones to 1e-8 relative, so no row times a wrong engine.
"""

import multiprocessing as mp
import os
import platform
import time

import numpy as np

from symprop.api import from_dict
from symprop.errors import SympropError

try:
    import torch

    # One thread: on a small machine torch's OpenMP threads and NumPy's OpenBLAS
    # threads (still spinning after the NumPy column) fight over the cores and a
    # 0.2 ms pass takes 80 ms.
    torch.set_num_threads(1)
except ImportError:  # the torch column prints "—"
    torch = None

SOLVE_BUDGET = 60.0
REPEATS = 5


# ---------------------------------------------------------------- MLP, batch


def mlp_spec(n: int, batch: int = 64, d_in: int = 16, d_out: int = 4) -> dict:
    rng = np.random.default_rng(1)
    values = {
        "X": rng.normal(size=(batch, d_in)),
        "Y": rng.normal(size=(batch, d_out)),
        "W1": rng.normal(size=(d_in, n)) * 0.5 / d_in**0.5,
        "b1": rng.normal(size=(1, n)) * 0.1,
        "W2": rng.normal(size=(n, d_out)) / n**0.5,
        "b2": rng.normal(size=(1, d_out)) * 0.1,
    }
    return {
        "title": f"MLP, batch {batch}, width {n}",
        "model": {"params": ["W1", "b1", "W2", "b2"],
                  "equations": "H = tanh(X @ W1 + b1)\nZ = H @ W2 + b2",
                  "loss": "mean((Z - Y)**2)"},
        "values": {k: v.tolist() for k, v in values.items()},
    }


def mlp_numpy(v: dict) -> tuple[float, dict]:
    X, Y, W1, b1, W2, b2 = (v[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    H = np.tanh(X @ W1 + b1)
    Z = H @ W2 + b2
    R = Z - Y
    loss = np.mean(R**2)
    dZ = (2.0 / R.size) * R
    dH = dZ @ W2.T
    dA = dH * (1.0 - H * H)
    grads = {"W1": X.T @ dA, "b1": dA.sum(0, keepdims=True),
             "W2": H.T @ dZ, "b2": dZ.sum(0, keepdims=True)}
    return loss, grads


def mlp_torch(v: dict) -> tuple[float, dict]:
    X, Y, W1, b1, W2, b2 = (v[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    Z = torch.tanh(X @ W1 + b1) @ W2 + b2
    loss = torch.mean((Z - Y) ** 2)
    loss.backward()
    return loss


# ------------------------------------------------------ softmax + cross-entropy


def softmax_spec(classes: int, d_in: int = 16) -> dict:
    rng = np.random.default_rng(2)
    y = np.zeros(classes)
    y[rng.integers(classes)] = 1.0
    values = {
        "W": rng.normal(size=(classes, d_in)) * 0.5 / d_in**0.5,
        "b": rng.normal(size=classes) * 0.1,
        "x": rng.normal(size=d_in),
        "y": y,
    }
    return {
        "title": f"softmax + cross-entropy, {classes} classes",
        "model": {"params": ["W", "b"], "equations": "P = softmax(W @ x + b)",
                  "loss": "-sum(y * log(P))"},
        "values": {k: v.tolist() for k, v in values.items()},
    }


def softmax_numpy(v: dict) -> tuple[float, dict]:
    W, b, x, y = v["W"], v["b"], v["x"], v["y"]
    z = W @ x + b
    e = np.exp(z - z.max())
    P = e / e.sum()
    loss = -np.sum(y * np.log(P))
    dz = P * y.sum() - y
    return loss, {"W": np.outer(dz, x), "b": dz}


def softmax_torch(v: dict):
    W, b, x, y = v["W"], v["b"], v["x"], v["y"]
    P = torch.softmax(W @ x + b, dim=0)
    loss = -torch.sum(y * torch.log(P))
    loss.backward()
    return loss


# ------------------------------------------------------------------ vector RNN


def rnn_spec(n: int, T: int, d_in: int = 4) -> dict:
    rng = np.random.default_rng(3)
    values = {
        "W": rng.normal(size=(n, n)) * 0.5 / n**0.5,
        "U": rng.normal(size=(n, d_in)) * 0.3,
        "V": rng.normal(size=(1, n)) / n**0.5,
        "b": rng.normal(size=n) * 0.1,
        "x": rng.normal(size=(T + 1, d_in)),
        "y": rng.normal(size=T + 1) * 0.5,
    }
    return {
        "title": f"vector RNN, {n} units, T = {T}",
        "model": {"params": ["W", "U", "V", "b"], "steps": T, "initial": {"h": [0.0] * n},
                  "equations": "h[t] = tanh(W @ h[t-1] + U @ x[t] + b)\nyhat[t] = V @ h[t]",
                  "loss": "(yhat[t] - y[t])**2"},
        "values": {k: v.tolist() for k, v in values.items()},
    }


def rnn_numpy(v: dict) -> tuple[float, dict]:
    W, U, V, b, x, y = (v[k] for k in ("W", "U", "V", "b", "x", "y"))
    T = len(x) - 1
    v0 = V[0]
    hs = [np.zeros(W.shape[0])]
    r = np.empty(T + 1)
    for t in range(1, T + 1):
        h = np.tanh(W @ hs[-1] + U @ x[t] + b)
        hs.append(h)
        r[t] = v0 @ h - y[t]
    loss = np.sum(r[1:] ** 2)
    dW, dU, dV, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(v0), np.zeros_like(b)
    carry = np.zeros_like(b)
    for t in range(T, 0, -1):
        dy = 2.0 * r[t]
        dV += dy * hs[t]
        da = (dy * v0 + carry) * (1.0 - hs[t] * hs[t])
        dW += np.outer(da, hs[t - 1])
        dU += np.outer(da, x[t])
        db += da
        carry = W.T @ da
    return loss, {"W": dW, "U": dU, "V": dV[None, :], "b": db}


def rnn_torch(v: dict):
    W, U, V, b, x, y = (v[k] for k in ("W", "U", "V", "b", "x", "y"))
    h = torch.zeros(W.shape[0], dtype=torch.float64)
    loss = 0.0
    for t in range(1, len(x)):
        h = torch.tanh(W @ h + U @ x[t] + b)
        loss = loss + ((V @ h)[0] - y[t]) ** 2
    loss.backward()
    return loss


# ----------------------------------------------------------------------- LSTM

LSTM_EQUATIONS = """
v[t] = concat(x[t], h[t-1])
f[t] = sigmoid(W_f @ v[t] + b_f)
i[t] = sigmoid(W_i @ v[t] + b_i)
g[t] = tanh(W_g @ v[t] + b_g)
o[t] = sigmoid(W_o @ v[t] + b_o)
c[t] = f[t]*c[t-1] + i[t]*g[t]
h[t] = o[t]*tanh(c[t])
yhat[t] = V @ h[t] + b_y
"""
GATES = ("f", "i", "g", "o")


def lstm_spec(n: int, T: int, d_in: int = 4, d_out: int = 2) -> dict:
    rng = np.random.default_rng(4)
    values = {}
    for gate in GATES:
        values[f"W_{gate}"] = rng.normal(size=(n, d_in + n)) * 0.5 / (d_in + n) ** 0.5
        values[f"b_{gate}"] = rng.normal(size=n) * 0.1
    values.update({
        "V": rng.normal(size=(d_out, n)) / n**0.5,
        "b_y": rng.normal(size=d_out) * 0.1,
        "x": rng.normal(size=(T + 1, d_in)),
        "y": rng.normal(size=(T + 1, d_out)) * 0.5,
    })
    params = [p for gate in GATES for p in (f"W_{gate}", f"b_{gate}")] + ["V", "b_y"]
    return {
        "title": f"LSTM, {n} units, T = {T}",
        "model": {"params": params, "steps": T, "initial": {"h": [0.0] * n, "c": [0.0] * n},
                  "equations": LSTM_EQUATIONS.strip(), "loss": "sum((yhat[t] - y[t])**2) / 2"},
        "values": {k: v.tolist() for k, v in values.items()},
    }


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_numpy(v: dict) -> tuple[float, dict]:
    x, y, V, b_y = v["x"], v["y"], v["V"], v["b_y"]
    W = {g: v[f"W_{g}"] for g in GATES}
    B = {g: v[f"b_{g}"] for g in GATES}
    n = V.shape[1]
    T = len(x) - 1
    h, c = [np.zeros(n)], [np.zeros(n)]
    vs, gates, r = [None], [None], [None]
    loss = 0.0
    for t in range(1, T + 1):
        vt = np.concatenate((x[t], h[-1]))
        f = _sigmoid(W["f"] @ vt + B["f"])
        i = _sigmoid(W["i"] @ vt + B["i"])
        g = np.tanh(W["g"] @ vt + B["g"])
        o = _sigmoid(W["o"] @ vt + B["o"])
        ct = f * c[-1] + i * g
        h.append(o * np.tanh(ct))
        c.append(ct)
        vs.append(vt)
        gates.append((f, i, g, o))
        r.append(V @ h[-1] + b_y - y[t])
        loss += 0.5 * (r[-1] @ r[-1])
    grads = {k: np.zeros_like(val) for k, val in v.items() if k not in ("x", "y")}
    dh_next, dc_next = np.zeros(n), np.zeros(n)
    d_in = x.shape[1]
    for t in range(T, 0, -1):
        f, i, g, o = gates[t]
        grads["V"] += np.outer(r[t], h[t])
        grads["b_y"] += r[t]
        dh = V.T @ r[t] + dh_next
        tc = np.tanh(c[t])
        dc = dh * o * (1.0 - tc * tc) + dc_next
        da = {"f": dc * c[t - 1] * f * (1.0 - f), "i": dc * g * i * (1.0 - i),
              "g": dc * i * (1.0 - g * g), "o": dh * tc * o * (1.0 - o)}
        dv = np.zeros_like(vs[t])
        for gate in GATES:
            grads[f"W_{gate}"] += np.outer(da[gate], vs[t])
            grads[f"b_{gate}"] += da[gate]
            dv += W[gate].T @ da[gate]
        dh_next = dv[d_in:]
        dc_next = dc * f
    return loss, grads


def lstm_torch(v: dict):
    x, y, V, b_y = v["x"], v["y"], v["V"], v["b_y"]
    n = V.shape[1]
    h = torch.zeros(n, dtype=torch.float64)
    c = torch.zeros(n, dtype=torch.float64)
    loss = 0.0
    for t in range(1, len(x)):
        vt = torch.cat((x[t], h))
        f = torch.sigmoid(v["W_f"] @ vt + v["b_f"])
        i = torch.sigmoid(v["W_i"] @ vt + v["b_i"])
        g = torch.tanh(v["W_g"] @ vt + v["b_g"])
        o = torch.sigmoid(v["W_o"] @ vt + v["b_o"])
        c = f * c + i * g
        h = o * torch.tanh(c)
        loss = loss + torch.sum((V @ h + b_y - y[t]) ** 2) / 2
    loss.backward()
    return loss


# -------------------------------------------------------------------- harness


def best_ms(function, *args) -> float:
    function(*args)  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return 1000.0 * min(times)


def _solve_child(spec: dict, queue) -> None:
    start = time.perf_counter()
    from_dict(spec).solve()
    queue.put(time.perf_counter() - start)


def solve_cell(spec: dict) -> str:
    """Seconds of from_dict(spec).solve() in a fresh interpreter (spawned, not
    forked: a fork would inherit the parent's caches of parsed and derived
    equations), or "> 60" past the budget."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    proc = context.Process(target=_solve_child, args=(spec, queue))
    proc.start()
    proc.join(SOLVE_BUDGET + 10)  # + the child's imports, which are not timed
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return f"> {SOLVE_BUDGET:g}"
    if queue.empty():
        return "crashed"
    seconds = queue.get()
    return f"{seconds:.2f}" if seconds <= SOLVE_BUDGET else f"> {SOLVE_BUDGET:g}"


def assert_agrees(run, loss: float, grads: dict, params: list[str], title: str) -> None:
    def close(a, b) -> bool:
        scale = max(np.max(np.abs(b)), 1e-300)
        return np.max(np.abs(a - b)) <= 1e-8 * scale

    assert close(np.asarray(run.loss, dtype=float), np.asarray(loss)), f"{title}: loss"
    for p in params:
        mine, theirs = np.asarray(grads[p]), np.asarray(run.adjoints[p], dtype=float)
        assert mine.size == theirs.size, f"{title}: {p} has shape {theirs.shape}, not {mine.shape}"
        assert close(theirs, mine.reshape(theirs.shape)), f"{title}: gradient of {p}"


def torch_ms(torch_fn, values: dict, params: list[str]) -> str:
    if torch is None:
        return "—"
    tv = {k: torch.tensor(val, dtype=torch.float64, requires_grad=k in params)
          for k, val in values.items()}

    def step():
        for p in params:
            tv[p].grad = None
        torch_fn(tv)

    return f"{best_ms(step):.2f}"


def row(spec: dict, numpy_fn, torch_fn) -> tuple[list[str], str | None]:
    """The cells after the size, and a note when symprop refuses the spec."""
    title, params = spec["title"], spec["model"]["params"]
    values = {k: np.asarray(val, dtype=float) for k, val in spec["values"].items()}
    numpy_ms = best_ms(numpy_fn, values)
    torch_cell = torch_ms(torch_fn, values, params)
    try:
        problem = from_dict(spec)
    except SympropError as error:
        return ["—", "—", f"{numpy_ms:.2f}", torch_cell, "—"], str(error)
    machine = problem.compiled()
    run = machine.run(problem.values)
    loss, grads = numpy_fn(values)
    assert_agrees(run, loss, grads, params, title)
    pass_ms = best_ms(machine.run, problem.values)
    return [solve_cell(spec), f"{pass_ms:.2f}", f"{numpy_ms:.2f}", torch_cell,
            f"{pass_ms / numpy_ms:.1f}"], None


def table(name: str, size_label: str, cases: list, numpy_fn, torch_fn) -> None:
    widths = (10, 10, 10, 10, 12)
    heads = ("solve s", "pass ms", "numpy ms", "torch ms", "pass/numpy")
    print(f"\n{name:<28}{size_label:>12}" + "".join(f"{h:>{w}}" for h, w in zip(heads, widths)),
          flush=True)
    notes = []
    for label, spec in cases:
        cells, note = row(spec, numpy_fn, torch_fn)
        print(f"{'':<28}{label:>12}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths)),
              flush=True)
        if note:
            notes.append(f"{label}: symprop refuses the spec: {note}")
    for note in notes:
        print(f"  {note}")


def main() -> None:
    torch_version = torch.__version__ if torch is not None else "not installed"
    threads = f" (set to {torch.get_num_threads()} thread)" if torch is not None else ""
    print(f"machine: {platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, torch {torch_version}{threads}")
    print(f"solve: whole from_dict(spec).solve(), budget {SOLVE_BUDGET:g} s; "
          f"pass / numpy / torch: one forward + backward, best of {REPEATS} after a warm-up")

    table("MLP, batch 64", "width", [(str(n), mlp_spec(n)) for n in (8, 32, 128, 512)],
          mlp_numpy, mlp_torch)
    table("softmax + cross-entropy", "classes",
          [(str(k), softmax_spec(k)) for k in (10, 100, 1000, 10000)], softmax_numpy, softmax_torch)
    table("vector RNN", "units, T",
          [(f"{n}, {T}", rnn_spec(n, T)) for n, T in ((8, 100), (64, 100), (256, 100),
                                                      (8, 1000), (64, 1000))],
          rnn_numpy, rnn_torch)
    table("LSTM, input 4, output 2", "units, T", [("64, 100", lstm_spec(64, 100))],
          lstm_numpy, lstm_torch)


if __name__ == "__main__":
    main()
