"""Worked solutions as plain Unicode text, for a terminal."""

from ..printing import TextPrinter
from ..solution import Document, Number, Pre, Rows, Table
from .document import Renderer

INDENT = "   "


class TextRenderer(Renderer):
    def __init__(self, doc: Document):
        super().__init__(doc)
        self.printer = TextPrinter(doc.index_base, doc.sequences)

    def inline(self, item) -> str:
        if isinstance(item, Number):
            return item.text()
        if isinstance(item, Pre):
            return item.text
        return self.printer.doprint(item)

    def rows(self, r: Rows) -> str:
        lefts = [self.inline(row[0]) for row in r.rows]
        width = max((len(x) for x in lefts), default=0)
        lines = []
        for i, (left, row) in enumerate(zip(lefts, r.rows)):
            if len(row) == 1:
                lines.append("  " + left)
                continue
            line = "  " + left.ljust(width) + " = " + " = ".join(self.inline(x) for x in row[1:])
            if r.notes and i < len(r.notes) and r.notes[i]:
                line += f"   ({r.notes[i]})"
            lines.append(line.rstrip())
        return "\n".join(lines)

    def table(self, t: Table) -> str:
        cells = [[self.cell(c) for c in t.header]] + [[self.cell(c) for c in row] for row in t.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)

    def render(self) -> str:
        doc = self.doc
        out = [doc.title, "=" * len(doc.title), ""]
        if doc.source:
            out += [doc.word("source").format(source=doc.source), ""]
        for item in doc.statement:
            text = self.block(item)
            if text:
                out += [text, ""]
        for letter, part in self.parts():
            out += [f"{letter} {self.para(part.question)}", "", f"{INDENT}{doc.word('solution')}:", ""]
            for item in part.solution:
                text = self.block(item)
                out += [INDENT + line if line else line for line in text.split("\n")] + [""]
        for section in doc.appendix:
            out += [section.title, "-" * len(section.title), ""]
            for item in section.blocks:
                text = self.block(item)
                if text:
                    out += [text, ""]
        return "\n".join(out).rstrip() + "\n"
