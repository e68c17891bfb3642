"""One language a document.

The string tables (symprop/languages/*.py) have the same keys and the
same {places} in every language; a document in Russian or Chinese has no
English words outside its mathematics, and no words of the other scripts;
the pictures of the computational graph say their few words in the language
asked for, and Graphviz draws them in Chinese too.

What is mathematics: $…$ and $$…$$, code and picture fences (the labels of
a picture are checked on their own), and, in the plain-text format, the
names of functions (relu, tanh, …).  What a document quotes ("…", «…», “…”,
《…》, 「…」) is the title of a work in its own language and is not checked.
"""

import functools
import html
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

import symprop
from symprop.cli import main
from symprop.document.pictures import draw, picture
from symprop.document.strings import LANGUAGES, STRINGS
from symprop.errors import SympropError
from symprop.model.functions import built_in_names
from symprop.model.operations import OPERATIONS
from tests.conftest import DERIVATIONS

OTHERS = [lang for lang in LANGUAGES if lang != "en"]
PLACE = re.compile(r"\{([A-Za-z0-9_]+)\}")


# The string tables --------------------------------------------------------------

def places(text: str) -> list[str]:
    return sorted(set(PLACE.findall(text)))


@pytest.mark.parametrize("lang", OTHERS)
def test_every_language_has_the_keys_of_english(lang):
    en, other = STRINGS["en"], STRINGS[lang]
    missing = sorted(set(en) - set(other))
    extra = sorted(set(other) - set(en))
    problems = []
    if missing:
        problems.append(f"missing in symprop/languages/{lang}.py (translate them from en.py): "
                        + ", ".join(missing))
    if extra:
        problems.append(f"in symprop/languages/{lang}.py but not in en.py (removed or renamed?): "
                        + ", ".join(extra))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", OTHERS)
def test_every_phrase_has_the_places_of_english(lang):
    en, other = STRINGS["en"], STRINGS[lang]
    wrong = [f"{key}: en has {places(en[key])}, {lang} has {places(other[key])}"
             for key in en if key in other and places(en[key]) != places(other[key])]
    assert not wrong, f"symprop/languages/{lang}.py, places differ from en.py:\n" + "\n".join(wrong)


@pytest.mark.parametrize("lang", OTHERS)
def test_there_are_as_many_part_labels_as_in_english(lang):
    letters = STRINGS[lang]["letters"]
    assert len(set(letters)) == len(letters) >= len(STRINGS["en"]["letters"])


CJK = re.compile(r"[\u3400-\u9fff]")
ASCII_PUNCT_BY_CJK = re.compile(r"[\u3400-\u9fff][,.:;!?()]|[,.:;!?()][\u3400-\u9fff]")


def test_chinese_prose_has_full_width_punctuation():
    bad = {key: text for key, text in STRINGS["zh"].items()
           if ASCII_PUNCT_BY_CJK.search(PLACE.sub("x", text))}
    assert not bad, bad


# Documents ----------------------------------------------------------------------

SPECS = sorted(p.stem for p in DERIVATIONS.glob("*.toml"))
FORMATS = ["text", "markdown", "myst"]


@functools.cache
def problem(name: str):
    return symprop.load(name)


@functools.cache
def solution(name: str):
    return problem(name).solution()


def commands(name: str) -> list[str]:
    return ["derive", "solve"] if problem(name).values else ["derive"]


@functools.cache
def rendered(name: str, cmd: str, fmt: str, lang: str) -> str:
    if cmd == "solve":
        return solution(name).document(fmt, lang=lang)
    return problem(name).document(fmt, lang=lang)


# Words that are not English prose: names of functions (the plain-text format
# prints its mathematics without delimiters), of models and of libraries.
NOT_ENGLISH = {"relu", "tanh", "sigmoid", "softmax", "exp", "log", "sin", "cos", "sqrt", "diag", "sum", "concat",
               "pytorch", "jax", "mse", "bptt", "rnn", "gru", "lstm", "jupyter",
               "adjoint", "yhat",  # names in the spec's formulas, which the source's answers quote
               } | {w for name in built_in_names() for w in re.findall("[a-z]+", name)} | {
                   w for op, record in OPERATIONS.items() for w in re.findall("[a-z]+", record.name or op)}
LATIN = re.compile(r"[A-Za-z]{3,}")  # a letter or two is a symbol of the mathematics
CYRILLIC = re.compile(r"[А-Яа-яЁё]{3,}")
HAN = re.compile(r"[\u3400-\u9fff]+")
SCRIPTS = {"en": [CYRILLIC, HAN], "ru": [LATIN, HAN], "zh": [LATIN, CYRILLIC]}

