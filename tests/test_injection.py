"""The spec's own words in a document are text, never markup.

A hostile title, source, statement, question (and a comment in a claimed
formula) try a MyST include of /etc/passwd, a <script>, roles, math, lists,
links, LaTeX specials, a blank line inside a LaTeX heading and terminal escape
sequences.  Sphinx with myst-parser, markdown-it, pdflatex and the terminal see
them as the words they are.  An unrolled picture too large to draw is refused
before it is built.
"""

import html
import re
import subprocess
import time

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.document.pictures import MAX_PICTURE, picture
from symprop.document.render.markdown import markdown_text
from symprop.errors import SympropError
from tests.test_documents import SPECS, engine

SPECIALS = r"# $ % & ~ _ ^ \ { }"
TITLE = "probe\n\n```{include} /etc/passwd\n```\n\n<script>alert(1)</script> " + SPECIALS + " \x1b[31mred"
SOURCE = "src\n\n{eval-rst}`x` [link](http://evil) *em* <b>b</b> $x$ | a | \x1b]0;t\x07"
PASSWD = "../" * 20 + "etc/passwd"  # Sphinx reads "/etc/passwd" in the source folder; this one is the file
STATEMENT = ("line one\n\n```{include} " + PASSWD + "\n```\n\n<script>alert(2)</script>\n\n- item\n\n1. one\n\n"
             "+++\n\n:::{note}\nx\n:::\n\n(tgt)=\n\n% comment\n\n> quote\n\n# head\n\n"
             "$$\\input{/etc/passwd}$$ " + SPECIALS + " \x1b[2J")
QUESTION = "q\n\n```{include} /etc/passwd\n```\n<script>alert(3)</script> {math}`x` " + SPECIALS + " \x1b[0m"
CLAIM = "2*(h - y)*x"  # a comment after it is refused (tests/test_hostile_input.py)


def toml(text: str) -> str:
    """A TOML basic string."""
    return '"' + "".join(ch if ch.isalnum() or ch in " ." else f"\\u{ord(ch):04x}" for ch in text) + '"'


HOSTILE = f"""title = {toml(TITLE)}
source = {toml(SOURCE)}
[model]
params = ["w"]
equations = "h = w*x"
loss = "(h - y)**2"
[values]
w = 0.5
x = 1.0
y = 2.0
[expected]
"formula.grad.w" = {toml(CLAIM)}
[document]
statement = {toml(STATEMENT)}
[[document.parts]]
show = ["local", "forward"]
question = {toml(QUESTION)}
"""


def one_line(text: str) -> str:
    """A title as the documents show it: on one line, control characters replaced."""
    return " ".join(re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "\ufffd", text).split())


@pytest.fixture
def hostile(spec_file):
    path = str(spec_file(HOSTILE))
    assert symprop.load(path).title == TITLE
    return path


def output(*args) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


def no_script(page: str) -> None:
    assert "root:" not in page  # /etc/passwd was not included
    assert not re.search(r"<script>\s*alert", page)
    for n in (1, 2, 3):
        assert f"&lt;script&gt;alert({n})&lt;/script&gt;" in page


