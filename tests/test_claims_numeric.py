"""Numeric claims in [expected] that say what they mean: whole vectors and
matrices, a tolerance of their own (tol, rtol), digits = N (rounded: ok;
truncated: "truncated, not rounded"; else WRONG), any training step
(step.K.*) and the loss after the last update (final.loss), a table that
shows every difference, and one line for every bad input.

Every number claimed here comes from a source (Matt Mazur, "A Step by Step
Backpropagation Example") or from a hand NumPy pass written in this file.
"""

import re

import numpy as np
import pytest
from click.testing import CliRunner

import symprop
from symprop import SympropError
from symprop.cli import main

LANGS = ("en", "ru", "zh")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def load(text: str):
    return symprop.loads(text, origin="spec")


def rows(text: str) -> dict:
    return {r["key"]: r for r in load(text).solve()["expected"] if "computed" in r}


def check(text: str):
    return CliRunner().invoke(main, ["check", "-", "--against", "fd"], input=text)


def table_row(report: str, key: str) -> list[str]:
    """The cells of one row of the claims table (columns are two spaces apart or more),
    by the claim's name as mathematics (∂L/∂W for grad.W)."""
    line = next(line for line in report.splitlines() if line.strip().startswith(key + " "))
    return re.split(r"\s{2,}", line.strip())


# --- a layer, by hand: z = W x, L = ½‖z − y‖², ∂L/∂z = z − y, ∂L/∂W = (z − y) xᵀ --------------

LAYER = """
title = "A linear layer"
[model]
params = ["W"]
equations = "z = W @ x"
loss = "sum((z - y)**2) / 2"
[values]
W = [[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]]
x = [2.0, -1.0]
y = [1.0, 0.5, -2.0]
[expected]
"""
W = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
X = np.array([2.0, -1.0])
Y = np.array([1.0, 0.5, -2.0])
Z = W @ X
GRAD_W = np.outer(Z - Y, X)


def test_the_hand_layer():
    assert Z.tolist() == [2.0, 3.75, -3.0]
    assert GRAD_W.tolist() == [[2.0, -1.0], [6.5, -3.25], [-2.0, 1.0]]


def test_a_vector_and_a_matrix_claimed_whole():
    got = rows(LAYER + '"value.z" = [2.0, 3.75, -3.0]\n"adjoint.z" = [1.0, 3.25, -1.0]\n'
                       '"grad.W" = [[2.0, -1.0], [6.5, -3.25], [-2.0, 1.0]]\n"grad.W[1]" = [6.5, -3.25]\n')
    assert all(r["verdict"] == "ok" and r["ok"] for r in got.values()), got
    assert got["grad.W"]["computed"] == GRAD_W.tolist()
    assert got["value.z"]["claimed"] == [2.0, 3.75, -3.0] and got["value.z"]["computed"] == Z.tolist()
    assert got["grad.W[1]"]["computed"] == [6.5, -3.25]


def test_a_row_may_be_claimed_as_a_one_row_matrix():
    assert rows(LAYER + '"grad.W[2]" = [[-2.0, 1.0]]\n')["grad.W[2]"]["ok"]


def test_one_wrong_entry_makes_the_matrix_wrong_and_is_named():
    text = LAYER + '"grad.W" = [[2.0, -1.0], [6.4, -3.25], [-2.0, 1.0]]\n'
    row = rows(text)["grad.W"]
    assert row["verdict"] == "wrong" and row["ok"] is False and row["disagree"] == ["[1][0]"]
    result = check(text)
    assert result.exit_code == 1
    cells = table_row(result.stdout, "∂L/∂W")
    assert cells[1:] == ["[2, -1; 6.4, -3.25; -2, 1]", "[2, -1; 6.5, -3.25; -2, 1]", "WRONG at [1][0]"]
    assert "0 of 1 claims agree" in result.stdout


def test_a_wrong_vector_entry_in_the_documents_counts_from_the_sources_base():
    text = LAYER.replace("[values]", "[conventions]\nindex_base = 1\n[values]") + '"value.z" = [2.0, 3.7, -3.0]\n'
    doc = load(text).solution().document("text")
    assert "✗ wrong ([2])" in doc


