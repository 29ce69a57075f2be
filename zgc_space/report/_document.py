"""A document as data: headings, paragraphs, tables and figures, rendered to Word or to HTML.

Private: the Word report and the sub-park diagnoses (:mod:`zgc_space.report`) are built as a
:class:`Document` once and rendered twice, by :mod:`zgc_space.report._docx` (``.docx``) and by
:func:`to_html` (a page that opens with no network), so both say exactly the same thing.

Every paragraph that states figures is a :class:`Para` whose ``facts`` name the entries of the
document's fact table it was written from, so a sentence can always be traced to its numbers.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["Document", "Figure", "Heading", "Para", "Table", "to_html"]


@dataclass(frozen=True)
class Heading:
    """A heading of ``level`` 1-3."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    """A paragraph; ``facts`` are the keys of the fact-table rows its figures come from."""

    text: str
    facts: tuple[str, ...] = ()
    style: str = "body"  # "body", "note", "bullet" or "lead" (the cover's and summary's larger text)


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells (the first row is the header) with an optional caption."""

    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    numeric: tuple[bool, ...] = ()  # per column: right-aligned


@dataclass(frozen=True)
class Figure:
    """A picture (PNG) with its caption; ``width_cm`` on the page."""

    path: Path
    caption: str
    width_cm: float = 15.0


@dataclass(frozen=True)
class PageBreak:
    """A page break (Word); a rule in HTML."""


Block = Heading | Para | Table | Figure | PageBreak


@dataclass
class Document:
    """The content of one document: a title, metadata lines for the cover, and its blocks."""

    title: str
    subtitle: str = ""
    cover: list[tuple[str, str]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    lang: str = "zh"

    def add(self, *blocks: Block) -> Document:
        """Append blocks; return the document."""
        self.blocks.extend(blocks)
        return self

    def sentences(self) -> list[Para]:
        """Return the paragraphs that state figures (those with facts)."""
        return [b for b in self.blocks if isinstance(b, Para) and b.facts]


def frame_rows(frame: pd.DataFrame, header: Sequence[str]) -> Table:
    """Return a :class:`Table` from a frame of display strings (``header`` labels its columns)."""
    rows = [tuple(header)] + [tuple("—" if pd.isna(v) else str(v) for v in row)
                              for row in frame.itertuples(index=False, name=None)]
    return Table(rows=tuple(rows))


_CSS = """
body { font-family: "Noto Serif CJK SC", "Songti SC", "SimSun", serif; margin: 2em auto; max-width: 52em;
  padding: 0 1.5em; color: #222; line-height: 1.6; }
h1 { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 1.7em; }
h2, h3 { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
h2 { border-bottom: 2px solid #1f3a93; padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #eef1f8; }
caption, figcaption { font-size: 0.9em; color: #444; caption-side: top; text-align: left; padding: 0.2em 0; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ccc; }
.note { color: #555; font-size: 0.9em; } .lead { font-size: 1.1em; } .cover th { background: none; }
"""


def _table_html(table: Table) -> str:
    head, *body = table.rows
    numeric = table.numeric or tuple(False for _ in head)
    out = ["<table>"]
    if table.caption:
        out.append(f"<caption>{html.escape(table.caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>")
    for row in body:
        cells = "".join(f'<td class="num">{html.escape(c)}</td>' if k < len(numeric) and numeric[k]
                        else f"<td>{html.escape(c)}</td>" for k, c in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def to_html(doc: Document, *, embed_figures: bool = True) -> str:
    """Render ``doc`` as one HTML page (figures inlined as data URIs: no file or network needed)."""
    parts = [f"<h1>{html.escape(doc.title)}</h1>"]
    if doc.subtitle:
        parts.append(f'<p class="lead">{html.escape(doc.subtitle)}</p>')
    if doc.cover:
        parts.append('<table class="cover">' + "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in doc.cover) + "</table>")
    bullets: list[str] = []
    for block in [*doc.blocks, PageBreak()]:
        if bullets and not (isinstance(block, Para) and block.style == "bullet"):
            parts.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        if isinstance(block, Heading):
            level = min(max(block.level, 1), 3) + 1
            parts.append(f"<h{level}>{html.escape(block.text)}</h{level}>")
        elif isinstance(block, Para):
            if block.style == "bullet":
                bullets.append(f"<li>{html.escape(block.text)}</li>")
            else:
                cls = f' class="{block.style}"' if block.style in ("note", "lead") else ""
                parts.append(f"<p{cls}>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            parts.append(_table_html(block))
        elif isinstance(block, Figure):
            src = ("data:image/png;base64," + base64.b64encode(block.path.read_bytes()).decode("ascii")
                   if embed_figures else block.path.name)
            parts.append(f'<figure><img src="{html.escape(src, quote=True)}" alt="{html.escape(block.caption)}">'
                         f"<figcaption>{html.escape(block.caption)}</figcaption></figure>")
    lang = "en" if doc.lang == "en" else "zh-CN"
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(doc.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
