"""One small module per output format; ``render`` picks one."""


def render(doc, fmt: str, standalone: bool = False) -> str:
    """A worked-solution document as text, LaTeX, MyST or Markdown."""
    if fmt == "text":
        from .doc_text import TextRenderer

        return TextRenderer(doc).render()
    if fmt == "latex":
        from .latex import LatexRenderer

        return LatexRenderer(doc, standalone=standalone).render()
    if fmt == "myst":
        from .markdown import MystRenderer

        return MystRenderer(doc).render()
    if fmt == "markdown":
        from .markdown import MarkdownRenderer

        return MarkdownRenderer(doc).render()
    raise ValueError(f"unknown format {fmt!r}")
