"""Ordinary input that once ended in an internal error (issue 23): a whole
number past 1e100 anywhere, standard output full or closed, a NUL in a path,
a pass given something that is no table of values, a terminal's control
sequences in a key.  Each is one SympropError line, or on the command line
one line on stderr and exit 1."""

import os
import subprocess
import sys

import numpy as np
import pytest

import symprop
from symprop import api
from symprop.errors import SympropError, printable

HUGE = "1" * 320  # past float64's 1.8e308: float() of it overflows

BASE = """
[model]
params = ["w"]
equations = "z = w*x"
loss = "(z - y)**2"
[values]
w = 0.5
x = 2.0
y = 1.0
"""


def cli(*args, **kwargs):
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run([sys.executable, "-m", "symprop", *args], **streams)


@pytest.mark.parametrize("where, text", [
    ("values.x", BASE.replace("x = 2.0", f"x = [{HUGE}, 2]")),
    ("values.w", BASE.replace("w = 0.5", f"w = -{HUGE}")),
    ("expected.loss", BASE + f"[expected]\nloss = {HUGE}\n"),
    ("expected.grad.w.value", BASE + f'[expected]\n"grad.w" = {{ value = {HUGE} }}\n'),
    ("variants.w", BASE + f"[variants]\nw = [-{HUGE}, 1]\n"),
    ("variants.step", BASE + f"[variants]\nstep = {HUGE}\n"),
    ("model.initial.h", BASE.replace('loss = "(z - y)**2"', 'loss = "h[t]"\nsteps = 2\n'
                                     f"initial = {{ h = {HUGE} }}").replace("z = w*x", "h[t] = w*h[t-1]")),
])
def test_a_huge_integer_is_one_line_naming_its_key(where, text):
    with pytest.raises(SympropError, match=f"^s.toml: {where}: an integer too large .*1e100"):
        symprop.loads(text, origin="s.toml")


def test_a_huge_integer_from_python_is_refused_too():
    data = {"model": {"params": ["w"], "equations": "z = w*x", "loss": "z"}, "values": {"w": 10**5000, "x": 1}}
    with pytest.raises(SympropError, match="values.w: an integer too large"):
        symprop.from_dict(data)


def test_an_integer_up_to_the_limit_is_a_number():
    problem = symprop.loads(BASE.replace("x = 2.0", "x = " + "1" + "0" * 99))
    assert problem.solve()["gradients"]["w"] == pytest.approx(2 * (0.5e99 - 1) * 1e99)


@pytest.mark.parametrize("command", [["solve", "udl_toy"], ["solve", "udl_toy", "--format", "json"],
                                     ["check", "udl_toy"], ["list"], ["spec-format"]])
def test_a_full_standard_output_is_one_line(command):
    with open("/dev/full", "wb") as full:
        proc = cli(*command, stdout=full, stderr=subprocess.PIPE)
    assert proc.returncode == 1
    assert proc.stderr.decode() == "Error: standard output: cannot write: No space left on device\n"


def test_a_closed_standard_output_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "symprop", "solve", "udl_toy"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 1
    assert proc.stderr.decode() == "Error: standard output: cannot write: it is closed\n"


def test_a_nul_in_a_path_is_one_line():
    with pytest.raises(SympropError, match=r"^x\\x00.toml: cannot read: .*NUL"):
        symprop.load("x\x00.toml")


@pytest.mark.parametrize("values, words", [
    (3, "values must be a dict"),
    ([1, 2], "values must be a dict"),
    ({"x": "abc"}, r"values\['x'\] must be a number"),
    ({"x": np.array(["a"])}, r"values\['x'\] must be a number"),
    ({"x": None}, r"values\['x'\] must be a number"),
])
def test_a_pass_of_what_is_no_table_of_numbers_is_refused(values, words):
    with pytest.raises(SympropError, match=words):
        symprop.load("udl_toy").compiled().run(values)


def test_a_pass_still_runs_on_numbers():
    problem = symprop.loads(BASE)
    run = problem.compiled().run({"w": 0.5, "x": np.float64(2.0), "y": 1})
    assert run.loss == 0.0


KEY = "\u001b[2J\u001b]0;OWNED\u0007"


@pytest.mark.parametrize("table", ["values", "expected", "variants"])
def test_control_characters_of_a_key_are_escapes_in_the_error(table):
    text = BASE + ("" if table == "values" else f"[{table}]\n") + '"\\u001b[2J\\u001b]0;OWNED\\u0007" = 1\n'
    proc = cli("solve", "-", input=text.encode())
    err = proc.stderr.decode()
    assert proc.returncode == 1 and err.count("\n") == 1, err
    assert r"\x1b[2J\x1b]0;OWNED\x07" in err
    assert not any(ord(c) < 32 and c != "\n" for c in err), err


def test_printable_escapes_controls_and_bidi_marks_and_nothing_else():
    assert printable("a\nb\tc\x1b\u202e\u2066d\x9b é ж 中") == r"a\x0ab\x09c\x1b\u202e\u2066d\x9b é ж 中"
    assert printable(KEY) == "\\x1b[2J\\x1b]0;OWNED\\x07"


CANCELLING = BASE.replace("y = 1.0", "y = 3.0") + """[expected]
"formula.grad.w" = "2*(z - y)*x + (w + x + y)**40 - (w + x + y)**40"
"formula.adjoint.z" = "2*(z - y) + (w + x + y)**40 - (w + x + y)**40 + 1"
"""


def test_a_formula_claim_whose_large_terms_cancel_is_decided_exactly():
    """(w + x + y)**40 at w = 0.5, x = 2, y = 3 is about 1e29: in floats the
    claim's own 2(z − y)x = −8 is lost; exactly, it is ∂L/∂w, and ∂L/∂z + 1 = −3 is not ∂L/∂z = −4."""
    rows = {row["key"]: row for row in symprop.loads(CANCELLING).solve()["expected"]}
    assert rows["formula.grad.w"]["ok"], rows["formula.grad.w"]
    assert not rows["formula.adjoint.z"]["ok"]
    assert rows["formula.adjoint.z"]["reason"] == "differs by a factor 3/4"


BIDI = "\u202e\u2066\u200f"


@pytest.mark.parametrize("fmt", ["text", "latex", "myst", "markdown", "json"])
def test_bidi_marks_of_the_spec_reach_no_document(fmt):
    text = BASE.replace("[model]", 'title = "abc \\u202e evil"\n[document]\nstatement = "x \\u2066 y \\u200f"\n[model]')
    problem = symprop.loads(text)
    assert problem.title == "abc \u202e evil"
    out = api.strict_json(problem.solve()) if fmt == "json" else problem.solution().document(fmt)
    assert "evil" in out and not any(c in out for c in BIDI), out[:300]
