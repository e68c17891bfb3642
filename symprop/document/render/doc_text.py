"""Worked solutions as plain Unicode text, for a terminal.

Everything fits the width: the terminal's (100 when the output is not a
terminal).  Prose is wrapped with its indent kept; a formula row too wide is
broken before a top-level ' + ', ' - ' or '·' with a hanging indent; a table
too wide is split into several, each repeating the first column.
"""

import re
import shutil
import sys
import textwrap

from ..blocks import Beside, Document, Plot, Rows, Table
from ..numbers import Number
from ..printing import TextPrinter
from .document import Renderer, no_controls, pad, shown

INDENT = "   "
DEFAULT_WIDTH = 100


def terminal_width() -> int:
    if sys.stdout is not None and sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


def _depths(text: str) -> list[int]:
    """The bracket depth before each character."""
    depth, out = 0, []
    for ch in text:
        if ch in ")]}":
            depth = max(0, depth - 1)
        out.append(depth)
        if ch in "([{":
            depth += 1
    return out


def _break_points(text: str) -> list[int]:
    """Where a formula may break: before a top-level ' + ', ' - ', ' = ' or '·'
    (at the shallowest bracket depth that has any)."""
    depths = _depths(text)
    found: dict[int, list[int]] = {}
    for i, ch in enumerate(text):
        if i == 0:
            continue
        if (text.startswith((" + ", " - ", " = ", " ⊙ "), i) and i + 3 <= len(text)) or ch == "·":
            found.setdefault(depths[i], []).append(i + 1 if ch == " " else i)
    for depth in sorted(found):
        return found[depth]
    return []