QUOTED = re.compile(r'"[^"\n]*"|“[^”\n]*”|«[^»\n]*»|《[^》\n]*》|「[^」\n]*」|„[^“\n]*“')
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
INLINE_MATH = re.compile(r"\$[^$\n]+\$")
FENCE = re.compile(r"^(`{3,}|:{3,})\s*(.*)$")
PICTURES = {"{graphviz}", "dot", "mermaid", "{mermaid}"}
DOT_LABEL = re.compile(r'label="((?:[^"\\]|\\.)*)"')
MERMAID_LABEL = re.compile(r'"([^"]*)"')
HTML_WORDS = re.compile(r'aria-label="([^"]*)"|>([^<>]+)<')  # an SVG plot's alt text and the words it shows


def prose_and_labels(text: str) -> tuple[str, list[str]]:
    """The lines outside code fences (a directive such as {dropdown} keeps its
    content, not its name), and the labels of the pictures."""
    out, labels = [], []
    stack: list[tuple[str, str]] = []  # (fence, kind): kind is prose, code or a picture's info
    figure = False  # inside an HTML <figure> (the SVG plot of BPTT): its words are labels
    for line in text.splitlines():
        if figure or line.startswith("<figure>"):
            figure = not line.startswith("</figure>")
            labels += [html.unescape(a or b) for a, b in HTML_WORDS.findall(line)]
            continue
        m = FENCE.match(line.strip())
        inside_code = stack and stack[-1][1] != "prose"
        if m and inside_code:
            if not m.group(2) and m.group(1)[0] == stack[-1][0][0] and len(m.group(1)) >= len(stack[-1][0]):
                stack.pop()
            continue
        if inside_code:
            info = stack[-1][1]
            if info in ("dot", "{graphviz}"):
                labels += [x.replace("\\n", " ") for x in DOT_LABEL.findall(line)]
            elif info in ("mermaid", "{mermaid}"):
                labels += MERMAID_LABEL.findall(line)
            continue
        if m:
            fence, info = m.group(1), m.group(2)
            if not info and stack and fence[0] == stack[-1][0][0] and len(fence) >= len(stack[-1][0]):
                stack.pop()
                continue
            name = info.split()[0] if info else ""
            if name.startswith("{") and name not in PICTURES:  # a directive: its content is prose
                stack.append((fence, "prose"))
                out.append(info[len(name):])
            else:
                stack.append((fence, name if name in PICTURES else "code"))
            continue
        out.append(line)
    return "\n".join(out), labels


def foreign(text: str, lang: str) -> list[str]:
    """The words of ``text`` (no mathematics in it) not in ``lang``'s script."""
    text = QUOTED.sub(" ", text)
    words = [w for pattern in SCRIPTS[lang] for w in pattern.findall(text)]
    return [w for w in words if w.lower() not in NOT_ENGLISH]


def foreign_words(text: str, fmt: str, lang: str) -> list[tuple[str, list[str]]]:
    """(line, its foreign words) for every line of prose with one."""
    if fmt != "text":
        text, _ = prose_and_labels(text)
        text = INLINE_MATH.sub(" ", DISPLAY_MATH.sub(" ", text))
    return [(line.strip(), words) for line in text.splitlines() if (words := foreign(line, lang))]


def without_title_and_source(text: str, name: str, lang: str) -> str:
    """The document without the spec's title and source (checked on their own)
    and the formulas the source claims, quoted in the spec's own names."""
    p = problem(name)
    quoted = sorted((c.claimed for c in p.spec.claims if isinstance(c.claimed, str)), key=len, reverse=True)
    for spec_text in (p.title_in(lang), p.source_in(lang), *quoted):
        if spec_text:  # the plain-text format wraps it over lines
            words = r"\s+".join(re.escape(w) for w in spec_text.split())
            text = re.sub(words, " ", text)
    return text


PROPER_NAMES = re.compile(r"\b[A-Z][\w-]*|\b\w+(?:\.\w+)+")  # Cho, Hochreiter, torch.nn.LSTMCell


BODY_CASES = [(name, cmd, fmt, lang) for name in SPECS for cmd in commands(name) for fmt in FORMATS
              for lang in LANGUAGES]
FIGURE_CASES = [(name, cmd, fmt, lang) for name in SPECS for cmd in commands(name) for fmt in ("markdown", "myst")
                for lang in LANGUAGES]


@pytest.mark.parametrize("name,cmd,fmt,lang", BODY_CASES)
def test_a_document_speaks_one_language(name, cmd, fmt, lang):
    text = without_title_and_source(rendered(name, cmd, fmt, lang), name, lang)
    bad = foreign_words(text, fmt, lang)
    assert not bad, f"{name} {cmd} --format {fmt} --lang {lang}: words not in {lang}:\n" + "\n".join(
        f"  {words}: {line[:160]}" for line, words in bad)


@pytest.mark.parametrize("name,lang", [(n, lang) for n in SPECS for lang in LANGUAGES])
def test_the_title_and_source_are_in_the_language(name, lang):
    p = problem(name)
    source = PROPER_NAMES.sub(" ", p.source_in(lang) or "")  # a source names people and libraries
    bad = {what: words for what, text in (("title", p.title_in(lang)), ("source", source))
           if (words := foreign(text, lang))}
    assert not bad, f"derivations/{name}.toml, {lang}: {bad}"


