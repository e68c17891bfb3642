"""Walk a worked-solution document; each format fills in how a piece looks."""

import re
import unicodedata

import sympy

from ...languages import LANGUAGES
from ..blocks import Beside, Document, Figure, Para, Part, Plot, Rows, Table, UserText
from ..maths import Maths, printed
from ..numbers import Number
from ..printing import TextPrinter
from .latex_printer import BINARY, RELATION, Group, is_tall, parse, render, tidy, width

# Control characters (ESC starts a terminal's escape sequences) but tab and newline, which are
# whitespace, and the bidi marks that reorder a line (pdflatex stops at U+202E).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> int:
    """Columns a text takes in a terminal: a Chinese character two, a combining accent (ŷ's hat) none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to take ``width`` columns."""
    return text + " " * max(0, width - shown(text))


def no_controls(text: str, mark: str = "\ufffd") -> str:
    """``text`` with every control character but tab and newline, and every bidi
    mark, replaced by ``mark``."""
    return CONTROL.sub(mark, text)


def paragraphs(text: str, one_line: bool = False) -> list[str]:
    """Words from the spec as paragraphs of one line each (a blank line
    separates them), control characters replaced, every run of whitespace one
    space; a title or a heading (``one_line``) is one paragraph."""
    text = no_controls(text.replace("\r\n", "\n"))
    pieces = [text] if one_line else re.split(r"\n\s*\n", text)
    return [" ".join(p.split()) for p in pieces if p.strip()]


class Renderer:
    """Subclasses give ``math`` (one formula) and the layout methods.

    The spec's own words (title, source, the statement and the questions,
    marked ``UserText``) are the user's, not markup: ``said`` writes them as
    text of the format, each subclass escaping them (``escape_text``)."""

    def __init__(self, doc: Document):
        self.doc = doc

    def escape_text(self, text: str) -> str:
        """One paragraph of the spec's words as text of this format."""
        return text

    def said(self, text: str, one_line: bool = False) -> str:
        """The spec's words: paragraphs escaped for the format; a title on one line."""
        return "\n\n".join(self.escape_text(p) for p in paragraphs(text, one_line))

    def render(self) -> str:
        raise NotImplementedError

    def block(self, item) -> str:
        if isinstance(item, Para):
            return self.para(item)
        if isinstance(item, Rows):
            return self.rows(item)
        if isinstance(item, Beside):
            return self.beside(item)
        if isinstance(item, Table):
            return self.table(item)
        if isinstance(item, Figure):
            return self.figure(item)
        if isinstance(item, Plot):
            return self.plot(item)
        raise TypeError(type(item).__name__)

    def figure(self, f: Figure) -> str:
        return ""

    def plot(self, p: Plot) -> str:
        """A format that does not draw shows the plotted numbers."""
        return self.table(p.table)

    def plain(self, item) -> str:
        """Words and mathematics as plain Unicode text (a picture's alt text, an HTML caption)."""
        printer = TextPrinter(self.doc.index_base, self.doc.sequences, self.doc.notation)
        parts = item.parts if isinstance(item, Para) else [item]
        return no_controls("".join(x if isinstance(x, str) else printed(x, printer, False) for x in parts))

    def math(self, item) -> str:
        raise NotImplementedError

    def cell(self, item) -> str:
        """A table cell: words as they are, anything else as mathematics."""
        return item if isinstance(item, str) else self.inline(item)

    def inline(self, item) -> str:
        raise NotImplementedError

    def words(self, piece: str) -> str:
        """Words of a paragraph: the spec's escaped, the string tables' as they are."""
        return self.said(piece) if isinstance(piece, UserText) else piece

    def source(self) -> str:
        """'Source: …', the spec's source on one line."""
        before, _, after = self.doc.word("source").partition("{source}")
        return self.words(before) + self.said(self.doc.source, one_line=True) + self.words(after)

    def para(self, p: Para) -> str:
        return "".join(self.words(piece) if isinstance(piece, str) else self.inline(piece) for piece in p.parts)

    def letter(self, i: int) -> str:
        return self.doc.word("letters")[i] + ")"

    def parts(self) -> list[tuple[str, Part]]:
        return [(part.letter + ")" if part.letter else self.letter(i), part) for i, part in enumerate(self.doc.parts)]


def is_math(item) -> bool:
    return isinstance(item, sympy.Basic | Number | Maths)


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
LINE_WIDTH = 38.0  # em of display mathematics a line holds (A4, 2.2 cm margins, 11pt: 43em)
BREAK_AT = set(BINARY) | set(RELATION)
ROW_GAP = "0.5ex"  # between the rows of a block of fractions or of broken rows


