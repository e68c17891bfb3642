"""Cost of matrix problems: MLPs of 16 units and growing depth, and a vector
RNN (8 units, T = 50).  Each row is one problem solved end to end: build,
derive, lambdify, forward and backward, finite differences of every weight,
and the matrix-form formulas checked against the scalar engine.

Run: python bench/bench_matrix.py
The time per layer should stay flat: elementwise expansion must not make the
matrix form quadratic in the number of layers.
"""

import time

import numpy as np

from symprop.api import from_dict


def mlp_spec(layers: int, units: int = 16) -> dict:
    rng = np.random.default_rng(0)
    lines = ["h0 = x"] + [f"h{i} = tanh(W{i} @ h{i - 1})" for i in range(1, layers + 1)]
    values = {f"W{i}": (rng.normal(size=(units, units)) / units**0.5).tolist() for i in range(1, layers + 1)}
    values.update({"x": rng.normal(size=units).tolist(), "y": rng.normal(size=units).tolist()})
    return {
        "title": f"MLP {layers} x {units}",
        "model": {"params": [f"W{i}" for i in range(1, layers + 1)], "equations": "\n".join(lines),
                  "loss": f"sum((h{layers} - y)**2)"},
        "values": values,
    }


def rnn_spec(units: int = 8, steps: int = 50) -> dict:
    rng = np.random.default_rng(1)
    return {
        "title": f"vector RNN {units} units, T = {steps}",
        "model": {"params": ["W", "U", "V", "b"], "steps": steps, "initial": {"h": [0.0] * units},
                  "equations": "h[t] = tanh(W @ h[t-1] + U @ x[t] + b)\nyhat[t] = V @ h[t]",
                  "loss": "(yhat[t] - y[t])**2"},
        "values": {
            "W": (rng.normal(size=(units, units)) / units**0.5).tolist(),
            "U": rng.normal(size=(units, 2)).tolist(),
            "V": rng.normal(size=(1, units)).tolist(),
            "b": rng.normal(size=units).tolist(),
            "x": rng.normal(size=(steps + 1, 2)).tolist(),
            "y": rng.normal(size=steps + 1).tolist(),
        },
    }


def timed(spec: dict) -> tuple[float, dict]:
    start = time.perf_counter()
    solution = from_dict(spec).solve()
    return time.perf_counter() - start, solution["checks"]


def main() -> None:
    print(f"{'problem':<28} {'seconds':>8} {'per layer/step':>14}  checks")
    for layers in (2, 4, 8, 16):
        seconds, checks = timed(mlp_spec(layers))
        ok = checks["finite_differences"]["passed"] and checks["matrix_form"]["passed"]
        print(f"{'MLP ' + str(layers) + ' x 16':<28} {seconds:>8.2f} {seconds / layers:>14.3f}  {ok}", flush=True)
    seconds, checks = timed(rnn_spec())
    ok = checks["finite_differences"]["passed"] and checks["matrix_form"]["passed"]
    print(f"{'vector RNN 8 units, T = 50':<28} {seconds:>8.2f} {seconds / 50:>14.3f}  {ok}")


if __name__ == "__main__":
    main()