@pytest.mark.parametrize("name,cmd,fmt,lang", FIGURE_CASES)
def test_the_figure_speaks_the_language_of_the_document(name, cmd, fmt, lang):
    _, labels = prose_and_labels(rendered(name, cmd, fmt, lang))
    bad = [(label, words) for label in labels if (words := foreign(label, lang))]
    assert not bad, f"{name} {cmd} --format {fmt} --lang {lang}: {bad}"


@pytest.mark.parametrize("name,lang", [(n, lang) for n in SPECS for lang in LANGUAGES])
def test_the_parts_are_lettered_in_the_language(name, lang):
    """A part's label is one letter, too short for the test of words: its script is checked here."""
    letters = re.findall(r"^__(.)\\?\)__", rendered(name, "derive", "markdown", lang), re.M)
    assert letters
    foreign_letter = {"en": "[А-Яа-яЁё\u3400-\u9fff]", "ru": "[A-Za-z\u3400-\u9fff]", "zh": "[А-Яа-яЁё]"}[lang]
    bad = [x for x in letters if re.match(foreign_letter, x)]
    assert not bad, f"derivations/{name}.toml, {lang}: parts lettered {bad}"


@pytest.mark.parametrize("name,cmd,fmt", [(n, c, f) for n in SPECS for c in commands(n) for f in FORMATS])
def test_chinese_documents_render(name, cmd, fmt):
    text = rendered(name, cmd, fmt, "zh")
    assert len(CJK.findall(text)) > 20
    assert STRINGS["zh"]["solution"] in text


def test_the_stripping_of_mathematics_and_fences():
    text = ("段落 $x + relu$ 文字\n\n$$\nfoo bar\n$$\n\n````{dropdown} 解答\n\n正文 baz\n\n```{graphviz}\n"
            'digraph { "yhat" [label="u (shared)"]; }\n```\n\n```\ncode words\n```\n\n````\n'
            '```mermaid\nflowchart LR\n  n0["w（共享）"]\n```\n')
    prose, labels = prose_and_labels(text)
    assert labels == ["u (shared)", "w（共享）"]
    assert foreign_words(text, "markdown", "zh") == [("正文 baz", ["baz"])]


# Pictures -----------------------------------------------------------------------

RECURRENT = [n for n in SPECS if problem(n).recurrent]


def graph(*args) -> str:
    result = CliRunner().invoke(main, ["graph", *args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shared_weights_are_marked_in_the_language(name, lang):
    marked = STRINGS[lang]["picture_shared"].replace("{name}", "")
    for fmt in ("dot", "mermaid"):
        text = graph(name, "--format", fmt, "--lang", lang)
        assert marked in text
        others = [STRINGS[other]["picture_shared"].replace("{name}", "") for other in LANGUAGES if other != lang]
        assert not any(o in text for o in others)


def test_a_picture_speaks_the_language_of_the_spec_by_default():
    p = problem("masha_rnn")
    assert p.lang == "ru"
    assert picture(p).lang == "ru" and "(общий)" in draw(p, "dot")
    assert picture(p, lang="zh").lang == "zh" and "w（共享）" in draw(p, "mermaid", lang="zh")
    assert "w (shared)" in graph("masha_rnn", "--lang", "en")


def test_an_unknown_language_is_refused():
    with pytest.raises(SympropError, match="language"):
        draw(problem("masha_rnn"), "dot", lang="fr")
    result = CliRunner().invoke(main, ["graph", "masha_rnn", "--lang", "fr"])
    assert result.exit_code == 2


def test_the_tikz_picture_has_no_words():
    """TikZ labels are mathematics only, so a Chinese document's picture needs no CJK font."""
    for name in RECURRENT:
        assert graph(name, "--format", "tikz", "--lang", "zh") == graph(name, "--format", "tikz", "--lang", "en")


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("args", [[], ["--grad"], ["--unrolled", "--grad"]])
def test_graphviz_draws_chinese_labels(name, args):
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz is not installed")
    if "--unrolled" in args and not problem(name).recurrent:
        pytest.skip("not recurrent")
    text = graph(name, "--lang", "zh", *args)
    run = subprocess.run([dot, "-Tsvg"], input=text.encode("utf-8"), capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr.decode()
    assert b"<svg" in run.stdout and b"Warning" not in run.stderr
    if problem(name).recurrent:
        assert "（共享）" in run.stdout.decode("utf-8")


def test_chinese_punctuation_is_full_width():
    """解答： with the full-width colon, as Chinese text sets it (not 解答: or 解答.)."""
    solution = symprop.load("gru").solution()
    assert "   解答：\n" in solution.document("text", lang="zh") and "解答:" not in solution.document("text", lang="zh")
    assert "**解答：**" in solution.document("markdown", lang="zh")
    assert "   Solution:\n" in solution.document("text", lang="en")
