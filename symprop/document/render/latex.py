"""Worked solutions as LaTeX: a fragment, or a whole document for pdflatex."""

import re

from ...languages import LANGUAGES
from ..blocks import Beside, Document, Para, Plot, Rows, Table, UserText
from ..pictures import to_tikz
from ..plots import to_pgfplots
from .document import LatexMath, no_controls
from .latex_printer import width

# Characters of the prose that pdflatex does not take as they are.
TEXT_CHARACTERS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "…": r"\ldots{}", "∂": r"$\partial$", "⁺": r"$^{+}$", "²": r"\textsuperscript{2}",
    "η": r"$\eta$", "✓": r"$\checkmark$", "✗": r"$\times$", "′": r"$'$", "≈": r"$\approx$",
    "Σ": r"$\Sigma$", "ŷ": r"$\hat{y}$", "→": r"$\to$", "⊙": r"$\odot$", "·": r"$\cdot$",
    "∇": r"$\nabla$", "≤": r"$\le$", "≥": r"$\ge$", "×": r"$\times$", "−": r"$-$", "ᵀ": r"$^{\top}$",
    "α": r"$\alpha$", "β": r"$\beta$", "γ": r"$\gamma$", "δ": r"$\delta$", "ε": r"$\varepsilon$",
    "θ": r"$\theta$", "λ": r"$\lambda$", "μ": r"$\mu$", "σ": r"$\sigma$", "τ": r"$\tau$",
    "φ": r"$\varphi$", "ω": r"$\omega$", "⁻": r"$^{-}$", "¹": r"\textsuperscript{1}",
    "\ufffd": "?",  # a control character of the spec's text, replaced
    # more mathematics a teacher types into a statement
    "ℓ": r"$\ell$", "∑": r"$\sum$", "∏": r"$\prod$", "∞": r"$\infty$", "≠": r"$\ne$", "±": r"$\pm$",
    "∈": r"$\in$", "∀": r"$\forall$", "∃": r"$\exists$", "⇒": r"$\Rightarrow$", "↦": r"$\mapsto$",
    "‖": r"$\|$", "∘": r"$\circ$", "⋅": r"$\cdot$", "√": r"$\surd$", "∫": r"$\int$", "∝": r"$\propto$",
    "≡": r"$\equiv$", "∼": r"$\sim$", "⟨": r"$\langle$", "⟩": r"$\rangle$", "←": r"$\leftarrow$",
    "π": r"$\pi$", "ρ": r"$\rho$", "ν": r"$\nu$", "ξ": r"$\xi$", "ζ": r"$\zeta$", "κ": r"$\kappa$",
    "ψ": r"$\psi$", "χ": r"$\chi$", "ι": r"$\iota$", "υ": r"$\upsilon$", "Δ": r"$\Delta$",
    "Γ": r"$\Gamma$", "Λ": r"$\Lambda$", "Ω": r"$\Omega$", "Φ": r"$\Phi$", "Ψ": r"$\Psi$", "Θ": r"$\Theta$",
    "Π": r"$\Pi$", "ϕ": r"$\phi$", "ϵ": r"$\epsilon$", "³": r"\textsuperscript{3}",
    "\u0302": r"\^{}",  # a combining hat with nothing to sit on
}

# Unicode sub- and superscripts in prose (h₀, xₙ, 10⁻⁷) as mathematics.
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv"))
_SUPERSCRIPTS = dict(zip("⁰³⁴⁵⁶⁷⁸⁹⁼⁽⁾ⁿⁱᵗ", "0345678=()nit"))
for _ch, _plain in _SUBSCRIPTS.items():
    TEXT_CHARACTERS.setdefault(_ch, f"$_{{{_plain}}}$")
for _ch, _plain in _SUPERSCRIPTS.items():
    TEXT_CHARACTERS.setdefault(_ch, f"$^{{{_plain}}}$")

PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage[T2A,T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage[%(languages)s]{babel}
""" + "%(common)s"

# Chinese: xelatex with ctex (Fandol fonts, which texlive-lang-chinese ships);
# Cyrillic, which neither Fandol nor Latin Modern has, in DejaVu Serif.
PREAMBLE_ZH = r"""\documentclass[11pt,a4paper,UTF8,fontset=fandol]{ctexart}
\newfontfamily\cyrillicfont{DejaVu Serif}[Scale=MatchLowercase]
\newcommand{\cyrillic}[1]{{\cyrillicfont #1}}
""" + "%(common)s"

COMMON = r"""\usepackage{amsmath,amssymb}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{tikz}
\usepackage{graphicx}
\usepackage[a4paper,margin=2.2cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6em plus 0.2em minus 0.1em}
\raggedbottom
\setlength{\emergencystretch}{3em}
%(commands)s\begin{document}
"""

# The commands a document uses, which a fragment carries itself (pasted twice, defined once).
COMMANDS = r"""% a heading starts a new page when fewer than #1 lines are left on this one, and only then
\makeatletter
\providecommand{\needlines}[1]{\par\penalty\z@\begingroup\dimen@#1\baselineskip\dimen@ii\pagegoal
  \advance\dimen@ii-\pagetotal\ifdim\dimen@>\dimen@ii\ifdim\dimen@ii>\z@\vfil\fi\penalty-\@M\fi\endgroup}
% centred, and on the page of the sentence before it (\nopagebreak): no break at its top
\@ifundefined{keep}{\newenvironment{keep}{\@beginparpenalty\@M\begin{center}}{\end{center}}}{}
% wider than the line: shrunk to it
\providecommand{\fitwidth}[1]{\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{#1}}
% a picture shrunk to the line width, and to the rest of the page when that takes it down by no more than
% a fifth (a line and a half left for the space above it): so the page before it is not left part-empty
\providecommand{\fitpage}[1]{\sbox\z@{\fitwidth{#1}}\dimen@\pagegoal\advance\dimen@-\pagetotal
  \advance\dimen@-1.5\baselineskip\ifdim\dimen@<\ht\z@\ifdim5\dimen@>4\ht\z@\ifdim\pagegoal<\maxdimen
  \sbox\z@{\resizebox{!}{\dimen@}{\usebox\z@}}\fi\fi\fi\usebox\z@}
% a tall table {columns}{header}{rows}, each row ending in \rowend: a longtable, which breaks between
% its rows and repeats its header on every page, its columns set by its rows first (\kill: measured,
% not shown); measured whole, and when wider than the line every cell (\tcell) shrunk alike
\providecommand{\tcell}{\@firstofone}
\providecommand{\rowend}{\\}
\providecommand{\breaktable}[3]{\begingroup\renewcommand{\arraystretch}{1.45}%
  \sbox\z@{\begin{tabular}{#1}#2#3\end{tabular}}%
  \ifdim\wd\z@>\linewidth\dimen@\dimexpr\linewidth*65536/\wd\z@\relax\edef\tscale{\strip@pt\dimen@}%
    \tabcolsep\tscale\tabcolsep\renewcommand{\tcell}[1]{\scalebox{\tscale}{##1}}\fi
  \gdef\rowend{\kill}\begin{longtable}{#1}#2#3\noalign{\gdef\rowend{\\}}%
  \toprule#2\midrule\endhead\bottomrule\endfoot#3\end{longtable}\endgroup}
\makeatother
"""

PGFPLOTS = "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.16}\n"  # only in a document with a plot


def _has_plot(doc: Document) -> bool:
    blocks = doc.statement + [b for part in doc.parts for b in part.solution]
    blocks += [b for section in doc.appendix for b in section.blocks]
    return any(isinstance(b, Plot) for b in blocks)


PLOT_LINES = 18  # a plot, its caption and the sentence before it
HEADING_LINES = 10  # a part's heading, its question, "Solution." and a few lines of it stay together
BESIDE_GAP = 2.0  # em a column of two formulas side by side takes besides its formula (\tabcolsep, the rule)
LONG_DISPLAY = 12  # lines of a display that may break across pages (a third of a page: whole, it would leave a gap)

MATRIX = re.compile(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}")


def display_lines(body: str) -> int:
    """How many lines of text a display is tall: each of its lines, two with a fraction,
    or the rows of the tallest matrix in it (a column of five entries is five lines)."""
    return sum(max([1 + ("\\frac" in line)] + [m.group(1).count("\\\\") + 1 for m in MATRIX.finditer(line)])
               for line in re.split(r"\\\\(?:\[[^\]]*\])?\n", body))


def table_lines(rows: list[list[str]]) -> int:
    """How many lines of text a table is tall: each row as tall as its tallest matrix."""
    return sum(display_lines(" & ".join(row)) for row in rows)


CYRILLIC = re.compile(r"[\u0400-\u04FF]+(?:[\s,.:;!?«»()-]+[\u0400-\u04FF]+)*")
LONG_TEXT = re.compile(r"\\(texttt|text|mathrm)\{([^{}]{24,})\}")


def _breakable(m: re.Match) -> str:
    """\\texttt{a b c} as \\texttt{a}\\allowbreak\\texttt{\\ b}…: a box cannot break inside."""
    command, words = m.group(1), m.group(2).split(" ")
    return "\\allowbreak".join(f"\\{command}{{{'' if i == 0 else chr(92) + ' '}{w}}}" for i, w in enumerate(words))


LATIN_WORD = re.compile(r"(?<![A-Za-z])([A-Za-z]{8,})(?![A-Za-z])")


def _quotes(text: str, lang: str) -> str:
    """Straight double quotes as the language writes them: «…», ``…'', “…”."""
    if '"' not in text:
        return text
    left, right = LANGUAGES[lang].quotes
    pieces = text.split('"')
    out = pieces[0]
    for i, piece in enumerate(pieces[1:]):
        out += (left if i % 2 == 0 else right) + piece
    return out


def _settable(ch: str, script: str) -> bool:
    """A character the document's engine sets as it is: Latin-1 and Cyrillic with pdflatex
    (T1, T2A), anything with xelatex (Chinese); any other is written as its code point."""
    return script == "han" or ord(ch) < 0x250 or 0x400 <= ord(ch) <= 0x4FF or ch in "«»–—‘’“”„"


def escape(text: str, lang: str = "ru") -> str:
    """Prose for pdflatex (or xelatex for Chinese); Cyrillic inside a text in
    Latin letters switches language, inside Chinese text font."""
    script = LANGUAGES[lang].script
    pieces = LATIN_WORD.split(_quotes(text, lang))
    out = ""
    for i, piece in enumerate(pieces):
        if i % 2:  # a long English word in Russian prose: hyphenated as English
            out += r"\foreignlanguage{english}{" + piece + "}" if script == "cyrillic" else piece
        else:
            out += "".join(TEXT_CHARACTERS.get(ch, ch if _settable(ch, script) else f"[U+{ord(ch):04X}]")
                           for ch in piece)
    if script == "han":
        out = CYRILLIC.sub(lambda m: r"\cyrillic{" + m.group(0) + "}", out)
    elif script != "cyrillic":
        out = CYRILLIC.sub(lambda m: r"\foreignlanguage{russian}{" + m.group(0) + "}", out)
    return out


def _babel(lang: str) -> str:
    """babel's languages: the other script's for quoted words, then the document's (the main one)."""
    language = LANGUAGES[lang]
    return ("english" if language.script == "cyrillic" else "russian") + "," + language.babel


def packages(doc: Document, body: str) -> list[str]:
    """The preamble lines a fragment needs: only the packages its text uses."""
    if LANGUAGES[doc.lang].script == "han":  # xelatex
        need = ["\\usepackage[UTF8,fontset=fandol]{ctex}"]
    else:
        cyrillic = CYRILLIC.search(body) is not None
        need = ["\\usepackage[T2A,T1]{fontenc}" if cyrillic else "\\usepackage[T1]{fontenc}",
                "\\usepackage[utf8]{inputenc}"]
        if cyrillic or "\\foreignlanguage" in body:
            need.append(f"\\usepackage[{_babel(doc.lang)}]{{babel}}")
    need.append("\\usepackage{amsmath,amssymb}")
    uses = [(("\\toprule", "\\breaktable{"), "\\usepackage{booktabs}"), (("\\breaktable{",), "\\usepackage{longtable}"),
            (("\\fitwidth{", "\\fitpage{", "\\breaktable{"), "\\usepackage{graphicx}"),
            (("\\begin{tikzpicture}",), "\\usepackage{tikz}"), (("\\begin{axis}",), PGFPLOTS.replace("\n", ""))]
    return need + [line for commands, line in uses if any(c in body for c in commands)]


def fragment_head(doc: Document, body: str) -> str:
    """A fragment's first lines: in comments, the packages its preamble needs (--standalone
    writes the whole document); then the commands it uses, which it defines itself."""
    engine = "xelatex" if LANGUAGES[doc.lang].script == "han" else "pdflatex"
    head = [f"% symprop: a LaTeX fragment for {engine}; its document's preamble needs", "%"]
    head += ["%   " + line for line in packages(doc, body)] + ["%"]
    commands = COMMANDS
    if "\\cyrillic{" in body:  # Chinese text with Russian words in it: as the whole document sets them
        commands += "\\providecommand{\\cyrillic}[1]{{\\fontspec{DejaVu Serif}[Scale=MatchLowercase]#1}}\n"
    return "\n".join(head) + "\n" + commands + "\n"


class LatexRenderer(LatexMath):
    def __init__(self, doc: Document, standalone: bool = False):
        super().__init__(doc)
        self.standalone = standalone

    def inline(self, item) -> str:
        """Inline mathematics; a long \\texttt or \\text in it may break at its spaces."""
        tex = self.math(item)
        if re.fullmatch(r"\\texttt\{[^{}]*\}", tex):  # code as text, breakable at its spaces
            return tex
        return "$" + LONG_TEXT.sub(_breakable, tex) + "$"

    def note(self, text: str) -> str:
        return escape(text, self.doc.lang)

    def cell(self, item) -> str:
        return escape(item, self.doc.lang) if isinstance(item, str) else self.inline(item)

    def escape_text(self, text: str) -> str:
        """The spec's words; a backtick as itself (`` would be a quotation mark)."""
        return r"\textasciigrave{}".join(escape(piece, self.doc.lang) for piece in text.split("`"))

    def words(self, piece: str) -> str:
        """Every word is escaped here; the spec's also kept from a blank line inside an argument."""
        return self.said(piece) if isinstance(piece, UserText) else escape(piece, self.doc.lang)

    def para(self, p) -> str:
        text = "".join(self.words(x) if isinstance(x, str) else self.inline(x) for x in p.parts)
        if re.search(r"\\texttt\{[^{}]{30,}\}", text):  # long code: justified, it would overflow
            return "{\\raggedright " + text + "\\par}"
        return text

    def rows(self, r: Rows) -> str:
        body = self.aligned(r)
        display = "\\begin{align*}\n" + body + "\n\\end{align*}"
        if display_lines(body) > LONG_DISPLAY:  # longer than a page, nearly: it may break
            return "{\\allowdisplaybreaks\n" + display + "}"
        return display

    def beside(self, b: Beside) -> str:
        """Two columns, each formula under its words, a rule between them; when the two do not fit
        the line side by side, one above the other, each display broken as a row is."""
        labels = [rf"\emph{{{escape(label.rstrip(':：'), self.doc.lang)}}}" for label in b.labels]  # a heading
        formulas = [" = ".join(self.math(x) for x in row) for row in b.rows]
        if sum(width(f) for f in formulas) + BESIDE_GAP * len(formulas) <= self.line_width:
            cells = " & ".join(rf"$\displaystyle {f}$" for f in formulas)
            return ("\\begin{center}\n\\begin{tabular}{" + "|".join("c" for _ in formulas) + "}\n"
                    + " & ".join(labels) + " \\\\[0.5ex]\n" + cells + "\n\\end{tabular}\n\\end{center}")
        return "\n\n".join(f"{label}\n\\nopagebreak\n{self.rows(Rows([row]))}" for label, row in zip(labels, b.rows))

    def figure(self, f) -> str:
        """The TikZ picture, shrunk to the line width when it is wider (graphicx), or a little
        to the rest of the page."""
        return "\\begin{keep}\n\\fitpage{%\n" + to_tikz(f.picture) + "}\n\\end{keep}"

    def plot(self, p: Plot) -> str:
        """PGFPlots (in the preamble when a document has a plot), its caption below it."""
        return ("\\begin{keep}\n" + to_pgfplots(p, self.math) + "\\par\\nopagebreak\\smallskip\n{\\small "
                + self.para(p.caption) + "\\par}\n\\end{keep}")

    def cells(self, t: Table) -> list[list[str]]:
        return [[self.cell(c) for c in row] for row in [t.header] + t.rows]

    def table(self, t: Table) -> str:
        """booktabs, rows spaced so that fractions do not touch, shrunk to the line width
        when wider; a tall one (\\breaktable) breaks between its rows, each cell a \\tcell."""
        head, *rows = self.cells(t)
        columns = "l" * len(head)
        if table_lines([head] + rows) > LONG_DISPLAY:
            lines = [" & ".join(f"\\tcell{{{c}}}" for c in row) + r" \rowend" for row in [head] + rows]
            return f"\\breaktable{{{columns}}}{{%\n{lines[0]}\n}}{{%\n" + "\n".join(lines[1:]) + "\n}"
        lines = [" & ".join(row) + r" \\" for row in [head] + rows]
        return ("\\begin{keep}\n\\renewcommand{\\arraystretch}{1.45}\n\\fitwidth{%\n\\begin{tabular}{" + columns
                + "}\n\\toprule\n" + lines[0] + "\n\\midrule\n" + "\n".join(lines[1:])
                + "\n\\bottomrule\n\\end{tabular}}\n\\end{keep}")

    def lines_with(self, following) -> int:
        """Lines a sentence needs left on its page, with the start of the block it introduces:
        a plot whole; a tall table's header and first row (the table then breaks); else none."""
        if isinstance(following, Plot):
            return PLOT_LINES
        rows = self.cells(following) if isinstance(following, Table) else []
        return table_lines(rows[:2]) + 3 if table_lines(rows) > LONG_DISPLAY else 0

    def heading_lines(self, items: list) -> int:
        """Lines a heading needs left below it: a few of its blocks', or, when they open with a
        sentence that needs lines (``lines_with``), those: a \\needlines under a heading could leave it at a page's foot."""
        opening = self.lines_with(items[1]) if len(items) > 1 and isinstance(items[0], Para) else 0
        return max(HEADING_LINES, opening + 3)

    def blocks(self, items: list, headed: bool = False) -> list[str]:
        """The blocks a paragraph apart; a sentence that introduces a display,
        a table or a picture stays on its page (under a heading, by the heading's \\needlines)."""
        out = []
        for i, (item, following) in enumerate(zip(items, items[1:] + [None])):
            if isinstance(item, Para) and self.lines_with(following) and not (headed and i == 0):
                out += [f"\\needlines{{{self.lines_with(following)}}}"]
            out += [self.block(item), ""]
            if isinstance(item, Para) and following is not None and not isinstance(following, Para):
                out += ["\\nopagebreak", ""]
        return out

    def render(self) -> str:
        doc = self.doc
        out = [f"\\section*{{{self.said(doc.title, one_line=True)}}}", ""]
        if doc.source:
            out += [f"\\emph{{{self.source()}}}", ""]
        out += self.blocks(doc.statement)
        for letter, part in self.parts():
            out += [f"\\needlines{{{self.heading_lines(part.solution)}}}",
                    f"\\paragraph{{{escape(letter, doc.lang)}}} {self.para(part.question)}", "",
                    "\\nopagebreak", f"\\textbf{{{escape(doc.word('solution') + doc.heading_stop, doc.lang)}}}", "", "\\nopagebreak"]
            out += self.blocks(part.solution, headed=True)
        if doc.appendix:  # after the parts, set off by a rule
            out += [f"\\needlines{{{HEADING_LINES}}}", "\\bigskip", "\\noindent\\rule{\\linewidth}{0.4pt}", ""]
        for section in doc.appendix:
            out += [f"\\needlines{{{self.heading_lines(section.blocks)}}}",
                    f"\\section*{{{escape(section.title, doc.lang)}}}", ""]
            out += self.blocks(section.blocks, headed=True)
        body = no_controls("\n".join(out).rstrip() + "\n", "?")  # pdflatex stops at one
        if not self.standalone:
            return fragment_head(doc, body) + body
        language = LANGUAGES[doc.lang]
        common = COMMON % {"commands": COMMANDS}
        if language.script == "han":
            preamble = PREAMBLE_ZH % {"common": common}
        else:  # the document's language last: babel's main one; the other script's for quoted words
            preamble = PREAMBLE % {"languages": _babel(doc.lang), "common": common}
        if _has_plot(doc):
            preamble = preamble.replace("\\begin{document}", PGFPLOTS + "\\begin{document}")
        return preamble + "\n" + body + "\n\\end{document}\n"
