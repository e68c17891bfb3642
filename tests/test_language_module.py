"""A language is one module: its strings (and, if it wants, how LaTeX sets it).
A test language registered with nothing but a strings table writes a whole
worked solution, in text and in LaTeX that pdflatex compiles, and a spec may
ask for it by its code."""

import shutil
import subprocess

import pytest

import symprop
from symprop.languages import LANGUAGES, STRINGS, Language, register

# German words for a few keys; the rest English, as a translator's first draft would be
GERMAN = {**STRINGS["en"], "solution": "Lösung", "given": "Gegeben:", "loss_value": "Der Wert der Verlustfunktion:",
          "model_intro": "Das Netz als Rechengraph, ein Knoten je Zeile:"}
SPEC = """
title = "Ein Neuron"
lang = "de"
[model]
params = ["w"]
equations = "z = tanh(w * x)"
loss = "(z - y)**2"
[values]
w = 0.5
x = 2
y = 1
"""


@pytest.fixture
def german():
    register(Language("de", GERMAN))
    yield
    del LANGUAGES["de"], STRINGS["de"]


def test_a_language_of_only_strings_writes_a_whole_solution(german, tmp_path):
    problem = symprop.loads(SPEC)
    text = problem.solution().document("text")
    assert "Lösung" in text and "Das Netz als Rechengraph" in text
    english = symprop.loads(SPEC.replace('lang = "de"', 'lang = "en"')).solution().document("text")
    assert "Lösung" not in english
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (the README's test command installs it)")
    (tmp_path / "de.tex").write_text(problem.solution().document("latex", standalone=True), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "de.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_an_unknown_language_is_one_line():
    with pytest.raises(symprop.SympropError) as error:
        symprop.loads(SPEC)
    assert "lang: must be one of en, ru, zh, got 'de'" in str(error.value)