@pytest.mark.parametrize("cmd", ["derive", "solve"])
def test_myst_through_sphinx_shows_the_words(hostile, cmd, tmp_path, sphinx_src):
    sphinx = engine("sphinx-build")
    src = sphinx_src
    (src / "index.md").write_text(output(cmd, hostile, "--format", "myst"), encoding="utf-8")
    run = subprocess.run([sphinx, "-W", "--keep-going", "-q", "-b", "html", str(src), str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    page = (tmp_path / "out" / "index.html").read_text("utf-8")
    page = page[page.index('role="main"'):page.index('class="sphinxsidebar"')]  # the document itself
    no_script(page)
    h1 = re.findall(r"<h1>(.*?)<a class=\"headerlink\"", page, re.S)
    assert [html.unescape(x) for x in h1] == [one_line(TITLE)]  # one heading, no backslash shown
    assert html.escape(one_line(SOURCE), quote=False) in page
    assert "/etc/passwd" in page and "$$\\input{/etc/passwd}$$" in html.unescape(page)
    for markup in ("<em>em</em>", 'href="http://evil"', "<blockquote", "<li>", "<table", "note admonition"):
        assert markup not in page, markup


def markdown_html(text: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    dollarmath = pytest.importorskip("mdit_py_plugins.dollarmath")
    return markdown_it.MarkdownIt("commonmark").enable("table").use(dollarmath.dollarmath_plugin).render(text)


@pytest.mark.parametrize("text", [
    "```{include} /etc/passwd", "<script>alert(1)</script>", "{math}`x`", "$x$ and $$y$$", "*em* _em_ **b**",
    "# head", "> quote", "- item", "+ item", "* item", "1. one", "2) two", "---", "===", "+++", ":::{note}",
    "(tgt)=", "% comment", "[link](http://evil) ![i](x.png) [^1]", "a | b | c", "&lt; &amp;", "~~s~~",
    "<http://evil>", SPECIALS, "trailing \\",
])
def test_markdown_text_is_the_words(text):
    assert markdown_html(markdown_text(text)) == f"<p>{html.escape(text, quote=False)}</p>\n"


def test_markdown_shows_the_words(hostile):
    page = markdown_html(output("solve", hostile, "--format", "markdown"))
    no_script(page)
    assert [html.unescape(x) for x in re.findall(r"<h1>(.*?)</h1>", page, re.S)] == [one_line(TITLE)]
    for markup in ("<em>em</em>", "<a ", "<blockquote", "<li>", "<code>"):
        assert markup not in page, markup


@pytest.mark.parametrize("cmd", ["derive", "solve"])
def test_latex_compiles_and_shows_the_characters(hostile, cmd, tmp_path):
    pdflatex, pdftotext = engine("pdflatex"), engine("pdftotext")
    tex = output(cmd, hostile, "--format", "latex", "--standalone")
    section = re.search(r"\\section\*\{(.*)\}\n", tex).group(1)
    assert "\n" not in section and "\x1b" not in tex
    (tmp_path / "doc.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, timeout=120)
    log = run.stdout.decode("utf-8", "replace")
    assert run.returncode == 0, [line for line in log.splitlines() if line.startswith("!")] or log[-2000:]
    assert "Missing character" not in (tmp_path / "doc.log").read_text("utf-8", "replace")
    text = subprocess.run([pdftotext, "doc.pdf", "-"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60).stdout
    words = " ".join(text.split())
    assert words.count(SPECIALS) == 3  # the title, the statement, the question
    assert "probe ```{include} /etc/passwd ``` <script>alert(1)</script> " + SPECIALS + " ?[31mred" in words
    assert "{eval-rst}`x` [link](http://evil) *em* <b>b</b> $x$ | a |" in words


@pytest.mark.parametrize("cmd", ["derive", "solve"])
def test_text_has_no_control_characters(hostile, cmd):
    text = output(cmd, hostile, "--format", "text")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
    assert text.splitlines()[0] == one_line(TITLE)
    assert "<script>alert(3)</script>" in text


def test_check_report_has_no_control_characters(hostile):
    from symprop.api import check_report

    report, _ = check_report(symprop.load(hostile).spec)
    assert "\x1b" not in report and "probe" in report.splitlines()[0]


@pytest.mark.parametrize("fmt", ["dot", "tikz", "mermaid"])
def test_pictures_hold_no_words_of_the_spec(hostile, fmt):
    for unrolled in (False, True):
        drawn = output("graph", hostile, "--format", fmt, "--grad", *(["--unrolled"] if unrolled else []))
        for fragment in ("probe", "passwd", "alert", "evil", "\x1b"):
            assert fragment not in drawn


LONG = """title = "long"
[model]
params = ["u", "v", "w"]
steps = 10000
equations = '''
h[t] = relu(w*h[t-1] + v*y[t-1])
yhat[t] = relu(u*h[t])
'''
loss = "(y[t] - yhat[t])**2"
"""


@pytest.mark.parametrize("extra", [[], ["--grad"], ["--grad", "--format", "svg"]])
def test_huge_unrolled_picture_is_refused_at_once(spec_file, extra):
    path = str(spec_file(LONG))
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["graph", path, "--unrolled", *extra])
    elapsed = time.perf_counter() - start
    assert result.exit_code == 1 and result.stdout == "", result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in (path, "model.steps", "10000 steps", "40005 nodes", f"the limit is {MAX_PICTURE}"):
        assert fragment in lines[0], lines[0]
    assert elapsed < 10, elapsed


def test_huge_unrolled_picture_refused_by_the_library_too(spec_file):
    problem = symprop.load(str(spec_file(LONG))).spec
    with pytest.raises(SympropError, match="the limit is"):
        picture(problem, unrolled=True)
    assert len(picture(problem).vertices) < 20  # the cell is drawn


@pytest.mark.parametrize("name", SPECS)
def test_every_shipped_problem_draws_unrolled(name):
    assert output("graph", name, "--unrolled", "--grad", "--format", "dot").startswith("digraph")
