"""The generated pass (``symprop codegen``) against hand-written NumPy, PyTorch
eager and JAX (jit of jax.grad over lax.scan), and against symprop's own
interpreter (``problem.compiled().run``), on one BLAS thread.

Run: python bench/bench_codegen.py [--threads N] [--only RNN]
Prints one table.  Columns (milliseconds: one forward + backward pass, best of 10
after a warm-up; "—" where the library is not installed):

  gen         the NumPy module symprop codegen writes, its backward(values)
  interp      problem.compiled().run(values), the array engine's interpreter
  numpy       the same model written by hand in NumPy (bench_arrays.py)
  torch       the same model by hand in PyTorch float64 with autograd
  jax         the module symprop codegen --target jax writes: jax.jit of
              jax.value_and_grad, lax.scan for a recurrence (compiled once, not timed)
  gen/numpy   gen / numpy (the aim: at most 1.3)
  % peak      the generated pass's matrix products (forward and backward: 3× the
              forward's multiply-adds in @, from the shapes) per second, as a
              share of the measured float64 matmul peak (512×512) on the same threads
  solve s     the whole from_dict(spec).solve() (derive, every check), LSTM rows only

Before timing, every column's loss and gradients are asserted equal to the
interpreter's (1e-8 relative).  BLAS, OpenMP and XLA threads are set before
NumPy, PyTorch or JAX load (OPENBLAS_NUM_THREADS …; torch.set_num_threads).
"""

import argparse
import os
import sys


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/XLA threads (default 1)")
    parser.add_argument("--only", default="", help="only the rows whose model contains this text (RNN, LSTM …)")
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else argparse.Namespace(threads=1, only="")
THREADS = ARGS.threads
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)
os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen={'true' if THREADS > 1 else 'false'} "
                                   f"intra_op_parallelism_threads={THREADS}")

import importlib.util  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from bench_arrays import (  # noqa: E402
    lstm_numpy,
    lstm_spec,
    lstm_torch,
    mlp_numpy,
    mlp_spec,
    mlp_torch,
    rnn_numpy,
    rnn_spec,
    rnn_torch,
    solve_cell,
    torch,
)

from symprop.api import from_dict  # noqa: E402
from symprop.derive.program import _work, program_of, walk  # noqa: E402

if torch is not None:
    torch.set_num_threads(THREADS)
try:
    import jax  # noqa: F401
except ImportError:
    jax = None

REPEATS = 10
FOLDER = Path(tempfile.mkdtemp(prefix="symprop-codegen-"))


def best_ms(function, *args) -> float:
    function(*args)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return 1000.0 * min(times)


def matmul_peak() -> float:
    """float64 multiply-adds per second of a 512×512 product, best of 30 (short, so that a busy
    machine's pauses miss some of them)."""
    a, b = np.random.default_rng(0).normal(size=(2, 512, 512))
    return 512**3 / (min(best_ms(np.matmul, a, b) for _ in range(3)) / 1000.0)


def matmul_work(program) -> int:
    """The multiply-adds of the forward pass's products (@), from the shapes: a cell's once a step."""
    def products(lines):
        return sum(_work(e) for line in lines if line.expr is not None for e in walk(line.expr) if e.op == "matmul")

    return products(program.before + program.after + [program.loss]) + (program.steps or 0) * products(program.cell)


def module(problem, target: str, name: str):
    path = FOLDER / f"{name}_{target}.py"
    path.write_text(problem.codegen(target), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def agrees(loss, grads: dict, run, params) -> None:
    def close(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.max(np.abs(a.reshape(b.shape) - b)) <= 1e-8 * max(np.max(np.abs(b)), 1e-300)

    assert close(loss, run.loss), "loss"
    for p in params:
        assert close(grads[p], run.adjoints[p]), f"gradient of {p}"


def torch_cell(torch_fn, values, params) -> str:
    if torch is None:
        return "—"
    tv = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in params) for k, v in values.items()}

    def step():
        for p in params:
            tv[p].grad = None
        torch_fn(tv)

    return f"{best_ms(step):.2f}"


def jax_cell(problem, name, values, run, params) -> str:
    if jax is None:
        return "—"
    generated = module(problem, "jax", name)
    params_in = {p: jax.numpy.asarray(values[p]) for p in params}
    rest = {k: jax.numpy.asarray(v) for k, v in values.items() if k not in params}

    def step():
        loss, grads = generated.value_and_grad(params_in, rest)
        jax.block_until_ready(grads)
        return loss, grads

    loss, grads = step()
    agrees(loss, grads, run, params)
    return f"{best_ms(step):.2f}"


def row(label: str, spec: dict, numpy_fn, torch_fn, peak: float, solve: bool) -> list[str]:
    params = spec["model"]["params"]
    values = {k: np.asarray(v, dtype=float) for k, v in spec["values"].items()}
    problem = from_dict(spec)
    run = problem.compiled().run(problem.values)
    generated = module(problem, "numpy", label.replace(" ", "_").replace(",", ""))
    out = generated.backward(values)
    agrees(out["L"], out, run, params)
    loss, grads = numpy_fn(values)
    agrees(loss, grads, run, params)
    gen = best_ms(generated.backward, values)
    interp = best_ms(problem.compiled().run, problem.values)
    hand = best_ms(numpy_fn, values)
    work = 3 * matmul_work(program_of(problem.spec))
    return [f"{gen:.2f}", f"{interp:.2f}", f"{hand:.2f}", torch_cell(torch_fn, values, params),
            jax_cell(problem, label.replace(" ", "_").replace(",", ""), values, run, params),
            f"{gen / hand:.2f}", f"{100 * work / (gen / 1000) / peak:.1f}",
            solve_cell(spec) if solve else ""]


def main() -> None:
    peak = matmul_peak()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch is not None else '—'}, jax {jax.__version__ if jax else '—'}; "
          f"{THREADS} thread(s); float64 matmul peak {peak / 1e9:.2f} G multiply-adds/s")
    heads = ("gen ms", "interp ms", "numpy ms", "torch ms", "jax ms", "gen/numpy", "% peak", "solve s")
    print(f"{'model':<34}" + "".join(f"{h:>11}" for h in heads), flush=True)
    only = ARGS.only
    cases = [
        ("MLP 16-512-4, batch 64", mlp_spec(512), mlp_numpy, mlp_torch, False),
        ("RNN 256 units, T = 100", rnn_spec(256, 100), rnn_numpy, rnn_torch, False),
        ("LSTM 64 units, T = 100", lstm_spec(64, 100), lstm_numpy, lstm_torch, False),
        ("RNN 4 units, T = 1,000", rnn_spec(4, 1000), rnn_numpy, rnn_torch, True),
        ("RNN 4 units, T = 10,000", rnn_spec(4, 10000), rnn_numpy, rnn_torch, True),
        ("LSTM 8 units, T = 1,000", lstm_spec(8, 1000), lstm_numpy, lstm_torch, True),
        ("LSTM 8 units, T = 5,000", lstm_spec(8, 5000), lstm_numpy, lstm_torch, True),
    ]
    for label, spec, numpy_fn, torch_fn, solve in cases:
        if only and only not in label:
            continue
        cells = row(label, spec, numpy_fn, torch_fn, peak, solve)
        print(f"{label:<34}" + "".join(f"{c:>11}" for c in cells), flush=True)
    print("LSTM at T = 10,000: symprop refuses it (model.steps: 10000 steps of a cell of 25 operations make "
          "250000 operations in a pass, the limit is 150000)")


if __name__ == "__main__":
    main()
