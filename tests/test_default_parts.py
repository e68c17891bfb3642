"""Without ``[[document.parts]]`` a worked solution answers what the spec asks, and no more.

The spec asks for the forward pass and the loss, every parameter's gradient and,
with a learning rate, one step.  The solution gives them with the formulas they
need (a recurrent scalar cell's recursion, an array problem's matrix form); the
boxed factors, the algorithm with d and the term-by-term unrolling are
``derive``'s, or come when a part asks for them.
"""

import re

import symprop

SCALAR = """
title = "Two neurons"
[model]
params = ["w1", "w2"]
equations = '''
h = tanh(w1*x)
yhat = sigmoid(w2*h)
'''
loss = "(yhat - y)**2/2"
[values]
w1 = 0.5
w2 = -0.3
x = 1.5
y = 1.0
[training]
lr = 0.1
"""

RNN = """
title = "A scalar cell"
[model]
params = ["w", "u"]
steps = 3
initial = { h = 0 }
equations = '''
h[t] = tanh(w*h[t-1] + u*x[t])
'''
loss = "(h[3] - y)**2/2"
[values]
w = 0.5
u = -0.4
x = [0, 1.0, -0.5, 2.0]
y = 0.3
"""


def questions(text: str) -> list[str]:
    return re.findall(r"^[^\W\d_]\) (.*)$", text, re.M)


def test_a_scalar_network_is_solved_without_the_derivation_parts():
    problem = symprop.loads(SCALAR)
    text = problem.solution().document("text")
    assert questions(text) == [
        "Make the forward pass and find the value of the loss.",
        "Make the backward pass: find the derivative of the loss with respect to every node.",
        "Find the gradient of the loss with respect to every parameter.",
        "Make one step of gradient descent with learning rate 0.1.",
    ]
    assert "Box" not in text and "d·" not in text
    # derive is the derivation: the closed forms, the boxes, the algorithm
    derived = questions(problem.document("text"))
    assert len(derived) == 3 and "Box them" in derived[1]


def test_a_recurrent_cell_is_solved_with_its_recursion_not_term_by_term():
    problem = symprop.loads(RNN)
    text = problem.solution().document("text")
    asked = questions(text)
    assert asked[0] == "Make the forward pass and find the value of the loss."
    assert asked[1] == "Write the derivatives of the loss with respect to the weights, back through time."
    assert "term by term" not in text and "∂L₃/∂h₃·∂h₃/∂h₂" not in text
    assert "∂L/∂hₜ = ∂L/∂hₜ₊₁·(1 - hₜ₊₁²)·w" in text  # the recursion the numbers follow, in chain order
    assert len(asked) == 4  # forward, the recursion, the backward pass, the gradients: no lr, no step
    assert "term by term" in problem.document("text")  # derive unrolls it


def test_an_array_problem_asks_for_the_matrix_form_first():
    for name, question in [("gru", "Find the derivatives of the loss in matrix form, back through time."),
                           ("batchnorm", "Find the derivatives of the loss in matrix form, layer by layer.")]:
        asked = questions(symprop.load(name).solution().document("text"))
        assert asked[1] == question, (name, asked)
        assert not any("term by term" in q for q in asked)
    ru = questions(symprop.load("gru").solution().document("text", lang="ru"))
    assert ru[1] == "Найдите производные функции потерь в матричной форме, назад во времени."
    zh = questions(symprop.load("gru").solution().document("text", lang="zh"))
    assert zh[1] == "以矩阵形式求出损失函数的导数（通过时间反向传播）。"


def test_the_appendix_speaks_only_of_the_forms_the_document_printed():
    problem = symprop.loads(RNN)
    text = problem.solution().document("text")
    checks = " ".join(text[text.index("Checks"):].split())
    assert "the recursion back over the steps and the sums over the steps" in checks
    assert "term by term" not in checks
    unrolled = symprop.loads(RNN + '[[document.parts]]\nshow = ["forward", "bptt", "unrolled"]\n')
    checks = unrolled.solution().document("text")
    checks = checks[checks.index("Checks"):]
    # the loss is after the loop: ∂L/∂p is written out at t = 3 alone, not "each step's loss"
    assert "each step's loss" not in checks
    assert "the derivatives of the loss by w, u written out term by term at t = 3" in " ".join(checks.split())
    ru = unrolled.solution().document("text", lang="ru")
    assert "при t = 3" in " ".join(ru[ru.index("Проверка"):].split())


def test_a_scalar_cells_loss_after_the_loop_is_worked_with_its_numbers():
    import math

    h = 0.0
    for x in (1.0, -0.5, 2.0):  # the cell by hand
        h = math.tanh(0.5 * h - 0.4 * x)
    text = symprop.loads(RNN).solution().document("text")
    line = f"L = (h₃ - y)²/2 = (({h:.4f}) - 0.3)²/2 = {(h - 0.3) ** 2 / 2:.3f}"
    assert line in text
