"""Each seed's worked solution, part by part, with the source's letters.

The expected lines are the sources' own numbers and formulas (the seeds'
text), with symprop's corrections where the source is wrong; each part is
looked for under its letter, between it and the next part.
"""

import re

import symprop


def flat(text: str) -> str:
    """Without white space: a row the text renderer wraps is still found."""
    return re.sub(r"\s+", "", text)


def parts_of(text: str, letters: str) -> dict[str, str]:
    """The text of each lettered part: from 'а) ' at the start of a line to the next part."""
    starts = [(m.group(1), m.start()) for m in re.finditer(rf"^([{letters}])\) ", text, re.M)]
    out = {}
    for (letter, start), nxt in zip(starts, starts[1:] + [(None, len(text))]):
        out[letter] = text[start:nxt[1]]
    return out


def solve(name, lang=None, audience="teacher"):
    return symprop.load(name).solution().document("text", lang=lang, audience=audience)


def derive(name, lang=None, audience="teacher"):
    return symprop.load(name).document("text", lang=lang, audience=audience)


def test_seed_001_every_part_with_its_letter():
    text = derive("masha_backprop")
    parts = parts_of(text, "абвг")
    assert list(parts) == ["а", "б", "в", "г"]
    assert flat("Запишите Машину нейросеть как сложную функцию.") in flat(parts["а"])
    assert flat("ŷ = w₃·f(w₂·f(w₁·x))") in flat(parts["а"])  # the source: f(f(x·w₁)·w₂)·w₃
    # б) with the right sign: dL/dŷ = ŷ - y for L = (y - ŷ)²/2
    assert flat("∂L/∂w₃ = ∂L/∂ŷ·∂ŷ/∂w₃ = (ŷ - y)·f(w₂·f(w₁·x))") in flat(parts["б"])
    assert flat("∂L/∂w₁ = ∂L/∂ŷ·∂ŷ/∂o₂·∂o₂/∂h₂·∂h₂/∂o₁·∂o₁/∂h₁·∂h₁/∂w₁ = (ŷ - y)·w₃·f'(w₂·f(w₁·x))·w₂·f'(w₁·x)·x") in flat(parts["б"])
    # в) the boxes, what they save, and the update rule
    assert flat("∂L/∂w₁ = [ŷ - y]·[w₃·f'(w₂·f(w₁·x))]·w₂·f'(w₁·x)·x") in flat(parts["в"])
    assert flat("O(m²) против O(m)") in flat(parts["в"])
    assert flat("w₁⁽¹⁾ = w₁ - η·∂L/∂w₁") in flat(parts["в"])
    # г) the algorithm with d, the edges, and the sigmoid case
    assert flat("d      = d·∂ŷ/∂o₂·∂o₂/∂h₂ = d·w₃·f'(h₂)") in flat(parts["г"])
    assert flat("∂L/∂w₂ = d·∂h₂/∂w₂ = d·o₁") in flat(parts["г"])
    assert flat("∂h₂/∂w₂ = o₁") in flat(parts["г"])
    assert flat("∂o₂/∂h₂ = o₂·(1 - o₂)") in flat(parts["г"])


def test_seed_001_appendix_quotes_the_wrong_sign():
    text = derive("masha_backprop")
    appendix = text.split("Ответ в источнике")[1]
    # quoted as mathematics, the factors in the source's order
    assert flat("Формула источника для ∂L/∂w₃: ✗ неверно (неверный знак)") in flat(appendix)
    assert flat("Формула источника:  ∂L/∂w₃ = (y - ŷ)·f(f(x·w₁)·w₂)") in flat(appendix)
    assert "yhat" not in appendix and "*" not in appendix
    assert flat("∂L/∂w₃ = (ŷ - y)·f(w₂·f(w₁·x))") in flat(appendix)
    assert "Ответ в источнике" not in derive("masha_backprop", audience="student")


