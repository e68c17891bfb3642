"""The {symprop} directive (symprop.sphinx) in real Sphinx builds.

A site of good pages is built once with -W (and -j 2, so the directive runs
in parallel workers), a site of broken pages once without -W: each broken
page is one error line and the build exits 1.  A small site is rebuilt
incrementally: editing the spec reads the page again, and a page whose
claim is wrong keeps failing until the spec is fixed.  conf.py and the page
examples come from docs/sphinx.md, so the documentation is what is built.

The numbers are seed 000's (tests/test_seed_masha_rnn.py): L = 6.5625 with
L_t = 1, 1.5625, 4; ŷ₂ = 0.25; ∂L/∂u = 1.25; u⁽¹⁾ = 0.375.  The source claims
L = 5.8475, ∂L/∂u = -0.11 (wrong).
"""

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

import symprop
from tests.conftest import DERIVATIONS

DOC = Path(__file__).resolve().parent.parent / "docs" / "sphinx.md"

pytest.importorskip("sphinx", reason="Sphinx is not installed (pip install -e '.[dev]')")
pytest.importorskip("myst_parser", reason="myst-parser is not installed (pip install -e '.[dev]')")


def _require_dot():
    if shutil.which("dot") is None:
        reason = "Graphviz's dot is not installed (the README's test command installs it)"
        if os.environ.get("SYMPROP_REQUIRE_ENGINES"):
            pytest.fail(reason)
        pytest.skip(reason)


def doc_blocks(fence: str, info: str) -> list[str]:
    """The code blocks of docs/sphinx.md opened by ``fence + info``."""
    text = DOC.read_text("utf-8")
    return re.findall(rf"^{fence}{info}\n(.*?)^{fence}$", text, re.S | re.M)


CONF = doc_blocks("```", "python")[0]
PAGES = doc_blocks("````", "markdown")  # the page alone, a page under a heading, inline TOML


def build(src: Path, out: Path, *flags: str) -> subprocess.CompletedProcess:
    # --no-color: Sphinx colours its messages on CI (CI=true), which the lines read here must not hold
    return subprocess.run([sys.executable, "-m", "sphinx", "--no-color", *flags, "-b", "html", str(src), str(out)],
                          capture_output=True, text=True, timeout=300)


def site(root: Path, pages: dict[str, str], files: dict[str, str] | None = None, conf: str = CONF) -> Path:
    src = root / "src"
    src.mkdir(parents=True)
    (src / "conf.py").write_text(conf, encoding="utf-8")
    for name, text in {**pages, **(files or {})}.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text, encoding="utf-8")
    docs = "\n".join(Path(n).with_suffix("").as_posix() for n in pages)
    (src / "index.md").write_text(f"# Problems\n\n```{{toctree}}\n{docs}\n```\n", encoding="utf-8")
    return src


def main_text(page: Path) -> str:
    """The page's document (not the sidebar), tags dropped, whitespace squeezed."""
    raw = page.read_text("utf-8")
    raw = raw[raw.index('role="main"'):raw.index('class="sphinxsidebar"')]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", raw)))


def right_claims(spec: str) -> str:
    """Seed 000's spec with the right answers in [expected] (a book's own answers)."""
    head, _, _ = spec.partition("[expected]")
    rest = spec[spec.index("\n[document]"):]
    return head + ('[expected]\n"value.h[3]" = 0\nloss = 6.5625\n"grad.u" = 1.25\n"updated.u" = 0.375\n'
                   '"through_time.v" = true\ntolerance = 0.005\n') + rest


MASHA = (DERIVATIONS / "masha_rnn.toml").read_text("utf-8")


# Pages that build ------------------------------------------------------------------------