@pytest.mark.parametrize("claim, message", [
    ('"grad.W" = [[1, 2], [3, 4]]', "expected.grad.W: claims 2x2 but grad.W is 3x2"),
    ('"grad.W" = [1, 2, 3]', "expected.grad.W: claims a vector of 3 but grad.W is 3x2"),
    ('"grad.W" = 1', "expected.grad.W: claims a number but grad.W is 3x2"),
    ('"value.z" = [1, 2]', "expected.value.z: claims a vector of 2 but value.z is 3x1"),
    ('"value.z" = [[1, 2, 3]]', "expected.value.z: claims 1x3 but value.z is 3x1"),
    ('"grad.W[1]" = [[1], [2]]', r"expected.grad.W\[1\]: claims 2x1 but grad.W\[1\] is 1x2"),
    ('"value.z[0]" = [1, 2]', r"expected.value.z\[0\]: claims a vector of 2 but value.z\[0\] is a number"),
    ('"grad.W[3]" = [1, 2]', r"expected.grad.W\[3\]: index out of range for W \(3x2\)"),
])
def test_a_shape_that_does_not_fit_is_one_line(claim, message):
    with pytest.raises(SympropError, match=f"^spec: {message}$"):
        load(LAYER + claim + "\n").solve()


# --- a tolerance of its own ---------------------------------------------------------------------

def test_per_claim_tol_and_rtol():
    g = GRAD_W[1, 0]  # 6.5
    got = rows(LAYER + f"""
"grad.W[1][0]" = {{ value = {g + 0.004}, tol = 0.005 }}
"grad.W[0][0]" = {{ value = {GRAD_W[0, 0] + 0.006}, tol = 0.005 }}
"grad.W[1][1]" = {{ value = {GRAD_W[1, 1] * (1 + 1e-4)}, rtol = 2e-4 }}
"grad.W[2][0]" = {{ value = {GRAD_W[2, 0] * (1 + 1e-4)}, rtol = 5e-5 }}
"grad.W[2][1]" = {{ value = {GRAD_W[2, 1] + 0.0015}, tol = 0.001, rtol = 1e-3 }}
"value.z" = {{ value = [2.0, 3.75, -3.0] }}
tolerance = 1e-12
""")
    assert got["grad.W[1][0]"]["ok"] and got["grad.W[1][0]"]["tol"] == 0.005
    assert not got["grad.W[0][0]"]["ok"]
    assert got["grad.W[1][1]"]["ok"] and got["grad.W[1][1]"]["rtol"] == 2e-4 and got["grad.W[1][1]"]["tol"] == 0
    assert got["grad.W[2][0]"]["verdict"] == "wrong"
    assert got["grad.W[2][1]"]["ok"]  # 0.0015 <= 0.001 + 1e-3·1
    assert got["value.z"]["tol"] == 1e-12  # a table with only value keeps the spec-wide rule


def test_the_spec_wide_rtol():
    got = rows(LAYER + f'"grad.W[1][0]" = {GRAD_W[1, 0] * (1 + 1e-4)}\n"grad.W[0][0]" = {GRAD_W[0, 0] + 1e-3}\n'
               "rtol = 2e-4\n")
    assert got["grad.W[1][0]"]["ok"] and got["grad.W[1][0]"]["tol"] == 0.0
    assert not got["grad.W[0][0]"]["ok"]  # |2.001 − 2| > 0 + 2e-4·2
    text = check(LAYER + f'"grad.W[1][0]" = {GRAD_W[1, 0] * (1 + 1e-4)}\nrtol = 2e-4\n').stdout
    assert "Claims of the source (relative tolerance 0.0002)" in text


