"""The hearing pack's pages: ``index.html`` and the Chinese headers of its tables.

Private: :func:`zgc_space.report.hearing_pack` calls these. The page is plain HTML with its
CSS inline: no script, no image, no font or other file to fetch, so it opens with no network
and makes no request at all; it links to the maps and tables next to it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from zgc_space.indicators import INDICATORS
from zgc_space.maps import Footer, format_value
from zgc_space.schema import COLUMNS, label

__all__ = ["chinese_headers", "links", "page", "table_html"]

#: Chinese headers of columns that are neither schema columns nor indicators.
_ZH: dict[str, str] = {
    "proposal_id": "方案编号", "title": "方案名称", "source": "方案文件", "status": "状态", "error": "错误",
    "n_violations": "违反约束数", "violations": "违反约束", "score": "集约度分值", "rank": "排名",
    "rank_of": "参评开发区数", "block_count": "区块数", "remaining_m2": "剩余可开发面积 (m²)",
    "gfa_capacity_m2": "尚可建设建筑面积 (m²)", "change": "调整类型", "operation": "操作", "line": "行号",
    "detail": "说明", "year": "年份", "zone": "范围", "indicator": "指标", "zh": "指标名称", "current": "现状值",
    "required": "所需值", "new": "方案值", "change_pct": "变化 (%)", "effort_pct": "变化幅度 (%)",
    "reachable": "单项可达", "s_now": "现状标准化分", "s_required": "所需标准化分", "s_new": "方案标准化分",
    "ideal": "理想值", "weight": "权重", "note": "备注", "points": "增加分值", "case": "情形",
    "percentile": "百分位 (%)", "peers_above": "得分更高的开发区数", "ties": "同分开发区数", "preset": "评价方案",
    "of": "参评开发区数", "contribution": "对分值的影响", "value": "数值", "key": "项目", "reason": "原因",
    "kind": "类型", "id": "编号", "unit": "单位",
}
_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em auto;
  max-width: 75em; padding: 0 1.5em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #1f3a93; padding-bottom: 0.2em;
  margin-top: 2em; } h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f0f3fa; }
.meta { color: #555; font-size: 0.9em; } .links a { margin-right: 1.2em; } .note { color: #555; }
footer { margin-top: 3em; border-top: 1px solid #ccc; padding-top: 0.6em; color: #555; font-size: 0.85em; }
"""


def _header(col: str) -> str:
    if col in COLUMNS:
        return label(col)
    if col in INDICATORS:
        ind = INDICATORS[col]
        return f"{ind.zh} ({ind.unit})" if ind.unit else ind.zh
    if col in _ZH:
        return _ZH[col]
    for suffix, word in (("_change", "变化"), ("_before", "调整前"), ("_after", "调整后")):
        if col.endswith(suffix) and col != suffix:
            return f"{_header(col[: -len(suffix)])} {word}"
    if col.startswith("s_") and col[2:] in INDICATORS:
        return f"{INDICATORS[col[2:]].zh} 标准化分"
    if col.startswith("score_"):
        return f"集约度分值 {col[6:]}"
    return col


def chinese_headers(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every column (and a named index) labelled in Chinese with its unit.

    Schema columns are left for :func:`zgc_space.io.write_table` (``chinese_headers=True``) to
    label; indicators, comparison and rank columns are labelled here.
    """
    out = frame.rename(columns={c: c if c in COLUMNS else _header(str(c)) for c in frame.columns})
    if out.index.name is not None:
        out.index = out.index.rename(_header(str(out.index.name)))
    return out


def _cell(value: Any) -> tuple[str, bool]:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—", False
    if isinstance(value, (bool, np.bool_)):
        return ("是 yes" if value else "否 no"), False
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value)), True
    if isinstance(value, (float, np.floating)):
        x = float(value)
        return format_value(0.0 if abs(x) < 1e-9 else x), True  # float noise of a difference is no change
    return str(value), False


def table_html(frame: pd.DataFrame, *, columns: Sequence[str] | None = None, index: bool = True,
               max_rows: int = 60) -> str:
    """Render a table as escaped HTML with bilingual headers and numbers formatted for people."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    head = ([_header(str(frame.index.name or ""))] if index else []) + [_header(str(c)) for c in cols]
    rows = ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    values = {c: frame[c].tolist() for c in cols}  # column by column: a row Series would turn ints into floats
    for i, key in enumerate(frame.index[:max_rows]):
        cells = [f"<th>{html.escape(str(key))}</th>"] if index else []
        for c in cols:
            text, num = _cell(values[c][i])
            cells.append(f'<td class="num">{html.escape(text)}</td>' if num else f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="note">… {len(frame) - max_rows} more rows in the table file</p>' if len(frame) > max_rows else ""
    return "<table>" + "".join(rows) + "</table>" + more


def links(items: Sequence[tuple[str, str]]) -> str:
    """Return a line of links from ``(text, relative path)`` pairs."""
    return '<p class="links">' + "\n".join(
        f'<a href="{html.escape(path, quote=True)}">{html.escape(text)}</a>' for text, path in items) + "</p>"


def page(*, title: str, footer: Footer | None, meta: Mapping[str, str], sections: Sequence[tuple[str, str]],
         files: Sequence[tuple[str, int]]) -> str:
    """Assemble ``index.html``: title, metadata, the sections (pre-escaped HTML) and the file list."""
    meta_html = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in meta.items())
    toc = "".join(f'<li><a href="#s{i}">{html.escape(h)}</a></li>' for i, (h, _) in enumerate(sections, 1))
    body = "".join(f'<h2 id="s{i}">{html.escape(h)}</h2>\n{content}\n' for i, (h, content) in enumerate(sections, 1))
    listing = "".join(f'<tr><td><a href="{html.escape(p, quote=True)}">{html.escape(p)}</a></td>'
                      f'<td class="num">{size:,}</td></tr>' for p, size in files)
    foot = html.escape(footer.text()) if footer is not None and footer.items() else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<table class=\"meta\">{meta_html}</table>\n"
        f"<ol>{toc}<li><a href=\"#files\">文件 Files</a></li></ol>\n{body}"
        '<h2 id="files">文件 Files</h2>\n<p class="note">Every file of this folder, with its size in bytes; '
        "manifest.json holds their SHA-256 and the inputs' hashes.</p>\n"
        f"<table><tr><th>文件 file</th><th>字节 bytes</th></tr>{listing}</table>\n"
        f"<footer>{foot}</footer>\n</body>\n</html>\n"
    )