def test_seed_000_every_part_with_its_letter():
    text = solve("masha_rnn")
    before_a = text.split("а) ")[0]
    # every input stated before part а): the weights, the sequence y, h₀ and the learning rate
    assert flat("yₜ  0  1  -1  2") in flat(before_a)
    assert flat("h₀ = 0") in flat(before_a) and "γ = 0.1" in before_a and "u = 0.5" in before_a
    parts = parts_of(text, "абвг")
    assert list(parts) == ["а", "б", "в", "г"]
    # а) the forward pass with its arithmetic (the source's numbers up to h₃, where it skips the ReLU)
    # the products as the source writes them: w·hₜ₋₁, u·hₜ ([notation] factors = "as_written")
    assert flat("h₂ = relu(w·h₁ + v·y₁) = relu(0.5·0 + 0.5·1) = 0.5") in flat(parts["а"])
    assert flat("ŷ₂ = relu(u·h₂) = relu(0.5·0.5) = 0.25") in flat(parts["а"])
    assert flat("L₂ = (y₂ - ŷ₂)² = ((-1) - 0.25)² = 1.5625") in flat(parts["а"])
    assert flat("h₃ = relu(w·h₂ + v·y₂) = relu(0.5·0.5 + 0.5·(-1)) = 0") in flat(parts["а"])
    assert flat("L = L₁ + L₂ + L₃ = 1 + 1.5625 + 4 = 6.5625") in flat(parts["а"])
    # б) BPTT for u, v, w
    assert flat("∂L/∂hₜ = ∂L/∂ŷₜ·[u·hₜ > 0]·u + ∂L/∂hₜ₊₁·[w·hₜ + v·yₜ > 0]·w") in flat(parts["б"])
    assert flat("v, w входят в hₜ") in flat(parts["б"])
    assert flat("∂L₃/∂w = ∂L₃/∂h₃·∂⁺h₃/∂w + ∂L₃/∂h₃·∂h₃/∂h₂·∂⁺h₂/∂w + ∂L₃/∂h₃·∂h₃/∂h₂·∂h₂/∂h₁·∂⁺h₁/∂w") in flat(parts["б"])
    # в) term by term, as the source: the t = 2 term is -2·(-1 - 0.25)·1·0.5 = 1.25, ∂L/∂ŷ₂·f′·h₂
    assert flat("= (-2)·0·0 + 2.5·1·0.5 + (-4)·0·0 = 1.25") in flat(parts["в"])  # in its order
    assert flat("u₁ = u₀ - γ·∂L/∂u = 0.5 - 0.1·1.25 = 0.375") in flat(parts["в"])  # the seed's u₁, γ
    # г) several sequences
    assert flat("матриц") in flat(parts["г"])


def test_seed_000_appendix_lists_its_errata():
    appendix = solve("masha_rnn").split("Ответ в источнике")[1]
    assert re.search(r"h₃ +0\.375 +0 +✗ неверно", appendix)
    assert re.search(r"u₁ +0\.511 +0\.375 +✗ неверно", appendix)
    assert flat("для v назад во времени идти не нужно: ✗ неверно") in flat(appendix)


def test_seed_002_entries_and_the_old_weights():
    text = solve("stepik_mlp")
    # the notebook's cells: L'_ŷ = -6.5207…, L'_V11 = -5.0350…, L'_U21 = -2.6198…, V11 updated = 1.5035…
    # the entries as the notebook types them, V₁₁ ([notation] entries = "as_typed")
    assert flat("∂L/∂V₁₁ = ∂L/∂ŷ·q₁ = (-6.5207162)·0.7721622 = -5.0351") in flat(text)  # -5.03505…: on the edge
    assert flat("∂L/∂U₂₁ = ∂L/∂q₁·(1 - q₁²)·z₂ = (-6.52072)·(1 - 0.77216²)·0.99505 = -2.6198") in flat(text)
    assert flat("V⁽¹⁾ = V - η·∂L/∂V = (1.5035, -1.6309)ᵀ") in flat(text)
    assert flat("берёт V₂₁, а не V₂₁⁽¹⁾") in flat(text)


def test_seed_003_every_gradient_with_its_working():
    text = solve("udl_toy")
    assert flat("∂L/∂ω₀ = ∂L/∂f₀·x = 2.2809·2.3 = 5.2461") in flat(text)  # the notebook: 5.246
    assert flat("∂L/∂f₁ = ∂L/∂h₂·h₂ = (-3.36612)·5.06830 = -17.0605") in flat(text)  # -17.060
    assert flat("f₂ = β₂ + h₂·ω₂ = (-3) + 5.0683·2 = 7.1366") in flat(text)  # 7.137


def test_seed_004_expansion_boundary_and_the_order_of_10_21():
    text = solve("dlbook_rnn")
    # in seed 004's notation ([notation] of dlbook_rnn.toml): h⁽ᵗ⁾, τ, ∇
    assert flat("∂L⁽³⁾/∂W = ∂L⁽³⁾/∂h⁽³⁾·∂⁺h⁽³⁾/∂W + ∂L⁽³⁾/∂h⁽³⁾·∂h⁽³⁾/∂h⁽²⁾·∂⁺h⁽²⁾/∂W + "
                "∂L⁽³⁾/∂h⁽³⁾·∂h⁽³⁾/∂h⁽²⁾·∂h⁽²⁾/∂h⁽¹⁾·∂⁺h⁽¹⁾/∂W") in flat(text)
    assert flat("O(τ)") in flat(text)
    boundary = text.split("At the last step, t = τ, nothing comes from step τ + 1:")[1]
    assert boundary.split("\n\n")[1].strip() == "∇_h⁽ᵗ⁾ L = Vᵀ·∇_o⁽ᵗ⁾ L"
    appendix = text.split("The answers given by the source")[1]
    assert flat("the product is not defined: (2×1)·(2×2)") in flat(appendix)
    # the source's formula quoted as mathematics, beside the right one
    assert flat("The source's formula: ∇_h⁽ᵗ⁾ L = Wᵀ·(∇_h⁽ᵗ⁺¹⁾ L)·diag(1 - (h⁽ᵗ⁺¹⁾)²) + Vᵀ·(∇_o⁽ᵗ⁾ L)") in flat(appendix)
    assert flat("∇_h⁽ᵗ⁾ L = Vᵀ·∇_o⁽ᵗ⁾ L + Wᵀ·diag(1 - (h⁽ᵗ⁺¹⁾)²)·∇_h⁽ᵗ⁺¹⁾ L") in flat(appendix)
