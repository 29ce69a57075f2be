"""The hearing pack's pages: ``index.html`` and the Chinese headers of its tables.

Private: :func:`zgc_space.report.hearing_pack` calls these. The page is plain HTML with its
CSS inline: no script, no font or other file to fetch (its thumbnails are the pack's own PNGs
next to it), so it opens with no network; it links to the maps and tables next to it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from zgc_space import labels
from zgc_space.maps import Footer
from zgc_space.schema import COLUMNS

__all__ = ["chinese_headers", "gallery", "links", "page", "table_html"]

_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em auto;
  max-width: 75em; padding: 0 1.5em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #1f3a93; padding-bottom: 0.2em;
  margin-top: 2em; } h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f0f3fa; }
.meta { color: #555; font-size: 0.9em; } .links a { margin-right: 1.2em; } .note { color: #555; }
.gallery { display: flex; flex-wrap: wrap; gap: 1em; } .gallery figure { margin: 0; width: 15em; }
.gallery img { width: 15em; border: 1px solid #ccc; } .gallery figcaption { font-size: 0.85em; color: #444; }
.violations { border-left: 4px solid #d7191c; padding: 0.2em 0.8em; background: #fff5f5; margin: 0.4em 0; }
footer { margin-top: 3em; border-top: 1px solid #ccc; padding-top: 0.6em; color: #555; font-size: 0.85em; }
"""


def _header(col: str, lang: str = "zh") -> str:
    return labels.header(col, lang)


def chinese_headers(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every column (and a named index) labelled in Chinese with its unit.

    Schema columns are left for :func:`zgc_space.io.write_table` (``chinese_headers=True``) to
    label; indicators, comparison and rank columns are labelled here.
    """
    out = frame.rename(columns={c: c if c in COLUMNS else _header(str(c)) for c in frame.columns})
    if out.index.name is not None:
        out.index = out.index.rename(_header(str(out.index.name)))
    return out


def _key(value: Any, lang: str) -> str:
    """Return an index entry: a catalogue term, a column or indicator name, else the text as given."""
    text = str(value)
    if text in labels.TERMS:
        return labels.term(text, lang)
    name = labels.column_name(text, lang)
    return name if name != text else labels.sentence(text, lang)


def _cell(value: Any, lang: str, decimals: int | None) -> tuple[str, bool]:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—", False
    if isinstance(value, (bool, np.bool_)):
        return labels.value(value, lang), False
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value)), True
    if isinstance(value, (float, np.floating)):
        return labels.value(float(value), lang, decimals=decimals), True
    return str(value), False


def table_html(frame: pd.DataFrame, *, columns: Sequence[str] | None = None, index: bool = True,
               max_rows: int = 60, lang: str = "zh") -> str:
    """Render a table as escaped HTML: headers, terms and the library's sentences in ``lang``.

    Each numeric column is written with one display precision
    (:func:`zgc_space.labels.decimals_for`), so ``0.0027`` never sits beside ``1.18``.
    """
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    shown = labels.translate_frame(frame[cols], lang)
    head = ([_header(str(frame.index.name or ""), lang)] if index else []) + [_header(str(c), lang) for c in cols]
    rows = ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    values = {c: shown[c].tolist() for c in cols}  # column by column: a row Series would turn ints into floats
    decimals = {c: labels.decimals_for(frame[c]) if pd.api.types.is_float_dtype(frame[c]) else None for c in cols}
    for i, key in enumerate(frame.index[:max_rows]):
        cells = [f"<th>{html.escape(_key(key, lang))}</th>"] if index else []
        for c in cols:
            text, num = _cell(values[c][i], lang, decimals[c])
            cells.append(f'<td class="num">{html.escape(text)}</td>' if num else f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(frame) > max_rows:
        note = labels.pick(f"另有 {len(frame) - max_rows} 行，见表格文件", f"{len(frame) - max_rows} more rows in the "
                           "table file", lang)
        more = f'<p class="note">… {html.escape(note)}</p>'
    return "<table>" + "".join(rows) + "</table>" + more


def gallery(figures: Sequence[tuple[str, str]], lang: str) -> str:
    """Return the printed maps as captioned thumbnails, each a link to its PNG (and PDF beside it)."""
    if not figures:
        return ""
    cells = []
    print_text = html.escape(labels.pick("印刷版", "PDF", lang))
    for caption, rel in figures:
        pdf = rel[: -len(".png")] + ".pdf" if rel.endswith(".png") else ""
        cells.append(
            f'<figure><a href="{html.escape(rel, quote=True)}"><img src="{html.escape(rel, quote=True)}" '
            f'alt="{html.escape(caption, quote=True)}" loading="lazy"></a><figcaption>{html.escape(caption)}'
            + (f' · <a href="{html.escape(pdf, quote=True)}">{print_text}</a>' if pdf else "")
            + "</figcaption></figure>")
    head = html.escape(labels.pick("印刷地图", "Printed maps", lang))
    return f'<h2 id="gallery">{head}</h2>\n<div class="gallery">{"".join(cells)}</div>\n'


def links(items: Sequence[tuple[str, str]]) -> str:
    """Return a line of links from ``(text, relative path)`` pairs."""
    return '<p class="links">' + "\n".join(
        f'<a href="{html.escape(path, quote=True)}">{html.escape(text)}</a>' for text, path in items) + "</p>"


def page(*, title: str, footer: Footer | None, meta: Mapping[str, str], sections: Sequence[tuple[str, str]],
         files: Sequence[tuple[str, int]], lang: str = "zh", gallery: str = "") -> str:
    """Assemble ``index.html``: title, metadata, the sections (pre-escaped HTML) and the file list."""
    meta_html = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in meta.items())
    toc = "".join(f'<li><a href="#s{i}">{html.escape(h)}</a></li>' for i, (h, _) in enumerate(sections, 1))
    body = "".join(f'<h2 id="s{i}">{html.escape(h)}</h2>\n{content}\n' for i, (h, content) in enumerate(sections, 1))
    listing = "".join(f'<tr><td><a href="{html.escape(p, quote=True)}">{html.escape(p)}</a></td>'
                      f'<td class="num">{size:,}</td></tr>' for p, size in files)
    foot = html.escape(footer.text()) if footer is not None and footer.items() else ""
    pick = labels.pick
    files_h = html.escape(pick("文件", "Files", lang))
    note = pick("本文件夹的全部文件及其大小（字节）；manifest.json 记录每个文件和每个输入的 SHA-256 校验值。",
                "Every file of this folder, with its size in bytes; manifest.json holds their SHA-256 and the "
                "inputs' hashes.", lang)
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<table class=\"meta\">{meta_html}</table>\n"
        f"<ol>{toc}<li><a href=\"#files\">{files_h}</a></li></ol>\n{gallery}{body}"
        f'<h2 id="files">{files_h}</h2>\n<p class="note">{html.escape(note)}</p>\n'
        f"<table><tr><th>{html.escape(pick('文件', 'file', lang))}</th><th>{html.escape(pick('字节', 'bytes', lang))}"
        f"</th></tr>{listing}</table>\n"
        f"<footer>{foot}</footer>\n</body>\n</html>\n"
    )
