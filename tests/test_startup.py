"""Start-up: the command line answers --help, list, spec-format and input it
cannot read without loading SymPy or NumPy, and ``check`` loads PyTorch only
when it runs the PyTorch check.  Each case runs in a fresh interpreter and
reads ``sys.modules`` after the command."""

import subprocess
import sys

import pytest

from symprop.api import FUNCTION_NAMES
from symprop.evaluate.torch_check import available
from symprop.model.functions import built_in_names

PROBE = """
import sys
from symprop.cli import main
try:
    main(sys.argv[1:], prog_name="symprop")
except SystemExit as e:
    code = e.code
sys.__stderr__.write(f"\\nEXIT {code} LOADED " + " ".join(m for m in ("sympy", "numpy", "torch") if m in sys.modules))
"""


def run(*args: str) -> tuple[int, set[str], str, str]:
    """Exit status, the heavy modules loaded, stdout and stderr of ``symprop ARGS``."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300)
    err, _, probe = done.stderr.rpartition("\nEXIT ")
    code, _, loaded = probe.partition(" LOADED")
    return int(code), set(loaded.split()), done.stdout, err


def test_importing_the_cli_loads_neither_sympy_nor_numpy():
    code = "import sys, symprop.cli; print(*sorted({'sympy', 'numpy'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("args, says", [
    (["--help"], "Functions: abs, amax"),
    (["list"], "udl_toy"),
    (["spec-format"], "# "),
    (["solve", "--help"], "--format"),
])
def test_light_commands_load_neither_sympy_nor_numpy(args, says):
    code, loaded, out, _ = run(*args)
    assert code == 0 and says in out
    assert loaded.isdisjoint({"sympy", "numpy"}), loaded


def test_bad_input_is_refused_before_sympy(tmp_path):
    (tmp_path / "bad.toml").write_text("title = \n")
    (tmp_path / "latin1.toml").write_bytes(b"title = \"caf\xe9\"\n")
    for args, says in [(["solve", "no_such_problem"], "no such file or shipped problem"),
                       (["check", str(tmp_path / "bad.toml")], "invalid TOML"),
                       (["derive", str(tmp_path / "latin1.toml")], "not UTF-8"),
                       (["solve", "udl_toy", "--format", "pdf"], "Invalid value")]:
        code, loaded, _, err = run(*args)
        assert code in (1, 2) and says in err and "Traceback" not in err, err
        assert loaded.isdisjoint({"sympy", "numpy"}), (args, loaded)


def test_solving_loads_sympy_and_numpy():
    """The probe sees them when they are loaded (the tests above could not fail otherwise)."""
    code, loaded, out, _ = run("solve", "udl_toy")
    assert code == 0 and "0.1386" in out
    assert {"sympy", "numpy"} <= loaded


@pytest.mark.parametrize("args", [["check", "masha_backprop"], ["check", "udl_toy", "--against", "fd"]])
def test_check_without_the_torch_check_does_not_load_torch(args):
    """A problem without numbers (masha_backprop) has no PyTorch check to run."""
    _, loaded, out, _ = run(*args)
    assert "sympy.diff of the expanded loss" in out and "PyTorch" not in out
    assert "torch" not in loaded


@pytest.mark.skipif(not available(), reason="PyTorch is not installed")
def test_check_loads_torch_when_it_runs_the_torch_check():
    code, loaded, out, _ = run("check", "udl_toy")
    assert code == 0 and "PyTorch autograd (float64)" in out
    assert "torch" in loaded


def test_the_help_lists_every_function_a_spec_may_call():
    assert sorted(FUNCTION_NAMES) == sorted(built_in_names())
