"""symprop variants: new numbers for a problem, each variant checked, one answer key."""

import re
import subprocess
import sys
import tomllib
from fractions import Fraction

import pytest

import symprop
from symprop.errors import SympropError


def _variants(tmp_path, *args, name="v"):
    out = tmp_path / name
    run = subprocess.run([sys.executable, "-m", "symprop", "variants", *args, "-o", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def masha(tmp_path_factory):
    return _variants(tmp_path_factory.mktemp("masha"), "masha_rnn", "-n", "30", "--seed", "1")


def _specs(folder):
    return sorted(folder.glob("*.toml"))


def test_thirty_specs_and_a_key(masha):
    assert [p.name for p in _specs(masha)] == [f"masha_rnn-{k:02d}.toml" for k in range(1, 31)]
    assert (masha / "key.md").is_file()


def test_same_seed_same_bytes_and_another_seed_other_numbers(masha, tmp_path):
    again = _variants(tmp_path, "masha_rnn", "-n", "30", "--seed", "1")
    for a in [*_specs(masha), masha / "key.md"]:
        assert (again / a.name).read_bytes() == a.read_bytes(), a.name
    other = _variants(tmp_path, "masha_rnn", "-n", "30", "--seed", "2", name="w")
    assert (other / "key.md").read_bytes() != (masha / "key.md").read_bytes()


def _values(path):
    return tomllib.loads(path.read_text("utf-8"))["values"]


def test_variants_are_distinct_and_new(masha):
    seen = [repr(sorted(_values(p).items())) for p in _specs(masha)]
    assert len(set(seen)) == 30
    original = symprop.load("masha_rnn").spec.data["values"]
    assert repr(sorted({k: [float(x) for x in v] if isinstance(v, list) else float(v)
                        for k, v in original.items()}.items())) not in seen


def _masha_by_hand(u, v, w, y, lr):
    """Seed 000's cell h[t] = relu(w h[t-1] + v y[t-1]), yhat[t] = relu(u h[t]),
    L = Σ (y[t] - yhat[t])², in fractions, with forward-mode derivatives
    (relu' = 1 for a positive argument, else 0)."""
    def relu(x, dx):
        return (x, dx) if x > 0 else (Fraction(0), {k: Fraction(0) for k in dx})

    params = {"u": u, "v": v, "w": w}
    h, dh = Fraction(0), {k: Fraction(0) for k in params}
    loss, dloss, values = Fraction(0), {k: Fraction(0) for k in params}, {}
    for t in range(1, 4):
        a = w * h + v * y[t - 1]
        da = {k: w * dh[k] + (h if k == "w" else 0) + (y[t - 1] if k == "v" else 0) for k in params}
        h, dh = relu(a, da)
        o, do = relu(u * h, {k: u * dh[k] + (h if k == "u" else 0) for k in params})
        values[f"h[{t}]"], values[f"yhat[{t}]"] = h, o
        loss += (y[t] - o) ** 2
        dloss = {k: dloss[k] - 2 * (y[t] - o) * do[k] for k in params}
    updated = {k: params[k] - lr * dloss[k] for k in params}
    return loss, values, dloss, updated


def test_every_answer_is_exact_and_agrees_with_a_hand_computation_in_fractions(masha):
    for path in _specs(masha):
        data = tomllib.loads(path.read_text("utf-8"))
        vals = {k: [Fraction(str(x)) for x in v] if isinstance(v, list) else Fraction(str(v))
                for k, v in data["values"].items()}
        loss, values, grads, updated = _masha_by_hand(vals["u"], vals["v"], vals["w"], vals["y"],
                                                      Fraction("0.1"))
        expected = data["expected"]
        assert Fraction(str(expected["loss"])) == loss, path.name
        for key, v in values.items():
            assert Fraction(str(expected[f"value.{key}"])) == v, (path.name, key)
        for p in "uvw":
            assert Fraction(str(expected[f"grad.{p}"])) == grads[p], (path.name, p)
            assert Fraction(str(expected[f"updated.{p}"])) == updated[p], (path.name, p)


def test_every_variant_passes_check(masha):
    for path in _specs(masha):
        report, ok = symprop.load(path).check(against="fd")
        assert ok, report


def test_the_key_lists_every_variant_with_its_answers(masha):
    key = (masha / "key.md").read_text("utf-8")
    assert key.count("## Вариант") == 30
    first = tomllib.loads(_specs(masha)[0].read_text("utf-8"))["expected"]
    assert f"| $L$ | ${first['loss']:g}$ |" in key
    assert "| $\\frac{\\partial L}{\\partial u}$ |" in key and "texttt" not in key  # quantities as mathematics


def test_fractions_and_other_formats(tmp_path):
    out = _variants(tmp_path, "masha_rnn", "-n", "3", "--seed", "4", "--fractions", "--format", "text",
                    "--lang", "en")
    key = (out / "key.txt").read_text("utf-8")
    assert "Variant 3" in key and "answer key" in key
    loss = Fraction(str(tomllib.loads((out / "masha_rnn-01.toml").read_text("utf-8"))["expected"]["loss"]))
    shown = str(loss) if loss.denominator != 1 else str(loss.numerator)
    assert re.search(rf"\n  L +{re.escape(shown)}\n", key) and "\n  u⁽¹⁾ " in key and "grad." not in key
    out = _variants(tmp_path, "masha_rnn", "-n", "2", "--seed", "4", "--format", "json", name="j")
    import json
    data = json.loads((out / "key.json").read_text("utf-8"))
    assert len(data) == 2 and data[0]["exact"] is True


def test_bounds_and_step_from_the_spec(tmp_path):
    text = open(symprop.load("masha_rnn").spec.origin, encoding="utf-8").read()
    spec = tmp_path / "bounded.toml"
    spec.write_text(text + "\n[variants]\nu = [-1, 1]\nw = [0.25, 0.75]\nstep = 0.25\n", "utf-8")
    out = _variants(tmp_path, str(spec), "-n", "10", "--seed", "3")
    for path in _specs(out):
        values = _values(path)
        assert -1 <= values["u"] <= 1 and values["u"] != 0
        assert values["w"] in (0.25, 0.5, 0.75)
        assert all(x * 4 == int(x * 4) for x in [values["v"], *values["y"]])
        assert values["y"][0] == 0  # the source's 0 stays 0


def test_a_model_with_tanh_gets_float_answers_that_check(tmp_path):
    out = _variants(tmp_path, "udl_toy", "-n", "5", "--seed", "9")
    for path in _specs(out):
        report, ok = symprop.load(path).check(against="fd")
        assert ok, report


@pytest.mark.parametrize("extra, message", [
    ("[variants]\nq = [0, 1]\n", "variants.q: 'q' has no value under [values] to vary"),
    ("[variants]\nu = [1, 0]\n", "variants.u: must be [low, high] with low < high"),
    ("[variants]\nstep = -1\n", "variants.step: must be a positive number"),
    ("[variants]\nzeros = \"drop\"\n", 'variants.zeros: must be "keep", "redraw" or a list of names'),
    ("[variants]\nzeros = [\"q\"]\n", "variants.zeros: 'q' has no value under [values]"),
])
def test_bad_variants_tables_are_one_line(tmp_path, extra, message):
    spec = tmp_path / "bad.toml"
    spec.write_text(open(symprop.load("masha_rnn").spec.origin, encoding="utf-8").read() + "\n" + extra, "utf-8")
    run = subprocess.run([sys.executable, "-m", "symprop", "variants", str(spec), "-o", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert message in run.stderr


def test_a_problem_without_numbers_has_no_variants():
    with pytest.raises(SympropError, match="a problem without numbers has no variants"):
        symprop.load("masha_backprop").variants(3)


@pytest.mark.parametrize("zeros, drawn", [(None, False), ('"keep"', False), ('"redraw"', True), ('["y"]', True)])
def test_a_given_zero_is_kept_or_redrawn(tmp_path, zeros, drawn):
    """masha_rnn's y[0] = 0 makes every variant's first step 0 (h₁ = relu(w·h₀ + v·y₀));
    [variants] zeros = "redraw" (or the names) draws it as the other numbers."""
    text = open(symprop.load("masha_rnn").spec.origin, encoding="utf-8").read()
    spec = tmp_path / "m.toml"
    spec.write_text(text + (f"\n[variants]\nzeros = {zeros}\n" if zeros else ""), "utf-8")
    variants = symprop.load(spec).variants(8, seed=3)
    firsts = [float(v.values["y"][0]) for v in variants.drawn]
    assert any(firsts) is drawn and (not drawn or all(y != 0 for y in firsts))
    if drawn:  # the first step is no longer 0 in every variant, and the answers are right
        assert any(float(v.answers["value.h[1]"]) != 0 for v in variants.drawn)
        for v in variants.drawn:
            y = [Fraction(str(float(x))) for x in v.values["y"]]
            _, values, _, _ = _masha_by_hand(*(Fraction(str(float(v.values[k]))) for k in "uvw"), y, Fraction(1, 10))
            assert float(v.answers["value.h[1]"]) == float(values["h[1]"])