def test_the_table_shows_every_difference():
    """The issue's row, 'grad.a  138.834  138.834  WRONG': ∂L/∂a = (a·x − y)·x =
    (1 + 137.8345)·1 = 138.8345, claimed 138.834 with tolerance 1e-4."""
    text = """
title = "One weight"
[model]
params = ["a"]
equations = "yhat = a*x"
loss = "(yhat - y)**2 / 2"
[values]
a = 1.0
x = 1.0
y = -137.8345
[expected]
"grad.a" = 138.834
tolerance = 1e-4
"""
    result = check(text)
    assert result.exit_code == 1
    assert table_row(result.stdout, "∂L/∂a")[1:] == ["138.834", "138.8345", "WRONG"]
    assert "Claims of the source (tolerance 0.0001)" in result.stdout
    doc = load(text).solution().document("text")
    assert re.search(r"∂L/∂a\s+138\.834\s+138\.8345\s+✗ wrong", doc)


# --- digits: as printed, rounded or truncated -------------------------------------------------

MAZUR = """
title = "A Step by Step Backpropagation Example"
source = "Matt Mazur, A Step by Step Backpropagation Example"
[model]
params = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]
equations = \"\"\"
h1 = sigmoid(w1*i1 + w2*i2 + b1)
h2 = sigmoid(w3*i1 + w4*i2 + b1)
n1 = w5*h1 + w6*h2 + b2
o1 = sigmoid(n1)
o2 = sigmoid(w7*h1 + w8*h2 + b2)
\"\"\"
loss = "((t1 - o1)**2 + (t2 - o2)**2) / 2"
[values]
i1 = 0.05
i2 = 0.10
w1 = 0.15
w2 = 0.20
w3 = 0.25
w4 = 0.30
w5 = 0.40
w6 = 0.45
w7 = 0.50
w8 = 0.55
b1 = 0.35
b2 = 0.60
t1 = 0.01
t2 = 0.99
[training]
lr = 0.5
[expected]
"""


def mazur_by_hand():
    """The network of Mazur's post, one forward and backward pass in NumPy, one
    update of the weights (not the biases, as the post does), and the loss again."""
    i, b1, b2, t = np.array([0.05, 0.10]), 0.35, 0.60, np.array([0.01, 0.99])
    w1 = np.array([[0.15, 0.20], [0.25, 0.30]])
    w2 = np.array([[0.40, 0.45], [0.50, 0.55]])

    def forward(w1, w2):
        h = sigmoid(w1 @ i + b1)
        net = w2 @ h + b2
        o = sigmoid(net)
        return h, net, o, 0.5 * np.sum((t - o) ** 2)

    h, net, o, loss = forward(w1, w2)
    d_net = (o - t) * o * (1 - o)
    g2 = np.outer(d_net, h)
    g1 = np.outer((w2.T @ d_net) * h * (1 - h), i)
    new1, new2 = w1 - 0.5 * g1, w2 - 0.5 * g2
    return {"loss": loss, "n1": net[0], "o1": o[0], "h1": h[0], "g2": g2, "g1": g1, "new1": new1, "new2": new2,
            "final": forward(new1, new2)[3]}


HAND = mazur_by_hand()


def test_mazur_by_hand_gives_the_posts_numbers():
    assert HAND["loss"] == pytest.approx(0.298371109, abs=5e-10)
    assert HAND["new2"][0, 0] == pytest.approx(0.35891648, abs=5e-9)
    assert HAND["new1"][0, 0] == pytest.approx(0.149780716, abs=5e-10)
    # The post: "after this first round of backpropagation, the total error is now
    # down to 0.291027924". By hand it is 0.2910277737: the post's digits 7–9 differ.
    assert HAND["final"] == pytest.approx(0.2910277737, abs=1e-10)


