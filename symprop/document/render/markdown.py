"""Worked solutions as Markdown with $…$ / $$…$$ math that KaTeX renders,
and as MyST for Jupyter Book: the solutions in {dropdown} blocks."""

from ..solution import Rows, Table
from .document import LatexMath


class MarkdownRenderer(LatexMath):
    myst = False

    def cell(self, item) -> str:
        text = item if isinstance(item, str) else self.inline(item)
        return text.replace("|", r"\vert ")

    def rows(self, r: Rows) -> str:
        return "$$\n\\begin{aligned}\n" + self.aligned(r) + "\n\\end{aligned}\n$$"

    def figure(self, f) -> str:
        if self.myst:  # sphinx.ext.graphviz renders it with Graphviz
            return "```{graphviz}\n" + f.dot + "```"
        return "```mermaid\n" + f.mermaid + "```"

    def table(self, t: Table) -> str:
        head = "| " + " | ".join(self.cell(c) for c in t.header) + " |"
        rule = "|" + "|".join(":---:" for _ in t.header) + "|"
        body = ["| " + " | ".join(self.cell(c) for c in row) + " |" for row in t.rows]
        return "\n".join([head, rule] + body)

    def solution(self, content: str) -> str:
        return f"**{self.doc.word('solution')}.**\n\n{content}"

    def render(self) -> str:
        doc = self.doc
        out = [f"# {doc.title}", ""]
        if doc.source:
            out += [f"*{doc.word('source').format(source=doc.source)}*", ""]
        for item in doc.statement:
            out += [self.block(item), ""]
        for letter, part in self.parts():
            out += [f"__{letter}__ {self.para(part.question)}", ""]
            content = "\n\n".join(self.block(item) for item in part.solution)
            out += [self.solution(content), ""]
        for section in doc.appendix:
            out += [f"## {section.title}", ""]
            out += [x for item in section.blocks for x in (self.block(item), "")]
        return "\n".join(out).rstrip() + "\n"


class MystRenderer(MarkdownRenderer):
    """Jupyter Book: four backticks open the dropdown, so math blocks inside survive."""

    myst = True

    def solution(self, content: str) -> str:
        return f"````{{dropdown}} {self.doc.word('solution')}\n\n{content}\n\n````"