def _is_op(node) -> bool:
    return isinstance(node, str) and node in BREAK_AT


def _pieces(nodes: list, commas: bool = False) -> list[tuple[str, list]]:
    """Split at the top-level binary operators (and commas inside an opened
    bracket): [(operator, nodes)], the first operator ''."""
    pieces: list[tuple[str, list]] = [("", [])]
    for node in nodes:
        if isinstance(node, str) and node.isspace():
            if pieces[-1][1]:
                pieces[-1][1].append(node)
            continue
        last = [n for n in pieces[-1][1] if not (isinstance(n, str) and n.isspace())]
        if _is_op(node) and last and not _is_op(last[-1]):
            pieces.append((node, []))
        elif commas and node == "," and last:
            pieces[-1][1].append(node)
            pieces.append(("", []))
        else:
            pieces[-1][1].append(node)
    return [(op, nodes) for op, nodes in pieces if nodes or op]


def _piece_width(op: str, nodes: list) -> float:
    return BINARY.get(op, RELATION.get(op, 0.0)) + width(nodes)


_BRACKETS = {r"\left(": (r"\biggl(", r"\biggr)", r"\bigl(", r"\bigr)"),
             r"\bigl(": (r"\bigl(", r"\bigr)", r"\bigl(", r"\bigr)"),
             r"\Bigl(": (r"\Bigl(", r"\Bigr)", r"\Bigl(", r"\Bigr)"),
             r"\left[": (r"\biggl[", r"\biggr]", r"\bigl[", r"\bigr]"),
             "(": ("(", ")", "(", ")"), "[": ("[", "]", "[", "]")}


def _openable(opening: str) -> bool:
    opening = opening.replace(" ", "")
    return opening in _BRACKETS or re.fullmatch(r"\\[bB]igg?l[(\[]", opening) is not None


def _open_up(op: str, nodes: list) -> list[tuple[str, list]] | None:
    """A piece too wide for a line, its widest bracket opened: the pieces
    inside become pieces of their own, the brackets sized by hand (\\biggl(
    … \\biggr) can stand on different lines, \\left( … \\right) cannot)."""
    groups = [(width([n]), i) for i, n in enumerate(nodes)
              if isinstance(n, Group) and _openable(n.open)]
    if not groups:
        return None
    _, at = max(groups)
    group = nodes[at]
    inner = _pieces(group.children, commas=True)
    if len(inner) < 2:
        return None
    opening = group.open.replace(" ", "")
    if opening in _BRACKETS:  # \left( cannot span lines: sized by hand
        big_open, big_close, small_open, small_close = _BRACKETS[opening]
        tall = is_tall(render(group.children))
        left, right = (big_open, big_close) if tall else (small_open, small_close)
        if not tall and opening.startswith(r"\left"):
            left, right = left[-1], right[-1]
    else:  # (, [, \bigl( … already sized: as they are
        left, right = group.open, group.close
    first_op, first = inner[0]
    inner[0] = (first_op, nodes[:at] + [left] + first)
    last_op, last = inner[-1]
    inner[-1] = (last_op, last + [right] + nodes[at + 1:])
    inner[0] = (op, inner[0][1])
    return inner


def break_formula(text: str, first: float, rest: float) -> list[str]:
    """A formula as lines: the first at most ``first`` em wide, the others
    ``rest``; broken before top-level +, -, \\cdot (each continuation line
    starts with its operator), opening brackets when one piece is too wide."""
    if width(text) <= first:
        return [text]
    pieces = _pieces(parse(text))
    for _ in range(200):  # open up pieces too wide for any line
        for i, (op, nodes) in enumerate(pieces):
            if _piece_width(op, nodes) > rest:
                opened = _open_up(op, nodes)
                if opened:
                    pieces[i:i + 1] = opened
                    break
        else:
            break
    lines: list[list[tuple[str, list]]] = [[]]
    used = 0.0
    for op, nodes in pieces:
        w = _piece_width(op, nodes)
        limit = first if len(lines) == 1 else rest
        if lines[-1] and used + w > limit:
            lines.append([])
            used = 0.0
        lines[-1].append((op, nodes))
        used += w
    out = []
    for line in lines:
        text = ""
        for j, (op, nodes) in enumerate(line):
            body = render(nodes).strip()
            text += (f"{op} " if j == 0 else f" {op} ") + body if op else ("" if j == 0 else " ") + body
        out.append(text)
    return out