def test_mazur_step_by_step():
    """The post's numbers, each with the decimals it prints."""
    text = MAZUR + """
loss = { value = 0.298371109, digits = 9 }
"value.h1" = { value = 0.593269992, digits = 9 }
"value.o1" = { value = 0.75136507, digits = 8 }
"grad.w5" = { value = 0.082167041, digits = 9 }
"grad.w1" = { value = 0.000438568, digits = 9 }
"updated.w5" = { value = 0.35891648, digits = 8 }
"updated.w6" = { value = 0.408666186, digits = 9 }
"updated.w7" = { value = 0.511301270, digits = 9 }
"updated.w8" = { value = 0.561370121, digits = 9 }
"updated.w1" = { value = 0.149780716, digits = 9 }
"updated.w2" = { value = 0.19956143, digits = 8 }
"updated.w3" = { value = 0.24975114, digits = 8 }
"updated.w4" = { value = 0.29950229, digits = 8 }
"step.1.loss" = 0.298371109
"step.1.grad.w5" = 0.082167041
"step.1.updated.w5" = 0.35891648
"final.loss" = { value = 0.291027924, tol = 1e-6 }
tolerance = 1e-8
"""
    got = rows(text)
    assert all(r["verdict"] == "ok" for r in got.values()), [r for r in got.values() if r["verdict"] != "ok"]
    assert got["final.loss"]["computed"] == pytest.approx(HAND["final"], abs=1e-12)
    assert got["step.1.grad.w5"]["computed"] == pytest.approx(HAND["g2"][0, 0], abs=1e-15)
    result = check(text)
    assert result.exit_code == 0, result.output
    assert "17 of 17 claims agree" in result.stdout


def test_mazur_error_after_one_round_to_nine_decimals_is_wrong():
    text = MAZUR + '"final.loss" = { value = 0.291027924, digits = 9 }\n'
    row = rows(text)["final.loss"]
    assert row["verdict"] == "wrong" and row["digits"] == 9
    result = check(text)
    assert result.exit_code == 1
    assert table_row(result.stdout, "L⁽¹⁾")[1:] == ["0.291027924", "0.291027774", "WRONG"]


@pytest.mark.parametrize("printed, verdict", [("1.10", "truncated"), ("1.11", "ok"), ("1.12", "wrong"),
                                              ("1.09", "wrong")])
def test_digits_rounded_truncated_or_wrong(printed, verdict):
    """net_o1 = w5·out_h1 + w6·out_h2 + b2 = 1.10590597: 1.10 is truncated, 1.11 rounded."""
    assert HAND["n1"] == pytest.approx(1.105905967, abs=1e-9)
    text = MAZUR + f'"value.n1" = {{ value = {printed}, digits = 2 }}\n'
    row = rows(text)["value.n1"]
    assert row["verdict"] == verdict and row["ok"] is (verdict != "wrong")
    result = check(text)
    assert result.exit_code == (1 if verdict == "wrong" else 0), result.output
    words = {"ok": "ok", "truncated": "truncated, not rounded", "wrong": "WRONG"}[verdict]
    cells = table_row(result.stdout, "n₁")
    assert cells[1:] == [printed, "1.1059", words]
    assert "Claims of the source (printed to 2 decimals: the computed number must round to the printed one)" \
        in result.stdout
    if verdict == "truncated":
        assert "1 of 1 claims agree (1 truncated, not rounded)" in result.stdout
        assert "all checks passed" in result.stdout


def test_a_negative_number_truncated_toward_zero():
    """∂L/∂w7 = −0.0226025405: −0.022602 is truncated at 6 decimals, −0.022603 rounded."""
    g = HAND["g2"][1, 0]
    assert g == pytest.approx(-0.0226025405, abs=1e-10)
    got = rows(MAZUR + '"grad.w7" = { value = -0.022602, digits = 6 }\n"grad.w8" = { value = -0.022603, digits = 6 }\n'
               .replace("grad.w8", "step.1.grad.w7"))
    assert got["grad.w7"]["verdict"] == "truncated"
    assert got["step.1.grad.w7"]["verdict"] == "ok"


