"""Walk a worked-solution document; each format fills in how a piece looks."""

import sympy

from ..solution import Document, Figure, Number, Para, Part, Pre, Rows, Table


class Renderer:
    """Subclasses give ``math`` (one formula) and the layout methods."""

    def __init__(self, doc: Document):
        self.doc = doc

    def render(self) -> str:
        raise NotImplementedError

    def block(self, item) -> str:
        if isinstance(item, Para):
            return self.para(item)
        if isinstance(item, Rows):
            return self.rows(item)
        if isinstance(item, Table):
            return self.table(item)
        if isinstance(item, Figure):
            return self.figure(item)
        raise TypeError(type(item).__name__)

    def figure(self, f: Figure) -> str:
        return ""

    def math(self, item) -> str:
        raise NotImplementedError

    def cell(self, item) -> str:
        """A table cell: words as they are, anything else as mathematics."""
        return item if isinstance(item, str) else self.inline(item)

    def inline(self, item) -> str:
        raise NotImplementedError

    def para(self, p: Para) -> str:
        return "".join(piece if isinstance(piece, str) else self.inline(piece) for piece in p.parts)

    def letter(self, i: int) -> str:
        return self.doc.word("letters")[i] + ")"

    def parts(self) -> list[tuple[str, Part]]:
        return [(self.letter(i), part) for i, part in enumerate(self.doc.parts)]


def is_math(item) -> bool:
    return isinstance(item, sympy.Basic | Number | Pre)


LONG_ROW = 160  # characters of LaTeX in one row's right-hand sides


class LatexMath(Renderer):
    """The renderers whose mathematics is LaTeX (LaTeX itself, and Markdown
    and MyST, whose math KaTeX and MathJax read)."""

    def __init__(self, doc: Document):
        super().__init__(doc)
        from .latex_printer import SympropLatexPrinter

        self.printer = SympropLatexPrinter(doc.index_base, doc.sequences)

    def math(self, item) -> str:
        if isinstance(item, Number):
            return item.latex()
        if isinstance(item, Pre):
            return item.latex
        return self.printer.doprint(item)

    def inline(self, item) -> str:
        return f"${self.math(item)}$"

    def note(self, text: str) -> str:
        return text

    def aligned(self, r: Rows) -> str:
        """The rows for align* or aligned: 'lhs &= rhs = rhs', long ones broken."""
        lines = []
        for i, row in enumerate(r.rows):
            if len(row) == 1:
                lines.append(self.math(row[0]))
                continue
            sides = [self.math(x) for x in row[1:]]
            # a long row gets one right-hand side a line: "= chain" then "= closed form"
            joint = " \\\\\n&= " if sum(len(x) for x in sides) > LONG_ROW else " = "
            line = self.math(row[0]) + " &= " + joint.join(sides)
            if r.notes and i < len(r.notes) and r.notes[i]:
                line += r" &&\text{(" + self.note(r.notes[i]) + ")}"
            lines.append(line)
        return " \\\\\n".join(lines)
