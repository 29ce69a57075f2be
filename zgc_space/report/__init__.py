"""The hearing pack: one folder with everything a hearing sees, and how it was produced.

:func:`hearing_pack` writes ``index.html`` (opens with no network and links to everything), web
maps (HTML, offline) and printed maps (PNG), tables (CSV with canonical headers, XLSX with
Chinese ones) and ``manifest.json`` (SHA-256 of every input and of every file of the pack, the
library and dependency versions, the preset and its version, the parameters). Nothing in the
pack depends on the clock: without a ``date`` two runs on the same inputs give the same bytes.

The pack is written atomically: it is built in a temporary folder next to ``out_dir`` and
swapped in only when complete; a previous pack is moved aside and removed after the swap, so a
failed run leaves the old pack as it was. A folder that is not empty and holds no pack is
never replaced.

Sections appear when their inputs are given: indicators and rank (always), proposals compared
(``proposals``), an optimisation result (``optimisation``), a dynamic-adjustment simulation
(``dynamic``). :func:`demo_pack` builds the full pack from the sample data.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from zgc_space import evaluation, io, labels
from zgc_space.errors import DataFileError, OverwriteInputError
from zgc_space.maps import Footer
from zgc_space.report import _sections as _report_sections
from zgc_space.report._diagnose import Diagnosis, diagnose
from zgc_space.report._documents import pack_documents, write_diagnoses
from zgc_space.report._docx import DocxFonts, convert_to_pdf, soffice_path
from zgc_space.report._html import gallery, page
from zgc_space.report._layers import gis_frame, write_layers

__all__ = ["MANIFEST", "Diagnosis", "DocxFonts", "convert_to_pdf", "diagnose", "hearing_pack", "soffice_path",
           "write_diagnoses"]

logger = logging.getLogger(__name__)

#: Name of the manifest in a pack; its ``zgc_space_pack`` key marks a folder as a pack.
MANIFEST = "manifest.json"
_PACK_FORMAT = 1
_VERSIONED = ("folium", "branca", "matplotlib", "numpy", "pandas", "geopandas", "shapely", "pyproj", "scipy",
              "xstatic-leaflet")

PathLike = str | os.PathLike[str]


def _versions() -> dict[str, str | None]:
    return {"zgc_space": io.package_version(), **io.installed_versions(_VERSIONED)}


def _pack_mismatch(folder: Path) -> str | None:
    """Why ``folder`` is not exactly a previous pack (None when it is one, file for file).

    A pack is replaced as a whole, so the folder must hold the files its manifest lists, each
    with the SHA-256 recorded, and nothing else: a user's file put in it, a file changed since,
    or a hand-written (forged) manifest all make it something the pack must not delete.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        listed = {str(f["path"]): str(f["sha256"]) for f in manifest["files"]} if manifest.get("zgc_space_pack") \
            else None
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        listed = None
    if listed is None:
        return f"it holds no hearing pack ({MANIFEST} missing or not a pack's)"
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
    present.discard(MANIFEST)
    extra = sorted(present - set(listed))
    if extra:
        return f"it holds file(s) the pack did not write ({', '.join(extra[:5])})"
    missing = sorted(set(listed) - present)
    changed = [rel for rel in sorted(set(listed) & present)
               if (folder / rel).is_symlink() or io.sha256_file(folder / rel) != listed[rel]]
    if missing or changed:
        return f"its files differ from its {MANIFEST} ({', '.join((missing + changed)[:5])})"
    return None