def test_spec_wide_digits_and_a_vector_with_one_truncated_entry():
    """A vector printed to 2 decimals: z = (2, 3.75, −3) exactly, so a wrong
    entry is wrong; h1, o1 of Mazur truncated."""
    text = MAZUR + '"value.h1" = 0.59\n"value.o1" = 0.75\n"value.n1" = 1.10\ndigits = 2\n'
    got = rows(text)
    assert [got[k]["verdict"] for k in ("value.h1", "value.o1", "value.n1")] == ["ok", "ok", "truncated"]
    assert all(r["digits"] == 2 and "tol" not in r for r in got.values())
    vector = rows(LAYER.replace("x = [2.0, -1.0]", "x = [2.0, -1.007]") + '"value.z" = [2.00, 3.75, -3.01]\ndigits = 2\n')
    # z = (2 + 1.007, 4 − 0.25·1.007, −1.5 − 1.5·1.007) = (2.007, 3.74825, −3.0105): 2.00 truncated
    assert vector["value.z"]["verdict"] == "truncated" and vector["value.z"]["disagree"] == ["[0]"]


# --- any training step, and the loss after the last update ------------------------------------

TWO = """
title = "Two observations"
[model]
params = ["W"]
equations = \"\"\"
z = W @ x
yhat = sigmoid(z)
\"\"\"
loss = "sum((yhat - y)**2) / 2"
[values]
W = [[0.1, -0.2], [0.3, 0.4], [0.5, 0.6]]
x = [0, 0]
y = [0, 0, 0]
[training]
lr = 0.5
[[training.batches]]
x = [1, 2]
y = [0, 1, 0]
[[training.batches]]
x = [-1, 0.5]
y = [1, 0, 1]
[expected]
"""


def two_by_hand():
    w = np.array([[0.1, -0.2], [0.3, 0.4], [0.5, 0.6]])
    out = []
    for x, y in [([1, 2], [0, 1, 0]), ([-1, 0.5], [1, 0, 1])]:
        x, y = np.array(x, float), np.array(y, float)
        z = w @ x
        yhat = sigmoid(z)
        dz = (yhat - y) * yhat * (1 - yhat)
        g = np.outer(dz, x)
        out.append({"z": z, "dz": dz, "loss": 0.5 * np.sum((yhat - y) ** 2), "grad": g, "new": w - 0.5 * g, "x": x,
                    "y": y})
        w = w - 0.5 * g
    final = 0.5 * np.sum((sigmoid(w @ out[-1]["x"]) - out[-1]["y"]) ** 2)
    return out, final


def fmt(a) -> str:
    return repr(np.asarray(a).tolist())


def test_claims_about_the_second_step():
    (one, two), final = two_by_hand()
    text = TWO + f"""
"step.2.loss" = {float(two["loss"])!r}
"step.2.value.z" = {fmt(two["z"])}
"step.2.adjoint.z" = {fmt(two["dz"])}
"step.2.grad.W" = {fmt(two["grad"])}
"step.2.grad.W[2][1]" = {float(two["grad"][2, 1])!r}
"step.2.updated.W" = {fmt(two["new"])}
"step.1.updated.W" = {fmt(one["new"])}
"updated.W" = {fmt(two["new"])}
"grad.W" = {fmt(one["grad"])}
loss = {float(one["loss"])!r}
"final.loss" = {float(final)!r}
tolerance = 1e-12
"""
    got = rows(text)
    assert all(r["ok"] for r in got.values()), [r for r in got.values() if not r["ok"]]
    assert np.allclose(got["step.2.grad.W"]["computed"], two["grad"], rtol=0, atol=1e-15)
    assert got["final.loss"]["computed"] == pytest.approx(final, abs=1e-15)
    # the second step's gradient is not the first's
    assert not rows(TWO + f'"step.2.grad.W" = {fmt(one["grad"])}\n')["step.2.grad.W"]["ok"]
    assert check(text).exit_code == 0


def test_the_step_column_in_the_documents():
    (one, two), _ = two_by_hand()
    text = TWO + f'"step.2.loss" = {two["loss"]:.4f}\n"updated.W[0][0]" = {two["new"][0, 0]:.4f}\n'
    for lang, word in [("en", "Step"), ("ru", "Шаг"), ("zh", "步")]:
        doc = load(text).solution().document("text", lang=lang)
        header = next(line for line in doc.splitlines() if word in line.split())
        assert header.split()[1] == word
        assert re.search(r"w₀₀⁽²⁾\s+2\s", doc)  # updated.W is after the last step


