"""Worked solutions as LaTeX: a fragment, or a whole document for pdflatex."""

import re

from ..solution import Document, Rows, Table
from .document import LatexMath

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
}

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T2A,T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage[%(languages)s]{babel}
\usepackage{amsmath,amssymb}
\usepackage{booktabs}
\usepackage{tikz}
\usepackage{graphicx}
\usepackage[margin=2.2cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6em}
\allowdisplaybreaks
\begin{document}
"""


CYRILLIC = re.compile(r"[\u0400-\u04FF]+(?:[\s,.:;!?«»()-]+[\u0400-\u04FF]+)*")


def escape(text: str, lang: str = "ru") -> str:
    """Prose for pdflatex; Cyrillic inside English text switches language."""
    out = "".join(TEXT_CHARACTERS.get(ch, ch) for ch in text)
    if lang != "ru":
        out = CYRILLIC.sub(lambda m: r"\foreignlanguage{russian}{" + m.group(0) + "}", out)
    return out


class LatexRenderer(LatexMath):
    def __init__(self, doc: Document, standalone: bool = False):
        super().__init__(doc)
        self.standalone = standalone

    def note(self, text: str) -> str:
        return escape(text, self.doc.lang)

    def cell(self, item) -> str:
        return escape(item, self.doc.lang) if isinstance(item, str) else self.inline(item)

    def para(self, p) -> str:
        return "".join(escape(x, self.doc.lang) if isinstance(x, str) else self.inline(x) for x in p.parts)

    def rows(self, r: Rows) -> str:
        return "\\begin{align*}\n" + self.aligned(r) + "\n\\end{align*}"

    def figure(self, f) -> str:
        """The TikZ picture, shrunk to the line width when it is wider (graphicx)."""
        fit = r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"
        return "\\begin{center}\n" + fit + "\n" + f.tikz + "}\n\\end{center}"

    def table(self, t: Table) -> str:
        columns = "l" * len(t.header)
        head = " & ".join(self.cell(c) for c in t.header) + r" \\"
        body = "\n".join(" & ".join(self.cell(c) for c in row) + r" \\" for row in t.rows)
        return (
            "\\begin{center}\n\\begin{tabular}{" + columns + "}\n\\toprule\n" + head
            + "\n\\midrule\n" + body + "\n\\bottomrule\n\\end{tabular}\n\\end{center}"
        )

    def render(self) -> str:
        doc = self.doc
        out = [f"\\section*{{{escape(doc.title, doc.lang)}}}", ""]
        if doc.source:
            out += [f"\\emph{{{escape(doc.word('source').format(source=doc.source), doc.lang)}}}", ""]
        for item in doc.statement:
            out += [self.block(item), ""]
        for letter, part in self.parts():
            out += [f"\\paragraph{{{escape(letter, doc.lang)}}} {self.para(part.question)}", ""]
            out += [f"\\textbf{{{escape(doc.word('solution'), doc.lang)}.}}", ""]
            for item in part.solution:
                out += [self.block(item), ""]
        for section in doc.appendix:
            out += [f"\\subsection*{{{escape(section.title, doc.lang)}}}", ""]
            out += [x for item in section.blocks for x in (self.block(item), "")]
        body = "\n".join(out).rstrip() + "\n"
        if not self.standalone:
            return body
        languages = "english,russian" if doc.lang == "ru" else "russian,english"
        return PREAMBLE % {"languages": languages} + "\n" + body + "\n\\end{document}\n"
