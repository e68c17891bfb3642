"""One small module per output format, each a ``Renderer`` of the document;
``RENDERERS`` is the registry, ``render`` picks one.  A renderer's module is
imported when its format is first asked for."""

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    """Where a format's renderer lives, and the suffix of its files."""

    module: str
    renderer: str
    suffix: str
    standalone: bool = False  # takes ``standalone`` (a whole LaTeX file)


RENDERERS = {
    "text": Format("doc_text", "TextRenderer", "txt"),
    "json": Format("doc_json", "JsonRenderer", "json"),
    "latex": Format("latex", "LatexRenderer", "tex", standalone=True),
    "myst": Format("markdown", "MystRenderer", "md"),
    "markdown": Format("markdown", "MarkdownRenderer", "md"),
}


def render(doc, fmt: str, standalone: bool = False) -> str:
    """A document in one of the registry's formats."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r}")
    entry = RENDERERS[fmt]
    renderer = getattr(importlib.import_module(f"{__name__}.{entry.module}"), entry.renderer)
    return (renderer(doc, standalone=standalone) if entry.standalone else renderer(doc)).render()


def render_files(doc, fmt: str, name: str, standalone: bool = False) -> dict[str, str]:
    """A document to be written to the file ``name`` and the files it links to, beside it:
    {file name: text}, the document first.  Markdown's plots are SVG files (x-norms.svg
    beside x.md), shown as images, since GitHub's view strips inline SVG; MyST keeps them
    inline (Jupyter Book shows inline SVG), and every other format is one file."""
    if fmt != "markdown":
        return {name: render(doc, fmt, standalone)}
    from .markdown import MarkdownRenderer

    files: dict[str, str] = {}
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "document"
    text = MarkdownRenderer(doc, files=files, stem=stem).render()
    return {name: text, **files}