# --- documents and JSON -----------------------------------------------------------------------

MIXED = MAZUR + """
"value.n1" = { value = 1.10, digits = 2 }
"value.h1" = { value = 0.59326999, rtol = 1e-6 }
"final.loss" = { value = 0.291027924, tol = 1e-9 }
loss = 0.298371109
tolerance = 1e-8
"""


@pytest.mark.parametrize("fmt_", ["text", "markdown", "myst", "latex"])
@pytest.mark.parametrize("lang", LANGS)
def test_documents_say_what_applies(fmt_, lang):
    doc = load(MIXED).solution().document(fmt_, lang=lang)
    truncated = {"en": "truncated, not rounded", "ru": "усечено, не округлено", "zh": "截断，未四舍五入"}[lang]
    mixed = {"en": "each with its own tolerance", "ru": "у каждого свой допуск", "zh": "各项容差见表"}[lang]
    column = {"en": "Tolerance", "ru": "Допуск", "zh": "容差"}[lang]
    assert truncated in doc and mixed in doc and column in doc
    assert "0.291027924" in doc and "0.291027774" in doc and "1.10" in doc and "1.1059" in doc


@pytest.mark.parametrize("lang, words", [("en", "tolerance 0.005 plus 0.001 of the computed value"),
                                         ("ru", "допуск 0.005 плюс 0.001 от вычисленного значения"),
                                         ("zh", "容差 0.005 加上计算值的 0.001 倍")])
def test_one_rule_is_said_once(lang, words):
    doc = load(MAZUR + "loss = 0.2984\ntolerance = 0.005\nrtol = 1e-3\n").solution().document("text", lang=lang)
    assert words in " ".join(doc.split())


def test_digits_in_the_documents():
    doc = load(MAZUR + '"value.n1" = 1.10\ndigits = 2\n').solution().document("markdown", lang="ru")
    assert "напечатано до $2$-го знака после запятой" in doc or "напечатано до 2-го знака после запятой" in doc
    assert "Из них источник усёк, а не округлил" in doc


def test_json_rows():
    text = MIXED + '"grad.w5" = 0.082167041\n'
    got = rows(text)
    assert set(got["value.n1"]) == {"key", "claimed", "computed", "ok", "verdict", "digits"}
    assert set(got["grad.w5"]) == {"key", "claimed", "computed", "ok", "verdict", "tol", "rtol"}
    assert got["value.n1"]["ok"] is True and got["value.n1"]["verdict"] == "truncated"
    assert got["value.h1"]["rtol"] == 1e-6 and got["value.h1"]["tol"] == 0.0
    vector = rows(LAYER + '"value.z" = [2.0, 3.0, -3.0]\n')["value.z"]
    assert vector["disagree"] == ["[1]"] and vector["claimed"] == [2.0, 3.0, -3.0]


# --- bad input: one line, naming the key ----------------------------------------------------------