class LatexMath(Renderer):
    """The renderers whose mathematics is LaTeX (LaTeX itself, and Markdown
    and MyST, whose math KaTeX and MathJax read)."""

    line_width = LINE_WIDTH

    def __init__(self, doc: Document):
        super().__init__(doc)
        from .latex_printer import SympropLatexPrinter

        self.printer = SympropLatexPrinter(doc.index_base, doc.sequences, doc.notation)

    def math(self, item) -> str:
        if isinstance(item, Number):
            tex = tidy(item.latex())
        elif isinstance(item, Maths):  # set as a finished piece, its brackets tidied as a number's
            tex = tidy(self.printer.doprint(item))
        else:
            tex = self.printer.doprint(item)
        # Chinese words or punctuation (v、w) in a formula: text, which the math fonts lack
        return CJK.sub(lambda m: r"\text{" + m.group(0) + "}", tex)

    def inline(self, item) -> str:
        return f"${self.math(item)}$"

    def note(self, text: str) -> str:
        return text

    def continued(self, op: str) -> tuple[str, str]:
        """How a broken line ends and the next begins: the operator starts the
        next line; Russian typesetting repeats it at the end of the line."""
        if not op:
            return "", ""
        return (f" {op}{{}}" if LANGUAGES[self.doc.lang].repeat_operator else ""), f"{{}}{op} "

    def _lines(self, formula: str, first: float, rest: float) -> list[str]:
        """``formula`` broken into lines for an aligned block: the first line
        as it is, the others '&\\quad {}+ …' (the operator binary)."""
        lines = break_formula(formula, first, rest - 1.0)
        out = [lines[0]]
        for line in lines[1:]:
            op = next((o for o in sorted(BREAK_AT, key=len, reverse=True) if line.startswith(o + " ")), "")
            end, start = self.continued(op)
            out[-1] += end
            out.append(r"&\quad " + start + line[len(op):].lstrip())
        return out

    def aligned(self, r: Rows) -> str:
        """The rows for align* or aligned: 'lhs &= rhs = rhs'.  A row wider
        than the line gets one right-hand side a line, and a right-hand side
        still too wide is broken before a top-level +, - or \\cdot."""
        rows = []
        for row in r.rows:
            if len(row) == 1:  # one formula: its first top-level '=' is the alignment point
                text = self.math(row[0])
                nodes = parse(text)
                at = next((i for i, n in enumerate(nodes) if n == "="), None)
                rows.append((render(nodes[:at]).strip(), [render(nodes[at + 1:]).strip()]) if at
                            else (None, [text]))
            else:
                rows.append((self.math(row[0]), [self.math(x) for x in row[1:]]))
        lefts = [width(lhs) for lhs, _ in rows if lhs is not None]
        room = max(self.line_width - max(lefts, default=0) - 1.4, self.line_width / 2)
        lines = []
        for i, (lhs, sides) in enumerate(rows):
            note = r.notes[i] if r.notes and i < len(r.notes) else ""
            note_tex = r"\text{(" + self.note(note) + ")}" if note else ""
            if lhs is None:  # nothing to align at: the formula starts at the alignment point
                body = self._lines(sides[0], self.line_width, self.line_width)
                lines.append("&" + " \\\\\n".join(body))
                continue
            widths = [width(x) for x in sides]
            one_line = sum(widths) + 1.34 * (len(sides) - 1)
            if one_line <= room:
                line = lhs + " &= " + " = ".join(sides)
                block = [line]
            else:  # one right-hand side a line, each broken if it must be
                block = []
                for j, side in enumerate(sides):
                    pieces = self._lines(side, room, room)
                    pieces[0] = (lhs + " &= " if j == 0 else "&= ") + pieces[0]
                    block += pieces
            if note:  # beside its formula when there is room, else on a line of its own
                # (not in an && column: that one starts after the widest formula of the block)
                if len(block) == 1 and one_line + 2 + width(note_tex) <= room:
                    block[0] += r" \qquad " + note_tex
                else:
                    block.append(r"&\quad " + note_tex)
            lines.append(" \\\\\n".join(block))
        # rows of fractions or of several lines each: a little air between them
        airy = any("\\\\" in x or r"\frac" in x for x in lines) and len(lines) > 1
        return (" \\\\[" + ROW_GAP + "]\n" if airy else " \\\\\n").join(lines)