GOOD = {
    "alone.md": PAGES[0],  # ```{symprop} masha_rnn```, nothing else
    "week7.md": PAGES[1],  # under a heading: problems/relu_cell.toml, en, student
    "inline.md": "# Inline\n\n" + PAGES[2],  # the spec in the body
    "derivation.md": "# Derivation\n\n```{symprop} masha_backprop\n:show: derivation\n:lang: en\n```\n",
    "parts.md": "# Part a\n\n```{symprop} masha_rnn\n:show: solution\n:parts: a\n:audience: student\n```\n",
    "graph.md": "# The graph\n\n```{symprop} udl_toy\n:show: graph\n```\n",
    "digits.md": "# Two decimals\n\n```{symprop} udl_toy\n:show: solution\n:parts: 1\n:digits: 2\n:lang: en\n```\n",
    "report.md": "# A source, quoted\n\n```{symprop} quoted/masha_rnn.toml\n:claims: report\n:lang: en\n```\n",
    "fractions.md": "# Fractions\n\n```{symprop} masha_rnn\n:show: solution\n:fractions:\n:lang: en\n```\n",
    "floats.md": "# Floats\n\n```{symprop} udl_toy\n:show: solution\n:parts: 1\n:floats:\n```\n",
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    _require_dot()
    root = tmp_path_factory.mktemp("good")
    src = site(root, GOOD, {"problems/relu_cell.toml": right_claims(MASHA), "quoted/masha_rnn.toml": MASHA})
    run = build(src, root / "out", "-W", "--keep-going", "-q", "-j", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    return root / "out"


def test_the_page_alone_shows_the_solution_and_takes_the_problems_title(good):
    page = (good / "alone.html").read_text("utf-8")
    assert "<title>Туда и обратно" in page  # the page's title is the problem's
    assert "sd-dropdown" in page and "Решение" in page
    text = main_text(good / "alone.html")
    assert "1 + 1.5625 + 4 = 6.5625" in text  # L = L_1 + L_2 + L_3
    assert "0.5 \\cdot 0.5) = 0.25" in text  # ŷ_2
    assert "0.5 - 0.1 \\cdot 1.25 = 0.375" in text  # u⁽¹⁾ = u − η·∂L/∂u
    assert "\\frac{\\partial L}{\\partial u}" in text
    assert "$$" not in text  # every formula became math


def test_a_shipped_problem_reports_its_sources_errors_in_the_appendix(good):
    text = main_text(good / "alone.html")
    appendix = text[text.index("Проверка"):]
    assert "5.8475" in appendix and "-0.11" in appendix and "неверно" in appendix
    assert "5.8475" not in text[:text.index("Проверка")]  # never as an answer


def test_under_a_heading_the_title_is_a_subheading_and_options_apply(good):
    page = (good / "week7.html").read_text("utf-8")
    assert "<title>Week 7: recurrent networks" in page
    assert re.search(r'<h2 class="[^"]*rubric[^"]*">There and back again', page)
    text = main_text(good / "week7.html")
    assert "Solution" in text and "Решение" not in text  # :lang: en
    assert "Make the forward pass through the cell" in text
    assert "6.5625" in text and "0.375" in text
    assert "Checks" not in text and "5.8475" not in text  # :audience: student: no appendix


def test_the_spec_inline(good):
    text = main_text(good / "inline.html")
    assert "One weight" not in text  # :show: statement, solution: no title
    assert "w \\cdot x = 0.5 \\cdot 2 = 1" in text
    assert "= (-2) \\cdot 2 = -4" in text  # ∂L/∂w, as the claim says


def test_show_derivation(good):
    text = main_text(good / "derivation.html")
    assert "\\boxed{" in text and "f'" in text
    assert "Given" not in text and "Solution" in text
    assert "There and back again" not in text


def test_parts_and_student(good):
    text = main_text(good / "parts.html")
    assert "Сделайте прямой шаг через ячейку" in text and "6.5625" in text
    assert "Сделайте шаг обратного распространения" not in text  # part в left out
    assert "Туда и обратно" not in text and "Дано" not in text  # no title, no statement
    assert "5.8475" not in text and "-0.11" not in text


def test_show_graph_alone(good):
    page = (good / "graph.html").read_text("utf-8")
    assert re.search(r'<img src="_images/graphviz-[0-9a-f]+\.png"', page)
    assert "Дано" not in main_text(good / "graph.html")


def test_digits(good):
    text = main_text(good / "digits.html")
    assert "\\sin(1.23) = 0.94" in text and "0.9425" not in text


def test_fractions_and_floats(good):
    text = main_text(good / "fractions.html")
    # seed 000 in fractions: L = 1 + 25/16 + 4 = 105/16, u⁽¹⁾ = 1/2 - 1/10 · 5/4 = 3/8
    assert "1 + \\frac{25}{16} + 4 = \\frac{105}{16}" in text
    assert "= \\frac{3}{8}" in text and "0.375" not in text
    assert "\\sin(1.2300) = 0.9425" in main_text(good / "floats.html")  # floats (sin), f₀ with its decimals


def test_claims_report_shows_a_copied_sources_errors_in_the_appendix(good):
    text = main_text(good / "report.html")
    answers, appendix = text.split("The answers given by the source")
    assert "6.5625" in answers and "5.8475" not in answers
    assert "5.8475" in appendix and "wrong" in appendix


# Pages that do not build ---------------------------------------------------------------------

WRONG_TOY = "# Inline\n\n" + PAGES[2].replace('"grad.w" = -4.0', '"grad.w" = -4.5')
BAD = {
    # the page of the Done-when, with a spec whose claims are wrong (a file: strict)
    "wrong.md": "```{symprop} masha_rnn.toml\n```\n",
    "wrong_inline.md": WRONG_TOY,
    "strict.md": "# S\n\n```{symprop} masha_rnn\n:claims: strict\n```\n",
    "formula.md": "# F\n\n```{symprop} masha_backprop\n:claims: strict\n```\n",
    "bad_spec.md": '# B\n\n```{symprop}\ntitle = "x"\n[model]\nparams = ["w"]\nequations = "yhat = w*q +"\n'
                   'loss = "yhat"\n```\n',
    "bad_toml.md": "# T\n\n```{symprop}\n[model\n```\n",
    "no_such.md": "# N\n\n```{symprop} no_such_problem\n```\n",
    "lang.md": "# L\n\n```{symprop} masha_rnn\n:lang: fr\n```\n",
    "unknown.md": "# U\n\n```{symprop} masha_rnn\n:colour: red\n```\n",
    "show.md": "# Sh\n\n```{symprop} masha_rnn\n:show: statement, answers\n```\n",
    "parts_missing.md": "# P\n\n```{symprop} masha_rnn\n:parts: a, z\n```\n",
    "digits.md": "# D\n\n```{symprop} masha_rnn\n:digits: 0\n```\n",
    "both.md": "# Both\n\n```{symprop} masha_rnn\ntitle = \"x\"\n```\n",
    "student.md": "# St\n\n```{symprop} masha_rnn\n:audience: student\n:show: solution, appendix\n```\n",
    "symbolic.md": "# Sy\n\n```{symprop} masha_backprop\n:show: solution\n```\n",
    "flag.md": "# Fl\n\n```{symprop} masha_rnn\n:fractions: yes\n```\n",
    # files outside the source folder, by a path and by a link (issue 23): read by no page
    "outside.md": "# O\n\n```{symprop} ../outside.toml\n```\n",
    "link.md": "# Li\n\n```{symprop} link.toml\n```\n",
}
EXPECTED = {  # page: (line, what the one error says)
    "wrong.md": (1, ['masha_rnn.toml: 5 claims in [expected] are wrong', 'line 28: "loss" = 5.8475, but '
                     'symprop computes 6.5625', '"value.h[3]" = 0.375, but symprop computes 0',
                     '"grad.u" = -0.11, but symprop computes 1.25', '"through_time.v" = false is wrong',
                     ':claims: report']),
    "wrong_inline.md": (17, ['the inline spec: a claim in [expected] is wrong: page line 17: "grad.w" = -4.5, '
                             'but symprop computes -4']),
    "strict.md": (3, ["masha_rnn: 5 claims", '"loss" = 5.8475, but symprop computes 6.5625']),
    "formula.md": (3, ["masha_backprop: 3 claims", '"formula.grad.w3" = "(y - yhat) * f(f(x*w1)*w2)" is wrong',
                       "sign"]),
    "bad_spec.md": (3, ["the inline spec: model.equations", "syntax error"]),
    "bad_toml.md": (3, ["the inline spec: invalid TOML"]),
    "no_such.md": (3, ["no_such_problem: no such file (relative to the page) or shipped problem", "masha_rnn"]),
    "lang.md": (3, [":lang: must be one of en, ru, zh, not 'fr'"]),
    "unknown.md": (3, ["unknown option :colour:"]),
    "show.md": (3, [":show: takes title, statement, graph, solution, derivation, appendix; not 'answers'"]),
    "parts_missing.md": (3, [":parts: there is no part z (the parts: а, б, в, г)"]),
    "digits.md": (3, [":digits: must be a whole number from 1 to 12, not '0'"]),
    "both.md": (3, ["not both"]),
    "student.md": (3, [":audience: student leaves it out"]),
    "symbolic.md": (3, ["masha_backprop: :show: solution needs [values]"]),
    "flag.md": (3, [":fractions: takes no value (it is on when given)"]),
    "outside.md": (3, ["../outside.toml: ", "outside.toml is outside the Sphinx source folder"]),
    "link.md": (3, ["link.toml: ", "outside.toml is outside the Sphinx source folder"]),
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    src = site(root, BAD, {"masha_rnn.toml": MASHA, "page.rst": "Rst\n===\n\n.. symprop:: masha_rnn\n"})
    with (src / "index.md").open("a") as f:
        f.write("\n```{toctree}\npage\n```\n")
    (root / "outside.toml").write_text(right_claims(MASHA), encoding="utf-8")  # a good spec, but not the site's
    (src / "link.toml").symlink_to(root / "outside.toml")
    run = build(src, root / "out", "-q", "-j", "2")  # without -W
    return src, root / "out", run


def test_broken_pages_fail_the_build_without_W(broken):
    _, _, run = broken
    assert run.returncode == 1, run.stderr[-3000:]


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_each_broken_page_is_one_error_naming_the_line_and_the_key(broken, page):
    src, out, run = broken
    lines = [line for line in run.stderr.splitlines() if line.startswith(f"{src / page}:")]
    assert len(lines) == 1, run.stderr[-3000:]
    line, says = EXPECTED[page]
    assert lines[0].startswith(f"{src / page}:{line}: ERROR: symprop: "), lines[0]
    for words in says:
        assert words in lines[0], lines[0]
    assert "sd-dropdown" not in (out / page).with_suffix(".html").read_text("utf-8")  # nothing shown


def test_a_wrong_claim_never_reaches_the_page(broken):
    _, out, _ = broken
    text = main_text(out / "wrong.html") + main_text(out / "wrong_inline.html")
    for shown in ("0.375", "5.8475", "6.5625", "-4.5", "\\frac"):
        assert shown not in text


def test_every_error_is_one_of_the_directives(broken):
    src, _, run = broken
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == len(BAD) + 1, run.stderr  # no other warning: the pages are fine but for the spec
    rst = [line for line in errors if line.startswith(f"{src / 'page.rst'}:")]
    assert len(rst) == 1 and "works in MyST pages (.md), not in reStructuredText" in rst[0]


def test_without_dollarmath_the_directive_says_what_to_add(tmp_path):
    conf = CONF.replace('myst_enable_extensions = ["dollarmath", "amsmath"]', "myst_enable_extensions = []")
    assert conf != CONF
    src = site(tmp_path, {"p.md": "# P\n\n```{symprop} udl_toy\n```\n"}, conf=conf)
    run = build(src, tmp_path / "out", "-q")
    assert run.returncode == 1
    assert 'add "dollarmath" to myst_enable_extensions' in run.stderr


# Rebuilding ----------------------------------------------------------------------------------------

TOY = """title = "One weight"
[model]
params = ["w"]
equations = \"\"\"
yhat = w*x
\"\"\"
loss = "(y - yhat)**2 / 2"
[values]
w = 0.5
x = 2.0
y = 3.0
[expected]
"grad.w" = -4.0
"""


def test_editing_the_spec_rebuilds_the_page_and_a_wrong_claim_keeps_failing(tmp_path):
    src = site(tmp_path, {"toy.md": "# Toy\n\n```{symprop} specs/toy.toml\n:show: solution\n:lang: en\n```\n"},
               {"specs/toy.toml": TOY})
    out, spec = tmp_path / "out", src / "specs" / "toy.toml"
    first = build(src, out, "-W")
    assert first.returncode == 0, first.stderr
    assert "= (-2) \\cdot 2 = -4" in main_text(out / "toy.html")

    spec.write_text(TOY.replace("w = 0.5", "w = 1.0").replace("-4.0", "-2.0"), encoding="utf-8")
    edited = build(src, out, "-W")
    assert edited.returncode == 0, edited.stderr
    assert "1 changed" in edited.stdout
    assert "= (-1) \\cdot 2 = -2" in main_text(out / "toy.html")

    spec.write_text(TOY.replace("w = 0.5", "w = 1.0").replace("-4.0", "-2.5"), encoding="utf-8")
    wrong = build(src, out, "-W", "-q")
    assert wrong.returncode == 1
    assert f'{src / "toy.md"}:3: ERROR: symprop: specs/toy.toml: a claim in [expected] is wrong: line 13: ' \
           '"grad.w" = -2.5, but symprop computes -2' in wrong.stderr
    still = build(src, out, "-q")  # the spec unchanged, no -W: the page is read again and fails again
    assert still.returncode == 1 and '"grad.w" = -2.5' in still.stderr

    spec.write_text(TOY.replace("w = 0.5", "w = 1.0").replace("-4.0", "-2.0"), encoding="utf-8")
    fixed = build(src, out, "-W", "-q")
    assert fixed.returncode == 0, fixed.stderr
    assert "= (-1) \\cdot 2 = -2" in main_text(out / "toy.html")


# The extension itself ------------------------------------------------------------------------------

def test_setup_declares_parallel_safety_and_the_version():
    from symprop.sphinx import SympropDirective, setup

    app = mock.Mock()
    meta = setup(app)
    assert meta == {"version": symprop.__version__, "parallel_read_safe": True, "parallel_write_safe": True}
    app.add_directive.assert_called_once_with("symprop", SympropDirective)


def test_symprop_runs_without_sphinx():
    """Sphinx is an extra: symprop, its API and its command line never import it."""
    code = ("import sys, symprop, symprop.cli, symprop.api; "
            "symprop.load('udl_toy').solution().document('myst'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sphinx', 'myst_parser', 'docutils', "
            "'sphinx_design'}))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stderr


def test_the_dependencies_of_a_spec_and_the_lines_of_its_claims(tmp_path):
    from symprop.sphinx import _array_files, _claim_lines

    (tmp_path / "w.npz").write_bytes(b"")
    (tmp_path / "x.npy").write_bytes(b"")
    text = ('title = "t"\n[model]\ninitial = { h = "x.npy" }\n[values]\nW = "w.npz:W"\ny = "gone.npy"\n'
            '[expected]          # the source\nloss = 1\n"grad.W[0][1]" = 2\n[document]\nstatement = "s"\n')
    assert _array_files(text, tmp_path) == [tmp_path / "w.npz", tmp_path / "x.npy"]
    assert _claim_lines(text) == {"loss": 8, "grad.W[0][1]": 9}