@pytest.mark.parametrize("spec, claim, message", [
    (LAYER, '"grad.W" = { value = 1, tol = -1 }', "expected.grad.W: tol must be a non-negative number"),
    (LAYER, '"grad.W" = { value = 1, rtol = "a" }', "expected.grad.W: rtol must be a non-negative number"),
    (LAYER, '"grad.W" = { value = 1, tol = nan }', "expected.grad.W: tol must be a non-negative number"),
    (LAYER, '"grad.W" = { value = 1, digits = 1.5 }', "expected.grad.W: digits must be a whole number from 0 to 15"),
    (LAYER, '"grad.W" = { value = 1, digits = 16 }', "expected.grad.W: digits must be a whole number from 0 to 15"),
    (LAYER, '"grad.W" = { value = 1, digits = 2, tol = 0.1 }', "expected.grad.W: digits is given with tol: give one"
                                                                " of them"),
    (LAYER, '"grad.W" = { value = 1, tolerance = 0.1 }', "expected.grad.W: unknown key 'tolerance' \\(a claim's "
                                                           "table takes value, tol, rtol, digits\\)"),
    (LAYER, '"grad.W" = { tol = 0.1 }', "expected.grad.W: needs value: \\{ value = 0.36, tol = 1e-4 \\}"),
    (LAYER, '"grad.W" = { value = "1" }', "expected.grad.W: must be a number or a list of numbers, got a string"),
    (LAYER, '"grad.W" = { value = 4.965, digits = 2 }', "expected.grad.W: has more than 2 decimals, but digits = 2"),
    (LAYER, '"value.z" = [1.5]\ndigits = 0', "expected.value.z: has more than 0 decimals, but digits = 0"),
    (LAYER, "rtol = -1", "expected.rtol: must be a non-negative number"),
    (LAYER, "tolerance = [1]", "expected.tolerance: must be a non-negative number"),
    (LAYER, 'digits = "2"', "expected.digits: must be a whole number from 0 to 15"),
    (LAYER, "digits = 2\ntolerance = 0.1", "expected.digits: is given with tolerance: give one of them"),
    (LAYER, '"step.0.loss" = 1', r"expected.step.0.loss: step 0 is out of range: there is one step \(no "
                                 r"\[\[training.batches\]\]\): step.1"),
    (TWO, '"step.3.grad.W" = 1', r"expected.step.3.grad.W: step 3 is out of range: there are 2 steps, one a "
                                 r"\[\[training.batches\]\] entry: step.1 to step.2"),
    (LAYER, '"step.x.loss" = 1', "expected.step.x.loss: is not a claim: use loss"),
    (LAYER, '"step.1" = 1', "expected.step.1: is not a claim"),
    (MAZUR, '"final.grad.w1" = 1', r"expected.final.grad.w1: only final.loss can be claimed \(the loss after the "
                                   r"last update\)"),
    (LAYER, '"final.loss" = 1', "expected.final.loss: needs training.lr"),
    (LAYER, '"step.1.updated.W" = 1', "expected.step.1.updated.W: needs training.lr"),
    (LAYER, '"updated.W" = 1', "expected.updated.W: needs training.lr"),
])
def test_bad_input_is_one_line(spec, claim, message):
    with pytest.raises(SympropError, match=f"^spec: {message}"):
        load(spec + claim + "\n")


@pytest.mark.parametrize("claim, message", [
    ('"grad.q" = 1', "expected.grad.q: no grad named 'q'"),
    ('"value.W[0][0]" = 1', "expected.value.W\\[0\\]\\[0\\]: no value named 'W'"),
    ('"value.z[0][0][0]" = 1', r"expected.value.z\[0\]\[0\]\[0\]: index out of range for z \(3x1\)"),
    ('"step.1.adjoint.q" = 1', "expected.step.1.adjoint.q: no adjoint named 'q'"),
])
def test_a_name_that_is_not_there_is_one_line(claim, message):
    with pytest.raises(SympropError, match=f"^spec: {message}$"):
        load(LAYER + claim + "\n").solve()


def test_the_cli_says_it_in_one_line():
    result = check(LAYER + '"grad.W" = { value = 1, tol = -1 }\n')
    assert result.exit_code == 1
    assert result.output.strip() == "Error: <stdin>: expected.grad.W: tol must be a non-negative number"


def test_the_computed_number_gets_the_digits_that_differ():
    """Mazur's loss is 0.29837110876 (by hand, below): a claim that reads the
    same at its own decimals gets as many more as show the difference."""
    assert HAND["loss"] == pytest.approx(0.29837110876, abs=1e-11)
    for claimed, tol, shown in [(0.29837111, 1e-9, "0.298371109"), (0.2984, 1e-6, "0.29837"),
                                (0.3, 1e-3, "0.2984"), (0.29837, 1e-3, "0.29837")]:
        result = check(MAZUR + f'loss = {{ value = {claimed}, tol = {tol} }}\n')
        cells = table_row(result.stdout, "L")
        assert cells[1:] == [str(claimed), shown, "WRONG" if abs(HAND["loss"] - claimed) > tol else "ok"], cells
