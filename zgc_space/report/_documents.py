"""The documents a hearing hands out: the Word report and the 17 diagnoses, in a folder or in the pack.

Private: users call :func:`zgc_space.report.write_diagnoses` and ``hearing_pack(documents=True)``.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from zgc_space import evaluation, io, labels
from zgc_space.errors import ColumnError
from zgc_space.report._diagnose import diagnose_many
from zgc_space.report._document import to_html
from zgc_space.report._docx import DocxFonts, convert_to_pdf, render_docx, soffice_path
from zgc_space.report._html import links
from zgc_space.report._word import word_report

__all__ = ["pack_documents", "write_diagnoses"]

PathLike = str | os.PathLike[str]


#: Characters a file name may not hold on Linux, Windows or macOS, control characters, and ``#``/``%``
#: (they would break the index page's links).
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*#%]')


def file_stems(names: Sequence[str]) -> dict[str, str]:
    """Return a safe, unique file stem per sub-park name (the name itself when it is one).

    A name from the data never picks the folder a file lands in: path separators, characters
    Windows refuses and control characters become ``_``, leading dots and spaces are dropped, the
    stem is cut to 80 characters, and stems that collide (or are empty) are numbered.

    Examples
    --------
    >>> file_stems(["海淀园", "../etc", "a/b", "a_b", ""])
    {'海淀园': '海淀园', '../etc': '_etc', 'a/b': 'a_b', 'a_b': 'a_b-2', '': '分园-5'}
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for k, name in enumerate(names, 1):
        stem = _UNSAFE.sub("_", str(name)).lstrip(". ").rstrip(". ")[:80] or f"分园-{k}"
        base, n = stem, 1
        while stem.lower() in used:
            n += 1
            stem = f"{base}-{n}"
        used.add(stem.lower())
        out[name] = stem
    return out


def _subparks(blocks: pd.DataFrame, subparks: str | Sequence[str] | None) -> list[str]:
    if "subpark" not in blocks.columns:
        raise ColumnError("the block table has no `subpark` column, so there is no sub-park to diagnose")
    known = sorted(str(s) for s in pd.unique(blocks["subpark"].dropna()))
    if subparks is None or subparks == "all":
        return known
    wanted = [subparks] if isinstance(subparks, str) else list(subparks)
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ColumnError(f"sub-park(s) {', '.join(map(str, unknown))} not in the block table; it has "
                          f"{', '.join(known)}")
    return wanted


def write_diagnoses(
    blocks: pd.DataFrame,
    *,
    out_dir: PathLike,
    subparks: str | Sequence[str] | None = None,
    preset: evaluation.PresetLike = "cic_default",
    peers: pd.DataFrame | PathLike | None = None,
    dynamic: Any = None,
    target_rank: int | None = 30,
    lang: str = "zh",
    date: str | None = None,
    template: PathLike | None = None,
    fonts: DocxFonts | None = None,
    pdf: bool = False,
    timeout_s: float = 600.0,
) -> list[Path]:
    """Write one diagnosis per sub-park (一分园一诊断书) as ``<sub-park>.docx`` and ``.html``; return the files.

    Parameters
    ----------
    blocks
        The zone's block table.
    out_dir
        The folder (created when missing; each file is written atomically, no input is overwritten).
    subparks
        One name, a list, or ``None`` / ``"all"`` for every sub-park of the table.
    preset, peers, dynamic, target_rank, lang, date
        As for :func:`diagnose`.
    template
        A bureau Word template (.docx) whose styles and page setup the documents use.
    fonts
        East-Asian and Latin fonts (default: Noto Serif/Sans CJK SC, which ``make system`` installs).
    pdf
        Also convert them to PDF with LibreOffice (one run for all; needs ``soffice``).
    timeout_s
        Time LibreOffice may take for all of them.

    Returns
    -------
    list of pathlib.Path
        The ``.docx`` files, then the ``.html`` files, then the ``.pdf`` files.

    Examples
    --------
    >>> import tempfile
    >>> from zgc_space import datasets
    >>> files = write_diagnoses(datasets.load_blocks(), out_dir=tempfile.mkdtemp(), subparks="延庆园")
    >>> [p.name for p in files]
    ['延庆园.docx', '延庆园.html']
    """
    out = Path(out_dir)
    names = _subparks(blocks, subparks)
    inputs = [Path(p) for p in blocks.attrs.get("zgc_sources", [])] + ([Path(template)] if template else [])
    stems = file_stems(names)
    targets = [out / f"{stems[n]}.{ext}" for n in names for ext in ("docx", "html", *(("pdf",) if pdf else ()))]
    io.refuse_inputs(targets, inputs)
    out.mkdir(parents=True, exist_ok=True)
    docx_files, html_files = [], []
    for d in diagnose_many(blocks, names, preset=preset, peers=peers, dynamic=dynamic, target_rank=target_rank,
                           lang=lang, date=date):
        a, b = d.write(out, stem=stems[d.subpark], template=template, fonts=fonts)
        docx_files.append(a)
        html_files.append(b)
    pdfs = convert_to_pdf(docx_files, out_dir=out, timeout_s=timeout_s) if pdf else []
    return [*docx_files, *html_files, *pdfs]


