"""A document as JSON: its structure (statement, lettered parts, appendix),
words as strings and every piece of mathematics printed twice, as Unicode
text and as LaTeX, by the same printers the other renderers use.  For a web
page or a grader that lays the document out itself."""

import json

from ..blocks import Beside, Document, Figure, Para, Plot, Rows, Table
from ..pictures import to_dot
from .doc_text import TextRenderer
from .document import LatexMath, Renderer


class JsonRenderer(Renderer):
    """Each block as a JSON object: {"para": [...]}, {"rows": ...}, {"beside": ...}, {"table": ...}, {"figure": ...}."""

    def __init__(self, doc: Document):
        super().__init__(doc)
        self.text = TextRenderer(doc, width=10_000)
        self.latex = LatexMath(doc)

    def render(self) -> str:
        doc = self.doc
        data = {
            "title": doc.title, "lang": doc.lang, "source": doc.source,
            "statement": [self.block(b) for b in doc.statement],
            "parts": [{"letter": letter[:-1], "question": self.para(part.question),
                       "solution": [self.block(b) for b in part.solution]} for letter, part in self.parts()],
            "appendix": [{"title": s.title, "blocks": [self.block(b) for b in s.blocks]} for s in doc.appendix],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def inline(self, item) -> dict:
        return {"text": self.text.inline(item), "latex": self.latex.math(item)}

    def cell(self, item):
        return item if isinstance(item, str) else self.inline(item)

    def para(self, p: Para) -> dict:
        return {"para": [self.words(x) if isinstance(x, str) else self.inline(x) for x in p.parts]}

    def rows(self, r: Rows) -> dict:
        return {"rows": [[self.inline(x) for x in row] for row in r.rows], "notes": list(r.notes)}

    def beside(self, b: Beside) -> dict:
        return {"beside": {"labels": list(b.labels), "rows": [[self.inline(x) for x in row] for row in b.rows]}}

    def table(self, t: Table) -> dict:
        return {"table": {"header": [self.cell(x) for x in t.header],
                          "rows": [[self.cell(x) for x in row] for row in t.rows]}}

    def figure(self, f: Figure) -> dict:
        return {"figure": {"dot": to_dot(f.picture)}}

    def plot(self, p: Plot) -> dict:
        """The plot of BPTT as its numbers: each series' (t, value), on a log scale (a 0 is not drawn)."""
        return {"plot": {"scale": "log", "x": "t", "y": self.inline(p.y_label),
                         "series": [{"name": self.inline(s.name), "t": [t for t, _ in s.points],
                                     "values": [float(v) for _, v in s.points]} for s in p.series],
                         "caption": self.para(p.caption), "alt": self.plain(p.alt)}}

