"""Worked solutions as Markdown with $…$ / $$…$$ math that KaTeX renders,
and as MyST for Jupyter Book: the solutions in {dropdown} blocks.

The spec's words are text: every character that could start markup is
backslash-escaped (CommonMark shows an escaped punctuation character as it is),
so they cannot open code, a directive or role, HTML, math, emphasis, a link
or a table cell; at the start of a paragraph also what would begin a list, a
rule, a fence, a MyST comment or target.
"""

import re
from html import escape
from urllib.parse import quote

from ..blocks import Beside, Plot, Rows, Table
from ..pictures import to_dot, to_mermaid
from ..plots import to_svg
from .document import LatexMath, no_controls

MARKUP = re.compile(r"[\\`*_{}\[\]<>#|$~&]")  # code, roles, emphasis, links, HTML, math, tables
LIST_NUMBER = re.compile(r"\d+(?=[.)])")  # "1." or "1)" starting a paragraph: a numbered list
BLOCK_MARK = "-+=:%("  # a list, a rule, a fence (:::), a MyST break (+++), comment (%) or target ((x)=)


def markdown_text(text: str) -> str:
    """One paragraph of the spec's words as Markdown and MyST that show them as they are."""
    text = MARKUP.sub(lambda m: "\\" + m.group(0), text)
    number = LIST_NUMBER.match(text)
    if number:
        return text[:number.end()] + "\\" + text[number.end():]
    return "\\" + text if text[:1] in BLOCK_MARK else text


class MarkdownRenderer(LatexMath):
    myst = False

    def __init__(self, doc, files: dict[str, str] | None = None, stem: str = ""):
        """With ``files``, each plot goes there as an SVG file named after ``stem`` (x-norms.svg for
        x.md), which the document shows as an image: GitHub's view of Markdown strips inline SVG."""
        super().__init__(doc)
        self.files, self.stem = files, stem

    def escape_text(self, text: str) -> str:
        return markdown_text(text)

    def cell(self, item) -> str:
        text = item if isinstance(item, str) else self.inline(item)
        return text.replace("|", r"\vert ")

    def rows(self, r: Rows) -> str:
        return "$$\n\\begin{aligned}\n" + self.aligned(r) + "\n\\end{aligned}\n$$"

    def beside(self, b: Beside) -> str:
        """One display, a line each: the words, then the formula, the formulas aligned."""
        lines = [rf"\text{{{label}}} &\quad " + " = ".join(self.math(x) for x in row) for label, row in zip(b.labels, b.rows)]
        return "$$\n\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}\n$$"

    def figure(self, f) -> str:
        if self.myst:  # sphinx.ext.graphviz renders it with Graphviz
            return "```{graphviz}\n" + to_dot(f.picture) + "```"
        return "```mermaid\n" + to_mermaid(f.picture) + "```"

    def plot(self, p: Plot) -> str:
        """The plot as SVG in an HTML figure (one block: no blank line in it), captioned; or,
        writing files, an image of the SVG file beside the document, with its alt text, then its caption."""
        if self.files is not None and not self.myst:
            name = f"{self.stem}-norms" + (f"-{len(self.files) + 1}" if self.files else "") + ".svg"
            self.files[name] = to_svg(p, self.plain) + "\n"
            return f"![{markdown_text(self.plain(p.alt))}]({quote(name)})\n\n{self.para(p.caption)}"
        return (f"<figure>\n{to_svg(p, self.plain)}\n<figcaption>{escape(self.plain(p.caption))}</figcaption>\n"
                "</figure>")

    def table(self, t: Table) -> str:
        head = "| " + " | ".join(self.cell(c) for c in t.header) + " |"
        rule = "|" + "|".join(":---:" for _ in t.header) + "|"
        body = ["| " + " | ".join(self.cell(c) for c in row) + " |" for row in t.rows]
        return "\n".join([head, rule] + body)

    def solution(self, content: str) -> str:
        return f"**{self.doc.word('solution')}{self.doc.heading_stop}**\n\n{content}"

    def render(self) -> str:
        doc = self.doc
        out = [f"# {self.said(doc.title, one_line=True)}", ""]
        if doc.source:
            out += [f"*{self.source()}*", ""]
        for item in doc.statement:
            out += [self.block(item), ""]
        for letter, part in self.parts():
            out += [f"__{self.escape_text(letter)}__ {self.para(part.question)}", ""]
            content = "\n\n".join(self.block(item) for item in part.solution)
            out += [self.solution(content), ""]
        for section in doc.appendix:
            out += [f"## {section.title}", ""]
            out += [x for item in section.blocks for x in (self.block(item), "")]
        return no_controls("\n".join(out).rstrip() + "\n")


class MystRenderer(MarkdownRenderer):
    """Jupyter Book: four backticks open the dropdown, so math blocks inside survive."""

    myst = True

    def solution(self, content: str) -> str:
        return f"````{{dropdown}} {self.doc.word('solution')}\n\n{content}\n\n````"