def pack_documents(ctx: Any, *, title: str, date: str | None, target_rank: int | None, optimisation: Any,
                   dynamic: Any, inputs: Sequence[Path], template: PathLike | None, fonts: DocxFonts | None,
                   pdf: bool | None, timeout_s: float = 900.0) -> tuple[str, str, dict[str, Any]]:
    """Write ``report.docx`` (+ ``report.html``) and ``diagnoses/`` into the pack; return its section.

    ``pdf`` None converts them when LibreOffice is installed; True requires it; False skips it.
    """
    lang = ctx.lang
    root: Path = ctx.root
    preset_obj = evaluation.load_preset(ctx.preset)
    names = _subparks(ctx.blocks, None) if "subpark" in ctx.blocks.columns else []
    stems = file_stems(names)
    folder = root / "diagnoses"
    files = write_diagnoses(ctx.blocks, out_dir=folder, preset=preset_obj, peers=ctx.peers, dynamic=dynamic,
                            target_rank=target_rank, lang=lang, date=date, template=template,
                            fonts=fonts) if names else []
    manifest = {"inputs": [{"name": p.name, "sha256": io.sha256_file(p), "bytes": p.stat().st_size} for p in inputs],
                "blocks_sha256": io.frame_sha256(ctx.blocks),
                "preset": {"name": preset_obj.name, "version": preset_obj.version},
                "footer_items": list(ctx.footer.items()) if ctx.footer is not None else []}
    doc = word_report(ctx.blocks, title=title, preset=preset_obj, peers=ctx.peers, target_rank=target_rank,
                      figures=[(caption, root / rel) for caption, rel in ctx.figures], comparison=ctx.comparison,
                      optimisation=optimisation, dynamic=dynamic, manifest=manifest,
                      diagnoses=[f"{stems[n]}.docx" for n in names], lang=lang, date=date)
    report_docx = render_docx(doc, root / "report.docx", template=Path(template) if template else None, fonts=fonts)
    io.write_atomic(root / "report.html", to_html(doc).encode("utf-8"))
    convert = soffice_path() is not None if pdf is None else pdf
    made_pdf = False
    if convert:
        docs = [p for p in files if p.suffix == ".docx"]  # one LibreOffice run for all (it starts slowly)
        convert_to_pdf([report_docx, *docs], out_dir=[root, *[folder] * len(docs)], timeout_s=timeout_s)
        made_pdf = True

    def t(zh: str, en: str) -> str:
        return labels.pick(zh, en, lang)

    report_links = [(t("报告（Word）", "report (Word)"), "report.docx"), (t("报告（网页）", "report (HTML)"),
                                                                        "report.html")]
    if made_pdf:
        report_links.append((t("报告（PDF）", "report (PDF)"), "report.pdf"))
    rows = []
    for n in names:
        cells = [f'<a href="diagnoses/{html.escape(stems[n], quote=True)}.{ext}">{label}</a>'
                 for ext, label in (("docx", "Word"), ("html", t("网页", "HTML")), ("pdf", "PDF"))
                 if ext != "pdf" or made_pdf]
        rows.append(f"<tr><th>{html.escape(n)}</th><td>{' · '.join(cells)}</td></tr>")
    part = [links(report_links)]
    if rows:
        head = t(f"一分园一诊断书（{len(names)} 个分园）", f"One diagnosis per sub-park ({len(names)})")
        part += [f"<h3>{html.escape(head)}</h3>", f"<table>{''.join(rows)}</table>"]
    params = {"documents": {"report": "report.docx", "diagnoses": len(names), "pdf": made_pdf,
                            "template": Path(template).name if template else None}}
    return t("报告与诊断书", "Report and diagnoses"), "\n".join(part), params
