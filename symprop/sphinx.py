"""symprop in a Sphinx site or a Jupyter Book: the ``{symprop}`` directive.

    ```{symprop} masha_rnn
    :show: statement, solution
    :lang: en
    ```

The directive renders the same document as ``symprop solve/derive --format
myst`` (the same builders and the same MyST renderer) and parses it into the
page.  Before it shows anything it checks the spec as ``symprop check`` does:
a claim in ``[expected]`` that disagrees, a spec symprop refuses, or a bad
option is one error naming the page, the line and the claim or key, nothing
of the problem is put into the page, and the build exits non-zero, with or
without ``-W``.  The rules are in docs/sphinx.md.

This is the only module that imports Sphinx (the ``sphinx`` extra); nothing
in symprop imports it.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from myst_parser.mocking import MockState
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import clean_astext

from . import __version__
from .api import (
    AUDIENCES,
    LANGUAGES,
    STRINGS,
    Figure,
    derivation_document,
    load,
    loads,
    no_controls,
    render,
    run_checks,
    shipped,
    solution_document,
)
from .errors import SympropError

logger = logging.getLogger(__name__)

SHOW = ("title", "statement", "graph", "solution", "derivation", "appendix")
CLAIMS = ("strict", "report")
OPTIONS = ("show", "parts", "lang", "audience", "digits", "claims", "fractions", "floats")
BOX, TITLE, BODY, SECTION = "symprop", "symprop-title", "symprop-body", "symprop-section"


class Refused(Exception):
    """One clear line: why this directive shows nothing and the build fails.
    ``line`` is the page's line it points at (default: the directive's)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


class _AnyOption(dict):
    """Every option reaches ``run``, which names an unknown one in an error
    (MyST would only warn and drop it, and the build would pass without -W)."""

    def __missing__(self, key):
        return directives.unchanged


def _words(value: str | None) -> list[str]:
    return [w for w in re.split(r"[,\s]+", value or "") if w]


def _short(value) -> str:
    """A claimed or computed value in a message: numbers to 6 significant digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return format(value, ".6g")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value + '"'
    return str(value)


def _claim_lines(text: str) -> dict[str, int]:
    """The line (from 1) of each key of the spec's ``[expected]`` table."""
    found, inside = {}, False
    for i, line in enumerate(text.splitlines(), 1):
        s = line.split("#", 1)[0].strip()
        if s.startswith("["):
            inside = s.replace(" ", "") == "[expected]"
            continue
        m = re.match(r"""\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_.\-]+))\s*=""", line)
        if inside and m:
            found.setdefault(m.group(1) or m.group(2) or m.group(3), i)
    return found


