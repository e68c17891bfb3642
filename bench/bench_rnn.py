"""How the cost of a recurrent problem grows with the number of steps T:
symprop end to end (load, unroll, derive, solve every gradient, finite
differences) against plain ``sympy.diff`` of the unrolled loss, for the
scalar tanh RNN

    h_t = tanh(w*h_{t-1} + u*x_t + b),  yhat_t = v*h_t,  L = sum_t (yhat_t - y_t)^2

Run: python bench/bench_rnn.py [--budget 60]
Prints one table.  symprop derives the cell once and evaluates it step by
step, so its cost is linear in T; the unrolled loss nests T tanh's.
"""

import argparse
import math
import time

import sympy
from budget import NaiveColumn

from symprop.api import from_dict


def rnn_spec(T: int) -> dict:
    return {
        "title": f"tanh RNN, T = {T}",
        "model": {
            "params": ["w", "u", "v", "b"],
            "steps": T,
            "initial": {"h": 0},
            "equations": "h[t] = tanh(w*h[t-1] + u*x[t] + b)\nyhat[t] = v*h[t]",
            "loss": "(yhat[t] - y[t])**2",
        },
        "values": {
            "w": 0.5, "u": 0.3, "v": 1.2, "b": 0.1,
            "x": [math.sin(0.1 * t) for t in range(T + 1)],
            "y": [math.cos(0.1 * t) for t in range(T + 1)],
        },
    }


def symprop_time(T: int) -> tuple[float, bool]:
    start = time.perf_counter()
    solution = from_dict(rnn_spec(T)).solve()
    return time.perf_counter() - start, solution["checks"]["finite_differences"]["passed"]


def _naive(T: int) -> float:
    start = time.perf_counter()
    w, u, v, b = sympy.symbols("w u v b")
    h = sympy.Integer(0)
    loss = 0
    for t in range(1, T + 1):
        x, y = sympy.symbols(f"x{t} y{t}")
        h = sympy.tanh(w * h + u * x + b)
        loss += (v * h - y) ** 2
    for p in (w, u, v, b):
        sympy.diff(loss, p)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for sympy.diff")
    args = parser.parse_args()
    print(f"{'T':>6} {'symprop s':>10} {'per step ms':>11} {'fd ok':>6}  {'sympy.diff s':>12}")
    naive = NaiveColumn(_naive, args.budget)
    for T in (10, 20, 40, 100, 1000, 10000):
        seconds, ok = symprop_time(T)
        print(f"{T:>6} {seconds:>10.3f} {1000 * seconds / T:>11.3f} {str(ok):>6}  {naive.cell(T)}", flush=True)


if __name__ == "__main__":
    main()
