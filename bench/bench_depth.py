"""How derivation cost grows with depth: symprop's reverse sweep against plain
``sympy.diff`` of the expanded loss, on scalar chains

    z1 = tanh(w1*x + b1),  z_k = tanh(w_k*z_{k-1} + b_k),  L = (z_m - y)^2

Run: python bench/bench_depth.py [--max-depth 512] [--budget 60]
Prints one table.  The sweep (one adjoint per node) is linear in depth; the
expanded loss repeats every inner layer in every gradient and blows up.
"""

import argparse
import time

import sympy
from budget import NaiveColumn

from symprop.api import from_dict


def chain_spec(depth: int) -> dict:
    lines = ["z1 = tanh(w1*x + b1)"]
    lines += [f"z{k} = tanh(w{k}*z{k - 1} + b{k})" for k in range(2, depth + 1)]
    params = [f"{p}{k}" for k in range(1, depth + 1) for p in ("w", "b")]
    values = {p: (0.9 if p.startswith("w") else 0.1) for p in params}
    return {
        "title": f"chain {depth}",
        "model": {"params": params, "equations": "\n".join(lines), "loss": f"(z{depth} - y)**2"},
        "values": {**values, "x": 0.5, "y": 0.2},
    }


def symprop_times(depth: int) -> tuple[float, float, int]:
    problem = from_dict(chain_spec(depth))
    start = time.perf_counter()
    derivation = problem.derivation()
    derive = time.perf_counter() - start
    start = time.perf_counter()
    from symprop.evaluate.numeric import solve

    solve(problem)
    numbers = time.perf_counter() - start
    return derive, numbers, len(derivation.graph.nodes)


def _naive(depth: int) -> float:
    start = time.perf_counter()
    x, y = sympy.symbols("x y")
    z = x
    params = []
    for k in range(1, depth + 1):
        w, b = sympy.symbols(f"w{k} b{k}")
        params += [w, b]
        z = sympy.tanh(w * z + b)
    loss = (z - y) ** 2
    for p in params:
        sympy.diff(loss, p)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-depth", type=int, default=512)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for sympy.diff")
    args = parser.parse_args()
    depths = [d for d in (8, 16, 32, 64, 128, 256, 512) if d <= args.max_depth]
    print(f"{'depth':>6} {'nodes':>6} {'derive s':>9} {'per node ms':>11} {'numbers s':>9}  "
          f"{'sympy.diff s':>12}")
    naive = NaiveColumn(_naive, args.budget)
    for depth in depths:
        derive, numbers, nodes = symprop_times(depth)
        print(f"{depth:>6} {nodes:>6} {derive:>9.3f} {1000 * derive / nodes:>11.3f} "
              f"{numbers:>9.3f}  {naive.cell(depth)}", flush=True)


if __name__ == "__main__":
    main()
