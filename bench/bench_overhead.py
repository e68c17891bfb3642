"""What a user waits for besides the numbers: start-up, and ``check`` beside ``solve``.

Run: python bench/bench_overhead.py [--runs 5]
Prints three tables.  Every cell is a whole ``symprop`` process (the same
command a user types, imports included), run --runs times after one warm-up;
a cell is the median CPU seconds (user + system) of the finished child.

  start-up     --help, list, spec-format, a spec that does not exist, and a
               small solve, each against ``python -c "import click"`` (the
               least a click program costs): the x column is that ratio.
  check        ``solve`` and ``check`` of small matrix problems whose
               ``check`` expands the loss for sympy.diff: a 2-layer MLP with 8
               hidden units (16 inputs, 4 outputs, one example) and one LSTM
               step with 5 units on a batch of 3 (the form of a well-known
               course assignment).  ``check`` runs PyTorch's check too when
               torch is installed (its import is about a second of it);
               ``check --against fd`` leaves it out.
  sequence     ``solve`` of the shipped LSTM cell (derivations/lstm.toml, 3
               units) over T = 100 and 1,000 steps (inputs and targets drawn
               at random): finite differences on a long sequence go along
               directions within a budget of steps, so the x column (against
               T = 100) stays near the pass's own growth.
"""

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import tomli_w
from bench_arrays import mlp_spec

SYMPROP = [sys.executable, "-m", "symprop"]
LSTM = Path(__file__).parent.parent / "derivations" / "lstm.toml"


def cpu_seconds(command: list[str]) -> float:
    """User + system seconds of one finished child process (and what it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(command: list[str], runs: int) -> float:
    cpu_seconds(command)  # warm-up: the file cache, .pyc files
    return statistics.median(cpu_seconds(command) for _ in range(runs))


def lstm_step_spec(n: int = 5, batch: int = 3, d_in: int = 4) -> dict:
    """One LSTM step on a batch, one weight matrix per gate and input."""
    rng = np.random.default_rng(3)
    values, params, lines = {}, [], []
    for gate, f in (("i", "sigmoid"), ("f", "sigmoid"), ("o", "sigmoid"), ("g", "tanh")):
        values[f"Wx{gate}"] = rng.normal(size=(d_in, n)) * 0.3
        values[f"Wh{gate}"] = rng.normal(size=(n, n)) * 0.3
        values[f"b{gate}"] = rng.normal(size=(1, n)) * 0.1
        params += [f"Wx{gate}", f"Wh{gate}", f"b{gate}"]
        lines.append(f"{gate} = {f}(X @ Wx{gate} + Hp @ Wh{gate} + b{gate})")
    lines += ["C = f*Cp + i*g", "H = o*tanh(C)"]
    values.update(X=rng.normal(size=(batch, d_in)), Hp=rng.normal(size=(batch, n)),
                  Cp=rng.normal(size=(batch, n)), Y=rng.normal(size=(batch, n)))
    return {"title": f"One LSTM step, {n} units, batch {batch}",
            "model": {"params": params, "equations": "\n".join(lines), "loss": "sum((H - Y)**2) / 2"},
            "values": {k: v.tolist() for k, v in values.items()}}


def start_up(runs: int) -> None:
    click = median_cpu([sys.executable, "-c", "import click"], runs)
    print(f"\n{'start-up':<34}{'cpu s':>8}{'x click':>9}")
    baseline = 'python -c "import click"'
    print(f"{baseline:<34}{click:8.3f}{1:9.1f}")
    for args in (["--help"], ["list"], ["spec-format"], ["solve", "no_such_problem"], ["solve", "udl_toy"]):
        seconds = median_cpu(SYMPROP + args, runs)
        print(f"{'symprop ' + ' '.join(args):<34}{seconds:8.3f}{seconds / click:9.1f}", flush=True)


def check_beside_solve(runs: int, folder: Path) -> None:
    print(f"\n{'check beside solve':<34}{'solve s':>9}{'check s':>9}{'x solve':>9}{'fd s':>8}{'x solve':>9}")
    for name, spec in (("MLP 16-8-4, one example", mlp_spec(8, batch=1)), ("LSTM step, 5 units, batch 3",
                                                                              lstm_step_spec())):
        path = folder / f"{name.split()[0]}.toml"
        path.write_text(tomli_w.dumps(spec))
        solve = median_cpu(SYMPROP + ["solve", str(path)], runs)
        check = median_cpu(SYMPROP + ["check", str(path)], runs)
        fd = median_cpu(SYMPROP + ["check", str(path), "--against", "fd"], runs)
        print(f"{name:<34}{solve:9.2f}{check:9.2f}{check / solve:9.1f}{fd:8.2f}{fd / solve:9.1f}", flush=True)


def lstm_over(steps: int) -> dict:
    spec = tomllib.loads(LSTM.read_text("utf-8"))
    spec["model"]["steps"] = steps
    spec.pop("expected", None)
    rng = np.random.default_rng(0)
    spec["values"]["x"] = np.round(rng.uniform(-1, 1, size=(steps + 1, 2)), 2).tolist()
    spec["values"]["y"] = np.round(rng.uniform(-1, 1, size=(steps + 1, 2)), 2).tolist()
    return spec


def sequence(runs: int, folder: Path) -> None:
    print(f"\n{'sequence (shipped LSTM cell)':<34}{'solve s':>9}{'x T=100':>9}")
    first = None
    for steps in (100, 1000):
        path = folder / f"lstm{steps}.toml"
        path.write_text(tomli_w.dumps(lstm_over(steps)))
        seconds = median_cpu(SYMPROP + ["solve", str(path)], runs)
        first = first or seconds
        print(f"{f'T = {steps:,}':<34}{seconds:9.2f}{seconds / first:9.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="counted runs of each command (median)")
    runs = parser.parse_args().runs
    print(f"machine: {platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}; "
          f"median CPU seconds of {runs} whole processes after one warm-up")
    start_up(runs)
    with tempfile.TemporaryDirectory() as folder:
        check_beside_solve(runs, Path(folder))
        sequence(runs, Path(folder))


if __name__ == "__main__":
    main()