def break_line(line: str, width: int, hang: int) -> list[str]:
    """A formula line as lines at most ``width`` wide: broken before a
    top-level operator (a new right-hand side '= …' by preference, under the
    first '='; '+ …', '·…' two columns further in), else after a comma or
    semicolon, else at a space."""
    out = []
    while len(line) > width:
        candidates = [
            _break_points(line),
            [i for i in range(3, len(line)) if line[i - 3:i] == "], " and line[i] == "["],  # between matrices
            [i for i in range(2, len(line)) if line[i - 2:i] == "; "],  # a matrix between rows
            [i for i in range(2, len(line)) if line[i - 2:i] == ", "],
            [i for i in range(1, len(line)) if line[i] == " " and line[i - 1] != " "],
        ]
        cut = None
        for points in candidates:
            fits = [p for p in points if line[:p].strip() and p <= width]
            good = []
            for p in fits:
                rest = line[p:].lstrip()
                following = " " * (hang if rest.startswith("=") else hang + 2) + rest
                if len(following) < len(line) and line[:p].strip():
                    good.append((p, following))
            if good:
                equals = [g for g in good if line[g[0]] == "=" and g[0] > width // 3]
                cut = (equals or good)[-1]
                break
        if cut is None:
            break
        p, following = cut
        out.append(line[:p].rstrip())
        line = following
    out.append(line)
    return out


def _value_apart(lines: list[str], hang: int) -> list[str]:
    """A broken line ends '= value' on a line of its own, under the first '=', so
    that the numbers above it are read as the whole formula, not its last part."""
    if len(lines) < 2 or " = " not in lines[-1]:
        return lines
    head, _, value = lines[-1].rpartition(" = ")
    if not head.strip() or not re.fullmatch(r"\(?-?[\d.]+(?:·10[⁰-⁹⁻]+)?\)?", value.strip()):
        return lines
    return lines[:-1] + [head.rstrip(), " " * hang + "= " + value]


class TextRenderer(Renderer):
    def __init__(self, doc: Document, width: int | None = None):
        super().__init__(doc)
        self.printer = TextPrinter(doc.index_base, doc.sequences, doc.notation)
        self.width = width or terminal_width()

    def inline(self, item) -> str:
        if isinstance(item, Number):
            return item.text()
        return self.printer.doprint(item)

    def wrap(self, text: str, indent: str, width: int | None = None) -> str:
        """Prose wrapped to the width, every line with the indent."""
        width = (width or self.width)
        return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent,
                             break_long_words=True, break_on_hyphens=False) if text.strip() else text

    def rows(self, r: Rows, room: int | None = None) -> str:
        room = room or self.width
        lefts = [self.inline(row[0]) for row in r.rows]
        width = max((shown(x) for x in lefts), default=0)
        if width > room // 3:
            width = 0
        lines = []
        for i, (left, row) in enumerate(zip(lefts, r.rows)):
            if len(row) == 1:
                lines += break_line("  " + left, room, 4)
                continue
            line = "  " + pad(left, width) + " = " + " = ".join(self.inline(x) for x in row[1:])
            note = r.notes[i] if r.notes and i < len(r.notes) else ""
            if note and len(line) + 3 + len(note) + 2 <= room:
                line += f"   ({note})"
                note = ""
            hang = min(max(shown(left), width) + 3, room // 3)
            lines += _value_apart([x.rstrip() for x in break_line(line.rstrip(), room, hang)], hang)
            if note:
                lines.append(self.wrap(f"({note})", " " * hang, room))
        return "\n".join(lines)

    def beside(self, b: Beside, room: int | None = None) -> str:
        """Each formula on a line after its words, the words padded so that the formulas align."""
        room = room or self.width
        width = max(shown(label) for label in b.labels) + 2
        lines = []
        for label, row in zip(b.labels, b.rows):
            line = "  " + pad(label, width) + " = ".join(self.inline(x) for x in row)
            lines += break_line(line, room, min(width + 4, room // 3))
        return "\n".join(lines)

    def table(self, t: Table, room: int | None = None) -> str:
        """Columns as wide as their widest cell; a table wider than the room
        is split into several, each repeating the first column."""
        room = room or self.width
        texts = [[self.cell(c) for c in t.header]] + [[self.cell(c) for c in row] for row in t.rows]
        limit = max(20, room - 4 - max(len(row[0]) for row in texts))  # a cell wider breaks into lines
        cells = [[[c] if j == 0 or len(c) <= limit else break_line(c, limit, 0) for j, c in enumerate(row)]
                 for row in texts]
        widths = [max(shown(line) for row in cells for line in row[i]) for i in range(len(cells[0]))]
        groups: list[list[int]] = [[]]
        used = 2 + widths[0]
        for j in range(1, len(widths)):
            if groups[-1] and used + 2 + widths[j] > room:
                groups.append([])
                used = 2 + widths[0]
            groups[-1].append(j)
            used += 2 + widths[j]
        chunks = []
        for group in groups:
            columns = [0] + group
            chunks.append("\n".join(
                "  " + "  ".join(pad(row[j][k] if k < len(row[j]) else "", widths[j]) for j in columns).rstrip()
                for row in cells for k in range(max(len(row[j]) for j in columns))))
        return "\n\n".join(chunks)

    def indented(self, item, indent: str) -> list[str]:
        room = self.width - len(indent)
        if isinstance(item, Rows):
            text = self.rows(item, room)
        elif isinstance(item, Beside):
            text = self.beside(item, room)
        elif isinstance(item, Table | Plot):
            text = self.table(item.table if isinstance(item, Plot) else item, room)
        else:
            text = self.block(item)
            if text and not isinstance(item, Rows | Table | Beside):
                text = "\n".join(self.wrap(line, "", room) for line in text.split("\n"))
        return [indent + line if line else line for line in text.split("\n")] if text else []

    def render(self) -> str:
        doc = self.doc
        title = self.said(doc.title, one_line=True)
        out = [self.wrap(title, ""), "=" * min(shown(title), self.width), ""]
        if doc.source:
            out += [self.wrap(self.source(), ""), ""]
        for item in doc.statement:
            lines = self.indented(item, "")
            if lines:
                out += lines + [""]
        for letter, part in self.parts():
            # the question's continuation lines start under its first word
            hang = " " * (len(letter) + 1)
            out += [textwrap.fill(f"{letter} {super().para(part.question)}", width=self.width,
                                  subsequent_indent=hang, break_on_hyphens=False)]
            out += ["", f"{INDENT}{doc.word('solution')}{doc.colon}", ""]
            for item in part.solution:
                out += self.indented(item, INDENT) + [""]
        for section in doc.appendix:
            out += [self.wrap(section.title, ""), "-" * min(shown(section.title), self.width), ""]
            for item in section.blocks:
                lines = self.indented(item, "")
                if lines:
                    out += lines + [""]
        return no_controls("\n".join(out).rstrip() + "\n")  # no escape sequence reaches a terminal