def _array_files(text: str, folder: Path) -> list[Path]:
    """The .npy/.npz files a spec's values name (its dependencies besides itself)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    names: set[str] = set()

    def walk(x):
        if isinstance(x, str):
            names.add(x.split(":", 1)[0])
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(data.get("values", {}))
    walk(data.get("model", {}).get("initial", {}) if isinstance(data.get("model"), dict) else {})
    walk(data.get("training", {}).get("batches", []) if isinstance(data.get("training"), dict) else [])
    return [folder / n for n in sorted(names) if n.endswith((".npy", ".npz")) and (folder / n).is_file()]


class SympropDirective(SphinxDirective):
    """```{symprop} SPEC``` (a path relative to the page, or a shipped
    problem's name), or ```{symprop}``` with the spec as TOML in its body."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = _AnyOption({name: directives.unchanged for name in OPTIONS})

    def run(self) -> list[nodes.Node]:
        try:
            return self._run()
        except Refused as e:
            return self._refuse(str(e), e.line)
        except SympropError as e:
            path, label = getattr(self, "_named", ("", ""))
            return self._refuse(str(e).replace(path, label) if path else str(e))
        except (RecursionError, MemoryError):
            return self._refuse("the problem is too large or nested too deeply")
        except Exception as e:  # a bug in symprop: still one line, and the build fails
            first = str(e).splitlines()[0] if str(e) else ""
            return self._refuse(f"internal error ({type(e).__name__}: {first}); please report it with the spec")

    def _refuse(self, message: str, line: int | None = None) -> list[nodes.Node]:
        """Log the error at the page's line, remember the page (re-read on
        the next build, exit status 1), and put nothing of the problem into
        the page: a title (so a page that is just the directive still has
        one, and Sphinx adds no warnings of its own) and a line saying so."""
        message = no_controls(f"symprop: {message}")  # the spec's words never drive a terminal
        logger.error(message, location=(self.env.docname, line or self.lineno))
        _failed(self.env)[self.env.docname] = message
        title = getattr(self, "_title", None) or f"symprop: {self.arguments[0] if self.arguments else 'the inline spec'}"
        box = nodes.container(classes=[BOX])
        box += nodes.rubric(title, title, classes=[TITLE])
        box += nodes.paragraph(text="This problem is not shown: symprop refused it (the build's log says why).")
        return [box]

    # Options ----------------------------------------------------------------------------

    def _option(self, name: str, choices) -> str | None:
        value = self.options.get(name)
        if value is None:
            return None
        value = value.strip()
        if value not in choices:
            raise Refused(f":{name}: must be one of {', '.join(choices)}, not {value!r}")
        return value

    def _options(self) -> dict:
        unknown = sorted(set(self.options) - set(OPTIONS))
        if unknown:
            raise Refused(f"unknown option :{unknown[0]}: (the options: {', '.join(OPTIONS)})")
        digits = self.options.get("digits")
        if digits is not None:
            if not re.fullmatch(r"\s*\d{1,2}\s*", digits) or not 1 <= int(digits) <= 12:
                raise Refused(f":digits: must be a whole number from 1 to 12, not {digits.strip()!r}")
            digits = int(digits)
        show = _words(self.options.get("show"))
        for item in show:
            if item not in SHOW:
                raise Refused(f":show: takes {', '.join(SHOW)}; not {item!r}")
        if "show" in self.options and not show:
            raise Refused(f":show: needs at least one of {', '.join(SHOW)}")
        for flag in ("fractions", "floats"):
            if self.options.get(flag, "").strip():
                raise Refused(f":{flag}: takes no value (it is on when given)")
        if "parts" in self.options and not _words(self.options["parts"]):
            raise Refused(":parts: needs the letters of the parts to show, e.g. a, b")
        return {"lang": self._option("lang", LANGUAGES), "audience": self._option("audience", AUDIENCES) or "teacher",
                "digits": digits, "claims": self._option("claims", CLAIMS), "show": show,
                "fractions": "fractions" in self.options, "exact": "floats" not in self.options,
                "parts": _words(self.options.get("parts"))}

    # The spec -----------------------------------------------------------------------------

    def _spec(self):
        """(problem, its TOML text, a name for messages, line of the TOML's first line in
        the page or None, shipped?)"""
        body = "\n".join(self.content)
        if self.arguments and body.strip():
            raise Refused("give the spec as a path or as TOML in the body, not both")
        if not self.arguments:
            if not body.strip():
                raise Refused("no spec: give a path (or a shipped problem's name) or the TOML in the body")
            self._label = "the inline spec"
            return loads(body, origin=self._label), body, self._label, self._body_line(), False
        name = self.arguments[0].strip()
        relative, path = self.env.relfn2path(name, self.env.docname)
        path = Path(path)
        problems = shipped()
        inside = path.resolve().is_relative_to(Path(self.env.srcdir).resolve())  # a link out is outside
        if path.is_file() and inside:
            is_shipped = False
        elif name in problems:
            path, is_shipped = problems[name], True
        elif path.exists() and not inside:
            raise Refused(f"{name}: {path.resolve()} is outside the Sphinx source folder {self.env.srcdir}: "
                          "the directive reads only files inside it, or a shipped problem")
        else:
            raise Refused(f"{name}: no such file (relative to the page) or shipped problem "
                          f"(shipped: {', '.join(problems) or 'none'})")
        self.env.note_dependency(str(path))  # before loading: fixing a spec symprop refused reads the page again
        label = name if is_shipped else str(relative)
        self._label, self._named = label, (str(path), label)  # messages name the spec as the page does
        problem = load(path)  # within symprop's limits, so the text below is small
        text = path.read_text("utf-8", errors="replace")
        for extra in _array_files(text, path.parent):
            self.env.note_dependency(str(extra))
        return problem, text, label, None, is_shipped

    def _body_line(self) -> int:
        """The page's line of the body's first line (MyST counts the option lines in content_offset)."""
        lines, body = self.block_text.splitlines(), list(self.content)
        for i in range(1, len(lines)):
            if lines[i:i + len(body)] == body:
                return self.lineno + i
        return self.lineno + 1 + self.content_offset

    # Claims -------------------------------------------------------------------------------

    def _check(self, problem, text: str, label: str, first: int | None, strict: bool):
        """Refuse when symprop's own checks fail, or (strict) when a claim
        disagrees; the numbers checked (a solution, or None without values)."""
        report = run_checks(problem.spec, "fd")
        for name, check in report.checks.items():
            if not check.passed:
                raise Refused(f"{label}: symprop's own check {name.replace('_', ' ')} fails, so its numbers "
                              "cannot be shown; please report it with the spec")
        wrong = [row for row in report.expected or [] if not row.get("ok", True)]
        if not wrong:
            return report.solution
        if not strict:
            logger.info("symprop: %s: %d claim(s) of the source disagree; the teacher's appendix shows them",
                        label, len(wrong), location=(self.env.docname, self.lineno))
            return report.solution
        lines = _claim_lines(text)
        said, at = [], None
        for row in wrong:
            key = row["key"]
            line = lines.get(key)
            where = "" if line is None else (f"line {line}: " if first is None else f"page line {first + line - 1}: ")
            if at is None and first is not None and line is not None:
                at = first + line - 1
            claim = f'{where}"{key}" = {_short(row.get("claimed"))}'
            if "computed" in row:
                said.append(f"{claim}, but symprop computes {_short(row['computed'])}")
            else:
                said.append(f"{claim} is wrong ({row.get('reason') or row.get('verdict') or 'disagrees'})")
        head = (f"{label}: a claim in [expected] is wrong" if len(wrong) == 1 else
                f"{label}: {len(wrong)} claims in [expected] are wrong")
        raise Refused(f"{head}: {'; '.join(said)} (to show a source's errors in the teacher's appendix "
                      "instead, use :claims: report)", at)

    # The document -------------------------------------------------------------------------

    def _document(self, problem, o: dict, solution):
        has_values = bool(problem.values)
        show = set(o["show"]) or {"title", "statement", "graph", "appendix",
                                  "solution" if has_values else "derivation"}
        if o["audience"] == "student":
            if "appendix" in o["show"]:
                raise Refused(":show: appendix is the teacher's: :audience: student leaves it out")
            show.discard("appendix")
        if {"solution", "derivation"} <= show:
            raise Refused(":show: takes solution or derivation, not both (use two directives)")
        if "solution" in show and not has_values:
            raise Refused(f"{self._label}: :show: solution needs [values]; show derivation instead")
        if o["parts"] and not show & {"solution", "derivation"}:
            raise Refused(":parts: chooses parts of the solution or derivation: show one of them")
        if has_values and "derivation" not in show:  # the statement gives the numbers too
            doc = solution_document(problem.spec, solution, o["lang"], o["audience"],
                                    o["digits"], o["exact"], o["fractions"])
        else:
            doc = derivation_document(problem.spec, o["lang"], o["audience"], o["digits"])
        return _chosen(doc, show, o["parts"]), show

    def _run(self) -> list[nodes.Node]:
        if not isinstance(self.state, MockState):
            raise Refused("the symprop directive works in MyST pages (.md), not in reStructuredText")
        myst = set(getattr(self.config, "myst_enable_extensions", None) or ())
        if "dollarmath" not in myst:
            raise Refused('the worked solution is MyST with $$ math: add "dollarmath" to myst_enable_extensions '
                          "(Jupyter Book: parse: myst_enable_extensions)")
        o = self._options()
        problem, text, label, first, is_shipped = self._spec()
        self._title = " ".join(problem.spec.title_in(o["lang"] or problem.lang).split())
        strict = (o["claims"] or ("report" if is_shipped else "strict")) == "strict"
        solution = self._check(problem, text, label, first, strict)
        doc, show = self._document(problem, o, solution)
        return [self._nodes(doc, show)]

    def _parse(self, markdown: str, into: nodes.Element) -> None:
        self.state.nested_parse(StringList(markdown.splitlines(), source=self.env.docname), 0, into)

    def _nodes(self, doc, show: set) -> nodes.Element:
        """The document as nodes: the title and the appendix's headings as rubrics
        (made sections by ``Headings`` when the directive opens the page), the
        rest parsed as the MyST it renders to."""
        box = nodes.container(classes=[BOX])
        head, _, body = render(dataclasses.replace(doc, appendix=[]), "myst").partition("\n")
        if "title" in show:
            inline, messages = self.state.inline_text(head.removeprefix("# "), self.lineno)
            box += nodes.rubric("", "", *inline, classes=[TITLE])
            box += messages
        main = nodes.container(classes=[BODY])
        self._parse(body, main)
        box += main
        for section in doc.appendix:
            page = dataclasses.replace(doc, source=None, statement=section.blocks, parts=[], appendix=[])
            part = nodes.container(classes=[SECTION])
            part += nodes.rubric(section.title, section.title)
            self._parse(render(page, "myst").partition("\n")[2], part)
            box += part
        return box


def _chosen(doc, show: set, letters: list[str]):
    """The document with only what ``:show:`` and ``:parts:`` ask for."""

    def pictures(blocks):
        return [b for b in blocks if not isinstance(b, Figure) or "graph" in show]

    if "statement" in show:
        statement = pictures(doc.statement)
    else:
        statement = [b for b in doc.statement if isinstance(b, Figure) and "graph" in show]
    parts = []
    if show & {"solution", "derivation"}:
        alphabet = doc.word("letters")
        named = [(part.letter or alphabet[i], part) for i, part in enumerate(doc.parts)]
        wanted = set()
        for token in letters:
            token = token.rstrip(")")
            hits = [i for i, (letter, _) in enumerate(named) if _same_letter(token, letter)]
            if not hits:
                shown = ", ".join(letter for letter, _ in named) or "none"
                raise Refused(f":parts: there is no part {token} (the parts: {shown})")
            wanted.update(hits)
        for i, (letter, part) in enumerate(named):
            if not letters or i in wanted:
                parts.append(dataclasses.replace(part, letter=letter, solution=pictures(part.solution)))
    return dataclasses.replace(doc, source=doc.source if "statement" in show else None, statement=statement,
                               parts=parts, appendix=[s for s in doc.appendix if ("appendix" in show and s.teacher)
                                                      or (not s.teacher and "solution" in show and not letters)])


def _same_letter(token: str, letter: str) -> bool:
    """``b`` names part б and ``б`` part b: the same place in any alphabet symprop writes."""
    if token == letter:
        return True
    places = {s["letters"].index(token) for s in STRINGS.values() if token in s["letters"]}
    return any(s["letters"].index(letter) in places for s in STRINGS.values() if letter in s["letters"])


class Headings(SphinxTransform):
    """The title and the appendix's headings: the page's own title and
    sections when the directive opens the page (it stands before any
    heading: a page that is just the directive), else rubrics one and two
    levels below the section the directive stands in (``<h2>``, ``<h3>``)."""

    default_priority = 200  # before the collectors read titles and sections (doctree-read)

    def apply(self, **kwargs) -> None:
        for box in list(self.document.findall(nodes.container)):
            if BOX not in box["classes"]:
                continue
            title = next((c for c in box.children if isinstance(c, nodes.rubric) and TITLE in c["classes"]), None)
            if title is not None and box.parent is self.document:
                self.sections(box, title)
                continue
            depth = len([a for a in _ancestors(box) if isinstance(a, nodes.section)])
            for rubric in box.findall(nodes.rubric):
                if TITLE in rubric["classes"]:
                    rubric["heading-level"] = min(depth + 1, 6)
                elif isinstance(rubric.parent, nodes.container) and SECTION in rubric.parent["classes"]:
                    rubric["heading-level"] = min(depth + (2 if title is not None else 1), 6)

    def section(self, rubric: nodes.rubric) -> nodes.section:
        section = nodes.section()
        section += nodes.title("", "", *rubric.children)
        section["names"].append(nodes.fully_normalize_name(clean_astext(rubric)))
        self.document.note_implicit_target(section, section)
        return section

    def sections(self, box: nodes.container, title: nodes.rubric) -> None:
        page = self.section(title)
        for child in box.children:
            if child is title:
                continue
            if isinstance(child, nodes.container) and SECTION in child["classes"]:
                heading, *rest = child.children
                sub = self.section(heading)
                sub.extend(rest)
                page += sub
            elif isinstance(child, nodes.container) and BODY in child["classes"]:
                page.extend(child.children)
            else:
                page += child
        box.replace_self(page)


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


# The environment: a page that failed is read again on every build, so an
# incremental build cannot pass while the spec is still wrong -----------------------------

def _failed(env) -> dict[str, str]:
    if not hasattr(env, "symprop_failed"):
        env.symprop_failed = {}
    return env.symprop_failed


def _purge(app, env, docname: str) -> None:
    _failed(env).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    _failed(env).update({d: m for d, m in _failed(other).items() if d in docnames})


def _outdated(app, env, added, changed, removed) -> list[str]:
    return [d for d in _failed(env) if d in env.found_docs and d not in removed]


def _finished(app, exception) -> None:
    """A directive that refused fails the build, with or without -W."""
    if exception is None and app.env is not None and _failed(app.env):
        app.statuscode = app.statuscode or 1


def setup(app) -> dict:
    app.setup_extension("sphinx_design")  # the solutions are {dropdown} blocks
    app.setup_extension("sphinx.ext.graphviz")  # the picture of the graph is a {graphviz} block
    app.add_directive("symprop", SympropDirective)
    app.add_transform(Headings)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _finished)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