def _input_paths(blocks: pd.DataFrame, inputs: Sequence[PathLike], extra: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for item in [*map(Path, blocks.attrs.get("zgc_sources", [])), *map(Path, inputs), *extra]:
        if not item.is_file():
            raise DataFileError(f"input {item} for the manifest is not a file; pass existing files in inputs=")
        if item.resolve() not in [f.resolve() for f in found]:
            found.append(item)
    return found


def _check_target(out: Path, inputs: Sequence[Path]) -> None:
    if out.exists() and not out.is_dir():
        raise DataFileError(f"out_dir {out} is a file; pass a folder for the hearing pack")
    inside = [str(p) for p in inputs if out.resolve() in p.resolve().parents]
    if inside:
        raise OverwriteInputError(f"input file(s) {inside} lie inside out_dir {out}, which is replaced as a "
                                  "whole; write the pack elsewhere")
    mismatch = _pack_mismatch(out) if out.is_dir() and any(out.iterdir()) else None
    if mismatch:
        raise DataFileError(
            f"out_dir {out} is not empty and is not exactly a previous hearing pack: {mismatch}. The pack "
            "folder is replaced as a whole, which would delete them; move them out, or choose a new or empty folder"
        )


def hearing_pack(
    blocks: gpd.GeoDataFrame,
    *,
    out_dir: PathLike,
    preset: evaluation.PresetLike = "cic_default",
    peers: pd.DataFrame | PathLike | None = None,
    proposals: Sequence[Any] | None = None,
    candidates: gpd.GeoDataFrame | PathLike | None = None,
    comparison: pd.DataFrame | None = None,
    optimisation: Any = None,
    dynamic: Any = None,
    footer: Footer | None = None,
    inputs: Sequence[PathLike] = (),
    target_rank: int | None = 30,
    title: str | None = None,
    date: str | None = None,
    districts: gpd.GeoDataFrame | None = None,
    png: bool = True,
    dpi: int = 150,
    paper: str = "A4",
    parameters: Mapping[str, Any] | None = None,
    lang: str = "zh",
    pdf: bool = True,
    documents: bool = True,
    docx_template: PathLike | None = None,
    docx_fonts: DocxFonts | None = None,
    documents_pdf: bool | None = None,
) -> Path:
    """Write the hearing pack for a block table into ``out_dir`` and return its ``index.html``.

    Parameters
    ----------
    blocks
        The baseline block table (EPSG:4548 or any CRS; the sample: ``datasets.load_blocks()``).
    out_dir
        The pack's folder: new, empty, or a previous pack (replaced as a whole, atomically).
    preset, peers
        Evaluation preset and peer zones for the score and the national rank.
    proposals
        Adjustment proposals (:class:`~zgc_space.proposal.Proposal` objects or YAML paths) to
        compare against the baseline; each gets a change map, a before/after map and its changes.
    candidates
        Candidate areas the proposals (and the optimisation) may admit.
    comparison
        A ready :func:`zgc_space.scenarios.compare` table to show instead of computing one.
    optimisation
        A :class:`zgc_space.optimize.SearchResult`.
    dynamic
        A dynamic-adjustment simulation: a table with ``block_id``, ``year`` and ``status`` (or
        an object holding it as ``.statuses``).
    footer
        Review number (审图号), data source, CRS and date for every map and the index page.
    inputs
        Files that produced ``blocks`` and the other inputs: their SHA-256 go in the manifest
        (files named in ``blocks.attrs["zgc_sources"]``, proposal files, candidate and peer files
        are added automatically).
    target_rank
        The rank to reach in the gap analysis (``None``: no gap analysis).
    title
        Title of the index page (default: 中关村示范区空间优化调整 听证材料, in ``lang``).
    date
        A date to print on the index page and record in the manifest (never filled in from the
        clock, so that two runs give the same bytes).
    districts
        Optional district boundaries drawn under the maps.
    png, dpi, paper
        Also print the maps as PNG at this resolution on A4 or A3 paper (the index page shows
        them as thumbnails).
    parameters
        Further parameters to record in the manifest (e.g. the options of the run that made
        the proposals).
    lang
        Language of every page, map and table of the pack: ``"zh"`` (default; no English word
        or code identifier on any page), ``"zh+en"`` or ``"en"`` (:mod:`zgc_space.labels`).
    pdf
        Print each map as a vector PDF beside its PNG (for print; with ``png``).
    documents
        Write the Word report (``report.docx`` and ``report.html``: cover, summary, zone
        indicators with the rank and its margin, sub-parks, the printed maps as figures, proposals,
        optimisation, dynamic adjustment, data sources with the inputs' SHA-256) and one diagnosis
        per sub-park (``diagnoses/<分园>.docx`` and ``.html``, :func:`diagnose`), linked from the index
        (default; ``False`` leaves them out).
    docx_template, docx_fonts
        A bureau Word template whose styles and page setup the documents use; their fonts.
    documents_pdf
        Convert the documents to PDF with LibreOffice: ``None`` (default) when it is installed,
        ``True`` always (an error without it), ``False`` never.

    Returns
    -------
    pathlib.Path
        ``out_dir / "index.html"``.

    Raises
    ------
    DataFileError
        ``out_dir`` is a file, or a non-empty folder that holds no pack; an input is missing.
    OverwriteInputError
        An input file lies inside ``out_dir``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from zgc_space import datasets
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "pack"
    >>> index = hearing_pack(datasets.load_blocks(), out_dir=out, png=False)
    >>> index.name, (out / "manifest.json").is_file(), (out / "tables" / "zone_indicators.xlsx").is_file()
    ('index.html', True, True)
    """
    out = Path(out_dir)
    lang = labels.check_lang(lang)
    if title is None:
        title = labels.pick("中关村示范区空间优化调整 听证材料", "ZGC spatial adjustment: hearing pack", lang)
    if footer is not None:
        footer = dataclasses.replace(footer, lang=lang)
    preset_obj = evaluation.load_preset(preset)  # a bad preset fails before anything is written
    extra: list[Path] = []
    for item in proposals or ():
        if isinstance(item, (str, os.PathLike)):
            extra.append(Path(item))
        elif isinstance(getattr(item, "source", None), str) and Path(item.source).is_file():
            extra.append(Path(item.source))
    for item in (candidates, peers):
        if isinstance(item, (str, os.PathLike)):
            extra.append(Path(item))
    if isinstance(preset, (str, os.PathLike)) and Path(preset).is_file():  # a preset file, not a name
        extra.append(Path(preset))
    if documents and docx_template is not None:
        extra.append(Path(docx_template))
    if peers is None:
        from zgc_space import ranking

        extra.append(ranking.sample_peers_path())
    files_in = _input_paths(blocks, inputs, extra)
    _check_target(out, files_in)
    with io.atomic_folder(out, prefix="building") as tmp:
        ctx = _report_sections.Context(root=tmp, blocks=blocks, preset=preset, peers=peers, footer=footer,
                                       districts=districts, png=png, dpi=dpi, paper=paper, candidates=candidates,
                                       lang=lang, pdf=pdf and png,
                                       notes=[("数据", f"{len(blocks)} 个区块（SHA-256 {io.frame_sha256(blocks)}）"),
                                              *io.source_notes(files_in),
                                              ("评价方案", f"{labels.term(preset_obj.name, 'zh')}（{preset_obj.name}，"
                                                           f"版本 {preset_obj.version}）"),
                                              ("清单", f"{MANIFEST} 记录每个输入与输出文件的 SHA-256")])
        sections = [_report_sections.indicators_and_rank(ctx, target_rank=target_rank)]
        if proposals or comparison is not None:
            sections.append(_report_sections.proposals(ctx, list(proposals or ()), comparison))
        if optimisation is not None:
            sections.append(_report_sections.optimisation(ctx, optimisation))
        if dynamic is not None:
            sections.append(_report_sections.dynamic(ctx, dynamic))
        write_layers(tmp / "layers" / "results.gpkg", [("blocks", gis_frame(blocks)), *ctx.layers], lang)
        if documents:  # last: the Word report shows the maps and tables the sections wrote
            sections.append(pack_documents(ctx, title=title, date=date, target_rank=target_rank,
                                           optimisation=optimisation, dynamic=dynamic, inputs=files_in,
                                           template=docx_template, fonts=docx_fonts, pdf=documents_pdf))
        pick = labels.pick
        meta = {
            pick("数据", "Data", lang): pick(f"{len(blocks)} 个区块", f"{len(blocks)} blocks", lang),
            pick("评价方案", "Preset", lang): pick(f"{labels.term(preset_obj.name, 'zh')}（版本 {preset_obj.version}）",
                                                   f"{preset_obj.name} {preset_obj.version}", lang),
            pick("软件", "Software", lang): pick(f"中关村空间分析库 {io.package_version()}",
                                                 f"zgc_space {io.package_version()}", lang),
        }
        if date:
            meta[pick("日期", "Date", lang)] = date
        listing = sorted((p.relative_to(tmp).as_posix(), p.stat().st_size) for p in tmp.rglob("*") if p.is_file())
        index = tmp / "index.html"
        index.write_text(page(title=title, footer=footer, meta=meta, sections=[(h, c) for h, c, _ in sections],
                              files=listing, lang=lang, gallery=gallery(ctx.figures, lang)), encoding="utf-8")
        manifest: dict[str, Any] = {
            "zgc_space_pack": _PACK_FORMAT,
            "title": title,
            "versions": _versions(),
            "preset": {"name": preset_obj.name, "version": preset_obj.version},
            "parameters": {"target_rank": target_rank, "png": png, "dpi": dpi if png else None, "paper": paper,
                           "lang": lang, "pdf": pdf and png,
                           "peers": "sample synthetic peers" if peers is None else
                           (str(Path(peers).name) if isinstance(peers, (str, os.PathLike)) else "table given"),
                           **{k: v for _, _, params in sections for k, v in params.items()},
                           **dict(parameters or {})},
            "footer": dict(footer.items()) if footer is not None else {},
            "inputs": [{"name": p.name, "sha256": io.sha256_file(p), "bytes": p.stat().st_size} for p in files_in],
            "blocks_sha256": io.frame_sha256(blocks),
            "peers_sha256": io.frame_sha256(peers) if isinstance(peers, pd.DataFrame) else None,
            "files": [{"path": rel, "bytes": size, "sha256": io.sha256_file(tmp / rel)}
                      for rel, size in sorted([*listing, ("index.html", index.stat().st_size)])],
        }
        if date:
            manifest["date"] = date
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default)
        (tmp / MANIFEST).write_text(text + "\n", encoding="utf-8")
    logger.info("hearing pack written to %s (%d files)", out, len(manifest["files"]) + 1)
    return out / "index.html"


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)
