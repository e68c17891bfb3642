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
