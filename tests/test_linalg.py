"""inv, det, logdet and trace with numpy.linalg's meaning: the matrix-calculus
identities (d A⁻¹ = −A⁻ᵀ G A⁻ᵀ, d det A = det A · A⁻ᵀ, d log det A = A⁻ᵀ,
d tr A = I) give PyTorch's gradients, and a singular matrix is one line."""

import numpy as np
import pytest
import torch

import symprop
from symprop.errors import SympropError

A = np.array([[2.0, 0.5, -1.0], [0.3, 1.5, 0.2], [0.1, -0.4, 1.2]])
C = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 0.3], [0.2, 0.1, 1.0]])


def spec(equation: str, loss: str, a=A) -> str:
    c = f"C = {C.tolist()}\n" if "C" in equation + loss else ""
    return ('title = "linear algebra"\n[model]\nparams = ["A"]\n'
            f'equations = """\n{equation}\n"""\nloss = "{loss}"\n'
            f"[values]\nA = {np.asarray(a).tolist()}\n{c}")


@pytest.mark.parametrize("equation,loss,reference", [
    ("B = inv(A)", "sum(B * C)", lambda A, C: (torch.linalg.inv(A) * C).sum()),
    ("d = det(A)", "d**2", lambda A, C: torch.linalg.det(A) ** 2),
    ("l = logdet(A @ A.T)", "l", lambda A, C: torch.logdet(A @ A.T)),
    ("r = trace(A @ C)", "r * r", lambda A, C: torch.trace(A @ C) ** 2),
])
def test_matrix_calculus_is_pytorchs(equation, loss, reference):
    problem = symprop.loads(spec(equation, loss))
    report, ok = problem.check()
    assert ok, report
    at = torch.tensor(A, requires_grad=True)
    value = reference(at, torch.tensor(C))
    value.backward()
    solution = problem.solve()
    assert solution["loss"] == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(np.reshape(solution["gradients"]["A"], (3, 3)), at.grad.numpy(), rtol=1e-10)


def test_the_matrix_form_writes_the_identities():
    document = symprop.loads(spec("B = inv(A)\nd = det(A)", "sum(B * C) + d")).solution().document("text")
    assert "∂L/∂d·d·(A⁻¹)ᵀ" in document and "Bᵀ·∂L/∂B·Bᵀ" in document


@pytest.mark.parametrize("equation,a,message", [
    ("B = inv(A)", [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]], "B: inv() of a singular matrix"),
    ("l = logdet(A)", -np.eye(3), "l: logdet() of a matrix whose determinant is -1, not positive"),
    ("B = inv(C[:2])", A, "inv() takes a square matrix (a list of lists), but C[:2] is 2x3"),
])
def test_a_matrix_that_has_no_answer_is_one_line(equation, a, message):
    loss = "sum(B)" if "B" in equation else "l"
    with pytest.raises(SympropError) as error:
        symprop.loads(spec(equation, loss + " + sum(A)", a)).solve()
    assert message in str(error.value) and "\n" not in str(error.value)
