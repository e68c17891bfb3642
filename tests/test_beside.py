"""A wrong formula the source writes, set beside the right one in the teacher's appendix
(issue 25, item 4): two columns in LaTeX, one above the other when the two do not fit the
line; two labelled lines, aligned, in text, Markdown and MyST; the words in en/ru/zh."""

import json
import re

import pytest

import symprop
from symprop.document.render.doc_text import shown
from symprop.document.render.document import LINE_WIDTH
from symprop.document.render.latex import BESIDE_GAP
from symprop.document.render.latex_printer import width

LABELS = {"en": ("The source's formula:", "The right formula:"), "ru": ("Формула источника:", "Правильная формула:"),
          "zh": ("原文的公式：", "正确的公式：")}


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
def test_text_sets_the_two_formulas_on_labelled_lines_aligned(lang):
    out = symprop.load("masha_backprop").document(fmt="text", lang=lang)
    source, right = LABELS[lang]
    lines = out.splitlines()
    k = next(i for i, x in enumerate(lines) if x.strip().startswith(source) and "∂L/∂w₃" in x)
    first, second = lines[k], lines[k + 1]
    assert second.strip().startswith(right)
    assert first.split(source)[1].strip() == "∂L/∂w₃ = (y - ŷ)·f(f(x·w₁)·w₂)"  # as the source writes it
    assert second.split(right)[1].strip() == "∂L/∂w₃ = (ŷ - y)·f(w₂·f(w₁·x))"
    # the formulas start in the same column, as the eye reads it (a CJK character two columns wide)
    assert shown(first[:first.index("∂L/∂w₃")]) == shown(second[:second.index("∂L/∂w₃")])


def test_latex_sets_a_pair_that_fits_in_two_columns_and_stacks_a_wide_one():
    tex = symprop.load("masha_backprop").document(fmt="latex", lang="ru")
    pair = re.search(r"\\begin\{tabular\}\{c\|c\}\n(.*?)\n\\end\{tabular\}", tex, re.S).group(1)
    head, cells = pair.split(" \\\\[0.5ex]\n")
    assert head == r"\emph{Формула источника} & \emph{Правильная формула}"
    formulas = [c.strip()[len(r"$\displaystyle "):-1] for c in cells.split(" & ")]
    assert formulas[0].endswith(r"= (y - \hat{y}) \cdot f\bigl(f(x \cdot w_{1}) \cdot w_{2}\bigr)")
    assert formulas[1].endswith(r"= (\hat{y} - y) \cdot f\bigl(w_{2} \cdot f(w_{1} \cdot x)\bigr)")
    assert sum(width(f) for f in formulas) + 2 * BESIDE_GAP <= LINE_WIDTH
    # ∂L/∂w₁'s pair is wider than the line side by side: one display under each label
    w1 = tex[tex.index(r"Формула источника для $\frac{\partial L}{\partial w_{1}}$"):]
    assert w1.index(r"\emph{Формула источника}") < w1.index(r"\begin{align*}") < w1.index(
        r"\emph{Правильная формула}")
    assert w1.count(r"\begin{tabular}") == 0


def test_dlbook_s_mis_ordered_product_is_stacked_in_latex_and_labelled_in_markdown():
    problem = symprop.load("dlbook_rnn")
    tex = problem.document(fmt="latex", lang="en")
    appendix = tex[tex.index("The source's formula for"):]
    assert r"\begin{tabular}" not in appendix and appendix.count(r"\begin{align*}") == 2
    md = problem.document(fmt="markdown", lang="en")
    assert (r"\text{The source's formula:} &\quad \nabla_{h^{(t)}} L = W^{\top} \cdot (\nabla_{h^{(t+1)}} L)"
            in md)
    assert r"\text{The right formula:} &\quad \nabla_{h^{(t)}} L = V^{\top} \cdot \nabla_{o^{(t)}} L" in md


def test_json_has_the_pair_as_a_block():
    doc = json.loads(symprop.load("masha_backprop").document(fmt="json", lang="zh"))
    blocks = [b["beside"] for s in doc["appendix"] for b in s["blocks"] if "beside" in b]
    assert len(blocks) == 3
    assert blocks[0]["labels"] == list(LABELS["zh"])
    assert [row[1]["text"] for row in blocks[0]["rows"]] == ["(y - ŷ)·f(f(x·w₁)·w₂)", "(ŷ - y)·f(w₂·f(w₁·x))"]


def test_a_right_formula_is_not_set_beside():
    """dlbook_rnn's formula claims: only the wrong one is set beside the right one."""
    out = symprop.load("dlbook_rnn").document(fmt="text", lang="en")
    assert out.count("The source's formula:") == 1
